import type { Kysely } from 'kysely';

/**
 * Who a meeting belongs to and who its participants are in the directory:
 * `meeting.unit_id` (organisers of that unit manage it), `meeting.created_by`,
 * and `participant.user_id` for invited people who sign in. All nullable:
 * guests have no user, and meetings from before this migration have no unit.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('meeting')
    .addColumn('unit_id', 'uuid', (col) => col.references('unit.id'))
    .addColumn('created_by', 'uuid', (col) => col.references('app_user.id'))
    .execute();
  await db.schema.createIndex('meeting_unit_idx').on('meeting').column('unit_id').execute();

  await db.schema
    .alterTable('participant')
    .addColumn('user_id', 'uuid', (col) => col.references('app_user.id'))
    .execute();
  await db.schema.createIndex('participant_user_idx').on('participant').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('participant').dropColumn('user_id').execute();
  await db.schema.alterTable('meeting').dropColumn('created_by').dropColumn('unit_id').execute();
}
