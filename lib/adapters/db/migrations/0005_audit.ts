import { sql, type Kysely } from 'kysely';

/**
 * The append-only audit log: who changed what, with the record before and
 * after. A trigger raises on UPDATE, DELETE and TRUNCATE, so even code that
 * bypasses `lib/domain/audit.ts` cannot rewrite history. A database owner can
 * still drop the trigger; that is outside what the application can prevent.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_record')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('actor_kind', 'text', (col) => col.notNull().check(sql`actor_kind in ('user', 'api-key', 'system', 'e-office')`))
    /** User id, API key id, function name (system) or CloudEvents source (e-office). */
    .addColumn('actor_id', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('entity_type', 'text', (col) => col.notNull())
    .addColumn('entity_id', 'text', (col) => col.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('ip', 'text')
    .addColumn('request_id', 'text')
    .execute();

  await db.schema.createIndex('audit_record_at_idx').on('audit_record').column('at').execute();
  await db.schema.createIndex('audit_record_entity_idx').on('audit_record').columns(['entity_type', 'entity_id', 'id']).execute();
  await db.schema.createIndex('audit_record_actor_idx').on('audit_record').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_record_action_idx').on('audit_record').columns(['action', 'id']).execute();

  await sql`
    create function audit_record_reject_change() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_record is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege';
    end;
    $$
  `.execute(db);
  await sql`
    create trigger audit_record_no_update_or_delete
    before update or delete on audit_record
    for each row execute function audit_record_reject_change()
  `.execute(db);
  // Row triggers do not fire on TRUNCATE, so a statement trigger covers it.
  await sql`
    create trigger audit_record_no_truncate
    before truncate on audit_record
    for each statement execute function audit_record_reject_change()
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_record').ifExists().execute();
  await sql`drop function if exists audit_record_reject_change()`.execute(db);
}
