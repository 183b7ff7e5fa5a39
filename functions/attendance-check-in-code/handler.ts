import QRCode from 'qrcode';
import { z } from 'zod';
import { issueCheckInCode } from '../../lib/domain/attendance/check-in-code.ts';
import { isKioskKeyFor } from '../../lib/domain/attendance/kiosk.ts';
import { loadMeetingAttendance } from '../../lib/domain/attendance/meeting-attendance.ts';
import { currentRoomOccurrence } from '../../lib/domain/attendance/room-check-in.ts';
import { loadMeetingContext } from '../../lib/domain/meeting-access.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { decide } from '../../lib/domain/policy.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meeting-rooms/:id/check-in-code: what the room's kiosk page
 * shows, fetched again when the code rotates (every 30 s): the meeting held in
 * the room now, the check-in code and link, the link as a QR code (SVG), and
 * the counts of the live board. Allowed to a kiosk key of the room (scope
 * `kiosk:<room id>`) and to anyone who may see everyone's attendance of that
 * meeting (`attendance.read-all`: its chair and secretary, organisers of its
 * unit, admins, API keys with `attendance:read`). Anyone else gets
 * PERMISSION_DENIED without the meeting's id or title.
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
    const kiosk = isKioskKeyFor(principal, room.id);

    const now = deps.now();
    const current = await currentRoomOccurrence(deps.db, room.id, now);
    if (!current) {
      if (!kiosk && !decide(principal, 'meeting-room.read').allow) throw new HopError('PERMISSION_DENIED', { details: { action: 'attendance.read-all' } });
      // The room's name lets the kiosk show which room it is while no meeting is held there.
      throw new HopError('NO_MEETING_IN_ROOM', { details: { meetingRoomId: room.id, meetingRoom: room } });
    }
    if (!kiosk) {
      const meeting = await loadMeetingContext(deps.db, current.meetingId, principal);
      const decision = meeting ? decide(principal, 'attendance.read-all', { meeting }) : { allow: false, reason: 'meeting not found' };
      // MEETING_NOT_FOUND would carry the meeting's id, which a caller of another unit must not learn.
      if (!decision.allow) throw new HopError('PERMISSION_DENIED', { details: { action: 'attendance.read-all', meetingRoomId: room.id } });
    }

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
        // The same counts as the live board's summary cards.
        present: attendance.summary.present,
        inRoom: attendance.summary.inRoom,
        online: attendance.summary.online,
        invited: attendance.summary.invited,
        checkedIn: attendance.rows.filter((row) => row.checkedInAt !== null).length,
      },
    };
  },
});
