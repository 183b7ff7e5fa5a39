import type { Kysely } from 'kysely';

/** A person's calendar also lists the meetings they created, so `meeting.created_by` gets an index. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('meeting_created_by_idx').on('meeting').column('created_by').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('meeting_created_by_idx').execute();
}
