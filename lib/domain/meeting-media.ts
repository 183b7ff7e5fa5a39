import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import type { MeetingMedia } from '../contract/media-settings.ts';
import { HopError } from '../errors.ts';
import { capacityLimits, countConnected, type CapacityLimits } from './media-capacity.ts';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Returns the media settings of a meeting (its cap on concurrent
 * connections, the defaults it falls back to) and the participants connected
 * now. Throws MEETING_NOT_FOUND when the meeting has no room row.
 */
export async function loadMeetingMedia(db: Db, meetingId: string, now: Date, limits: CapacityLimits = capacityLimits()): Promise<MeetingMedia> {
  const room = await db.selectFrom('room').select(['max_connections', 'janus_server']).where('meeting_id', '=', meetingId).executeTakeFirst();
  if (!room) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
  return {
    meetingId,
    maxConnections: room.max_connections,
    defaultMaxConnections: limits.meetingMax,
    effectiveMaxConnections: room.max_connections ?? limits.meetingMax,
    serverMaxConnections: limits.serverMax,
    janusServer: room.janus_server,
    connected: await countConnected(db, { meetingId }, now),
  };
}
