import { sql, type Kysely } from 'kysely';

/**
 * What the chair sees on the live board besides attendance.
 *
 * - `media_join_refusal`: joins refused because a connection cap was reached,
 *   one row per occurrence, participant and reason. A participant whose page
 *   tries again raises `attempts` and `last_refused_at` instead of adding rows.
 * - `hand_raise`: the hand of one participant in one occurrence. The row stays
 *   when the hand is lowered (`lowered_at`), so the participant's page can tell
 *   that the chair lowered it; raising again resets `raised_at`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('media_join_refusal')
    .addColumn('occurrence_id', 'uuid', (col) => col.notNull().references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.notNull().references('participant.id').onDelete('cascade'))
    .addColumn('reason', 'text', (col) => col.notNull().check(sql`reason in ('meeting-full', 'server-full')`))
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    // The participant's name when refused, as the join-refused event carries it.
    .addColumn('participant_name', 'text', (col) => col.notNull())
    .addColumn('janus_server', 'text', (col) => col.notNull())
    // The cap that was reached and the participants connected at the latest refusal.
    .addColumn('max_connections', 'integer', (col) => col.notNull())
    .addColumn('connected', 'integer', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('first_refused_at', 'timestamptz', (col) => col.notNull())
    .addColumn('last_refused_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('media_join_refusal_pk', ['occurrence_id', 'participant_id', 'reason'])
    .execute();
  await db.schema.createIndex('media_join_refusal_meeting_idx').on('media_join_refusal').columns(['meeting_id', 'last_refused_at']).execute();

  await db.schema
    .createTable('hand_raise')
    .addColumn('occurrence_id', 'uuid', (col) => col.notNull().references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.notNull().references('participant.id').onDelete('cascade'))
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('raised_at', 'timestamptz', (col) => col.notNull())
    // Null while the hand is raised.
    .addColumn('lowered_at', 'timestamptz')
    // User id or API key id of the chair or secretary who lowered it; null when the participant lowered it.
    .addColumn('lowered_by', 'text')
    .addPrimaryKeyConstraint('hand_raise_pk', ['occurrence_id', 'participant_id'])
    .addCheckConstraint('hand_raise_order', sql`lowered_at is null or lowered_at >= raised_at`)
    .execute();
  await sql`create index hand_raise_raised_idx on hand_raise (occurrence_id, raised_at) where lowered_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('hand_raise').ifExists().execute();
  await db.schema.dropTable('media_join_refusal').ifExists().execute();
}
