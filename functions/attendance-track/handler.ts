import type { CloudEvent } from '../../lib/contract/cloudevent.ts';
import type { EventData } from '../../lib/contract/events.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { claimEvent, claimEvents, eventFunction, type HandledEvent } from '../../lib/runtime/event-function.ts';
import { readJanusEvent, type JanusAttendanceAction } from '../../lib/domain/attendance/janus-events.ts';
import { LastSeenFilter } from '../../lib/domain/attendance/last-seen-filter.ts';
import { attendanceSettings } from '../../lib/domain/attendance/settings.ts';
import {
  applyConnectionChanges,
  applyJanusAction,
  closeMeetingAttendance,
  LAST_SEEN_STEP_MS,
  lockBatchParticipants,
  recordActivity,
  rederive,
  type TrackingOptions,
} from '../../lib/domain/attendance/tracking.ts';

const name = 'attendance-track';

/** Signs of life already written by this process, so most later ones need no query. */
const lastSeen = new LastSeenFilter();

type JanusEvent = CloudEvent<EventData<'vn.hop.janus.event.v1'>>;
type MeetingEnded = CloudEvent<EventData<'vn.hop.meeting.ended.v1'>>;

function trackingOptions(deps: Dependencies): TrackingOptions {
  return { ...attendanceSettings(), now: deps.now(), functionName: name, joinTokenSecret: deps.joinTokenSecret };
}

function readAction(event: JanusEvent, deps: Dependencies): JanusAttendanceAction {
  return readJanusEvent(event.data.event, new Date(event.time ?? deps.now()));
}

async function trackJanusEvent(event: JanusEvent, deps: Dependencies): Promise<void | 'skipped'> {
  const server = event.data.server;
  const action = readAction(event, deps);
  if (action.kind === 'ignored') return 'skipped';
  if (action.kind === 'activity') {
    if (!lastSeen.due(server, action.sessionId, action.handleId, action.at)) return 'skipped';
    const changed = await recordActivity(deps.db, server, action);
    lastSeen.written(server, action.sessionId, action.handleId, action.at, changed);
    return undefined;
  }

  await deps.db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, name, event.id))) return;
    const touched = await applyJanusAction(trx, server, action, trackingOptions(deps));
    if (touched.length > 0) deps.log.debug({ fn: name, kind: action.kind, server, participants: touched.length }, 'attendance updated');
  });
  // The `joined` wrote last_seen_at, so the plugin events right after it need no update.
  if (action.kind === 'publisher-joined') lastSeen.written(server, action.sessionId, action.handleId, action.at, true);
  return undefined;
}

/**
 * Applies a run of Janus events in one transaction: one claim statement, the
 * participants locked up front in one order, each event's connection changes
 * in order, then each touched participant's intervals derived once. Under a
 * backlog this needs far fewer statements and commits than one event at a time.
 */
async function trackJanusEvents(events: JanusEvent[], deps: Dependencies): Promise<void> {
  // A sign of life is kept when the filter lets it through and no kept event of its handle in this batch is within LAST_SEEN_STEP_MS.
  const keptActivity = new Map<string, number>();
  const items = events
    .map((event) => ({ id: event.id, server: event.data.server, action: readAction(event, deps) }))
    .filter((item) => {
      const { server, action } = item;
      if (action.kind === 'ignored') return false;
      if (action.kind === 'publisher-joined') {
        // The `joined` writes last_seen_at, so the plugin events right after it need no update.
        keptActivity.set(`${server}\u0000${action.sessionId}\u0000${action.handleId}`, action.at.getTime());
        return true;
      }
      if (action.kind !== 'activity') return true;
      const key = `${server}\u0000${action.sessionId}\u0000${action.handleId}`;
      const previous = keptActivity.get(key);
      if (previous !== undefined && Math.abs(action.at.getTime() - previous) < LAST_SEEN_STEP_MS) return false;
      if (!lastSeen.due(server, action.sessionId, action.handleId, action.at)) return false;
      keptActivity.set(key, action.at.getTime());
      return true;
    });
  if (items.length === 0) return;

  const written: { server: string; action: Extract<JanusAttendanceAction, { kind: 'activity' | 'publisher-joined' }>; changed: boolean }[] = [];
  await deps.db.transaction().execute(async (trx) => {
    const options: TrackingOptions = { ...trackingOptions(deps), locked: new Set(), participantMeetings: new Map() };
    const changes = items.filter((item) => item.action.kind !== 'activity');
    const claimed = await claimEvents(trx, name, changes.map((item) => item.id));
    await lockBatchParticipants(trx, changes.filter((item) => claimed.has(item.id)), options);

    const touched = [];
    for (const { id, server, action } of items) {
      if (action.kind === 'activity') {
        written.push({ server, action, changed: await recordActivity(trx, server, action) });
        continue;
      }
      // Deleting the claim makes a second copy of the event in this batch a duplicate.
      if (!claimed.delete(id)) continue;
      touched.push(...(await applyConnectionChanges(trx, server, action, options)));
      if (action.kind === 'publisher-joined') written.push({ server, action, changed: true });
    }
    const derived = await rederive(trx, touched, options, true);
    if (derived.length > 0) deps.log.debug({ fn: name, events: items.length, participants: derived.length }, 'attendance updated');
  });
  for (const { server, action, changed } of written) lastSeen.written(server, action.sessionId, action.handleId, action.at, changed);
}

async function closeAtMeetingEnd(event: MeetingEnded, deps: Dependencies): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, name, event.id))) return;
    const settled = await closeMeetingAttendance(trx, event.data.meetingId, new Date(event.data.endedAt), trackingOptions(deps));
    deps.log.info({ fn: name, meetingId: event.data.meetingId, settled }, 'attendance closed at meeting end');
  });
}

/**
 * Turns Janus event-handler events (`hop.media.v1`) into attendance intervals
 * per participant and occurrence, and closes what is still open when a meeting
 * ends (`hop.meetings.v1`). Participants are identified by the Janus session
 * their join token opened through the signalling proxy (`media_session`), never
 * by display name. Each event that changes a connection is applied once
 * (`claimEvent`), in one transaction with the attendance events it writes.
 * Janus events that attendance does not use are skipped (202) without a query,
 * and signs of life only move `last_seen_at`, which needs no claim. Batches
 * from the bridge (`com.hop.batch-size`) are applied a run of consecutive Janus
 * events per transaction.
 */
export const handler = eventFunction({
  name,
  on: {
    'vn.hop.janus.event.v1': trackJanusEvent,
    'vn.hop.meeting.ended.v1': closeAtMeetingEnd,
  },
  onBatch: async (events: HandledEvent[], deps) => {
    let run: JanusEvent[] = [];
    for (const item of events) {
      if (item.type === 'vn.hop.janus.event.v1') {
        run.push(item.event);
        continue;
      }
      if (run.length > 0) await trackJanusEvents(run, deps);
      run = [];
      if (item.type === 'vn.hop.meeting.ended.v1') await closeAtMeetingEnd(item.event, deps);
    }
    if (run.length > 0) await trackJanusEvents(run, deps);
  },
});
