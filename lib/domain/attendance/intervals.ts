import type { AttendanceIntervalStatus } from '../../adapters/db/schema.ts';

/** One device's presence: a VideoRoom publisher from its `joined` to its end (null while still in the room). */
export interface ConnectionSpan {
  joinedAt: Date;
  leftAt: Date | null;
}

/** A participant's merged presence: `open` while a device is in the room, `grace` while a rejoin would still continue it, then `closed`. */
export interface PresenceInterval {
  startedAt: Date;
  endedAt: Date | null;
  status: AttendanceIntervalStatus;
}

/** How long a participant may be gone and still keep one interval, unless HOP_ATTENDANCE_GRACE_SECONDS sets another. */
export const DEFAULT_GRACE_MS = 2 * 60 * 1000;

/**
 * Merges the spans of one participant's devices into intervals: overlapping
 * spans (two devices) count once, and a gap of at most `graceMs` between two
 * spans (a dropped connection that came back) is bridged, so the gap counts as
 * present. The order of `spans` does not matter, so events that arrived out of
 * order give the same result. An ended interval stays in `grace` until
 * `graceMs` after its end has passed at `now`, or `final` is set (the meeting
 * ended).
 */
export function mergeSpans(spans: readonly ConnectionSpan[], graceMs: number, now: Date, final = false): PresenceInterval[] {
  const sorted = [...spans].sort((a, b) => a.joinedAt.getTime() - b.joinedAt.getTime());
  const merged: { startedAt: Date; endedAt: Date | null }[] = [];

  for (const span of sorted) {
    // A span that ended before it began (clock skew between events) counts as an instant.
    const leftAt = span.leftAt && span.leftAt < span.joinedAt ? span.joinedAt : span.leftAt;
    const current = merged.at(-1);
    if (current && (current.endedAt === null || span.joinedAt.getTime() <= current.endedAt.getTime() + graceMs)) {
      if (current.endedAt !== null) current.endedAt = leftAt === null ? null : new Date(Math.max(current.endedAt.getTime(), leftAt.getTime()));
      continue;
    }
    merged.push({ startedAt: span.joinedAt, endedAt: leftAt });
  }

  return merged.map((interval) => {
    if (interval.endedAt === null) return { ...interval, status: 'open' };
    const settled = final || now.getTime() >= interval.endedAt.getTime() + graceMs;
    return { ...interval, status: settled ? 'closed' : 'grace' };
  });
}

/** Returns the seconds an interval covers, counting an open one up to `now`. */
export function intervalSeconds(interval: Pick<PresenceInterval, 'startedAt' | 'endedAt'>, now: Date): number {
  const end = interval.endedAt ?? now;
  return Math.max(0, Math.round((end.getTime() - interval.startedAt.getTime()) / 1000));
}
