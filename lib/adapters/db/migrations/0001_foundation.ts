import { sql, type Kysely } from 'kysely';

/** Meetings, participants, rooms, the transactional outbox and consumer idempotency. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('meeting')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    .addColumn('starts_at', 'timestamptz', (col) => col.notNull())
    .addColumn('ends_at', 'timestamptz', (col) => col.notNull())
    .addColumn('time_zone', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('scheduled', 'cancelled', 'ended')`))
    .addColumn('cancel_reason', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('meeting_ends_after_start', sql`ends_at > starts_at`)
    .execute();
  await db.schema.createIndex('meeting_starts_at_idx').on('meeting').column('starts_at').execute();
  await db.schema.createIndex('meeting_status_ends_at_idx').on('meeting').columns(['status', 'ends_at']).execute();

  await db.schema
    .createTable('participant')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('role', 'text', (col) =>
      col.notNull().check(sql`role in ('chair', 'secretary', 'participant', 'observer', 'guest')`),
    )
    .addColumn('invite_key_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('participant_meeting_idx').on('participant').columns(['meeting_id', 'position']).unique().execute();

  await db.schema
    .createTable('room')
    .addColumn('meeting_id', 'uuid', (col) => col.primaryKey().references('meeting.id').onDelete('cascade'))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('pending', 'ready', 'destroyed', 'failed')`),
    )
    .addColumn('janus_server', 'text')
    .addColumn('room_id', 'bigint')
    .addColumn('secret', 'text')
    .addColumn('pin', 'text')
    .addColumn('last_error', 'text')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('topic', 'text', (col) => col.notNull())
    .addColumn('message_key', 'text', (col) => col.notNull())
    .addColumn('event_id', 'text', (col) => col.notNull().unique())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('headers', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .execute();
  await sql`create index outbox_unpublished_idx on outbox (id) where published_at is null`.execute(db);

  await db.schema
    .createTable('processed_event')
    .addColumn('consumer', 'text', (col) => col.notNull())
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('processed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('processed_event_pk', ['consumer', 'event_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['processed_event', 'outbox', 'room', 'participant', 'meeting']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
