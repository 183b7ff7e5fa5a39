/**
 * Changing one occurrence of a recurring meeting: moving it to other times or
 * cancelling it. The other occurrences stay as they are. Each change adds 1 to
 * the meeting's sequence (unless it is a draft), writes the change history
 * with the occurrence id, the audit record and `meeting.occurrence.changed`.
 * Cancelling the last occurrence that is not cancelled cancels the meeting.
 */
import { eventSource, newEvent } from '../contract/events.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import type { OccurrenceStatus } from '../adapters/db/schema.ts';
import { HopError } from '../errors.ts';
import type { Dependencies } from '../runtime/dependencies.ts';
import { recordAudit, requestMetadata } from './audit.ts';
import { directoryParticipants, lockMeeting } from './meeting-changes.ts';
import { loadMeeting, toIso } from './meetings.ts';
import type { Principal } from './policy.ts';
import {
  checkAgenda,
  checkNotice,
  checkRoomClashes,
  checkTimes,
  eventDetails,
  findPeopleClashes,
  lockMeetingRoom,
  peopleClashWarnings,
  recordMeetingChange,
  refreshLastEnd,
  type SchedulingWarning,
} from './scheduling.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type OccurrenceChange =
  | { kind: 'moved'; startsAt: Date; endsAt: Date; urgent?: boolean | undefined; onPeopleConflict: 'warn' | 'reject' }
  | { kind: 'cancelled'; reason: string | null };

/** Applies `change` to occurrence `occurrenceId` of the meeting and returns the warnings of a move. */
export async function changeOccurrence(
  deps: Dependencies,
  principal: Principal,
  meetingId: string,
  occurrenceId: string | undefined,
  change: OccurrenceChange,
  context: { functionName: string; headers: Record<string, string> },
): Promise<SchedulingWarning[]> {
  if (occurrenceId === undefined || !uuidPattern.test(occurrenceId)) throw new HopError('OCCURRENCE_NOT_FOUND', { details: { meetingId, occurrenceId } });
  const warnings: SchedulingWarning[] = [];

  await deps.db.transaction().execute(async (trx) => {
    const meeting = await lockMeeting(trx, meetingId, ['draft', 'scheduled', 'in_progress', 'postponed'], `occurrence.${change.kind}`);
    if (meeting.recurrence_rule === null) throw new HopError('MEETING_NOT_RECURRING', { details: { meetingId } });
    const occurrence = await trx
      .selectFrom('meeting_occurrence')
      .selectAll()
      .where('id', '=', occurrenceId)
      .where('meeting_id', '=', meetingId)
      .forUpdate()
      .executeTakeFirst();
    if (!occurrence) throw new HopError('OCCURRENCE_NOT_FOUND', { details: { meetingId, occurrenceId } });
    const now = deps.now();
    const previous = { startsAt: toIso(occurrence.starts_at), endsAt: toIso(occurrence.ends_at), status: occurrence.status };
    if (change.kind === 'cancelled' && occurrence.status === 'cancelled') return;

    let next: { startsAt: Date; endsAt: Date; status: OccurrenceStatus };
    if (change.kind === 'moved') {
      checkTimes(change.startsAt, change.endsAt, now);
      checkAgenda(meeting.agenda, change.startsAt, change.endsAt);
      next = { startsAt: change.startsAt, endsAt: change.endsAt, status: 'moved' };
      if (meeting.status === 'scheduled' || meeting.status === 'in_progress') {
        const ranges = [{ startsAt: change.startsAt, endsAt: change.endsAt }];
        if (meeting.meeting_room_id) {
          await lockMeetingRoom(trx, meeting.meeting_room_id);
          await checkRoomClashes(trx, principal, meeting.meeting_room_id, ranges, meetingId);
        }
        const clashes = await findPeopleClashes(trx, principal, await directoryParticipants(trx, meetingId), ranges, meetingId);
        warnings.push(...peopleClashWarnings(clashes, change.onPeopleConflict));
        await checkNotice(trx, deps, { startsAt: change.startsAt, timeZone: meeting.time_zone, urgent: change.urgent ?? meeting.urgent, now });
      }
    } else {
      next = { startsAt: new Date(occurrence.starts_at), endsAt: new Date(occurrence.ends_at), status: 'cancelled' };
    }

    await trx
      .updateTable('meeting_occurrence')
      .set({ starts_at: next.startsAt, ends_at: next.endsAt, status: next.status, updated_at: now })
      .where('id', '=', occurrenceId)
      .execute();
    await refreshLastEnd(trx, meetingId);
    const remaining = await trx.selectFrom('meeting_occurrence').select('id').where('meeting_id', '=', meetingId).where('status', '!=', 'cancelled').executeTakeFirst();
    const meetingCancelled = remaining === undefined;

    const announced = meeting.status !== 'draft';
    const sequence = announced ? meeting.sequence + 1 : meeting.sequence;
    const reason = change.kind === 'cancelled' ? change.reason : null;
    await trx
      .updateTable('meeting')
      .set({ sequence, updated_at: now, ...(meetingCancelled ? { status: 'cancelled' as const, cancel_reason: reason } : {}) })
      .where('id', '=', meetingId)
      .execute();

    const before = { occurrenceId, ...previous };
    const after = { occurrenceId, startsAt: next.startsAt.toISOString(), endsAt: next.endsAt.toISOString(), status: next.status, ...(reason ? { reason } : {}) };
    if (announced) {
      await recordMeetingChange(trx, { meetingId, occurrenceId, sequence, kind: `occurrence.${change.kind}`, principal, before, after, at: now });
    }
    await recordAudit(trx, {
      principal,
      action: change.kind === 'moved' ? 'meeting.occurrence-moved' : 'meeting.occurrence-cancelled',
      entityType: 'meeting',
      entityId: meetingId,
      before,
      after: { ...after, sequence, meetingCancelled },
      ...requestMetadata(context.headers),
      at: now,
    });
    if (!announced) return;

    const changed = await loadMeeting(trx, meetingId);
    if (!changed) throw new Error(`meeting ${meetingId} is missing inside the transaction that changed it`);
    const source = { source: eventSource(context.functionName), subject: meetingId, time: now };
    const occurrenceData = {
      occurrenceId,
      recurrenceId: toIso(occurrence.recurrence_id),
      startsAt: next.startsAt.toISOString(),
      endsAt: next.endsAt.toISOString(),
      status: next.status,
    };
    await appendToOutbox(trx, newEvent('vn.hop.meeting.occurrence.changed.v1', { ...eventDetails(changed), change: change.kind, occurrence: occurrenceData, previous, reason }, source), meetingId);
    if (meetingCancelled) {
      const cancelled = newEvent('vn.hop.meeting.cancelled.v1', { ...eventDetails(changed), meetingId, reason, cancelledAt: now.toISOString() }, source);
      await appendToOutbox(trx, cancelled, meetingId);
    }
    deps.log.info({ fn: context.functionName, meetingId, occurrenceId, sequence, meetingCancelled }, `occurrence ${change.kind}`);
  });
  return warnings;
}
