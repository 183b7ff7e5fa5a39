import { SIGNALLING_PATH, joinRequestSchema, type JoinDetails } from '../../lib/contract/meeting.ts';
import { findJoiningParticipant, requireMeetingOpen, type JoiningParticipant } from '../../lib/domain/joining-participant.ts';
import { isUuid, toIso } from '../../lib/domain/meetings.ts';
import { eventSource } from '../../lib/contract/events.ts';
import { JOIN_TOKEN_TTL_MS, readJoinToken, signJoinToken } from '../../lib/domain/join-token.ts';
import { ROOM_BITRATE, ROOM_LAYER_BITRATES, provisionRoom, roomRequest } from '../../lib/domain/rooms.ts';
import { HopError } from '../../lib/errors.ts';
import { capacityLimits, checkCapacity, recordRefusal } from '../../lib/domain/media-capacity.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'join-issue';

/**
 * POST /api/v1/meetings/:id/join: gives an invited participant what the
 * browser needs to enter the meeting's VideoRoom. The invitation key proves the
 * invitation. A fresh Janus token is added to the room's `allowed` list for each
 * join, so Janus rejects publishers who did not pass through here. The token
 * is signed, bound to the meeting, participant and role, and expires after
 * JOIN_TOKEN_TTL_MS. The browser opens the gateway's signalling proxy
 * (gateway/media-signalling.ts) with the token, and the proxy adds the PIN to
 * each join, so neither the room secret nor the PIN leaves the server. Janus
 * 1.1.2 checks `allowed` tokens only for publishers; subscribers are held back
 * by the PIN.
 */
export const handler = httpFunction({
  name,
  body: joinRequestSchema,
  handle: async ({ body, params, principal }, deps) => {
    const meetingId = params.id;
    if (!isUuid(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const meeting = await deps.db.selectFrom('meeting').selectAll().where('id', '=', meetingId).executeTakeFirst();
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    // The invitation key identifies the participant; without one, the signed-in person does.
    let participant: JoiningParticipant;
    try {
      participant = await findJoiningParticipant(deps.db, meetingId, body.inviteKey, principal);
    } catch (error) {
      if (error instanceof HopError && error.code === 'NOT_INVITED') deps.log.info({ fn: name, meetingId, byKey: body.inviteKey !== undefined }, 'join rejected: not a participant');
      throw error;
    }

    const now = deps.now().getTime();
    requireMeetingOpen(meeting, participant, new Date(now), 'join');

    let room = await deps.db.selectFrom('room').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
    if (deps.media === null) {
      deps.log.warn({ fn: name, meetingId, roomError: room?.last_error }, 'join rejected: media is off');
      throw new HopError('MEDIA_OFF', { details: { meetingId } });
    }
    if (room?.status === 'failed') {
      // The room failed while media was off; media is on now, so provision it here.
      try {
        await provisionRoom(meetingId, deps, eventSource(name));
      } catch (error) {
        deps.log.warn({ fn: name, meetingId, err: error }, 'provisioning a failed room at join failed');
        throw new HopError('MEDIA_UNAVAILABLE', { details: { meetingId }, cause: error });
      }
      room = await deps.db.selectFrom('room').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
    }
    if (!room || room.status !== 'ready' || room.room_id === null || room.janus_server === null || !room.secret || !room.pin) {
      throw new HopError('ROOM_NOT_READY', { details: { meetingId } });
    }
    const server = deps.media.server(room.janus_server);
    if (!server) throw new HopError('MEDIA_UNAVAILABLE', { details: { meetingId } });

    // Connection caps: a refused participant gets the reason, and the chair's tools get media.join-refused.
    const refusal = await checkCapacity(deps.db, { meetingId, participantId: participant.id, janusServer: room.janus_server, roomMax: room.max_connections }, capacityLimits(), deps.now());
    if (refusal) {
      await recordRefusal(deps.db, refusal, { meetingId, participantId: participant.id, participantName: participant.name, janusServer: room.janus_server }, eventSource(name), deps.now());
      deps.log.warn({ fn: name, meetingId, participantId: participant.id, ...refusal }, 'join refused: connection cap reached');
      throw new HopError(refusal.code, { details: { meetingId, limit: refusal.limit, connected: refusal.connected } });
    }

    // Creating the room again is a no-op when it exists, and brings it back when
    // Janus restarted and lost it (hop's rooms are not permanent), so a restart
    // of Janus does not strand a meeting. Then the new token is added, and the
    // expired tokens Janus still lists are removed.
    const token = signJoinToken(
      { meetingId, participantId: participant.id, role: participant.role, expiresAt: new Date(now + JOIN_TOKEN_TTL_MS) },
      deps.joinTokenSecret,
    );
    try {
      await server.createRoom(roomRequest({ roomId: room.room_id, secret: room.secret, pin: room.pin }, meeting.title, []));
      const allowed = await server.allowTokens(room.room_id, room.secret, [token]);
      const expired = allowed.filter((candidate) => {
        const claims = readJoinToken(candidate, deps.joinTokenSecret);
        return claims !== null && claims.expiresAt.getTime() < now;
      });
      await server.removeTokens(room.room_id, room.secret, expired);
    } catch (error) {
      deps.log.warn({ fn: name, meetingId, janusServer: server.id, err: error }, 'adding the join token on Janus failed');
      throw new HopError('MEDIA_UNAVAILABLE', { details: { meetingId }, cause: error });
    }

    deps.log.info({ fn: name, meetingId, participantId: participant.id }, 'join details issued');
    const details: JoinDetails = {
      meetingId,
      participantId: participant.id,
      displayName: participant.name,
      role: participant.role,
      janus: {
        url: SIGNALLING_PATH,
        server: server.id,
        roomId: room.room_id,
        token,
      },
      media: { bitrate: ROOM_BITRATE, layers: { ...ROOM_LAYER_BITRATES } },
      meeting: {
        title: meeting.title,
        startsAt: toIso(meeting.starts_at),
        endsAt: toIso(meeting.ends_at),
        timeZone: meeting.time_zone,
      },
    };
    return { body: details };
  },
});
