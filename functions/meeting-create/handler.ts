import { randomUUID } from 'node:crypto';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { createMeetingRequestSchema, isKnownTimeZone } from '../../lib/contract/meeting.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { hashInviteKey, joinPath, newInviteKey } from '../../lib/domain/invite-key.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { requireAllowed } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-create';

/** Maximum meeting length: a week covers multi-day conferences and catches a wrong end date. */
const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;

/** Meetings may be recorded up to a year after they took place and scheduled up to five years ahead. */
const MAX_PAST_MS = 366 * 24 * 60 * 60 * 1000;
const MAX_FUTURE_MS = 5 * 366 * 24 * 60 * 60 * 1000;

/**
 * POST /api/v1/meetings: schedules a meeting. The meeting, its participants,
 * a pending room and the `meeting.scheduled` event commit in one transaction.
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
    const userIds = [...new Set(body.participants.flatMap((participant) => (participant.userId ? [participant.userId] : [])))];
    if (userIds.length > 0) {
      const found = await deps.db.selectFrom('app_user').select('id').where('id', 'in', userIds).where('disabled_at', 'is', null).execute();
      const missing = userIds.filter((id) => !found.some((row) => row.id === id));
      if (missing.length > 0) throw new HopError('USER_NOT_FOUND', { details: { userIds: missing } });
    }

    if (!isKnownTimeZone(body.timeZone)) {
      throw new HopError('UNKNOWN_TIME_ZONE', { details: { timeZone: body.timeZone } });
    }
    const startsAt = new Date(body.startsAt);
    const endsAt = new Date(body.endsAt);
    if (endsAt.getTime() <= startsAt.getTime()) {
      throw new HopError('END_BEFORE_START', { details: { startsAt: body.startsAt, endsAt: body.endsAt } });
    }
    const now = deps.now().getTime();
    if (startsAt.getTime() < now - MAX_PAST_MS || startsAt.getTime() > now + MAX_FUTURE_MS) {
      throw new HopError('VALIDATION_FAILED', {
        details: [{ path: 'startsAt', message: 'a meeting starts at most one year ago and at most five years ahead' }],
      });
    }
    if (endsAt.getTime() - startsAt.getTime() > MAX_DURATION_MS) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'endsAt', message: 'a meeting lasts at most 7 days' }] });
    }

    const meetingId: string = randomUUID();
    // Members of invited units join the list at invitation time, after the people named one by one.
    const named = new Set(body.participants.flatMap((participant) => (participant.userId ? [participant.userId] : [])));
    const unitMembers = body.invitedUnitIds.length === 0 ? [] : await deps.db
      .selectFrom('membership')
      .innerJoin('app_user', 'app_user.id', 'membership.user_id')
      .innerJoin('unit', 'unit.id', 'membership.unit_id')
      .select(['app_user.id', 'app_user.display_name', 'app_user.email', 'app_user.phone', 'membership.unit_id'])
      .where('membership.unit_id', 'in', body.invitedUnitIds)
      .where('app_user.disabled_at', 'is', null)
      .where('unit.disabled_at', 'is', null)
      .orderBy('app_user.name_search')
      .execute();
    const knownUnits = await (body.invitedUnitIds.length === 0
      ? Promise.resolve([])
      : deps.db.selectFrom('unit').select('id').where('id', 'in', body.invitedUnitIds).execute());
    const missingUnits = body.invitedUnitIds.filter((id) => !knownUnits.some((unit) => unit.id === id));
    if (missingUnits.length > 0) throw new HopError('REFERENCED_UNIT_NOT_FOUND', { details: { unitIds: missingUnits } });

    const participants = [...body.participants];
    for (const member of unitMembers) {
      if (named.has(member.id)) continue;
      named.add(member.id);
      participants.push({ name: member.display_name, email: member.email ?? undefined, phone: member.phone ?? undefined, role: 'participant', userId: member.id });
    }
    if (participants.length === 0) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'participants', message: 'invite at least one person or a unit with members' }] });
    }

    const invitations = participants.map((participant) => ({
      id: randomUUID(),
      participant,
      inviteKey: newInviteKey(),
    }));

    await deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('meeting')
        .values({
          id: meetingId,
          title: body.title,
          description: body.description || null,
          starts_at: startsAt,
          ends_at: endsAt,
          time_zone: body.timeZone,
          status: 'scheduled',
          cancel_reason: null,
          unit_id: body.unitId ?? null,
          created_by: principal.kind === 'user' ? principal.userId : null,
          updated_at: deps.now(),
        })
        .execute();

      await trx
        .insertInto('participant')
        .values(
          invitations.map(({ id, participant, inviteKey }, position) => ({
            id,
            meeting_id: meetingId,
            position,
            name: participant.name,
            email: participant.email ?? null,
            phone: participant.phone ?? null,
            role: participant.role,
            invite_key_hash: hashInviteKey(inviteKey),
            user_id: participant.userId ?? null,
          })),
        )
        .execute();

      await trx
        .insertInto('room')
        .values({
          meeting_id: meetingId,
          status: 'pending',
          janus_server: null,
          room_id: null,
          secret: null,
          pin: null,
          last_error: null,
          updated_at: deps.now(),
        })
        .execute();

      const event = newEvent(
        'vn.hop.meeting.scheduled.v1',
        {
          meetingId,
          title: body.title,
          startsAt: startsAt.toISOString(),
          endsAt: endsAt.toISOString(),
          timeZone: body.timeZone,
          participantCount: invitations.length,
        },
        { source: eventSource(name), subject: meetingId, time: deps.now() },
      );
      await appendToOutbox(trx, event, meetingId);

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
          status: 'scheduled',
          unitId: body.unitId ?? null,
          participants: invitations.map(({ id, participant }) => ({
            id,
            name: participant.name,
            email: participant.email ?? null,
            phone: participant.phone ?? null,
            role: participant.role,
            userId: participant.userId ?? null,
          })),
        },
        ...requestMetadata(headers),
        at: deps.now(),
      });
    });

    deps.log.info({ fn: name, meetingId, participants: invitations.length }, 'meeting scheduled');

    const meeting = await loadMeeting(deps.db, meetingId);
    if (!meeting) throw new Error(`meeting ${meetingId} vanished right after it was created`);
    const keys = new Map<string, string>(invitations.map((invitation) => [invitation.id, invitation.inviteKey]));
    return {
      status: 201,
      body: {
        ...meeting,
        participants: meeting.participants.map((participant) => {
          const inviteKey = keys.get(participant.id) ?? '';
          return { ...participant, inviteKey, joinPath: joinPath(meetingId, inviteKey) };
        }),
      },
    };
  },
});
