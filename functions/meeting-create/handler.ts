import { randomUUID } from 'node:crypto';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { createMeetingRequestSchema, isKnownTimeZone } from '../../lib/contract/meeting.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { joinPath } from '../../lib/domain/invite-key.ts';
import {
  checkInvitedUsers,
  insertInvitedUnits,
  insertParticipants,
  newInvitations,
  participantAuditView,
  resolveParticipants,
} from '../../lib/domain/invitations.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { requireAllowed } from '../../lib/domain/meeting-access.ts';
import { normaliseRecurrenceRule } from '../../lib/domain/recurrence.ts';
import {
  cappedWarning,
  checkAgenda,
  checkCapacity,
  checkNotice,
  checkRoomClashes,
  checkTimes,
  eventDetails,
  findPeopleClashes,
  loadBookableRoom,
  lockMeetingRoom,
  peopleClashWarnings,
  planOccurrences,
  type SchedulingWarning,
} from '../../lib/domain/scheduling.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';
import { writeInvitations } from '../../lib/domain/meeting-notices.ts';

const name = 'meeting-create';

/**
 * POST /api/v1/meetings: schedules a meeting, or saves it as a draft. The
 * meeting, its participants and occurrences, a pending video room and, unless
 * it is a draft, the `meeting.scheduled` event commit in one transaction.
 * Each participant's invitation key is returned here once and never again.
 */
export const handler = httpFunction({
  name,
  body: createMeetingRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    requireAllowed(principal, 'meeting.create', { unitId: body.unitId });
    if (body.unitId) {
      const unit = await deps.db.selectFrom('unit').select(['id', 'disabled_at']).where('id', '=', body.unitId).executeTakeFirst();
      if (!unit) throw new HopError('REFERENCED_UNIT_NOT_FOUND', { details: { unitId: body.unitId } });
      if (unit.disabled_at) throw new HopError('UNIT_DISABLED', { details: { unitId: body.unitId } });
    }
    await checkInvitedUsers(deps.db, body.participants);

    if (!isKnownTimeZone(body.timeZone)) {
      throw new HopError('UNKNOWN_TIME_ZONE', { details: { timeZone: body.timeZone } });
    }
    const now = deps.now();
    const startsAt = new Date(body.startsAt);
    const endsAt = new Date(body.endsAt);
    checkTimes(startsAt, endsAt, now);
    checkAgenda(body.agenda, startsAt, endsAt);
    const recurrenceRule = body.recurrenceRule === null ? null : normaliseRecurrenceRule(body.recurrenceRule);
    const plan = planOccurrences(recurrenceRule, startsAt, endsAt, body.timeZone);
    const room = await loadBookableRoom(deps.db, body.meetingRoomId, body.mode);

    const { participants, memberCounts } = await resolveParticipants(deps.db, body.participants, body.invitedUnitIds);
    if (participants.length === 0) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'participants', message: 'invite at least one person or a unit with members' }] });
    }
    checkCapacity(room, participants.length);
    const scheduling = body.status === 'scheduled';
    if (scheduling) await checkNotice(deps.db, deps, { startsAt, timeZone: body.timeZone, urgent: body.urgent, now });

    const meetingId: string = randomUUID();
    const invitations = newInvitations(participants, deps.joinTokenSecret);
    const lastEndsAt = plan.occurrences.at(-1)!.endsAt;
    const warnings: SchedulingWarning[] = [];
    if (plan.countCap !== null) warnings.push(cappedWarning(plan.countCap));

    const meeting = await deps.db.transaction().execute(async (trx) => {
      if (scheduling) {
        if (room) {
          await lockMeetingRoom(trx, room.id);
          await checkRoomClashes(trx, principal, room.id, plan.occurrences, null);
        }
        const people = invitations.flatMap(({ participant }) => (participant.userId ? [{ userId: participant.userId, name: participant.name }] : []));
        const clashes = await findPeopleClashes(trx, principal, people, plan.occurrences, null);
        warnings.push(...peopleClashWarnings(clashes, body.onPeopleConflict));
      }

      await trx
        .insertInto('meeting')
        .values({
          id: meetingId,
          title: body.title,
          description: body.description || null,
          starts_at: startsAt,
          ends_at: endsAt,
          time_zone: body.timeZone,
          status: body.status,
          cancel_reason: null,
          unit_id: body.unitId ?? null,
          created_by: principal.kind === 'user' ? principal.userId : null,
          updated_at: now,
          agenda: JSON.stringify(body.agenda),
          mode: body.mode,
          meeting_room_id: room?.id ?? null,
          preparation: body.preparation,
          urgent: body.urgent,
          sequence: 0,
          recurrence_rule: recurrenceRule,
          recurrence_count_cap: plan.countCap,
          last_ends_at: lastEndsAt,
        })
        .execute();
      await trx
        .insertInto('meeting_occurrence')
        .values(plan.occurrences.map((occurrence) => ({
          id: randomUUID(),
          meeting_id: meetingId,
          recurrence_id: occurrence.recurrenceId,
          starts_at: occurrence.startsAt,
          ends_at: occurrence.endsAt,
          status: 'scheduled' as const,
          updated_at: now,
        })))
        .execute();
      await insertParticipants(trx, meetingId, invitations, 0);
      await insertInvitedUnits(trx, meetingId, memberCounts, now);
      await trx
        .insertInto('room')
        .values({ meeting_id: meetingId, status: 'pending', janus_server: null, room_id: null, secret: null, pin: null, last_error: null, updated_at: now })
        .execute();

      const meeting = await loadMeeting(trx, meetingId);
      if (!meeting) throw new Error(`meeting ${meetingId} is missing inside the transaction that created it`);
      // A draft invites no one yet, so it emits nothing and gets no video room until it is scheduled.
      if (scheduling) {
        const event = newEvent('vn.hop.meeting.scheduled.v1', eventDetails(meeting), { source: eventSource(name), subject: meetingId, time: now });
        await appendToOutbox(trx, event, meetingId);
        // The invitations commit with the meeting, so no participant waits on the bus for an invitation.
        await writeInvitations(trx, meetingId, event.id, {
          source: eventSource(name),
          now,
          joinTokenSecret: deps.joinTokenSecret,
          publicBaseUrl: deps.publicBaseUrl,
        }, meeting);
      }

      await recordAudit(trx, {
        principal,
        action: 'meeting.created',
        entityType: 'meeting',
        entityId: meetingId,
        before: null,
        after: {
          title: body.title,
          description: body.description || null,
          startsAt: startsAt.toISOString(),
          endsAt: endsAt.toISOString(),
          timeZone: body.timeZone,
          status: body.status,
          unitId: body.unitId ?? null,
          agenda: body.agenda,
          mode: body.mode,
          meetingRoomId: room?.id ?? null,
          preparation: body.preparation,
          urgent: body.urgent,
          recurrenceRule,
          occurrenceCount: plan.occurrences.length,
          invitedUnitIds: [...memberCounts.keys()],
          participants: invitations.map(({ id, participant }) => participantAuditView(id, participant)),
        },
        ...requestMetadata(headers),
        at: now,
      });
      return meeting;
    });

    deps.log.info({ fn: name, meetingId, status: body.status, participants: invitations.length, occurrences: plan.occurrences.length }, 'meeting created');

    const keys = new Map<string, string>(invitations.map((invitation) => [invitation.id, invitation.inviteKey]));
    return {
      status: 201,
      body: {
        ...meeting,
        participants: meeting.participants.map((participant) => {
          const inviteKey = keys.get(participant.id) ?? '';
          return { ...participant, inviteKey, joinPath: joinPath(meetingId, inviteKey) };
        }),
        warnings,
      },
    };
  },
});
