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
  const meeting = await db.selectFrom('meeting').select(['unit_id', 'starts_at', 'ends_at', 'status']).where('id', '=', meetingId).executeTakeFirst();
  if (!meeting) return undefined;
  const window = await currentOccurrence(db, meetingId);

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
    startsAt: new Date(window?.starts_at ?? meeting.starts_at),
    endsAt: new Date(window?.ends_at ?? meeting.ends_at),
    draft: meeting.status === 'draft',
  };
}

/**
 * The occurrence whose time window matters now: the first one, not
 * cancelled, that has not ended (by this process's clock), else the last one
 * that is not cancelled. For a single meeting that is its only occurrence.
 */
async function currentOccurrence(db: Db, meetingId: string): Promise<{ starts_at: Date; ends_at: Date } | undefined> {
  const next = await db
    .selectFrom('meeting_occurrence')
    .select(['starts_at', 'ends_at'])
    .where('meeting_id', '=', meetingId)
    .where('status', '!=', 'cancelled')
    .where('ends_at', '>', new Date())
    .orderBy('starts_at')
    .limit(1)
    .executeTakeFirst();
  if (next) return next;
  return db
    .selectFrom('meeting_occurrence')
    .select(['starts_at', 'ends_at'])
    .where('meeting_id', '=', meetingId)
    .where('status', '!=', 'cancelled')
    .orderBy('starts_at', 'desc')
    .limit(1)
    .executeTakeFirst();
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

/**
 * The checks every route on one meeting starts with: a signed-in caller, a
 * meeting id that is a UUID and exists, and the policy's permission for
 * `action`. Returns the meeting id; throws AUTH_REQUIRED, MEETING_NOT_FOUND or
 * PERMISSION_DENIED as `requireAllowed` does.
 */
export async function authorizeMeeting(db: Db, meetingId: string | undefined, principal: Principal, action: Action): Promise<string> {
  if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
  if (meetingId === undefined || !uuidPattern.test(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
  const context = await loadMeetingContext(db, meetingId, principal);
  if (!context) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
  requireAllowed(principal, action, { meetingId, meeting: context });
  return meetingId;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
