/**
 * Per-user calendar feeds: a secret token in the URL lets a calendar program
 * (Outlook, Google Calendar, Thunderbird) subscribe to a person's meetings
 * without signing in. Only the SHA-256 of the token is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import { buildCalendar, meetingUid, type IcalEventInput } from './ical.ts';

/** How far back and ahead the feed lists meetings. */
const FEED_PAST_MS = 90 * 24 * 60 * 60 * 1000;
const FEED_FUTURE_MS = 2 * 366 * 24 * 60 * 60 * 1000;
/** Most meetings one feed lists. */
const FEED_MAX_MEETINGS = 2000;

export function newFeedToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashFeedToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function feedPath(token: string): string {
  return `/api/v1/calendar/feed/${token}.ics`;
}

/**
 * Rewrites a rule that hop capped so calendar programs stop where hop stopped:
 * COUNT and UNTIL are replaced by COUNT of the occurrences hop kept.
 */
export function cappedRule(rule: string, countCap: number | null): string {
  if (countCap === null) return rule;
  const parts = rule.split(';').filter((part) => !/^(COUNT|UNTIL)=/i.test(part));
  return [...parts, `COUNT=${countCap}`].join(';');
}

/**
 * Builds the iCalendar feed (METHOD:PUBLISH) of `userId`: every meeting they
 * are invited to that is not a draft, from 90 days back to two years ahead. A
 * series is one VEVENT with its RRULE, EXDATE for cancelled occurrences and an
 * override (RECURRENCE-ID) for each moved one.
 */
export async function buildUserFeed(db: Kysely<Database>, userId: string, now: Date): Promise<string> {
  const meetings = await db
    .selectFrom('meeting as m')
    .leftJoin('meeting_room as r', 'r.id', 'm.meeting_room_id')
    .selectAll('m')
    .select(['r.name as room_name', 'r.location as room_location'])
    .where('m.id', 'in', (eb) => eb.selectFrom('participant').select('participant.meeting_id').where('participant.user_id', '=', userId))
    .where('m.status', '!=', 'draft')
    .where('m.last_ends_at', '>', new Date(now.getTime() - FEED_PAST_MS))
    .where('m.starts_at', '<', new Date(now.getTime() + FEED_FUTURE_MS))
    .orderBy('m.starts_at')
    .limit(FEED_MAX_MEETINGS)
    .execute();
  const ids = meetings.map((meeting) => meeting.id);
  const occurrences = ids.length === 0 ? [] : await db.selectFrom('meeting_occurrence').selectAll().where('meeting_id', 'in', ids).where('status', '!=', 'scheduled').execute();

  const events: IcalEventInput[] = [];
  for (const meeting of meetings) {
    const place = meeting.room_name ? [meeting.room_name, meeting.room_location].filter(Boolean).join(', ') : meeting.mode === 'online' ? 'Họp trực tuyến' : null;
    const description = [
      meeting.description,
      meeting.agenda.length > 0 ? `Chương trình họp:\n${meeting.agenda.map((item, index) => `${index + 1}. ${item.title} (${item.plannedMinutes} phút)`).join('\n')}` : null,
      meeting.preparation ? `Chuẩn bị: ${meeting.preparation}` : null,
    ].filter(Boolean).join('\n\n');
    let status: 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED' = 'CONFIRMED';
    if (meeting.status === 'cancelled') status = 'CANCELLED';
    else if (meeting.status === 'postponed') status = 'TENTATIVE';
    const base = {
      uid: meetingUid(meeting.id),
      sequence: meeting.sequence,
      title: meeting.urgent ? `[Họp đột xuất] ${meeting.title}` : meeting.title,
      description: description || null,
      location: place,
      timeZone: meeting.time_zone,
      status,
      updatedAt: new Date(meeting.updated_at).toISOString(),
    } as const;
    const own = occurrences.filter((occurrence) => occurrence.meeting_id === meeting.id);
    events.push({
      ...base,
      startsAt: new Date(meeting.starts_at).toISOString(),
      endsAt: new Date(meeting.ends_at).toISOString(),
      recurrenceRule: meeting.recurrence_rule ? cappedRule(meeting.recurrence_rule, meeting.recurrence_count_cap) : null,
      exceptionDates: own.filter((occurrence) => occurrence.status === 'cancelled').map((occurrence) => new Date(occurrence.recurrence_id).toISOString()),
    });
    if (!meeting.recurrence_rule) continue;
    for (const moved of own.filter((occurrence) => occurrence.status === 'moved')) {
      events.push({
        ...base,
        startsAt: new Date(moved.starts_at).toISOString(),
        endsAt: new Date(moved.ends_at).toISOString(),
        recurrenceId: new Date(moved.recurrence_id).toISOString(),
      });
    }
  }
  return buildCalendar({ method: 'PUBLISH', name: 'Lịch họp (hop)', events, now });
}
