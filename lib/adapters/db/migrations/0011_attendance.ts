import { sql, type Kysely } from 'kysely';

/**
 * Attendance (điểm danh), per meeting occurrence and participant.
 *
 * - `media_session`: which participant opened which Janus session. The
 *   gateway's signalling proxy writes it before it passes the session id to
 *   the browser, so a Janus event about that session always finds it. It
 *   backs up the join token that Janus repeats in a publisher's `joined`.
 * - `attendance_connection`: one VideoRoom publisher presence (one device),
 *   from Janus event-handler events. Rows are facts that arrive in any order;
 *   `attendance_interval` is derived from them.
 * - `attendance_interval`: the merged presence of one participant (devices
 *   united, gaps up to the grace period bridged), rewritten after each change.
 * - `attendance_mark`: the secretary's marking; `attendance_check_in`: QR
 *   check-ins in the meeting room; `attendance_check_in_attempt`: refused scans.
 * - `attendance_version`: a counter per meeting that every change raises, which
 *   the gateways' live boards poll.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('media_session')
    .addColumn('janus_server', 'text', (col) => col.notNull())
    // Janus ids are unsigned 64-bit in general, so they are kept as decimal text.
    .addColumn('session_id', 'text', (col) => col.notNull())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.notNull().references('participant.id').onDelete('cascade'))
    // SHA-256 of the join token, hex.
    .addColumn('token_hash', 'text', (col) => col.notNull())
    .addColumn('opened_at', 'timestamptz', (col) => col.notNull())
    // When the proxy's socket to Janus closed (browser gone or Janus gone).
    .addColumn('closed_at', 'timestamptz')
    // When a Janus event said the session ended (destroyed or timed out).
    .addColumn('ended_at', 'timestamptz')
    .addPrimaryKeyConstraint('media_session_pk', ['janus_server', 'session_id'])
    .execute();
  await db.schema.createIndex('media_session_participant_idx').on('media_session').columns(['participant_id', 'opened_at']).execute();

  await db.schema
    .createTable('attendance_connection')
    .addColumn('janus_server', 'text', (col) => col.notNull())
    // VideoRoom room id and publisher id (unique in the room; a rejoin gets a new one).
    // Janus's `leaving` names only these two, without session or handle.
    .addColumn('room_id', 'text', (col) => col.notNull())
    .addColumn('feed_id', 'text', (col) => col.notNull())
    .addColumn('session_id', 'text')
    .addColumn('handle_id', 'text')
    // Null on a row that a `leaving` created before its `joined` arrived; such a row never counts.
    .addColumn('meeting_id', 'uuid', (col) => col.references('meeting.id').onDelete('cascade'))
    .addColumn('occurrence_id', 'uuid', (col) => col.references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.references('participant.id').onDelete('cascade'))
    .addColumn('joined_at', 'timestamptz')
    .addColumn('left_at', 'timestamptz')
    .addColumn('end_reason', 'text')
    .addColumn('last_seen_at', 'timestamptz')
    .addPrimaryKeyConstraint('attendance_connection_pk', ['janus_server', 'room_id', 'feed_id'])
    .execute();
  await db.schema.createIndex('attendance_connection_session_idx').on('attendance_connection').columns(['janus_server', 'session_id', 'handle_id']).execute();
  await db.schema.createIndex('attendance_connection_participant_idx').on('attendance_connection').columns(['occurrence_id', 'participant_id']).execute();
  await sql`create index attendance_connection_open_idx on attendance_connection (janus_server) where left_at is null`.execute(db);

  await db.schema
    .createTable('attendance_interval')
    .addColumn('occurrence_id', 'uuid', (col) => col.notNull().references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.notNull().references('participant.id').onDelete('cascade'))
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('open', 'grace', 'closed')`))
    .addPrimaryKeyConstraint('attendance_interval_pk', ['occurrence_id', 'participant_id', 'started_at'])
    .addCheckConstraint('attendance_interval_order', sql`ended_at is null or ended_at >= started_at`)
    .execute();
  await sql`create index attendance_interval_grace_idx on attendance_interval (ended_at) where status = 'grace'`.execute(db);

  await db.schema
    .createTable('attendance_mark')
    .addColumn('occurrence_id', 'uuid', (col) => col.notNull().references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.notNull().references('participant.id').onDelete('cascade'))
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('present_in_person', 'present_online', 'late', 'absent', 'delegated')`),
    )
    .addColumn('absence_reason', 'text')
    .addColumn('delegate_name', 'text')
    .addColumn('delegate_position', 'text')
    .addColumn('note', 'text')
    .addColumn('marked_by', 'text', (col) => col.notNull())
    .addColumn('marked_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('attendance_mark_pk', ['occurrence_id', 'participant_id'])
    .addCheckConstraint('attendance_mark_absence_reason', sql`status <> 'absent' or length(btrim(coalesce(absence_reason, ''))) > 0`)
    .addCheckConstraint('attendance_mark_delegate', sql`status <> 'delegated' or length(btrim(coalesce(delegate_name, ''))) > 0`)
    .execute();

  await db.schema
    .createTable('attendance_check_in')
    .addColumn('occurrence_id', 'uuid', (col) => col.notNull().references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('participant_id', 'uuid', (col) => col.notNull().references('participant.id').onDelete('cascade'))
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('meeting_room_id', 'uuid', (col) => col.notNull().references('meeting_room.id'))
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('checked_in_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('attendance_check_in_pk', ['occurrence_id', 'participant_id'])
    .execute();

  await db.schema
    .createTable('attendance_check_in_attempt')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.references('meeting.id').onDelete('cascade'))
    .addColumn('occurrence_id', 'uuid', (col) => col.references('meeting_occurrence.id').onDelete('cascade'))
    .addColumn('meeting_room_id', 'uuid')
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('code', 'text', (col) => col.notNull())
    .addColumn('attempted_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('attendance_check_in_attempt_meeting_idx').on('attendance_check_in_attempt').columns(['meeting_id', 'attempted_at']).execute();

  await db.schema
    .createTable('attendance_version')
    .addColumn('meeting_id', 'uuid', (col) => col.primaryKey().references('meeting.id').onDelete('cascade'))
    .addColumn('version', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'attendance_version',
    'attendance_check_in_attempt',
    'attendance_check_in',
    'attendance_mark',
    'attendance_interval',
    'attendance_connection',
    'media_session',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
