import { randomBytes, randomInt } from 'node:crypto';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { roomRequest } from '../../lib/domain/rooms.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { eventFunction } from '../../lib/runtime/event-function.ts';

const name = 'room-provision';

/** Janus room ids are unsigned 64-bit, but they travel as JSON numbers, so stay below 2^53. */
function newRoomId(): number {
  return randomInt(1, 2 ** 47) * 32 + randomInt(0, 32);
}

function newPin(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/**
 * Creates the Janus VideoRoom of a scheduled meeting and destroys it when the
 * meeting is cancelled or ends.
 *
 * Provisioning is safe to repeat: the room id, secret and PIN are chosen and
 * stored first, then Janus is asked to create that room (Janus returns "exists"
 * to a repeat, which the adapter treats as success), then the room is marked
 * ready together with the `room.provisioned` event.
 */
export const handler = eventFunction({
  name,
  on: {
    'vn.hop.meeting.scheduled.v1': async (event, deps) => {
      await provisionRoom(event.data.meetingId, event.data.title, deps);
    },
    'vn.hop.meeting.cancelled.v1': async (event, deps) => {
      await destroyRoom(event.data.meetingId, 'cancelled', deps);
    },
    'vn.hop.meeting.ended.v1': async (event, deps) => {
      await destroyRoom(event.data.meetingId, 'ended', deps);
    },
  },
});

async function provisionRoom(meetingId: string, title: string, deps: Dependencies): Promise<void> {
  const log = deps.log.child({ fn: name, meetingId });

  const meeting = await deps.db.selectFrom('meeting').select('status').where('id', '=', meetingId).executeTakeFirst();
  const room = await deps.db.selectFrom('room').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
  if (!meeting || !room) {
    log.warn('meeting.scheduled for a meeting this database does not have; skipped');
    return;
  }
  if (meeting.status !== 'scheduled' || room.status === 'ready' || room.status === 'destroyed') {
    log.info({ meetingStatus: meeting.status, roomStatus: room.status }, 'room provisioning not needed');
    return;
  }

  if (deps.media === null) {
    await deps.db
      .updateTable('room')
      .set({ status: 'failed', last_error: 'media is off: no Janus server is configured', updated_at: deps.now() })
      .where('meeting_id', '=', meetingId)
      .execute();
    log.warn('media is off, so the meeting has no video room');
    return;
  }

  const server = room.janus_server ? deps.media.server(room.janus_server) ?? deps.media.pick() : deps.media.pick();
  const roomId = room.room_id ?? newRoomId();
  const secret = room.secret ?? randomBytes(24).toString('base64url');
  const pin = room.pin ?? newPin();
  await deps.db
    .updateTable('room')
    .set({ janus_server: server.id, room_id: roomId, secret, pin, updated_at: deps.now() })
    .where('meeting_id', '=', meetingId)
    .execute();

  await server.createRoom(roomRequest({ roomId, secret, pin }, title, []));

  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('room')
      .set({ status: 'ready', last_error: null, updated_at: deps.now() })
      .where('meeting_id', '=', meetingId)
      .execute();
    const provisioned = newEvent(
      'vn.hop.room.provisioned.v1',
      { meetingId, janusServer: server.id, roomId },
      { source: eventSource(name), subject: meetingId, time: deps.now() },
    );
    await appendToOutbox(trx, provisioned, meetingId);
  });
  log.info({ janusServer: server.id, roomId }, 'room provisioned');
}

async function destroyRoom(meetingId: string, reason: 'cancelled' | 'ended', deps: Dependencies): Promise<void> {
  const log = deps.log.child({ fn: name, meetingId });

  const room = await deps.db.selectFrom('room').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
  if (!room || room.status === 'destroyed') return;

  if (room.room_id !== null && room.janus_server !== null && room.secret !== null) {
    const server = deps.media?.server(room.janus_server);
    if (!server) {
      // Thrown so the bridge retries: the room still exists on a server this process cannot reach.
      throw new Error(`Janus server ${room.janus_server} of meeting ${meetingId} is not configured`);
    }
    await server.destroyRoom(room.room_id, room.secret);
  }

  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('room')
      .set({ status: 'destroyed', secret: null, pin: null, updated_at: deps.now() })
      .where('meeting_id', '=', meetingId)
      .execute();
    if (room.room_id !== null && room.janus_server !== null) {
      const destroyed = newEvent(
        'vn.hop.room.destroyed.v1',
        { meetingId, janusServer: room.janus_server, roomId: room.room_id, reason },
        { source: eventSource(name), subject: meetingId, time: deps.now() },
      );
      await appendToOutbox(trx, destroyed, meetingId);
    }
  });
  log.info({ reason }, 'room destroyed');
}
