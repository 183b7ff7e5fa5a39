import type { CreateRoomRequest } from '../adapters/media/media.ts';

/**
 * VideoRoom settings until meetings carry their own: up to 100 publishers and
 * a 512 kbit/s cap per publisher (enough for 360p video; 720p wants about
 * 2.5 Mbit/s).
 */
export const ROOM_PUBLISHERS = 100;
export const ROOM_BITRATE = 512_000;

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
