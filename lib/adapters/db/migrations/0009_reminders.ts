import { sql, type Kysely } from 'kysely';

/**
 * Reminders (nhắc lịch) and what notifications need to know about a person.
 *
 * - `reminder`: one row per occurrence and offset, planned by reminder-plan
 *   from the meeting's current occurrences and claimed by reminder-dispatch
 *   when due. `(occurrence_id, offset_minutes)` is unique, so planning twice
 *   never doubles a reminder.
 * - `unit_reminder_setting`: a unit's default offsets; `meeting.reminder_offsets`
 *   overrides them for one meeting. Offsets are minutes before the start.
 * - `app_user.time_zone` and `app_user.language`: how notifications show times
 *   and which language they use; null means Asia/Ho_Chi_Minh and Vietnamese.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('reminder')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('occurrence_id', 'uuid', (col) => col.notNull().references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('offset_minutes', 'integer', (col) => col.notNull().check(sql`offset_minutes > 0`))
    .addColumn('due_at', 'timestamptz', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'sent')`))
    .addColumn('sent_at', 'timestamptz')
    /** The occurrence start the sent reminder announced; a move after sending makes the reminder due again. */
    .addColumn('sent_for_start', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('reminder_occurrence_offset_key', ['occurrence_id', 'offset_minutes'])
    .execute();
  await sql`create index reminder_due_idx on reminder (due_at) where status = 'pending'`.execute(db);
  await db.schema.createIndex('reminder_meeting_idx').on('reminder').column('meeting_id').execute();

  await db.schema
    .createTable('unit_reminder_setting')
    .addColumn('unit_id', 'uuid', (col) => col.primaryKey().references('unit.id').onDelete('cascade'))
    .addColumn('offsets_minutes', 'jsonb', (col) => col.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema.alterTable('meeting').addColumn('reminder_offsets', 'jsonb').execute();
  await db.schema.alterTable('app_user').addColumn('time_zone', 'text').execute();
  await db.schema
    .alterTable('app_user')
    .addColumn('language', 'text', (col) => col.check(sql`language in ('vi', 'en')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('app_user').dropColumn('language').execute();
  await db.schema.alterTable('app_user').dropColumn('time_zone').execute();
  await db.schema.alterTable('meeting').dropColumn('reminder_offsets').execute();
  await db.schema.dropTable('unit_reminder_setting').execute();
  await db.schema.dropTable('reminder').execute();
}
