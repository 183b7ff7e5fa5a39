/**
 * Caps on concurrent connections: per meeting and per Janus server. A
 * participant counts as connected while a Janus session they opened through
 * the signalling proxy is open (`media_session` with neither `closed_at` nor
 * `ended_at`). A participant already connected is never refused, so a second
 * device or a reconnect always gets in.
 *
 * join-issue and the proxy's WebSocket upgrade check the caps early, for a
 * clear refusal. The check that holds under concurrent joins is
 * `recordSessionWithinCaps`, which counts and inserts the session in one
 * transaction under advisory locks of the meeting and of the Janus server.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, JoinRefusalReason } from '../adapters/db/schema.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import { newEvent } from '../contract/events.ts';
import { HopError } from '../errors.ts';
import { resolveOccurrence } from './attendance/meeting-attendance.ts';
import { bumpAttendanceVersion } from './attendance/tracking.ts';

export interface CapacityLimits {
  /** Participants connected at once to one meeting, unless its room sets `max_connections`. */
  meetingMax: number;
  /** Participants connected at once to one Janus server. */
  serverMax: number;
}

/**
 * Defaults: 200 per meeting (the ministry's minimum for online meeting
 * platforms is 40 endpoints in one meeting) and 300 per Janus server.
 * NOTE: both count participants, not forwarded streams; docs/capacity.md
 * shows how to size them for a given server, and these defaults are not
 * sized for any particular one.
 */
export const DEFAULT_CAPACITY: CapacityLimits = { meetingMax: 200, serverMax: 300 };

/** Reads HOP_MEETING_MAX_CONNECTIONS and HOP_JANUS_MAX_CONNECTIONS; a missing or invalid value keeps the default. */
export function capacityLimits(env: NodeJS.ProcessEnv = process.env): CapacityLimits {
  const read = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    meetingMax: read('HOP_MEETING_MAX_CONNECTIONS', DEFAULT_CAPACITY.meetingMax),
    serverMax: read('HOP_JANUS_MAX_CONNECTIONS', DEFAULT_CAPACITY.serverMax),
  };
}

export interface CapacityRefusal {
  code: 'MEETING_FULL' | 'MEDIA_SERVER_FULL';
  reason: JoinRefusalReason;
  limit: number;
  connected: number;
}

/** Sessions older than this are not counted, in case a gateway died before recording their end. */
const STALE_SESSION_MS = 24 * 60 * 60 * 1000;

type Db = Kysely<Database> | Transaction<Database>;

/** Open sessions: neither closed by the proxy nor ended by Janus, and not older than STALE_SESSION_MS. */
function openSessions(db: Db, now: Date) {
  return db
    .selectFrom('media_session')
    .where('closed_at', 'is', null)
    .where('ended_at', 'is', null)
    .where('opened_at', '>', new Date(now.getTime() - STALE_SESSION_MS));
}

/** Counts the participants connected at `now` to one meeting or to one Janus server. */
export async function countConnected(db: Db, scope: { meetingId: string } | { janusServer: string }, now: Date): Promise<number> {
  let query = openSessions(db, now).select((eb) => eb.fn.count<string>('participant_id').distinct().as('count'));
  query = 'meetingId' in scope ? query.where('meeting_id', '=', scope.meetingId) : query.where('janus_server', '=', scope.janusServer);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Returns why `participantId` may not connect now, or null when the caps allow it. */
export async function checkCapacity(
  db: Db,
  join: { meetingId: string; participantId: string; janusServer: string; roomMax: number | null },
  limits: CapacityLimits,
  now: Date,
): Promise<CapacityRefusal | null> {
  const already = await openSessions(db, now).select('participant_id').where('participant_id', '=', join.participantId).executeTakeFirst();
  if (already) return null;

  const meetingMax = join.roomMax ?? limits.meetingMax;
  const inMeeting = await countConnected(db, { meetingId: join.meetingId }, now);
  if (inMeeting >= meetingMax) return { code: 'MEETING_FULL', reason: 'meeting-full', limit: meetingMax, connected: inMeeting };

  const onServer = await countConnected(db, { janusServer: join.janusServer }, now);
  if (onServer >= limits.serverMax) return { code: 'MEDIA_SERVER_FULL', reason: 'server-full', limit: limits.serverMax, connected: onServer };
  return null;
}

/** A Janus session the signalling proxy opened, as `media_session` stores it. */
export interface OpenedSession {
  janusServer: string;
  /** Janus session id; Janus ids are unsigned 64-bit, so they are kept as decimal text. */
  sessionId: string;
  meetingId: string;
  participantId: string;
  /** SHA-256 of the join token, hex. */
  tokenHash: string;
}

/**
 * Records `session` unless a cap forbids it, and returns the refusal in that
 * case (nothing is written then). The count and the insert run in one
 * transaction. It first takes a transaction-scoped advisory lock of the
 * meeting and then one of the Janus server, always in that order. Joins to
 * the same meeting or server are so recorded one after the other, and joins
 * at the same moment cannot exceed a cap. The meeting's cap is read inside the
 * transaction, so a cap changed a moment ago applies.
 */
export async function recordSessionWithinCaps(
  db: Kysely<Database>,
  session: OpenedSession,
  limits: CapacityLimits,
  now: Date,
): Promise<CapacityRefusal | null> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`hop.media-capacity.meeting:${session.meetingId}`}))`.execute(trx);
    await sql`select pg_advisory_xact_lock(hashtext(${`hop.media-capacity.server:${session.janusServer}`}))`.execute(trx);

    const room = await trx.selectFrom('room').select('max_connections').where('meeting_id', '=', session.meetingId).executeTakeFirst();
    const refusal = await checkCapacity(
      trx,
      { meetingId: session.meetingId, participantId: session.participantId, janusServer: session.janusServer, roomMax: room?.max_connections ?? null },
      limits,
      now,
    );
    if (refusal) return refusal;

    await trx
      .insertInto('media_session')
      .values({
        janus_server: session.janusServer,
        session_id: session.sessionId,
        meeting_id: session.meetingId,
        participant_id: session.participantId,
        token_hash: session.tokenHash,
        opened_at: now,
      })
      // Janus restarted with an empty session table can hand out an id again.
      .onConflict((oc) =>
        oc.columns(['janus_server', 'session_id']).doUpdateSet((eb) => ({
          meeting_id: eb.ref('excluded.meeting_id'),
          participant_id: eb.ref('excluded.participant_id'),
          token_hash: eb.ref('excluded.token_hash'),
          opened_at: eb.ref('excluded.opened_at'),
          closed_at: null,
          ended_at: null,
        })),
      )
      .execute();
    return null;
  });
}

/**
 * Stores a refused join for the chair's live board and writes
 * `media.join-refused` to the outbox, in one transaction. Repeated refusals
 * of one participant for the same reason in the same occurrence update one
 * row (attempts, latest time, cap and count). When the meeting has no
 * occurrence left to attach the refusal to, only the event is written.
 */
export async function recordRefusal(
  db: Kysely<Database>,
  refusal: CapacityRefusal,
  join: { meetingId: string; participantId: string; participantName: string; janusServer: string },
  source: string,
  now: Date,
): Promise<void> {
  const event = newEvent(
    'vn.hop.media.join-refused.v1',
    { meetingId: join.meetingId, participantId: join.participantId, participantName: join.participantName, reason: refusal.reason, janusServer: join.janusServer, limit: refusal.limit, connected: refusal.connected },
    { source, subject: join.meetingId, time: now },
  );
  await db.transaction().execute(async (trx) => {
    await appendToOutbox(trx, event, join.meetingId);
    const occurrenceId = await currentOccurrenceId(trx, join.meetingId, now);
    if (occurrenceId === null) return;

    const latest = { participant_name: join.participantName, janus_server: join.janusServer, max_connections: refusal.limit, connected: refusal.connected, last_refused_at: now };
    await trx
      .insertInto('media_join_refusal')
      .values({ occurrence_id: occurrenceId, participant_id: join.participantId, reason: refusal.reason, meeting_id: join.meetingId, first_refused_at: now, ...latest })
      .onConflict((oc) => oc.columns(['occurrence_id', 'participant_id', 'reason']).doUpdateSet({ ...latest, attempts: sql`media_join_refusal.attempts + 1` }))
      .execute();
    await bumpAttendanceVersion(trx, join.meetingId);
  });
}

async function currentOccurrenceId(trx: Transaction<Database>, meetingId: string, now: Date): Promise<string | null> {
  try {
    return (await resolveOccurrence(trx, meetingId, undefined, now)).id;
  } catch (error) {
    if (error instanceof HopError && error.code === 'OCCURRENCE_NOT_FOUND') return null;
    throw error;
  }
}
