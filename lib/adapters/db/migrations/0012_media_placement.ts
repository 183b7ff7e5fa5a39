import type { Kysely } from 'kysely';

/**
 * Media placement and capacity.
 *
 * - `media_server`: the last health probe of each Janus server (media-health
 *   writes it every minute): whether it answered, the rooms and participants
 *   it reported, and since when it has been down. Room placement reads it.
 * - `room.max_connections`: a per-meeting cap on concurrent participants,
 *   overriding HOP_MEETING_MAX_CONNECTIONS; null uses the default.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('media_server')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('healthy', 'boolean', (col) => col.notNull())
    .addColumn('rooms', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('participants', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('checked_at', 'timestamptz', (col) => col.notNull())
    // When the server first failed a probe after answering; null while healthy.
    .addColumn('unhealthy_since', 'timestamptz')
    .addColumn('last_error', 'text')
    .execute();

  await db.schema.alterTable('room').addColumn('max_connections', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('room').dropColumn('max_connections').execute();
  await db.schema.dropTable('media_server').execute();
}
