/**
 * Online attendance from Janus events. Each event changes `attendance_connection`
 * rows (one per device in the room), and the participant's intervals are then
 * derived again from all their rows, so duplicates, events out of order and
 * events that never come change the result only as far as they must:
 * - a `leaving` without a `joined` leaves a row without `joined_at`, which never counts;
 * - a duplicate writes the same values again (and `claimEvent` drops most of them first);
 * - a session that timed out ends at its last sign of life, at most the session timeout before the timeout event;
 * - a Janus server that restarted ends its open connections when the gateway's
 *   socket to it closed, else at their last sign of life;
 * - the end of the meeting closes whatever is still open.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { eventSource, newEvent, type HopEvent } from '../../contract/events.ts';
import { appendManyToOutbox } from '../../adapters/db/outbox.ts';
import type { Database } from '../../adapters/db/schema.ts';
import { mergeSpans, intervalSeconds, type PresenceInterval } from './intervals.ts';
import type { JanusAttendanceAction } from './janus-events.ts';
import { readJoinToken } from '../join-token.ts';

type Trx = Transaction<Database>;

export interface TrackingOptions {
  graceMs: number;
  /** Janus `session_timeout` (media/janus-config/janus.jcfg sets 60 s). */
  sessionTimeoutMs: number;
  now: Date;
  /** CloudEvents source of the attendance events written. */
  functionName: string;
  /** Key of the join tokens, to read the token Janus repeats in a publisher's `joined`. */
  joinTokenSecret: string;
  /** Participants whose rows this transaction has locked already (lockBatchParticipants fills it), so they need no lock query. */
  locked?: Set<string>;
  /** Meeting of each participant that lockBatchParticipants locked, so a `joined` needs no query to check its token's meeting. */
  participantMeetings?: Map<string, string>;
}

/** How often at most a sign of life (a plugin, media or WebRTC event) updates `last_seen_at`. */
export const LAST_SEEN_STEP_MS = 10_000;

/** How long before an occurrence's start an online join counts for it. */
const EARLY_JOIN_MS = 60 * 60 * 1000;

interface Touched {
  meetingId: string;
  occurrenceId: string;
  participantId: string;
}

/** Applies one Janus event of server `server`; returns the participants whose intervals were derived again. */
export async function applyJanusAction(trx: Trx, server: string, action: JanusAttendanceAction, options: TrackingOptions): Promise<Touched[]> {
  return rederive(trx, await applyConnectionChanges(trx, server, action, options), options, true);
}

/**
 * Applies one Janus event to `attendance_connection` and `media_session`
 * without deriving intervals. Returns the participants it changed, whose rows
 * it has locked; the caller derives their intervals (rederive) before commit.
 */
export async function applyConnectionChanges(trx: Trx, server: string, action: JanusAttendanceAction, options: TrackingOptions): Promise<Touched[]> {
  switch (action.kind) {
    case 'ignored':
      return [];
    case 'activity':
      await recordActivity(trx, server, action);
      return [];
    case 'publisher-joined':
      return publisherJoined(trx, server, action, options);
    case 'publisher-left':
      return publisherLeft(trx, server, action, options);
    case 'handle-detached':
      return closeConnections(
        trx,
        sql`janus_server = ${server} and session_id = ${action.sessionId} and handle_id = ${action.handleId}`,
        sql`greatest(joined_at, ${action.at}::timestamptz)`,
        'detached',
        options,
      );
    case 'room-destroyed':
      // Sessions of the room end here too, so a `joined` that arrives late ends at the room's end.
      await sql`
        update media_session set ended_at = least(coalesce(ended_at, ${action.at}::timestamptz), ${action.at}::timestamptz)
        where janus_server = ${server}
          and meeting_id in (select meeting_id from room where janus_server = ${server} and room_id = ${action.roomId}::bigint)
          and opened_at <= ${action.at}
      `.execute(trx);
      return closeConnections(trx, sql`janus_server = ${server} and room_id = ${action.roomId}`, sql`greatest(joined_at, ${action.at}::timestamptz)`, 'room-destroyed', options);
    case 'session-ended': {
      await sql`
        update media_session set ended_at = least(coalesce(ended_at, ${action.at}::timestamptz), ${action.at}::timestamptz)
        where janus_server = ${server} and session_id = ${action.sessionId}
      `.execute(trx);
      // A timed-out browser stopped sending keepalives up to a session timeout before the event.
      const end =
        action.reason === 'session-timeout'
          ? sql`greatest(joined_at, last_seen_at, ${new Date(action.at.getTime() - options.sessionTimeoutMs)}::timestamptz)`
          : sql`greatest(joined_at, ${action.at}::timestamptz)`;
      return closeConnections(trx, sql`janus_server = ${server} and session_id = ${action.sessionId}`, end, action.reason, options);
    }
    case 'server-started':
    case 'server-shutdown': {
      // Janus lost every session on a restart, and a crashed server never sent `leaving`.
      // The end is when the gateway's socket to Janus closed, else the last sign of life, never after this event.
      const reason = action.kind === 'server-started' ? 'server-restart' : 'server-shutdown';
      const end = sql`least(${action.at}::timestamptz, greatest(joined_at, coalesce(
        (select m.closed_at from media_session m where m.janus_server = attendance_connection.janus_server and m.session_id = attendance_connection.session_id),
        last_seen_at, joined_at)))`;
      const touched = await closeConnections(trx, sql`janus_server = ${server} and joined_at <= ${action.at}`, end, reason, options);
      await sql`
        update media_session set ended_at = ${action.at}
        where janus_server = ${server} and ended_at is null and opened_at <= ${action.at}
      `.execute(trx);
      return touched;
    }
  }
}

/**
 * Moves the open connection's `last_seen_at` to the event time when it is at
 * least LAST_SEEN_STEP_MS older. Returns whether a row changed. It needs no
 * `claimEvent`: applied again or out of order, it changes nothing more.
 */
export async function recordActivity(
  db: Trx | Kysely<Database>,
  server: string,
  action: Extract<JanusAttendanceAction, { kind: 'activity' }>,
): Promise<boolean> {
  const result = await sql`
    update attendance_connection set last_seen_at = ${action.at}
    where janus_server = ${server} and session_id = ${action.sessionId} and handle_id = ${action.handleId}
      and left_at is null and joined_at is not null
      and (last_seen_at is null or last_seen_at < ${new Date(action.at.getTime() - LAST_SEEN_STEP_MS)})
  `.execute(db);
  return (result.numAffectedRows ?? 0n) > 0n;
}

/**
 * Ends the open connections matching `where` at `end` (an SQL expression over
 * the row) and returns whose they were. Participants are locked before their
 * rows change, in one order, as the other paths do.
 */
async function closeConnections(trx: Trx, where: RawBuilder<unknown>, end: RawBuilder<unknown>, reason: string, options: TrackingOptions): Promise<Touched[]> {
  const close = () => sql<Touched>`
    update attendance_connection set left_at = ${end}, end_reason = ${reason}
    where ${where} and left_at is null and joined_at is not null and participant_id is not null
    returning meeting_id as "meetingId", occurrence_id as "occurrenceId", participant_id as "participantId"
  `.execute(trx);
  if (options.locked) {
    // A batch locked the participants of these rows up front (lockBatchParticipants), so the
    // update needs no query before it. A participant whose row appeared since then is locked here.
    const closed = await close();
    for (const participantId of [...new Set(closed.rows.map((row) => row.participantId))].sort()) await lockParticipant(trx, participantId, options.locked);
    return closed.rows;
  }
  const affected = await sql<{ participantId: string }>`
    select distinct participant_id as "participantId" from attendance_connection
    where ${where} and left_at is null and joined_at is not null and participant_id is not null
  `.execute(trx);
  if (affected.rows.length === 0) return [];
  for (const participantId of affected.rows.map((row) => row.participantId).sort()) await lockParticipant(trx, participantId, options.locked);
  const rows = await sql<Touched>`
    update attendance_connection set left_at = ${end}, end_reason = ${reason}
    where ${where} and left_at is null and joined_at is not null and participant_id is not null
    returning meeting_id as "meetingId", occurrence_id as "occurrenceId", participant_id as "participantId"
  `.execute(trx);
  return rows.rows;
}

/**
 * Returns whose publisher joined: from the join token Janus repeats in the
 * event when it is hop's and names a participant of the meeting, else from
 * the session the proxy recorded. Null for sessions that are no participant's.
 * A participant found by token is locked already (`locked`).
 */
async function identify(
  trx: Trx,
  server: string,
  action: Extract<JanusAttendanceAction, { kind: 'publisher-joined' }>,
  options: TrackingOptions,
): Promise<{ meetingId: string; participantId: string; locked: boolean } | null> {
  // Expiry does not matter here: Janus accepted the token when the participant joined.
  const claims = action.token ? readJoinToken(action.token, options.joinTokenSecret) : null;
  if (claims && options.participantMeetings?.get(claims.participantId) === claims.meetingId) {
    return { meetingId: claims.meetingId, participantId: claims.participantId, locked: true };
  }
  if (claims) {
    const participant = await trx
      .selectFrom('participant')
      .select('id')
      .where('id', '=', claims.participantId)
      .where('meeting_id', '=', claims.meetingId)
      .forUpdate()
      .executeTakeFirst();
    if (participant) {
      options.locked?.add(claims.participantId);
      return { meetingId: claims.meetingId, participantId: claims.participantId, locked: true };
    }
  }
  const session = await trx
    .selectFrom('media_session')
    .select(['meeting_id', 'participant_id'])
    .where('janus_server', '=', server)
    .where('session_id', '=', action.sessionId)
    .executeTakeFirst();
  return session ? { meetingId: session.meeting_id, participantId: session.participant_id, locked: false } : null;
}

async function publisherJoined(trx: Trx, server: string, action: Extract<JanusAttendanceAction, { kind: 'publisher-joined' }>, options: TrackingOptions): Promise<Touched[]> {
  const identity = await identify(trx, server, action, options);
  if (!identity) return [];
  if (!identity.locked) await lockParticipant(trx, identity.participantId, options.locked);
  const at = action.at;

  // One statement finds the occurrence and writes the row. The occurrence is the one a stored row of
  // this feed has, else the one the join belongs to: the latest occurrence (not cancelled) that starts
  // at most EARLY_JOIN_MS after the join, else the first one. So a join counts for an occurrence from
  // an hour before its start until the next occurrence opens. A `joined` that arrives after its
  // session's end (events out of order) ends there.
  const written = await sql<{ occurrence_id: string }>`
    with known as (
      select
        coalesce(
          (select occurrence_id from attendance_connection where janus_server = ${server} and room_id = ${action.roomId} and feed_id = ${action.feedId}),
          (select id from meeting_occurrence
            where meeting_id = ${identity.meetingId} and status <> 'cancelled' and starts_at <= ${new Date(at.getTime() + EARLY_JOIN_MS)}
            order by starts_at desc limit 1),
          (select id from meeting_occurrence where meeting_id = ${identity.meetingId} and status <> 'cancelled' order by starts_at limit 1)
        ) as occurrence_id,
        (select ended_at from media_session where janus_server = ${server} and session_id = ${action.sessionId}) as session_ended_at
    )
    insert into attendance_connection
      (janus_server, room_id, feed_id, session_id, handle_id, meeting_id, occurrence_id, participant_id, joined_at, left_at, end_reason, last_seen_at)
    select ${server}, ${action.roomId}, ${action.feedId}, ${action.sessionId}, ${action.handleId}, ${identity.meetingId}::uuid, known.occurrence_id,
      ${identity.participantId}::uuid, ${at}::timestamptz,
      case when known.session_ended_at >= ${at}::timestamptz then known.session_ended_at end,
      case when known.session_ended_at >= ${at}::timestamptz then 'session-destroyed' end,
      ${at}::timestamptz
    from known
    where known.occurrence_id is not null
    on conflict (janus_server, room_id, feed_id) do update set
      joined_at = least(coalesce(attendance_connection.joined_at, excluded.joined_at), excluded.joined_at),
      session_id = excluded.session_id,
      handle_id = excluded.handle_id,
      meeting_id = excluded.meeting_id,
      occurrence_id = excluded.occurrence_id,
      participant_id = excluded.participant_id,
      last_seen_at = greatest(attendance_connection.last_seen_at, excluded.last_seen_at)
    returning occurrence_id
  `.execute(trx);
  const occurrenceId = written.rows[0]?.occurrence_id;
  if (!occurrenceId) return [];
  const touched = { meetingId: identity.meetingId, participantId: identity.participantId, occurrenceId };
  return [touched];
}

async function publisherLeft(trx: Trx, server: string, action: Extract<JanusAttendanceAction, { kind: 'publisher-left' }>, options: TrackingOptions): Promise<Touched[]> {
  const key = { janus_server: server, room_id: action.roomId, feed_id: action.feedId };
  // Reads the connection and locks its participant in one statement; a row without a participant is not needed.
  // A batch locked the participant up front (lockBatchParticipants) and reads it from the upsert instead.
  const found = options.locked
    ? { rows: [] }
    : await sql<{ meeting_id: string | null; occurrence_id: string | null; participant_id: string | null }>`
        select c.meeting_id, c.occurrence_id, c.participant_id
        from attendance_connection c join participant p on p.id = c.participant_id
        where c.janus_server = ${server} and c.room_id = ${action.roomId} and c.feed_id = ${action.feedId}
        for update of p
      `.execute(trx);

  // Without a row yet, this `leaving` came before its `joined`: the row waits for it and counts only then.
  const upserted = await trx
    .insertInto('attendance_connection')
    .values({ ...key, left_at: action.at, end_reason: 'leaving' })
    .onConflict((oc) =>
      oc.columns(['janus_server', 'room_id', 'feed_id']).doUpdateSet({
        // `leaving` is the most precise end: it replaces an end a session or server event guessed.
        left_at: sql`case when attendance_connection.end_reason = 'leaving' then least(attendance_connection.left_at, excluded.left_at)
          else greatest(attendance_connection.joined_at, excluded.left_at) end`,
        end_reason: 'leaving',
      }),
    )
    .returning(['meeting_id', 'occurrence_id', 'participant_id'])
    .executeTakeFirstOrThrow();
  const existing = options.locked ? upserted : found.rows[0];
  if (!existing?.participant_id || !existing.meeting_id || !existing.occurrence_id) return [];
  // The select above locked it one at a time; in a batch it is locked unless its row is newer than the batch's lock.
  if (options.locked) await lockParticipant(trx, existing.participant_id, options.locked);
  return [{ meetingId: existing.meeting_id, occurrenceId: existing.occurrence_id, participantId: existing.participant_id }];
}

/**
 * Serialises the work on one participant across consumers (two devices' events
 * arrive on different partitions). A participant in `locked` is held already.
 */
async function lockParticipant(trx: Trx, participantId: string, locked?: Set<string>): Promise<void> {
  if (locked?.has(participantId)) return;
  await trx.selectFrom('participant').select('id').where('id', '=', participantId).forUpdate().execute();
  locked?.add(participantId);
}

/**
 * Locks, in one query and in id order, every participant that the Janus
 * events of a batch may change, as far as the stored rows tell now, and adds
 * them to `options.locked`. Each event then finds its participant locked, so
 * two batches running at once take their locks in one order and cannot
 * deadlock, unless a row changed between this query and the event.
 */
export async function lockBatchParticipants(trx: Trx, items: { server: string; action: JanusAttendanceAction }[], options: TrackingOptions): Promise<void> {
  const tokenParticipants: string[] = [];
  const feeds: { server: string[]; room: string[]; feed: string[] } = { server: [], room: [], feed: [] };
  const sessions: { server: string[]; session: string[] } = { server: [], session: [] };
  const rooms: { server: string[]; room: string[] } = { server: [], room: [] };
  const servers: string[] = [];
  for (const { server, action } of items) {
    switch (action.kind) {
      case 'publisher-joined': {
        const claims = action.token ? readJoinToken(action.token, options.joinTokenSecret) : null;
        if (claims) tokenParticipants.push(claims.participantId);
        sessions.server.push(server);
        sessions.session.push(action.sessionId);
        break;
      }
      case 'publisher-left':
        feeds.server.push(server);
        feeds.room.push(action.roomId);
        feeds.feed.push(action.feedId);
        break;
      case 'handle-detached':
      case 'session-ended':
        sessions.server.push(server);
        sessions.session.push(action.sessionId);
        break;
      case 'room-destroyed':
        rooms.server.push(server);
        rooms.room.push(action.roomId);
        break;
      case 'server-started':
      case 'server-shutdown':
        servers.push(server);
        break;
      default:
        break;
    }
  }
  if (tokenParticipants.length + feeds.server.length + sessions.server.length + rooms.server.length + servers.length === 0) return;

  const rows = await sql<{ id: string; meeting_id: string }>`
    select p.id, p.meeting_id from participant p
    where p.id in (
      select t.id from unnest(${tokenParticipants}::uuid[]) as t(id)
      union
      select c.participant_id from attendance_connection c
        join unnest(${feeds.server}::text[], ${feeds.room}::text[], ${feeds.feed}::text[]) as k(server, room, feed)
          on c.janus_server = k.server and c.room_id = k.room and c.feed_id = k.feed
      union
      select c.participant_id from attendance_connection c
        join unnest(${sessions.server}::text[], ${sessions.session}::text[]) as k(server, session)
          on c.janus_server = k.server and c.session_id = k.session
      where c.left_at is null
      union
      select m.participant_id from media_session m
        join unnest(${sessions.server}::text[], ${sessions.session}::text[]) as k(server, session)
          on m.janus_server = k.server and m.session_id = k.session
      union
      select c.participant_id from attendance_connection c
        join unnest(${rooms.server}::text[], ${rooms.room}::text[]) as k(server, room)
          on c.janus_server = k.server and c.room_id = k.room
      where c.left_at is null
      union
      select c.participant_id from attendance_connection c
      where c.janus_server = any(${servers}::text[]) and c.left_at is null and c.joined_at is not null
    )
    order by p.id
    for update
  `.execute(trx);
  for (const row of rows.rows) {
    options.locked?.add(row.id);
    options.participantMeetings?.set(row.id, row.meeting_id);
  }
}

/**
 * Derives the intervals of the touched participants, in id order, and raises
 * the attendance version once per meeting that changed. Participants are
 * locked first unless the caller holds them (`locked`).
 */
export async function rederive(trx: Trx, touched: Touched[], options: TrackingOptions, locked = false): Promise<Touched[]> {
  const unique = new Map(touched.map((item) => [`${item.occurrenceId}/${item.participantId}`, item]));
  const ordered = [...unique.values()].sort((a, b) => a.participantId.localeCompare(b.participantId));
  if (!locked) for (const item of ordered) await lockParticipant(trx, item.participantId, options.locked);
  const changed = await deriveManyIntervals(trx, ordered, options);
  for (const meetingId of new Set(changed.map((item) => item.meetingId))) await bumpAttendanceVersion(trx, meetingId);
  return ordered;
}

/**
 * Derives one participant's intervals in one occurrence from their connections,
 * replaces the stored ones when they differ, and writes `attendance.joined` for
 * an interval that overlaps none stored before and `attendance.left` for one
 * that closed now. Returns whether anything changed; the caller holds the
 * participant's row lock and raises the attendance version (bumpAttendanceVersion).
 */
export async function deriveIntervals(trx: Trx, item: Touched, options: TrackingOptions & { final?: boolean }): Promise<boolean> {
  return (await deriveManyIntervals(trx, [item], options)).length > 0;
}

/**
 * Derives the intervals of several participants as deriveIntervals does, with
 * one read, one delete, one insert and one outbox write for all of them.
 * Returns the items whose intervals changed.
 */
export async function deriveManyIntervals(trx: Trx, items: Touched[], options: TrackingOptions & { final?: boolean }): Promise<Touched[]> {
  if (items.length === 0) return [];
  const states = await readDerivationStates(trx, items);
  const changed: { item: Touched; derived: PresenceInterval[] }[] = [];
  const events: { event: HopEvent; key: string }[] = [];
  const source = eventSource(options.functionName);

  for (const [index, item] of items.entries()) {
    const state = states[index]!;
    const final = options.final ?? state.meetingStatus === 'ended';
    const derived = mergeSpans(state.spans, options.graceMs, options.now, final);
    const stored = state.stored;
    if (sameIntervals(stored, derived)) continue;
    changed.push({ item, derived });

    for (const interval of derived) {
      const before = stored.filter((old) => overlaps(old, interval));
      const ids = { meetingId: item.meetingId, occurrenceId: item.occurrenceId, participantId: item.participantId };
      if (before.length === 0) {
        const joined = newEvent('vn.hop.attendance.joined.v1', { ...ids, joinedAt: interval.startedAt.toISOString() }, { source, subject: item.participantId, time: options.now });
        events.push({ event: joined, key: item.meetingId });
      }
      if (interval.status === 'closed' && (before.length === 0 || before.some((old) => old.status !== 'closed'))) {
        const left = newEvent(
          'vn.hop.attendance.left.v1',
          { ...ids, joinedAt: interval.startedAt.toISOString(), leftAt: interval.endedAt!.toISOString(), seconds: intervalSeconds(interval, options.now) },
          { source, subject: item.participantId, time: options.now },
        );
        events.push({ event: left, key: item.meetingId });
      }
    }
  }
  if (changed.length === 0) return [];

  await sql`
    delete from attendance_interval
    where (occurrence_id, participant_id) in (
      select * from unnest(${changed.map((c) => c.item.occurrenceId)}::uuid[], ${changed.map((c) => c.item.participantId)}::uuid[])
    )
  `.execute(trx);
  const rows = changed.flatMap(({ item, derived }) =>
    derived.map((interval) => ({
      occurrence_id: item.occurrenceId,
      participant_id: item.participantId,
      meeting_id: item.meetingId,
      started_at: interval.startedAt,
      ended_at: interval.endedAt,
      status: interval.status,
    })),
  );
  // Chunks keep each INSERT far below PostgreSQL's 65 535 bind parameters.
  for (let start = 0; start < rows.length; start += 1_000) {
    await trx.insertInto('attendance_interval').values(rows.slice(start, start + 1_000)).execute();
  }
  await appendManyToOutbox(trx, events);
  return changed.map((c) => c.item);
}

interface DerivationState {
  meetingStatus: string | null;
  spans: { joinedAt: Date; leftAt: Date | null }[];
  stored: PresenceInterval[];
}

/**
 * Reads in one query what the derivation needs for each item, in the items'
 * order: the meeting's status, the participant's connections that joined, and
 * their stored intervals in start order. Times travel as whole milliseconds
 * since the epoch, truncated as the pg driver truncates them.
 */
async function readDerivationStates(trx: Trx, items: Touched[]): Promise<DerivationState[]> {
  const epochMs = (column: RawBuilder<unknown>) => sql`floor(extract(epoch from ${column}) * 1000)`;
  const result = await sql<{ position: string; status: string | null; spans: [number, number | null][]; stored: [number, number | null, PresenceInterval['status']][] }>`
    select
      k.position,
      (select status from meeting where id = k.meeting_id) as status,
      coalesce((
        select json_agg(json_build_array(${epochMs(sql.ref('joined_at'))}, ${epochMs(sql.ref('left_at'))}))
        from attendance_connection
        where occurrence_id = k.occurrence_id and participant_id = k.participant_id and joined_at is not null
      ), '[]'::json) as spans,
      coalesce((
        select json_agg(json_build_array(${epochMs(sql.ref('started_at'))}, ${epochMs(sql.ref('ended_at'))}, status) order by started_at)
        from attendance_interval
        where occurrence_id = k.occurrence_id and participant_id = k.participant_id
      ), '[]'::json) as stored
    from unnest(${items.map((item) => item.occurrenceId)}::uuid[], ${items.map((item) => item.participantId)}::uuid[], ${items.map((item) => item.meetingId)}::uuid[])
      with ordinality as k(occurrence_id, participant_id, meeting_id, position)
    order by k.position
  `.execute(trx);
  const date = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));
  return result.rows.map((row) => ({
    meetingStatus: row.status,
    spans: row.spans.map(([joinedAt, leftAt]) => ({ joinedAt: date(joinedAt)!, leftAt: date(leftAt) })),
    stored: row.stored.map(([startedAt, endedAt, status]) => ({ startedAt: date(startedAt)!, endedAt: date(endedAt), status })),
  }));
}

function overlaps(a: Pick<PresenceInterval, 'startedAt' | 'endedAt'>, b: Pick<PresenceInterval, 'startedAt' | 'endedAt'>): boolean {
  const aEnd = a.endedAt?.getTime() ?? Infinity;
  const bEnd = b.endedAt?.getTime() ?? Infinity;
  return a.startedAt.getTime() <= bEnd && b.startedAt.getTime() <= aEnd;
}

function sameIntervals(a: PresenceInterval[], b: PresenceInterval[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (item, index) =>
      item.startedAt.getTime() === b[index]!.startedAt.getTime() &&
      (item.endedAt?.getTime() ?? null) === (b[index]!.endedAt?.getTime() ?? null) &&
      item.status === b[index]!.status,
  );
}

/** Raises the meeting's attendance version, which live boards poll, in the caller's transaction. */
export async function bumpAttendanceVersion(trx: Trx, meetingId: string): Promise<void> {
  await trx
    .insertInto('attendance_version')
    .values({ meeting_id: meetingId, version: 1 })
    .onConflict((oc) => oc.column('meeting_id').doUpdateSet({ version: sql`attendance_version.version + 1`, updated_at: sql`now()` }))
    .execute();
}

/**
 * Closes every connection of the meeting still open at `endedAt` and settles
 * all its intervals (the grace period no longer applies).
 */
export async function closeMeetingAttendance(trx: Trx, meetingId: string, endedAt: Date, options: TrackingOptions): Promise<number> {
  const closed = await closeConnections(trx, sql`meeting_id = ${meetingId}`, sql`greatest(joined_at, ${endedAt}::timestamptz)`, 'meeting-ended', options);
  await rederive(trx, closed, options, true);
  const pending = await trx
    .selectFrom('attendance_interval')
    .select(['meeting_id as meetingId', 'occurrence_id as occurrenceId', 'participant_id as participantId'])
    .where('meeting_id', '=', meetingId)
    .where('status', '!=', 'closed')
    .distinct()
    .execute();
  const ordered = pending.sort((a, b) => a.participantId.localeCompare(b.participantId));
  for (const item of ordered) await lockParticipant(trx, item.participantId, options.locked);
  const changed = await deriveManyIntervals(trx, ordered, { ...options, final: true });
  if (changed.length > 0) await bumpAttendanceVersion(trx, meetingId);
  return ordered.length;
}

/** Returns the intervals whose grace period has passed at `now`, for the settle job. */
export async function intervalsPastGrace(trx: Trx | import('kysely').Kysely<Database>, now: Date, graceMs: number, limit: number): Promise<Touched[]> {
  return trx
    .selectFrom('attendance_interval')
    .select(['meeting_id as meetingId', 'occurrence_id as occurrenceId', 'participant_id as participantId'])
    .where('status', '=', 'grace')
    .where('ended_at', '<=', new Date(now.getTime() - graceMs))
    .distinct()
    .limit(limit)
    .execute();
}

/** Settles one participant's intervals after their grace period; the caller runs it in a transaction. */
export async function settleParticipant(trx: Trx, item: Touched, options: TrackingOptions): Promise<boolean> {
  await lockParticipant(trx, item.participantId, options.locked);
  const changed = await deriveIntervals(trx, item, options);
  if (changed) await bumpAttendanceVersion(trx, item.meetingId);
  return changed;
}
