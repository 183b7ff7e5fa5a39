import QRCode from 'qrcode';
import { z } from 'zod';
import { issueCheckInCode } from '../../lib/domain/attendance/check-in-code.ts';
import { loadMeetingAttendance } from '../../lib/domain/attendance/meeting-attendance.ts';
import { currentRoomOccurrence } from '../../lib/domain/attendance/room-check-in.ts';
import { loadMeetingContext, requireAllowed } from '../../lib/domain/meeting-access.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { decide } from '../../lib/domain/policy.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meeting-rooms/:id/check-in-code: what the room's kiosk page
 * shows, fetched again when the code rotates (every 30 s): the meeting held in
 * the room now, the check-in code and link, the link as a QR code (SVG), and
 * how many have checked in. Allowed to whoever may see everyone's attendance
 * of that meeting (`attendance.read-all`: its chair and secretary, organisers
 * of its unit, admins, or an API key with `attendance:read` on the kiosk).
 */
export const handler = httpFunction({
  name: 'attendance-check-in-code',
  body: z.unknown(),
  handle: async ({ params, principal }, deps) => {
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    const meetingRoomId = params.id;
    const room = isUuid(meetingRoomId)
      ? await deps.db.selectFrom('meeting_room').select(['id', 'name', 'location']).where('id', '=', meetingRoomId).where('disabled_at', 'is', null).executeTakeFirst()
      : undefined;
    if (!room) throw new HopError('MEETING_ROOM_NOT_FOUND', { details: { meetingRoomId } });

    const now = deps.now();
    const current = await currentRoomOccurrence(deps.db, room.id, now);
    if (!current) {
      const mayList = decide(principal, 'meeting-room.read').allow;
      if (!mayList) throw new HopError('PERMISSION_DENIED', { details: { action: 'attendance.read-all' } });
      throw new HopError('NO_MEETING_IN_ROOM', { details: { meetingRoomId: room.id } });
    }
    const meeting = await loadMeetingContext(deps.db, current.meetingId, principal);
    requireAllowed(principal, 'attendance.read-all', { meetingId: current.meetingId, meeting });

    const issued = issueCheckInCode(room.id, current.occurrenceId, now, deps.joinTokenSecret);
    const base = deps.publicBaseUrl ?? '';
    // The code travels in the fragment, so it stays out of server and proxy logs.
    const url = `${base}/checkin.html#${issued.code}`;
    const qrSvg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    const attendance = await loadMeetingAttendance(
      deps.db,
      current.meetingId,
      { id: current.occurrenceId, starts_at: current.startsAt, ends_at: current.endsAt },
      now,
    );

    return {
      body: {
        meetingRoom: room,
        meeting: { id: current.meetingId, title: current.title },
        occurrence: { id: current.occurrenceId, startsAt: current.startsAt.toISOString(), endsAt: current.endsAt.toISOString() },
        code: issued.code,
        url,
        qrSvg,
        rotatesAt: issued.rotatesAt.toISOString(),
        checkedIn: attendance.rows.filter((row) => row.checkedInAt !== null).length,
        invited: attendance.summary.invited,
      },
    };
  },
});
