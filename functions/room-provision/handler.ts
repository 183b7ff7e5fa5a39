import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { provisionRoom } from '../../lib/domain/rooms.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { eventFunction } from '../../lib/runtime/event-function.ts';

const name = 'room-provision';

/**
 * Creates the Janus VideoRoom of a scheduled meeting and destroys it when the
 * meeting is cancelled or ends.
 *
 * Provisioning (lib/domain/rooms.ts) is safe to repeat, and join-issue also
 * runs it for a room that failed while media was off.
 */
export const handler = eventFunction({
  name,
  on: {
    'vn.hop.meeting.scheduled.v1': async (event, deps) => {
      await provisionRoom(event.data.meetingId, deps, eventSource(name));
    },
    'vn.hop.meeting.cancelled.v1': async (event, deps) => {
      await destroyRoom(event.data.meetingId, 'cancelled', deps);
    },
    'vn.hop.meeting.ended.v1': async (event, deps) => {
      await destroyRoom(event.data.meetingId, 'ended', deps);
    },
  },
});

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
