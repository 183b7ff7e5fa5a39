import { randomBytes, randomInt } from 'node:crypto';
import { newEvent } from '../contract/events.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import type { CreateRoomRequest } from '../adapters/media/media.ts';
import type { Dependencies } from '../runtime/dependencies.ts';
import { pickServer } from './media-placement.ts';

/**
 * Simulcast layer caps for publishers, in bits per second: 1280×720,
 * 640×360 and 320×180 (VP8, 30 frames per second with two temporal layers).
 * The join page sends them as the `maxBitrate` of each encoding.
 */
export const ROOM_LAYER_BITRATES = { high: 900_000, medium: 300_000, low: 100_000 } as const;

/**
 * VideoRoom settings until meetings carry their own: up to 100 publishers,
 * and a cap per publisher that fits the three simulcast layers and audio.
 */
export const ROOM_PUBLISHERS = 100;
export const ROOM_BITRATE = ROOM_LAYER_BITRATES.high + ROOM_LAYER_BITRATES.medium + ROOM_LAYER_BITRATES.low + 64_000;

/** Janus shows room descriptions in `list`; keep them short. */
const MAX_DESCRIPTION_LENGTH = 120;

/** Builds the create request for a meeting's room from the values stored in its `room` row. */
export function roomRequest(
  room: { roomId: number; secret: string; pin: string },
  title: string,
  allowed: string[],
): CreateRoomRequest {
  return {
    roomId: room.roomId,
    description: title.slice(0, MAX_DESCRIPTION_LENGTH),
    secret: room.secret,
    pin: room.pin,
    publishers: ROOM_PUBLISHERS,
    bitrate: ROOM_BITRATE,
    allowed,
  };
}

/** Janus room ids are unsigned 64-bit, but they travel as JSON numbers, so they stay below 2^53. */
function newRoomId(): number {
  return randomInt(1, 2 ** 47) * 32 + randomInt(0, 32);
}

function newPin(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export type ProvisionOutcome = 'ready' | 'not-needed' | 'media-off';

/**
 * Creates the Janus VideoRoom of a scheduled meeting whose room is pending or
 * failed, and marks it ready together with `room.provisioned` in the outbox.
 *
 * Safe to repeat and to run concurrently: the room id, secret and PIN are
 * stored first by an update that only fills empty values, so every caller
 * creates the same room, and Janus's "room exists" counts as success. With
 * media off the room is marked failed with the reason; a later call with
 * media on provisions it.
 */
export async function provisionRoom(meetingId: string, deps: Dependencies, source: string): Promise<ProvisionOutcome> {
  const log = deps.log.child({ meetingId });

  const meeting = await deps.db.selectFrom('meeting').select(['status', 'title']).where('id', '=', meetingId).executeTakeFirst();
  const room = await deps.db.selectFrom('room').select('status').where('meeting_id', '=', meetingId).executeTakeFirst();
  if (!meeting || !room) {
    log.warn('room provisioning for a meeting this database does not have; skipped');
    return 'not-needed';
  }
  if (meeting.status !== 'scheduled' || room.status === 'ready' || room.status === 'destroyed') {
    log.info({ meetingStatus: meeting.status, roomStatus: room.status }, 'room provisioning not needed');
    return 'not-needed';
  }

  if (deps.media === null) {
    await deps.db
      .updateTable('room')
      .set({ status: 'failed', last_error: 'media is off: no Janus server is configured', updated_at: deps.now() })
      .where('meeting_id', '=', meetingId)
      .where('status', '=', 'pending')
      .execute();
    log.warn('media is off, so the meeting has no video room yet');
    return 'media-off';
  }

  // Least-loaded healthy server (media-placement.ts); a retry keeps the placement already stored.
  const placement = await pickServer(deps);
  await deps.db
    .updateTable('room')
    .set({
      janus_server: placement,
      room_id: newRoomId(),
      secret: randomBytes(24).toString('base64url'),
      pin: newPin(),
      updated_at: deps.now(),
    })
    .where('meeting_id', '=', meetingId)
    .where('room_id', 'is', null)
    .execute();
  const assigned = await deps.db.selectFrom('room').selectAll().where('meeting_id', '=', meetingId).executeTakeFirstOrThrow();
  const server = deps.media.server(assigned.janus_server ?? '');
  if (!server || assigned.room_id === null || !assigned.secret || !assigned.pin) {
    // Thrown so the caller retries: the room was placed on a server this process does not know.
    throw new Error(`Janus server ${assigned.janus_server} of meeting ${meetingId} is not configured`);
  }

  await server.createRoom(roomRequest({ roomId: assigned.room_id, secret: assigned.secret, pin: assigned.pin }, meeting.title, []));

  await deps.db.transaction().execute(async (trx) => {
    const update = await trx
      .updateTable('room')
      .set({ status: 'ready', last_error: null, updated_at: deps.now() })
      .where('meeting_id', '=', meetingId)
      .where('status', 'in', ['pending', 'failed'])
      .executeTakeFirst();
    if (update.numUpdatedRows === 0n) return;

    const provisioned = newEvent(
      'vn.hop.room.provisioned.v1',
      { meetingId, janusServer: server.id, roomId: assigned.room_id! },
      { source, subject: meetingId, time: deps.now() },
    );
    await appendToOutbox(trx, provisioned, meetingId);
  });
  log.info({ janusServer: server.id, roomId: assigned.room_id }, 'room provisioned');
  return 'ready';
}
