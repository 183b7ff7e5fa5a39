import { claimEvent, eventFunction } from '../../lib/runtime/event-function.ts';
import { readJanusEvent } from '../../lib/domain/attendance/janus-events.ts';
import { attendanceSettings } from '../../lib/domain/attendance/settings.ts';
import { applyJanusAction, closeMeetingAttendance } from '../../lib/domain/attendance/tracking.ts';

const name = 'attendance-track';

/**
 * Turns Janus event-handler events (`hop.media.v1`) into attendance intervals
 * per participant and occurrence, and closes what is still open when a meeting
 * ends (`hop.meetings.v1`). Participants are identified by the Janus session
 * their join token opened through the signalling proxy (`media_session`), never
 * by display name. Each event is applied once (`claimEvent`), in one
 * transaction with the attendance events it writes.
 */
export const handler = eventFunction({
  name,
  on: {
    'vn.hop.janus.event.v1': async (event, deps) => {
      const action = readJanusEvent(event.data.event, new Date(event.time ?? deps.now()));
      if (action.kind === 'ignored') return;
      const settings = attendanceSettings();
      await deps.db.transaction().execute(async (trx) => {
        if (!(await claimEvent(trx, name, event.id))) return;
        const touched = await applyJanusAction(trx, event.data.server, action, { ...settings, now: deps.now(), functionName: name, joinTokenSecret: deps.joinTokenSecret });
        if (touched.length > 0) deps.log.debug({ fn: name, kind: action.kind, server: event.data.server, participants: touched.length }, 'attendance updated');
      });
    },
    'vn.hop.meeting.ended.v1': async (event, deps) => {
      const settings = attendanceSettings();
      await deps.db.transaction().execute(async (trx) => {
        if (!(await claimEvent(trx, name, event.id))) return;
        const settled = await closeMeetingAttendance(trx, event.data.meetingId, new Date(event.data.endedAt), { ...settings, now: deps.now(), functionName: name, joinTokenSecret: deps.joinTokenSecret });
        deps.log.info({ fn: name, meetingId: event.data.meetingId, settled }, 'attendance closed at meeting end');
      });
    },
  },
});
