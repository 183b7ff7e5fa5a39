/**
 * Rules shared by the functions that schedule and change meetings: times,
 * agenda length, meeting rooms (capacity and clashes), people clashes, the
 * minimum notice in working days, occurrences of a series, the change history
 * and the details events carry.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, MeetingRow, OccurrenceStatus } from '../adapters/db/schema.ts';
import type { AgendaItemRow, MeetingMode } from '../adapters/db/schema.ts';
import { errorCatalog, HopError } from '../errors.ts';
import type { Meeting } from '../contract/meeting.ts';
import type { Dependencies } from '../runtime/dependencies.ts';
import { actorOf } from './audit.ts';
import { decide, type MeetingContext, type Principal } from './policy.ts';
import { expandRecurrence, type PlannedOccurrence } from './recurrence.ts';
import { addDays, loadHolidayCalendar, localDate, MIN_NOTICE_WORKING_DAYS, noticeWorkingDays } from './working-days.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Maximum meeting length: a week covers multi-day conferences and catches a wrong end date. */
export const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;
/** Meetings may be recorded up to a year after they took place and scheduled up to five years ahead. */
export const MAX_PAST_MS = 366 * 24 * 60 * 60 * 1000;
export const MAX_FUTURE_MS = 5 * 366 * 24 * 60 * 60 * 1000;

/** Meeting statuses whose occurrences hold their room and their people. */
const BOOKING_STATUSES = ['scheduled', 'in_progress', 'ended'] as const;

export interface SchedulingWarning {
  code: 'PEOPLE_CONFLICT' | 'RECURRENCE_CAPPED';
  message: string;
  message_en: string;
  details: unknown;
}

/** Checks the start and end of a meeting or occurrence; throws END_BEFORE_START or VALIDATION_FAILED. */
export function checkTimes(startsAt: Date, endsAt: Date, now: Date): void {
  if (endsAt.getTime() <= startsAt.getTime()) {
    throw new HopError('END_BEFORE_START', { details: { startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() } });
  }
  if (startsAt.getTime() < now.getTime() - MAX_PAST_MS || startsAt.getTime() > now.getTime() + MAX_FUTURE_MS) {
    throw new HopError('VALIDATION_FAILED', {
      details: [{ path: 'startsAt', message: 'a meeting starts at most one year ago and at most five years ahead' }],
    });
  }
  if (endsAt.getTime() - startsAt.getTime() > MAX_DURATION_MS) {
    throw new HopError('VALIDATION_FAILED', { details: [{ path: 'endsAt', message: 'a meeting lasts at most 7 days' }] });
  }
}

/** Throws AGENDA_TOO_LONG when the planned minutes add up to more than the meeting length. */
export function checkAgenda(agenda: readonly AgendaItemRow[], startsAt: Date, endsAt: Date): void {
  const plannedMinutes = agenda.reduce((sum, item) => sum + item.plannedMinutes, 0);
  const meetingMinutes = Math.floor((endsAt.getTime() - startsAt.getTime()) / 60_000);
  if (plannedMinutes > meetingMinutes) throw new HopError('AGENDA_TOO_LONG', { details: { plannedMinutes, meetingMinutes } });
}

/** Plans the occurrences of a single meeting (one) or of a series, with the cap the expansion applied. */
export function planOccurrences(
  recurrenceRule: string | null,
  startsAt: Date,
  endsAt: Date,
  timeZone: string,
): { occurrences: PlannedOccurrence[]; countCap: number | null } {
  if (recurrenceRule === null) return { occurrences: [{ recurrenceId: startsAt, startsAt, endsAt }], countCap: null };
  return expandRecurrence(recurrenceRule, startsAt, endsAt, timeZone);
}

export function cappedWarning(countCap: number): SchedulingWarning {
  return {
    code: 'RECURRENCE_CAPPED',
    message: `Lịch họp lặp lại không có ngày kết thúc hoặc quá dài, nên hệ thống chỉ tạo ${countCap} buổi họp đầu tiên (tối đa 200 buổi hoặc 2 năm).`,
    message_en: `The rule has no end or runs past the caps, so only the first ${countCap} occurrences were created (at most 200 or 2 years).`,
    details: { countCap },
  };
}

export interface BookableRoom {
  id: string;
  name: string;
  location: string | null;
  capacity: number | null;
}

/**
 * Loads the meeting room a meeting books. An online meeting has no physical
 * room; a missing or disabled room is MEETING_ROOM_UNAVAILABLE.
 */
export async function loadBookableRoom(db: Db, meetingRoomId: string | null, mode: MeetingMode): Promise<BookableRoom | null> {
  if (meetingRoomId === null) return null;
  if (mode === 'online') {
    throw new HopError('VALIDATION_FAILED', {
      details: [{ path: 'meetingRoomId', message: 'an online meeting has no physical room; use mode in_person or hybrid' }],
    });
  }
  const room = await db
    .selectFrom('meeting_room')
    .select(['id', 'name', 'location', 'capacity', 'disabled_at'])
    .where('id', '=', meetingRoomId)
    .executeTakeFirst();
  if (!room || room.disabled_at) throw new HopError('MEETING_ROOM_UNAVAILABLE', { details: { meetingRoomId } });
  return { id: room.id, name: room.name, location: room.location, capacity: room.capacity };
}

/**
 * Throws MEETING_ROOM_OVER_CAPACITY when more people are invited than the room
 * seats. Hybrid meetings count everyone too, because hop does not know who
 * will come in person.
 */
export function checkCapacity(room: BookableRoom | null, participantCount: number): void {
  if (room?.capacity != null && participantCount > room.capacity) {
    throw new HopError('MEETING_ROOM_OVER_CAPACITY', { details: { meetingRoomId: room.id, participantCount, capacity: room.capacity } });
  }
}

interface TimeRange {
  startsAt: Date;
  endsAt: Date;
}

/** Encodes the ranges as a JSON recordset, which PostgreSQL and PGlite both join against. */
function rangesJson(ranges: readonly TimeRange[]): string {
  return JSON.stringify(ranges.map((range) => ({ s: range.startsAt.toISOString(), e: range.endsAt.toISOString() })));
}

/**
 * SQL condition: occurrence alias `o` overlaps one of `ranges`. The bounds on
 * `starts_at` let PostgreSQL range-scan the occurrence index (a meeting lasts
 * at most MAX_DURATION_MS) before it compares each range.
 */
function overlapsAny(alias: 'o', ranges: readonly TimeRange[]) {
  const earliest = new Date(Math.min(...ranges.map((range) => range.startsAt.getTime())) - MAX_DURATION_MS);
  const latest = new Date(Math.max(...ranges.map((range) => range.endsAt.getTime())));
  return sql<boolean>`(${sql.ref(`${alias}.starts_at`)} > ${earliest} and ${sql.ref(`${alias}.starts_at`)} < ${latest}
    and exists (select 1 from jsonb_to_recordset(${rangesJson(ranges)}::jsonb) as ours(s timestamptz, e timestamptz)
                where ${sql.ref(`${alias}.starts_at`)} < ours.e and ${sql.ref(`${alias}.ends_at`)} > ours.s))`;
}

/** Ids of the meetings among `rows` that `principal` may read, by the policy. */
export async function readableMeetingIds(
  db: Db,
  principal: Principal,
  rows: readonly { id: string; unit_id: string | null; status: string; starts_at: Date | string; ends_at: Date | string }[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const roles = new Map<string, MeetingContext['meetingRole']>();
  if (principal.kind === 'user') {
    const invited = await db
      .selectFrom('participant')
      .select(['meeting_id', 'role'])
      .where('user_id', '=', principal.userId)
      .where('meeting_id', 'in', rows.map((row) => row.id))
      .execute();
    for (const row of invited) if (!roles.has(row.meeting_id)) roles.set(row.meeting_id, row.role);
  }
  const readable = new Set<string>();
  for (const row of rows) {
    const context: MeetingContext = {
      unitId: row.unit_id ?? '',
      meetingRole: roles.get(row.id) ?? null,
      startsAt: new Date(row.starts_at),
      endsAt: new Date(row.ends_at),
      draft: row.status === 'draft',
    };
    if (decide(principal, 'meeting.read', { meeting: context }).allow) readable.add(row.id);
  }
  return readable;
}

/** One clash as the API reports it: the other meeting's id and title only when the caller may read it. */
export interface Clash {
  startsAt: string;
  endsAt: string;
  meeting: { id: string; title: string } | null;
  busy: true;
}

/**
 * Takes a transaction-scoped lock on a meeting room, so two requests cannot
 * book the same room at the same time between their clash check and insert.
 */
export async function lockMeetingRoom(trx: Transaction<Database>, meetingRoomId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`hop.meeting_room:${meetingRoomId}`}))`.execute(trx);
}

/**
 * Throws MEETING_ROOM_CONFLICT when another meeting that books its room
 * (scheduled, in progress or ended, not a draft, postponed or cancelled) has an
 * occurrence that is not cancelled and overlaps one of `ranges` in the same room.
 */
export async function checkRoomClashes(
  db: Db,
  principal: Principal,
  meetingRoomId: string,
  ranges: readonly TimeRange[],
  excludeMeetingId: string | null,
): Promise<void> {
  if (ranges.length === 0) return;
  let query = db
    .selectFrom('meeting_occurrence as o')
    .innerJoin('meeting as m', 'm.id', 'o.meeting_id')
    .select(['m.id', 'm.title', 'm.unit_id', 'm.status', 'm.starts_at', 'm.ends_at', 'o.starts_at as occurrence_starts_at', 'o.ends_at as occurrence_ends_at'])
    .distinct()
    .where('m.meeting_room_id', '=', meetingRoomId)
    .where(overlapsAny('o', ranges))
    .where('m.status', 'in', BOOKING_STATUSES)
    .where('o.status', '!=', 'cancelled')
    .orderBy('o.starts_at')
    .limit(20);
  if (excludeMeetingId) query = query.where('m.id', '!=', excludeMeetingId);
  const rows = await query.execute();
  if (rows.length === 0) return;

  const readable = await readableMeetingIds(db, principal, rows);
  const conflicts: Clash[] = rows.map((row) => ({
    startsAt: new Date(row.occurrence_starts_at).toISOString(),
    endsAt: new Date(row.occurrence_ends_at).toISOString(),
    meeting: readable.has(row.id) ? { id: row.id, title: row.title } : null,
    busy: true,
  }));
  throw new HopError('MEETING_ROOM_CONFLICT', { details: { meetingRoomId, conflicts } });
}

export interface PersonClash extends Clash {
  userId: string;
  name: string;
}

/**
 * Lists the people among `people` who have another booking meeting (with the
 * same statuses as for rooms) with an occurrence that overlaps one of `ranges`.
 * At most 50 clashes are listed.
 */
export async function findPeopleClashes(
  db: Db,
  principal: Principal,
  people: readonly { userId: string; name: string }[],
  ranges: readonly TimeRange[],
  excludeMeetingId: string | null,
): Promise<PersonClash[]> {
  const userIds = [...new Set(people.map((person) => person.userId))];
  if (userIds.length === 0 || ranges.length === 0) return [];
  let query = db
    .selectFrom('participant as p')
    .innerJoin('meeting as m', 'm.id', 'p.meeting_id')
    .innerJoin('meeting_occurrence as o', 'o.meeting_id', 'm.id')
    .select(['p.user_id', 'm.id', 'm.title', 'm.unit_id', 'm.status', 'm.starts_at', 'm.ends_at', 'o.starts_at as occurrence_starts_at', 'o.ends_at as occurrence_ends_at'])
    .distinct()
    .where('p.user_id', 'in', userIds)
    .where(overlapsAny('o', ranges))
    .where('m.status', 'in', BOOKING_STATUSES)
    .where('o.status', '!=', 'cancelled')
    .orderBy('o.starts_at')
    .limit(50);
  if (excludeMeetingId) query = query.where('m.id', '!=', excludeMeetingId);
  const rows = await query.execute();

  const readable = await readableMeetingIds(db, principal, rows);
  const names = new Map(people.map((person) => [person.userId, person.name]));
  return rows.map((row) => ({
    userId: row.user_id!,
    name: names.get(row.user_id!) ?? '',
    startsAt: new Date(row.occurrence_starts_at).toISOString(),
    endsAt: new Date(row.occurrence_ends_at).toISOString(),
    meeting: readable.has(row.id) ? { id: row.id, title: row.title } : null,
    busy: true,
  }));
}

/**
 * Applies the caller's choice for people clashes: `reject` throws
 * PEOPLE_CONFLICT with the list, `warn` returns them as a warning.
 */
export function peopleClashWarnings(clashes: PersonClash[], policy: 'warn' | 'reject'): SchedulingWarning[] {
  if (clashes.length === 0) return [];
  if (policy === 'reject') throw new HopError('PEOPLE_CONFLICT', { details: { conflicts: clashes } });
  const definition = errorCatalog.PEOPLE_CONFLICT;
  return [{ code: 'PEOPLE_CONFLICT', message: definition.vi, message_en: definition.en, details: { conflicts: clashes } }];
}

/**
 * Enforces the minimum notice: an invitation sent now must leave at least
 * `deps.minNoticeWorkingDays` working days (default MIN_NOTICE_WORKING_DAYS)
 * between today and the meeting day, unless the meeting is urgent. A start
 * that is already past needs no notice: there is no invitation left to send.
 */
export async function checkNotice(db: Kysely<Database> | Transaction<Database>, deps: Pick<Dependencies, 'minNoticeWorkingDays'>, input: {
  startsAt: Date;
  timeZone: string;
  urgent: boolean;
  now: Date;
}): Promise<void> {
  const required = deps.minNoticeWorkingDays ?? MIN_NOTICE_WORKING_DAYS;
  if (required <= 0 || input.urgent || input.startsAt.getTime() <= input.now.getTime()) return;

  const sentDate = localDate(input.now, input.timeZone);
  const meetingDate = localDate(input.startsAt, input.timeZone);
  // Any 60 days hold far more working days than a notice needs, even over Tết.
  if (meetingDate > addDays(sentDate, 60)) return;

  const calendar = await loadHolidayCalendar(db, sentDate, meetingDate);
  const workingDays = noticeWorkingDays(calendar, input.now, input.startsAt, input.timeZone);
  if (workingDays < required) {
    throw new HopError('NOTICE_TOO_SHORT', {
      details: { workingDays, requiredWorkingDays: required, sentDate, meetingDate, timeZone: input.timeZone },
    });
  }
}

/**
 * Writes the occurrences of a meeting after its times or rule changed. A
 * single meeting's one occurrence takes the new times. For a series,
 * occurrences that have started stay as they were. Each later one keeps its id
 * when the new plan has the same original start, or else takes the next
 * unmatched planned occurrence in order. Moved ones go back to scheduled at the
 * new times, cancelled ones stay cancelled, and leftovers are cancelled. New
 * planned occurrences get new rows.
 */
export async function syncOccurrences(
  trx: Transaction<Database>,
  meetingId: string,
  planned: readonly PlannedOccurrence[],
  recurring: boolean,
  now: Date,
  newId: () => string,
): Promise<void> {
  const existing = await trx.selectFrom('meeting_occurrence').selectAll().where('meeting_id', '=', meetingId).orderBy('recurrence_id').execute();

  if (!recurring && existing.length === 1 && planned.length === 1) {
    const [only] = planned as [PlannedOccurrence];
    await trx
      .updateTable('meeting_occurrence')
      .set({ recurrence_id: only.recurrenceId, starts_at: only.startsAt, ends_at: only.endsAt, status: existing[0]!.status === 'cancelled' ? 'cancelled' : 'scheduled', updated_at: now })
      .where('id', '=', existing[0]!.id)
      .execute();
    return;
  }

  const started = existing.filter((row) => new Date(row.starts_at).getTime() <= now.getTime());
  const startedIds = new Set(started.map((row) => new Date(row.recurrence_id).getTime()));
  const future = existing.filter((row) => new Date(row.starts_at).getTime() > now.getTime());
  const futurePlanned = planned.filter((item) => item.startsAt.getTime() > now.getTime() && !startedIds.has(item.recurrenceId.getTime()));

  const plannedByTime = new Map(futurePlanned.map((item) => [item.recurrenceId.getTime(), item]));
  const unmatchedRows = [];
  const assigned = new Set<number>();
  for (const row of future) {
    const key = new Date(row.recurrence_id).getTime();
    const same = plannedByTime.get(key);
    if (same) {
      assigned.add(key);
      if (row.status !== 'moved') {
        await trx.updateTable('meeting_occurrence').set({ starts_at: same.startsAt, ends_at: same.endsAt, updated_at: now }).where('id', '=', row.id).execute();
      }
    } else {
      unmatchedRows.push(row);
    }
  }
  const unmatchedPlanned = futurePlanned.filter((item) => !assigned.has(item.recurrenceId.getTime()));

  for (const [index, row] of unmatchedRows.entries()) {
    const item = unmatchedPlanned[index];
    let status: OccurrenceStatus = 'cancelled';
    if (item && row.status !== 'cancelled') status = 'scheduled';
    await trx
      .updateTable('meeting_occurrence')
      .set(item ? { recurrence_id: item.recurrenceId, starts_at: item.startsAt, ends_at: item.endsAt, status, updated_at: now } : { status, updated_at: now })
      .where('id', '=', row.id)
      .execute();
  }
  const added = unmatchedPlanned.slice(unmatchedRows.length);
  if (added.length > 0) {
    await trx
      .insertInto('meeting_occurrence')
      .values(added.map((item) => ({ id: newId(), meeting_id: meetingId, recurrence_id: item.recurrenceId, starts_at: item.startsAt, ends_at: item.endsAt, status: 'scheduled' as const, updated_at: now })))
      .execute();
  }
}

/** Sets `meeting.last_ends_at` to the end of the latest occurrence that is not cancelled (the meeting's end when all are). */
export async function refreshLastEnd(trx: Transaction<Database>, meetingId: string): Promise<void> {
  await sql`
    update meeting set last_ends_at = coalesce(
      (select max(ends_at) from meeting_occurrence where meeting_id = ${meetingId} and status <> 'cancelled'),
      ends_at)
    where id = ${meetingId}
  `.execute(trx);
}

/** Returns the fields of a meeting that the change history and audit log compare. */
export function meetingSnapshot(row: MeetingRow): Record<string, unknown> {
  return {
    title: row.title,
    description: row.description,
    startsAt: new Date(row.starts_at).toISOString(),
    endsAt: new Date(row.ends_at).toISOString(),
    timeZone: row.time_zone,
    status: row.status,
    agenda: row.agenda,
    mode: row.mode,
    meetingRoomId: row.meeting_room_id,
    preparation: row.preparation,
    urgent: row.urgent,
    recurrenceRule: row.recurrence_rule,
    sequence: row.sequence,
  };
}

/** Keeps only the keys whose values differ between `before` and `after`, on both sides. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const changed = { before: {} as Record<string, unknown>, after: {} as Record<string, unknown> };
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changed.before[key] = before[key] ?? null;
      changed.after[key] = after[key] ?? null;
    }
  }
  return changed;
}

export type MeetingChangeKind =
  | 'updated'
  | 'postponed'
  | 'cancelled'
  | 'started'
  | 'ended'
  | 'occurrence.moved'
  | 'occurrence.cancelled';

/** Appends one row to the meeting's change history, in the caller's transaction. */
export async function recordMeetingChange(
  trx: Transaction<Database>,
  change: {
    meetingId: string;
    occurrenceId?: string | null;
    sequence: number;
    kind: MeetingChangeKind;
    principal?: Principal;
    actor?: { kind: 'user' | 'api-key' | 'system' | 'e-office'; id: string };
    before: Record<string, unknown>;
    after: Record<string, unknown>;
    at: Date;
  },
): Promise<void> {
  const actor = change.actor ?? (change.principal ? actorOf(change.principal) : undefined);
  if (!actor) throw new Error(`meeting change ${change.kind} of ${change.meetingId} has neither principal nor actor`);
  await trx
    .insertInto('meeting_change')
    .values({
      meeting_id: change.meetingId,
      occurrence_id: change.occurrenceId ?? null,
      sequence: change.sequence,
      kind: change.kind,
      actor_kind: actor.kind,
      actor_id: actor.id,
      before: JSON.stringify(change.before),
      after: JSON.stringify(change.after),
      changed_at: change.at,
    })
    .execute();
}

/** Builds the meeting details every meeting event carries (see `meetingDetails` in lib/contract/events.ts). */
export function eventDetails(meeting: Meeting) {
  return {
    meetingId: meeting.id,
    sequence: meeting.sequence,
    title: meeting.title,
    description: meeting.description,
    status: meeting.status,
    unitId: meeting.unitId,
    startsAt: meeting.startsAt,
    endsAt: meeting.endsAt,
    timeZone: meeting.timeZone,
    mode: meeting.mode,
    place: meeting.place,
    agenda: meeting.agenda,
    preparation: meeting.preparation,
    chair: meeting.participants.find((participant) => participant.role === 'chair')?.name ?? null,
    secretary: meeting.participants.find((participant) => participant.role === 'secretary')?.name ?? null,
    urgent: meeting.urgent,
    recurrenceRule: meeting.recurrenceRule,
    participantCount: meeting.participants.length,
    occurrences: meeting.occurrences.map((occurrence) => ({
      occurrenceId: occurrence.id,
      recurrenceId: occurrence.recurrenceId,
      startsAt: occurrence.startsAt,
      endsAt: occurrence.endsAt,
      status: occurrence.status,
    })),
  };
}
