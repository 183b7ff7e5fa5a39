import { sql, type Kysely } from 'kysely';

/**
 * Notification delivery: webhook endpoints with their signing secrets, the
 * admin allow-list of webhook targets, one sequence counter per delivery
 * target, and one `notification_delivery` row per notification and target.
 *
 * A target is a webhook endpoint (`webhook:<endpoint id>`) or an e-mail address
 * (`email:<address in lower case>`). Deliveries of one target are sent in
 * `sequence` order: `notification_target.next_sequence` is incremented under
 * its row lock, so sequence order is the commit order of the fan-out
 * transactions.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoint')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    /** `whsec_` + base64 of 32 random bytes; HMAC-SHA256 key of the Standard Webhooks signature. */
    .addColumn('secret', 'text', (col) => col.notNull())
    /** The secret before the last rotation, which still signs requests until `previous_secret_expires_at`. */
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    /** Notification kinds this endpoint receives; an empty array means every kind. */
    .addColumn('event_kinds', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('enabled', 'boolean', (col) => col.notNull().defaultTo(true))
    /** Why hop disabled the endpoint by itself (a 410 Gone answer); null when enabled or disabled by an admin. */
    .addColumn('disabled_reason', 'text')
    /** User id or API key id of the creator. */
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('webhook_allowed_target')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('host', 'cidr')`))
    /** Lower-case host name, or a CIDR block written with its network address (`10.20.0.0/16`). */
    .addColumn('target', 'text', (col) => col.notNull())
    /** The only port allowed, or null for any port. */
    .addColumn('port', 'integer', (col) => col.check(sql`port between 1 and 65535`))
    .addColumn('note', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    create unique index webhook_allowed_target_unique_idx
      on webhook_allowed_target (kind, target, coalesce(port, 0))
  `.execute(db);

  await db.schema
    .createTable('notification_target')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('next_sequence', 'bigint', (col) => col.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('notification_delivery')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('notification_id', 'uuid', (col) => col.notNull())
    /** CloudEvents id of the `vn.hop.notification.requested.v1` event. */
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull().check(sql`channel in ('webhook', 'email')`))
    .addColumn('endpoint_id', 'uuid', (col) => col.references('webhook_endpoint.id'))
    .addColumn('email_address', 'text')
    .addColumn('target_key', 'text', (col) => col.notNull().references('notification_target.key'))
    .addColumn('sequence', 'bigint', (col) => col.notNull())
    /** The notification as the event carried it (`vn.hop.notification.requested.v1` data) plus the event time. */
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivering', 'delivered', 'dead')`),
    )
    /** Attempts started since the delivery was created or last replayed. */
    .addColumn('attempt_count', 'integer', (col) => col.notNull().defaultTo(0))
    /** Start of the first attempt since creation or replay; retries stop 24 hours after it. */
    .addColumn('first_attempt_at', 'timestamptz')
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull())
    /** Worker that holds the delivery while `status` is `delivering`, and until when. */
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('last_status_code', 'integer')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('dead_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'notification_delivery_channel_target_check',
      sql`(channel = 'webhook' and endpoint_id is not null and email_address is null)
        or (channel = 'email' and endpoint_id is null and email_address is not null)`,
    )
    .execute();

  // A redelivered event, or a producer that emits the same notification twice, adds no second row.
  await db.schema
    .createIndex('notification_delivery_notification_target_idx')
    .on('notification_delivery')
    .columns(['notification_id', 'target_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('notification_delivery_target_sequence_idx')
    .on('notification_delivery')
    .columns(['target_key', 'sequence'])
    .unique()
    .execute();
  // The worker's claim query: due deliveries, and the head of line of each target.
  await sql`
    create index notification_delivery_due_idx on notification_delivery (next_attempt_at)
      where status in ('pending', 'delivering')
  `.execute(db);
  await sql`
    create index notification_delivery_open_target_idx on notification_delivery (target_key, sequence)
      where status in ('pending', 'delivering')
  `.execute(db);
  await db.schema
    .createIndex('notification_delivery_list_idx')
    .on('notification_delivery')
    .columns(['status', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('notification_delivery_endpoint_idx')
    .on('notification_delivery')
    .columns(['endpoint_id', 'status', 'sequence'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_delivery').ifExists().execute();
  await db.schema.dropTable('notification_target').ifExists().execute();
  await db.schema.dropTable('webhook_allowed_target').ifExists().execute();
  await db.schema.dropTable('webhook_endpoint').ifExists().execute();
}
