/**
 * The attendance of one meeting occurrence as the live board, the marking
 * screen and the reports read it: one row per participant, joining the
 * secretary's mark, the QR check-in and the online intervals.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AttendanceMarkStatus, Database, MeetingStatus, ParticipantTable } from '../../adapters/db/schema.ts';
import { HopError } from '../../errors.ts';
import { intervalSeconds } from './intervals.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The status a report shows: the secretary's mark, else what was recorded, else `missing`. */
export type AttendanceStatus = AttendanceMarkStatus | 'missing';
/** Source that recorded a participant present: online, the room's QR code, or a mark by the chair or the secretary (`manual`). */
export type CheckInMethod = 'online' | 'qr' | 'manual';

export interface AttendanceRow {
  participantId: string;
  name: string;
  role: ParticipantTable['role'];
  userId: string | null;
  unit: string | null;
  position: string | null;
  status: AttendanceStatus;
  /** Present online now: `open` in the room, `grace` dropped out and may come back. */
  online: 'open' | 'grace' | null;
  inRoom: boolean;
  firstJoinAt: string | null;
  lastLeaveAt: string | null;
  onlineSeconds: number;
  checkInMethods: CheckInMethod[];
  checkedInAt: string | null;
  absenceReason: string | null;
  delegate: { name: string; position: string | null } | null;
  markedAt: string | null;
  /** The meeting role of the person who made the mark, or null when there is no mark or an API key made it. */
  markedByRole: 'chair' | 'secretary' | null;
  intervals: { startedAt: string; endedAt: string | null; status: string }[];
}

export interface RefusedCheckIn {
  userName: string;
  code: string;
  attemptedAt: string;
}

export interface MeetingAttendance {
  meeting: { id: string; title: string; timeZone: string; unitId: string | null; status: MeetingStatus };
  occurrence: { id: string; startsAt: string; endsAt: string };
  rows: AttendanceRow[];
  summary: { invited: number; present: number; online: number; inRoom: number; missing: number; rate: number };
  refusedCheckIns: RefusedCheckIn[];
  /** The meeting's attendance version when read; boards compare it. */
  version: number;
}

const presentStatuses = new Set<AttendanceStatus>(['present_in_person', 'present_online', 'late', 'delegated']);

/**
 * Returns the occurrence `occurrenceId` of the meeting (OCCURRENCE_NOT_FOUND
 * when it is another meeting's), or when omitted the first occurrence, not
 * cancelled, that has not ended at `now`, else the last one.
 */
export async function resolveOccurrence(db: Db, meetingId: string, occurrenceId: string | undefined, now: Date): Promise<{ id: string; starts_at: Date; ends_at: Date }> {
  const base = db.selectFrom('meeting_occurrence').select(['id', 'starts_at', 'ends_at']).where('meeting_id', '=', meetingId);
  if (occurrenceId !== undefined) {
    const found = /^[0-9a-f-]{36}$/i.test(occurrenceId) ? await base.where('id', '=', occurrenceId).executeTakeFirst() : undefined;
    if (!found) throw new HopError('OCCURRENCE_NOT_FOUND', { details: { meetingId, occurrenceId } });
    return found;
  }
  const next = await base.where('status', '!=', 'cancelled').where('ends_at', '>', now).orderBy('starts_at').limit(1).executeTakeFirst();
  const chosen = next ?? (await base.where('status', '!=', 'cancelled').orderBy('starts_at', 'desc').limit(1).executeTakeFirst());
  if (!chosen) throw new HopError('OCCURRENCE_NOT_FOUND', { details: { meetingId } });
  return chosen;
}

/** Loads the attendance of one occurrence; `onlyParticipantId` limits the rows to one person (their own view). */
export async function loadMeetingAttendance(
  db: Db,
  meetingId: string,
  occurrence: { id: string; starts_at: Date; ends_at: Date },
  now: Date,
  onlyParticipantId?: string,
): Promise<MeetingAttendance> {
  const meeting = await db.selectFrom('meeting').select(['id', 'title', 'time_zone', 'unit_id', 'status']).where('id', '=', meetingId).executeTakeFirstOrThrow();
  let participantQuery = db
    .selectFrom('participant')
    .select(['id', 'name', 'role', 'user_id', 'invited_unit_id'])
    .where('meeting_id', '=', meetingId)
    .orderBy('position');
  if (onlyParticipantId) participantQuery = participantQuery.where('id', '=', onlyParticipantId);
  const participants = await participantQuery.execute();

  const userIds = participants.map((p) => p.user_id).filter((id): id is string => id !== null);
  const memberships = userIds.length
    ? await db
        .selectFrom('membership')
        .innerJoin('unit', 'unit.id', 'membership.unit_id')
        .select(['membership.user_id', 'membership.unit_id', 'membership.position', 'unit.name as unitName'])
        .where('membership.user_id', 'in', userIds)
        .orderBy('membership.created_at')
        .execute()
    : [];
  const invitedUnitIds = participants.map((p) => p.invited_unit_id).filter((id): id is string => id !== null);
  const invitedUnits = invitedUnitIds.length ? await db.selectFrom('unit').select(['id', 'name']).where('id', 'in', invitedUnitIds).execute() : [];

  const [marks, checkIns, intervals, attempts, version] = await Promise.all([
    db.selectFrom('attendance_mark').selectAll().where('occurrence_id', '=', occurrence.id).execute(),
    db.selectFrom('attendance_check_in').selectAll().where('occurrence_id', '=', occurrence.id).execute(),
    db.selectFrom('attendance_interval').selectAll().where('occurrence_id', '=', occurrence.id).orderBy('started_at').execute(),
    onlyParticipantId
      ? Promise.resolve([])
      : db
          .selectFrom('attendance_check_in_attempt')
          .select(['user_name', 'code', 'attempted_at'])
          .where('occurrence_id', '=', occurrence.id)
          .orderBy('attempted_at', 'desc')
          .limit(50)
          .execute(),
    db.selectFrom('attendance_version').select('version').where('meeting_id', '=', meetingId).executeTakeFirst(),
  ]);

  const markerRoles = await loadMarkerRoles(db, meetingId, marks.map((mark) => mark.marked_by));

  const rows = participants.map((participant): AttendanceRow => {
    const membership =
      memberships.find((m) => m.user_id === participant.user_id && m.unit_id === participant.invited_unit_id) ??
      memberships.find((m) => m.user_id === participant.user_id);
    const mark = marks.find((m) => m.participant_id === participant.id);
    const checkIn = checkIns.find((c) => c.participant_id === participant.id);
    const own = intervals.filter((i) => i.participant_id === participant.id);
    const current = own.find((i) => i.status !== 'closed');
    const ended = own.filter((i) => i.ended_at !== null).map((i) => new Date(i.ended_at!).getTime());

    const methods: CheckInMethod[] = [];
    if (own.length > 0) methods.push('online');
    if (checkIn) methods.push('qr');
    if (mark && mark.status !== 'absent') methods.push('manual');

    let status: AttendanceStatus = 'missing';
    if (mark) status = mark.status;
    else if (checkIn) status = 'present_in_person';
    else if (own.length > 0) status = 'present_online';

    return {
      participantId: participant.id,
      name: participant.name,
      role: participant.role,
      userId: participant.user_id,
      unit: membership?.unitName ?? invitedUnits.find((u) => u.id === participant.invited_unit_id)?.name ?? null,
      position: membership?.position ?? null,
      status,
      online: current ? (current.status === 'open' ? 'open' : 'grace') : null,
      inRoom: checkIn !== undefined || mark?.status === 'present_in_person',
      firstJoinAt: own.length > 0 ? new Date(own[0]!.started_at).toISOString() : null,
      lastLeaveAt: current || ended.length === 0 ? null : new Date(Math.max(...ended)).toISOString(),
      onlineSeconds: own.reduce(
        (sum, i) => sum + intervalSeconds({ startedAt: new Date(i.started_at), endedAt: i.ended_at ? new Date(i.ended_at) : null }, now),
        0,
      ),
      checkInMethods: methods,
      checkedInAt: checkIn ? new Date(checkIn.checked_in_at).toISOString() : null,
      absenceReason: mark?.absence_reason ?? null,
      delegate: mark?.status === 'delegated' && mark.delegate_name ? { name: mark.delegate_name, position: mark.delegate_position } : null,
      markedAt: mark ? new Date(mark.marked_at).toISOString() : null,
      markedByRole: mark ? (markerRoles.get(mark.marked_by) ?? null) : null,
      intervals: own.map((i) => ({
        startedAt: new Date(i.started_at).toISOString(),
        endedAt: i.ended_at ? new Date(i.ended_at).toISOString() : null,
        status: i.status,
      })),
    };
  });

  const present = rows.filter((row) => presentStatuses.has(row.status)).length;
  return {
    meeting: { id: meeting.id, title: meeting.title, timeZone: meeting.time_zone, unitId: meeting.unit_id, status: meeting.status },
    occurrence: { id: occurrence.id, startsAt: new Date(occurrence.starts_at).toISOString(), endsAt: new Date(occurrence.ends_at).toISOString() },
    rows,
    summary: {
      invited: rows.length,
      present,
      online: rows.filter((row) => row.online !== null).length,
      inRoom: rows.filter((row) => row.inRoom).length,
      missing: rows.length - present - rows.filter((row) => row.status === 'absent').length,
      rate: rows.length === 0 ? 0 : Math.round((present / rows.length) * 1000) / 10,
    },
    refusedCheckIns: attempts.map((a) => ({ userName: a.user_name, code: a.code, attemptedAt: new Date(a.attempted_at).toISOString() })),
    version: version ? Number(version.version) : 0,
  };
}

/**
 * Maps the user ids that made marks to their role in the meeting: `chair`
 * when one of their participant rows is the chair's, else `secretary`. Ids of
 * API keys and of people without either role are left out.
 */
async function loadMarkerRoles(db: Db, meetingId: string, markedBy: string[]): Promise<Map<string, 'chair' | 'secretary'>> {
  const roles = new Map<string, 'chair' | 'secretary'>();
  const ids = [...new Set(markedBy)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (ids.length === 0) return roles;
  const leads = await db
    .selectFrom('participant')
    .select(['user_id', 'role'])
    .where('meeting_id', '=', meetingId)
    .where('user_id', 'in', ids)
    .where('role', 'in', ['chair', 'secretary'])
    .execute();
  for (const lead of leads) {
    if (lead.user_id === null) continue;
    if (lead.role === 'chair' || !roles.has(lead.user_id)) roles.set(lead.user_id, lead.role as 'chair' | 'secretary');
  }
  return roles;
}
