import { claimEvent, eventFunction } from '../../lib/runtime/event-function.ts';
import { readJanusEvent } from '../../lib/domain/attendance/janus-events.ts';
import { LastSeenFilter } from '../../lib/domain/attendance/last-seen-filter.ts';
import { attendanceSettings } from '../../lib/domain/attendance/settings.ts';
import { applyJanusAction, closeMeetingAttendance, recordActivity } from '../../lib/domain/attendance/tracking.ts';

const name = 'attendance-track';

/** Signs of life already written by this process, so most later ones need no query. */
const lastSeen = new LastSeenFilter();

/**
 * Turns Janus event-handler events (`hop.media.v1`) into attendance intervals
 * per participant and occurrence, and closes what is still open when a meeting
 * ends (`hop.meetings.v1`). Participants are identified by the Janus session
 * their join token opened through the signalling proxy (`media_session`), never
 * by display name. Each event that changes a connection is applied once
 * (`claimEvent`), in one transaction with the attendance events it writes.
 * Janus events that attendance does not use are skipped (202) without a query,
 * and signs of life only move `last_seen_at`, which needs no claim.
 */
export const handler = eventFunction({
  name,
  on: {
    'vn.hop.janus.event.v1': async (event, deps) => {
      const server = event.data.server;
      const action = readJanusEvent(event.data.event, new Date(event.time ?? deps.now()));
      if (action.kind === 'ignored') return 'skipped';
      if (action.kind === 'activity') {
        if (!lastSeen.due(server, action.sessionId, action.handleId, action.at)) return 'skipped';
        const changed = await recordActivity(deps.db, server, action);
        lastSeen.written(server, action.sessionId, action.handleId, action.at, changed);
        return undefined;
      }

      const settings = attendanceSettings();
      await deps.db.transaction().execute(async (trx) => {
        if (!(await claimEvent(trx, name, event.id))) return;
        const touched = await applyJanusAction(trx, server, action, { ...settings, now: deps.now(), functionName: name, joinTokenSecret: deps.joinTokenSecret });
        if (touched.length > 0) deps.log.debug({ fn: name, kind: action.kind, server, participants: touched.length }, 'attendance updated');
      });
      // The `joined` wrote last_seen_at, so the plugin events right after it need no update.
      if (action.kind === 'publisher-joined') lastSeen.written(server, action.sessionId, action.handleId, action.at, true);
      return undefined;
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
