import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import { HopError } from '../errors.ts';
import { decide, type Action, type MeetingContext, type Principal } from './policy.ts';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Loads what the policy needs about a meeting for this principal: its unit,
 * time, and the principal's role in it (by `participant.user_id`). Returns
 * undefined when the meeting does not exist.
 */
export async function loadMeetingContext(db: Db, meetingId: string, principal: Principal): Promise<MeetingContext | undefined> {
  const meeting = await db.selectFrom('meeting').select(['unit_id', 'starts_at', 'ends_at']).where('id', '=', meetingId).executeTakeFirst();
  if (!meeting) return undefined;

  let meetingRole: MeetingContext['meetingRole'] = null;
  if (principal.kind === 'user') {
    const participant = await db
      .selectFrom('participant')
      .select('role')
      .where('meeting_id', '=', meetingId)
      .where('user_id', '=', principal.userId)
      .orderBy('position')
      .executeTakeFirst();
    meetingRole = participant?.role ?? null;
  }
  return {
    unitId: meeting.unit_id ?? '',
    meetingRole,
    startsAt: new Date(meeting.starts_at),
    endsAt: new Date(meeting.ends_at),
  };
}

/**
 * Throws unless the policy allows `action`: AUTH_REQUIRED for an anonymous
 * caller, MEETING_NOT_FOUND when the caller may not even see the meeting (so
 * its existence does not leak), PERMISSION_DENIED otherwise.
 */
export function requireAllowed(
  principal: Principal,
  action: Action,
  context: { meetingId?: string; meeting?: MeetingContext; unitId?: string; now?: Date },
): void {
  const decision = decide(principal, action, context);
  if (decision.allow) return;
  if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
  if (context.meeting && !decide(principal, 'meeting.read', context).allow) {
    throw new HopError('MEETING_NOT_FOUND', { details: { meetingId: context.meetingId } });
  }
  throw new HopError('PERMISSION_DENIED', { details: { action, reason: decision.reason } });
}
