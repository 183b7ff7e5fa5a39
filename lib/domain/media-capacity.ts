/**
 * Caps on concurrent connections: per meeting and per Janus server. A
 * participant counts as connected while a Janus session they opened through
 * the signalling proxy is open (`media_session` with neither `closed_at` nor
 * `ended_at`). A participant already connected is never refused, so a second
 * device or a reconnect always gets in.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import { newEvent } from '../contract/events.ts';

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
  reason: 'meeting-full' | 'server-full';
  limit: number;
  connected: number;
}

/** Sessions older than this are not counted, in case a gateway died before recording their end. */
const STALE_SESSION_MS = 24 * 60 * 60 * 1000;

type Db = Kysely<Database> | Transaction<Database>;

/** Returns why `participantId` may not connect now, or null when the caps allow it. */
export async function checkCapacity(
  db: Db,
  join: { meetingId: string; participantId: string; janusServer: string; roomMax: number | null },
  limits: CapacityLimits,
  now: Date,
): Promise<CapacityRefusal | null> {
  const open = db
    .selectFrom('media_session')
    .where('closed_at', 'is', null)
    .where('ended_at', 'is', null)
    .where('opened_at', '>', new Date(now.getTime() - STALE_SESSION_MS));

  const already = await open.select('participant_id').where('participant_id', '=', join.participantId).executeTakeFirst();
  if (already) return null;

  const meetingMax = join.roomMax ?? limits.meetingMax;
  const inMeeting = await open
    .select((eb) => eb.fn.count<string>('participant_id').distinct().as('count'))
    .where('meeting_id', '=', join.meetingId)
    .executeTakeFirstOrThrow();
  if (Number(inMeeting.count) >= meetingMax) return { code: 'MEETING_FULL', reason: 'meeting-full', limit: meetingMax, connected: Number(inMeeting.count) };

  const onServer = await open
    .select((eb) => eb.fn.count<string>('participant_id').distinct().as('count'))
    .where('janus_server', '=', join.janusServer)
    .executeTakeFirstOrThrow();
  if (Number(onServer.count) >= limits.serverMax) return { code: 'MEDIA_SERVER_FULL', reason: 'server-full', limit: limits.serverMax, connected: Number(onServer.count) };
  return null;
}

/** Writes `media.join-refused` to the outbox, so the chair's tools see that someone was turned away. */
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
  await db.transaction().execute((trx) => appendToOutbox(trx, event, join.meetingId));
}
