import { z } from 'zod';

/**
 * What attendance reads from a Janus event-handler event (Janus 1.x,
 * janus.eventhandler.sampleevh). Event types: 1 session, 2 handle, 16 WebRTC,
 * 32 media, 64 plugin, 256 core. `timestamp` is the server's wall clock in
 * microseconds since the epoch.
 */
export type JanusAttendanceAction =
  | { kind: 'publisher-joined'; sessionId: string; handleId: string; roomId: string; feedId: string; token: string | null; at: Date }
  /** Janus sends `leaving` without session and handle: the publisher is named by room and feed only. */
  | { kind: 'publisher-left'; roomId: string; feedId: string; at: Date }
  | { kind: 'room-destroyed'; roomId: string; at: Date }
  | { kind: 'handle-detached'; sessionId: string; handleId: string; at: Date }
  | { kind: 'session-ended'; sessionId: string; reason: 'session-destroyed' | 'session-timeout'; at: Date }
  | { kind: 'server-started'; at: Date }
  | { kind: 'server-shutdown'; at: Date }
  | { kind: 'activity'; sessionId: string; handleId: string; at: Date }
  | { kind: 'ignored' };

const id = z.union([z.number().int().nonnegative(), z.string().regex(/^[0-9]{1,20}$/)]).transform(String);

const base = z.object({
  type: z.number().int(),
  timestamp: z.number().optional(),
  session_id: id.optional(),
  handle_id: id.optional(),
  event: z.unknown().optional(),
});

const sessionEvent = z.object({ name: z.string() });
const videoRoomEvent = z.object({
  plugin: z.literal('janus.plugin.videoroom'),
  data: z.object({ event: z.string(), room: id.optional(), id: id.optional(), token: z.string().max(2000).optional() }).passthrough(),
});
const coreEvent = z.object({ status: z.string() });

/** Maps a Janus event to what it means for attendance; `fallbackTime` is used when the event has no timestamp. */
export function readJanusEvent(raw: Record<string, unknown>, fallbackTime: Date): JanusAttendanceAction {
  const parsed = base.safeParse(raw);
  if (!parsed.success) return { kind: 'ignored' };
  const event = parsed.data;
  const at = event.timestamp !== undefined ? new Date(Math.floor(event.timestamp / 1000)) : fallbackTime;
  const { session_id: sessionId, handle_id: handleId } = event;

  switch (event.type) {
    case 1: {
      const body = sessionEvent.safeParse(event.event);
      if (!body.success || sessionId === undefined) return { kind: 'ignored' };
      if (body.data.name === 'destroyed') return { kind: 'session-ended', sessionId, reason: 'session-destroyed', at };
      if (body.data.name === 'timeout') return { kind: 'session-ended', sessionId, reason: 'session-timeout', at };
      return { kind: 'ignored' };
    }
    case 2: {
      const body = sessionEvent.safeParse(event.event);
      if (!body.success || sessionId === undefined || handleId === undefined) return { kind: 'ignored' };
      return body.data.name === 'detached' ? { kind: 'handle-detached', sessionId, handleId, at } : { kind: 'ignored' };
    }
    case 64: {
      const body = videoRoomEvent.safeParse(event.event);
      if (!body.success) return { kind: 'ignored' };
      const { event: name, room: roomId, id: feedId, token } = body.data.data;
      // `joined` and `leaving` with an `id` are about a publisher; subscribers send other names.
      if (name === 'joined' && roomId !== undefined && feedId !== undefined && sessionId !== undefined && handleId !== undefined) {
        return { kind: 'publisher-joined', sessionId, handleId, roomId, feedId, token: token ?? null, at };
      }
      if (name === 'leaving' && roomId !== undefined && feedId !== undefined) return { kind: 'publisher-left', roomId, feedId, at };
      if (name === 'destroyed' && roomId !== undefined) return { kind: 'room-destroyed', roomId, at };
      if (sessionId !== undefined && handleId !== undefined) return { kind: 'activity', sessionId, handleId, at };
      return { kind: 'ignored' };
    }
    case 256: {
      const body = coreEvent.safeParse(event.event);
      if (!body.success) return { kind: 'ignored' };
      if (body.data.status === 'started') return { kind: 'server-started', at };
      if (body.data.status === 'shutdown') return { kind: 'server-shutdown', at };
      return { kind: 'ignored' };
    }
    // WebRTC and media events are signs of life too. media/janus-config does
    // not subscribe to them, but an installation that does gets them counted.
    case 16:
    case 32:
      if (sessionId !== undefined && handleId !== undefined) return { kind: 'activity', sessionId, handleId, at };
      return { kind: 'ignored' };
    // JSEP (8), transport (128) and external (1024) events add nothing the others do not.
    default:
      return { kind: 'ignored' };
  }
}
