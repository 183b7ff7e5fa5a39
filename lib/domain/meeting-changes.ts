/**
 * Changing a meeting after it was created: the PATCH of its fields and
 * participants, and postponing it (hoãn) with or without new times. Both run
 * the same checks as scheduling, bump the iCalendar SEQUENCE of a meeting that
 * is no longer a draft, write the change history, the audit record and the
 * event, all in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { eventSource, newEvent } from '../contract/events.ts';
import { isKnownTimeZone, type Meeting, type participantInputSchema } from '../contract/meeting.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import type { Transaction } from 'kysely';
import type { AgendaItemRow, Database, MeetingMode, MeetingStatus } from '../adapters/db/schema.ts';
import { HopError } from '../errors.ts';
import type { Dependencies } from '../runtime/dependencies.ts';
import { recordAudit, requestMetadata } from './audit.ts';
import {
  insertInvitedUnits,
  insertParticipants,
  newInvitations,
  participantAuditView,
  resolveParticipants,
  checkInvitedUsers,
  type Invitation,
} from './invitations.ts';
import { loadMeeting } from './meetings.ts';
import { loadNoticeRecipients, writeNoticesTo } from './meeting-notices.ts';
import { dropPendingReminderDeliveries } from './notifications/deliveries.ts';
import type { Principal } from './policy.ts';
import { normaliseRecurrenceRule } from './recurrence.ts';
import {
  cappedWarning,
  changedFields,
  checkAgenda,
  checkCapacity,
  checkNotice,
  checkRoomClashes,
  checkTimes,
  eventDetails,
  findPeopleClashes,
  loadBookableRoom,
  lockMeetingRoom,
  meetingSnapshot,
  peopleClashWarnings,
  planOccurrences,
  recordMeetingChange,
  refreshLastEnd,
  syncOccurrences,
  type SchedulingWarning,
} from './scheduling.ts';

type ParticipantInput = z.output<typeof participantInputSchema>;

export interface MeetingChange {
  title?: string | undefined;
  description?: string | null | undefined;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  timeZone?: string | undefined;
  agenda?: AgendaItemRow[] | undefined;
  mode?: MeetingMode | undefined;
  meetingRoomId?: string | null | undefined;
  preparation?: string | null | undefined;
  urgent?: boolean | undefined;
  recurrenceRule?: string | null | undefined;
  addParticipants?: ParticipantInput[];
  removeParticipantIds?: string[];
  inviteUnitIds?: string[];
  onPeopleConflict: 'warn' | 'reject';
}

export interface ChangeOptions {
  /** `update` is the PATCH; `postpone` also sets the status (postponed without new times, scheduled with them). */
  kind: 'update' | 'postpone';
  postponeReason?: string | null;
  functionName: string;
  headers: Record<string, string>;
}

export interface ChangeResult {
  meeting: Meeting;
  added: Invitation[];
  warnings: SchedulingWarning[];
}

/** Statuses in which a meeting can still change. */
const changeable: Record<ChangeOptions['kind'], readonly MeetingStatus[]> = {
  update: ['draft', 'scheduled', 'postponed', 'in_progress'],
  postpone: ['scheduled', 'postponed'],
};

/**
 * Applies `change` to the meeting. Throws MEETING_NOT_FOUND, MEETING_CANCELLED,
 * MEETING_ENDED or MEETING_STATUS_CONFLICT for a meeting that cannot change,
 * and the scheduling errors of lib/domain/scheduling.ts. A request that
 * changes nothing returns the meeting as it is, without a new sequence.
 */
export async function changeMeeting(
  deps: Dependencies,
  principal: Principal,
  meetingId: string,
  change: MeetingChange,
  options: ChangeOptions,
): Promise<ChangeResult> {
  const now = deps.now();
  await checkInvitedUsers(deps.db, change.addParticipants ?? []);
  if (change.timeZone !== undefined && !isKnownTimeZone(change.timeZone)) {
    throw new HopError('UNKNOWN_TIME_ZONE', { details: { timeZone: change.timeZone } });
  }

  let added: Invitation[] = [];
  const warnings: SchedulingWarning[] = [];
  let changed = false;

  await deps.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('meeting').selectAll().where('id', '=', meetingId).forUpdate().executeTakeFirst();
    if (!current) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    if (current.status === 'cancelled') throw new HopError('MEETING_CANCELLED', { details: { meetingId } });
    if (current.status === 'ended') throw new HopError('MEETING_ENDED', { details: { meetingId } });
    if (!changeable[options.kind].includes(current.status)) {
      throw new HopError('MEETING_STATUS_CONFLICT', { details: { meetingId, status: current.status, action: options.kind } });
    }

    // The next state: every field absent from the request keeps its value.
    const startsAt = change.startsAt !== undefined ? new Date(change.startsAt) : new Date(current.starts_at);
    const endsAt = change.endsAt !== undefined ? new Date(change.endsAt) : new Date(current.ends_at);
    const timeZone = change.timeZone ?? current.time_zone;
    const agenda = change.agenda ?? current.agenda;
    const mode = change.mode ?? current.mode;
    let recurrenceRule = current.recurrence_rule;
    if (change.recurrenceRule !== undefined) recurrenceRule = change.recurrenceRule === null ? null : normaliseRecurrenceRule(change.recurrenceRule);
    // Switching to online drops the room unless the same request names one (which is then rejected).
    let meetingRoomId = current.meeting_room_id;
    if (change.meetingRoomId !== undefined) meetingRoomId = change.meetingRoomId;
    else if (change.mode === 'online') meetingRoomId = null;
    const urgent = change.urgent ?? current.urgent;
    const timesChanged =
      startsAt.getTime() !== new Date(current.starts_at).getTime() ||
      endsAt.getTime() !== new Date(current.ends_at).getTime() ||
      timeZone !== current.time_zone ||
      recurrenceRule !== current.recurrence_rule;
    let status: MeetingStatus = current.status;
    if (options.kind === 'postpone') status = change.startsAt === undefined ? 'postponed' : 'scheduled';
    else if (current.status === 'postponed' && timesChanged) status = 'scheduled';

    if (timesChanged) checkTimes(startsAt, endsAt, now);
    checkAgenda(agenda, startsAt, endsAt);
    const room = await loadBookableRoom(trx, meetingRoomId, mode);

    // Participants: removed by id, added by name or unit, never replaced.
    const existing = await trx.selectFrom('participant').select(['id', 'user_id', 'name', 'role', 'position']).where('meeting_id', '=', meetingId).orderBy('position').execute();
    const removeIds = new Set(change.removeParticipantIds ?? []);
    const unknown = [...removeIds].filter((id) => !existing.some((row) => row.id === id));
    if (unknown.length > 0) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'removeParticipantIds', message: `not participants of this meeting: ${unknown.join(', ')}` }] });
    }
    const kept = existing.filter((row) => !removeIds.has(row.id));
    const keptUserIds = new Set(kept.flatMap((row) => (row.user_id ? [row.user_id] : [])));
    const { participants: newcomers, memberCounts } = await resolveParticipants(trx, change.addParticipants ?? [], change.inviteUnitIds ?? [], keptUserIds);
    added = newInvitations(newcomers, deps.joinTokenSecret);
    if (kept.length + added.length === 0) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'removeParticipantIds', message: 'a meeting keeps at least one participant' }] });
    }
    checkCapacity(room, kept.length + added.length);

    const plan = timesChanged ? planOccurrences(recurrenceRule, startsAt, endsAt, timeZone) : null;
    if (plan?.countCap != null) warnings.push(cappedWarning(plan.countCap));

    const before = meetingSnapshot(current);
    const next = {
      ...before,
      title: change.title ?? current.title,
      description: change.description !== undefined ? change.description : current.description,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      timeZone,
      status,
      agenda,
      mode,
      meetingRoomId: room?.id ?? null,
      preparation: change.preparation !== undefined ? change.preparation : current.preparation,
      urgent,
      recurrenceRule,
    };
    const diff = changedFields(before, next);
    const participantsChanged = removeIds.size > 0 || added.length > 0;
    if (Object.keys(diff.after).length === 0 && !participantsChanged) return;
    changed = true;

    if (plan) {
      await syncOccurrences(trx, meetingId, plan.occurrences, recurrenceRule !== null, now, randomUUID);
      await refreshLastEnd(trx, meetingId);
    }

    // A meeting that books its time (not a draft, not waiting as postponed) is checked like a new one.
    const holdsTime = status === 'scheduled' || status === 'in_progress';
    const reactivated = current.status === 'postponed' && status === 'scheduled';
    if (holdsTime) {
      const occurrences = await trx
        .selectFrom('meeting_occurrence')
        .select(['starts_at', 'ends_at'])
        .where('meeting_id', '=', meetingId)
        .where('status', '!=', 'cancelled')
        .where('ends_at', '>', now)
        .orderBy('starts_at')
        .execute();
      const ranges = occurrences.map((row) => ({ startsAt: new Date(row.starts_at), endsAt: new Date(row.ends_at) }));
      const roomChanged = (room?.id ?? null) !== current.meeting_room_id;
      if (room && (roomChanged || timesChanged || reactivated)) {
        await lockMeetingRoom(trx, room.id);
        await checkRoomClashes(trx, principal, room.id, ranges, meetingId);
      }
      // New times concern everyone; otherwise only the people added now are checked.
      const checkedRows = timesChanged || reactivated ? kept : [];
      const people = [
        ...checkedRows.flatMap((row) => (row.user_id ? [{ userId: row.user_id, name: row.name }] : [])),
        ...added.flatMap(({ participant }) => (participant.userId ? [{ userId: participant.userId, name: participant.name }] : [])),
      ];
      warnings.push(...peopleClashWarnings(await findPeopleClashes(trx, principal, people, ranges, meetingId), change.onPeopleConflict));
      const first = ranges[0];
      if (first && (timesChanged || reactivated)) await checkNotice(trx, deps, { startsAt: first.startsAt, timeZone, urgent, now });
    }

    const sequence = current.status === 'draft' ? current.sequence : current.sequence + 1;
    let postponeReason = current.postpone_reason;
    if (options.kind === 'postpone') postponeReason = options.postponeReason ?? null;
    else if (status === 'scheduled') postponeReason = null;
    await trx
      .updateTable('meeting')
      .set({
        title: next.title,
        description: next.description,
        starts_at: startsAt,
        ends_at: endsAt,
        time_zone: timeZone,
        status,
        agenda: JSON.stringify(agenda),
        mode,
        meeting_room_id: room?.id ?? null,
        preparation: next.preparation,
        urgent,
        recurrence_rule: recurrenceRule,
        ...(plan ? { recurrence_count_cap: plan.countCap } : {}),
        postpone_reason: postponeReason,
        sequence,
        updated_at: now,
      })
      .where('id', '=', meetingId)
      .execute();
    if (plan === null && status !== current.status) await refreshLastEnd(trx, meetingId);

    // Read before the delete: the removal notices below go to these people.
    const removedRecipients = removeIds.size > 0 && current.status !== 'draft' ? await loadNoticeRecipients(trx, meetingId, [...removeIds]) : [];
    if (removeIds.size > 0) {
      await trx.deleteFrom('participant').where('id', 'in', [...removeIds]).execute();
      await dropPendingReminderDeliveries(trx, meetingId, [...removeIds]);
    }
    const nextPosition = existing.reduce((max, row) => Math.max(max, row.position + 1), 0);
    await insertParticipants(trx, meetingId, added, nextPosition);
    await insertInvitedUnits(trx, meetingId, memberCounts, now);

    const removedView = existing.filter((row) => removeIds.has(row.id)).map((row) => ({ id: row.id, name: row.name, role: row.role, userId: row.user_id }));
    const addedView = added.map(({ id, participant }) => participantAuditView(id, participant));
    const historyBefore = { ...diff.before, ...(participantsChanged ? { removedParticipants: removedView } : {}) };
    const historyAfter = { ...diff.after, ...(participantsChanged ? { addedParticipants: addedView } : {}) };
    const changeKind = options.kind === 'postpone' ? 'postponed' : 'updated';
    if (current.status !== 'draft') {
      await recordMeetingChange(trx, { meetingId, sequence, kind: changeKind, principal, before: historyBefore, after: historyAfter, at: now });
    }
    await recordAudit(trx, {
      principal,
      action: options.kind === 'postpone' ? 'meeting.postponed' : 'meeting.updated',
      entityType: 'meeting',
      entityId: meetingId,
      before: historyBefore,
      after: { ...historyAfter, sequence },
      ...requestMetadata(options.headers),
      at: now,
    });

    // Drafts emit nothing: nobody has been invited yet.
    if (current.status === 'draft') return;
    const meeting = await loadMeeting(trx, meetingId);
    if (!meeting) throw new Error(`meeting ${meetingId} is missing inside the transaction that changed it`);
    const source = { source: eventSource(options.functionName), subject: meetingId, time: now };
    const previous = { startsAt: new Date(current.starts_at).toISOString(), endsAt: new Date(current.ends_at).toISOString() };
    const event =
      options.kind === 'postpone'
        ? newEvent(
            'vn.hop.meeting.postponed.v1',
            { ...eventDetails(meeting), reason: options.postponeReason ?? null, rescheduled: status === 'scheduled', previous },
            source,
          )
        : newEvent(
            'vn.hop.meeting.updated.v1',
            {
              ...eventDetails(meeting),
              changedFields: eventFieldNames(Object.keys(diff.after), participantsChanged),
              previous: { ...previous, timeZone: current.time_zone },
              addedParticipantIds: added.map((invitation) => invitation.id),
              removedParticipantIds: [...removeIds],
            },
            source,
          );
    await appendToOutbox(trx, event, meetingId);
    // Removed people are no longer participants when meeting-notify handles the event, so their notices are written here.
    await writeNoticesTo(trx, meeting, removedRecipients, { kind: 'removed' }, {
      eventId: `${event.id}:removed`,
      source: eventSource(options.functionName),
      now,
      joinTokenSecret: deps.joinTokenSecret,
      publicBaseUrl: deps.publicBaseUrl,
    });
  });

  const meeting = await loadMeeting(deps.db, meetingId);
  if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
  if (changed) deps.log.info({ fn: options.functionName, meetingId, sequence: meeting.sequence }, `meeting ${options.kind === 'postpone' ? 'postponed' : 'updated'}`);
  return { meeting, added, warnings };
}

/** Maps snapshot keys to the field names `meeting.updated` lists (`startsAt` and `endsAt` become `times`). */
function eventFieldNames(keys: string[], participantsChanged: boolean): string[] {
  const names = new Set<string>();
  for (const key of keys) {
    if (key === 'startsAt' || key === 'endsAt') names.add('times');
    else if (key === 'meetingRoomId') names.add('place');
    else if (key !== 'sequence' && key !== 'status') names.add(key);
  }
  if (participantsChanged) names.add('participants');
  if (keys.includes('status') && names.size === 0) names.add('status');
  return [...names];
}

/**
 * Locks the meeting row for the rest of the transaction and checks that its
 * status allows `action`: MEETING_CANCELLED, MEETING_ENDED or
 * MEETING_STATUS_CONFLICT otherwise.
 */
export async function lockMeeting(trx: Transaction<Database>, meetingId: string, allowed: readonly MeetingStatus[], action: string) {
  const meeting = await trx.selectFrom('meeting').selectAll().where('id', '=', meetingId).forUpdate().executeTakeFirst();
  if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
  if (allowed.includes(meeting.status)) return meeting;
  if (meeting.status === 'cancelled') throw new HopError('MEETING_CANCELLED', { details: { meetingId } });
  if (meeting.status === 'ended') throw new HopError('MEETING_ENDED', { details: { meetingId } });
  throw new HopError('MEETING_STATUS_CONFLICT', { details: { meetingId, status: meeting.status, action } });
}

/** Lists the people of a meeting who have a directory account, for clash checks. */
export async function directoryParticipants(trx: Transaction<Database>, meetingId: string): Promise<{ userId: string; name: string }[]> {
  const rows = await trx.selectFrom('participant').select(['user_id', 'name']).where('meeting_id', '=', meetingId).where('user_id', 'is not', null).execute();
  return rows.map((row) => ({ userId: row.user_id!, name: row.name }));
}
