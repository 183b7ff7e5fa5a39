import { sql, type Kysely } from 'kysely';

/**
 * Scheduling: physical meeting rooms, the agenda and mode of a meeting, its
 * draft, in-progress and postponed states, the iCalendar SEQUENCE, recurring
 * series materialised as occurrences, the change history, unit invitations
 * and per-user calendar feed tokens.
 *
 * Every meeting has at least one `meeting_occurrence` row (a single meeting
 * has exactly one), so calendar queries, clash checks and reminders read
 * occurrences only. `meeting.starts_at` and `ends_at` stay the planned times of
 * the first occurrence (the series' DTSTART and DTEND); `meeting.last_ends_at`
 * is the end of the latest occurrence that is not cancelled, which the
 * `meeting-end` cron compares with the clock.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('meeting_room')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('unit_id', 'uuid', (col) => col.references('unit.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('location', 'text')
    .addColumn('capacity', 'integer', (col) => col.check(sql`capacity > 0`))
    .addColumn('equipment', 'text')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('meeting_room_unit_idx').on('meeting_room').column('unit_id').execute();

  await sql`alter table meeting drop constraint if exists meeting_status_check`.execute(db);
  await sql`
    alter table meeting add constraint meeting_status_check
      check (status in ('draft', 'scheduled', 'in_progress', 'postponed', 'cancelled', 'ended'))
  `.execute(db);
  await db.schema
    .alterTable('meeting')
    .addColumn('agenda', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('mode', 'text', (col) => col.notNull().defaultTo('online').check(sql`mode in ('in_person', 'online', 'hybrid')`))
    .addColumn('meeting_room_id', 'uuid', (col) => col.references('meeting_room.id'))
    .addColumn('preparation', 'text')
    .addColumn('urgent', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('sequence', 'integer', (col) => col.notNull().defaultTo(0).check(sql`sequence >= 0`))
    .addColumn('recurrence_rule', 'text')
    .addColumn('recurrence_count_cap', 'integer')
    .addColumn('postpone_reason', 'text')
    .addColumn('last_ends_at', 'timestamptz')
    .execute();
  await sql`update meeting set last_ends_at = ends_at`.execute(db);
  await sql`alter table meeting alter column last_ends_at set not null`.execute(db);
  await db.schema.createIndex('meeting_room_id_idx').on('meeting').column('meeting_room_id').execute();
  await db.schema.createIndex('meeting_status_last_ends_idx').on('meeting').columns(['status', 'last_ends_at']).execute();

  await db.schema
    .createTable('meeting_occurrence')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    // The start the recurrence rule gives this occurrence (iCalendar RECURRENCE-ID); it never changes.
    .addColumn('recurrence_id', 'timestamptz', (col) => col.notNull())
    .addColumn('starts_at', 'timestamptz', (col) => col.notNull())
    .addColumn('ends_at', 'timestamptz', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('scheduled', 'cancelled', 'moved')`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('meeting_occurrence_ends_after_start', sql`ends_at > starts_at`)
    .addUniqueConstraint('meeting_occurrence_recurrence_unique', ['meeting_id', 'recurrence_id'])
    .execute();
  // Calendar ranges bound starts_at on both sides (a meeting lasts at most 7 days), so this
  // B-tree serves them; a person's meetings come from participant_user_idx (0004), and one
  // meeting's occurrences from the unique (meeting_id, recurrence_id) index.
  // scripts/measure-calendar-query.ts measures both at 100 000 meetings × 20 participants.
  await db.schema.createIndex('meeting_occurrence_starts_idx').on('meeting_occurrence').columns(['starts_at', 'ends_at']).execute();

  await sql`
    insert into meeting_occurrence (id, meeting_id, recurrence_id, starts_at, ends_at, status)
    select gen_random_uuid(), id, starts_at, starts_at, ends_at,
           case when status = 'cancelled' then 'cancelled' else 'scheduled' end
    from meeting
  `.execute(db);

  await db.schema
    .createTable('meeting_change')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('occurrence_id', 'uuid', (col) => col.references('meeting_occurrence.id').onDelete('set null'))
    .addColumn('sequence', 'integer', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('actor_kind', 'text', (col) => col.notNull())
    .addColumn('actor_id', 'text', (col) => col.notNull())
    .addColumn('before', 'jsonb', (col) => col.notNull())
    .addColumn('after', 'jsonb', (col) => col.notNull())
    .addColumn('changed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('meeting_change_meeting_idx').on('meeting_change').columns(['meeting_id', 'id']).execute();

  await db.schema
    .createTable('meeting_invited_unit')
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('unit_id', 'uuid', (col) => col.notNull().references('unit.id'))
    .addColumn('member_count', 'integer', (col) => col.notNull())
    .addColumn('invited_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('meeting_invited_unit_pk', ['meeting_id', 'unit_id'])
    .execute();
  await db.schema
    .alterTable('participant')
    .addColumn('invited_unit_id', 'uuid', (col) => col.references('unit.id'))
    .execute();

  await db.schema
    .createTable('calendar_feed_token')
    .addColumn('user_id', 'uuid', (col) => col.primaryKey().references('app_user.id').onDelete('cascade'))
    // SHA-256 of the token, hex; the token is shown once when created or rotated.
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('calendar_feed_token').ifExists().execute();
  await db.schema.alterTable('participant').dropColumn('invited_unit_id').execute();
  for (const table of ['meeting_invited_unit', 'meeting_change', 'meeting_occurrence']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema
    .alterTable('meeting')
    .dropColumn('agenda')
    .dropColumn('mode')
    .dropColumn('meeting_room_id')
    .dropColumn('preparation')
    .dropColumn('urgent')
    .dropColumn('sequence')
    .dropColumn('recurrence_rule')
    .dropColumn('recurrence_count_cap')
    .dropColumn('postpone_reason')
    .dropColumn('last_ends_at')
    .execute();
  await sql`alter table meeting drop constraint if exists meeting_status_check`.execute(db);
  await sql`alter table meeting add constraint meeting_status_check check (status in ('scheduled', 'cancelled', 'ended'))`.execute(db);
  await db.schema.dropTable('meeting_room').ifExists().execute();
}
