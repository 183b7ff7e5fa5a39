import type { Kysely } from 'kysely';
import type { Database, ParticipantTable } from '../adapters/db/schema.ts';
import { HopError } from '../errors.ts';
import { hashInviteKey } from './invite-key.ts';
import { GUEST_EARLY_ENTRY_MS, GUEST_LATE_ENTRY_MS, type Principal } from './policy.ts';

export interface JoiningParticipant {
  id: string;
  name: string;
  role: ParticipantTable['role'];
}

/**
 * Finds the participant a request from the join page acts for: the holder of
 * `inviteKey`, or without a key the signed-in person invited to the meeting
 * (their first row by position). Throws AUTH_REQUIRED for an anonymous caller
 * without a key, VALIDATION_FAILED for an API key without one, and
 * NOT_INVITED when no participant matches.
 */
export async function findJoiningParticipant(
  db: Kysely<Database>,
  meetingId: string,
  inviteKey: string | undefined,
  principal: Principal,
): Promise<JoiningParticipant> {
  let participants = db.selectFrom('participant').select(['id', 'name', 'role']).where('meeting_id', '=', meetingId);
  if (inviteKey !== undefined) participants = participants.where('invite_key_hash', '=', hashInviteKey(inviteKey));
  else if (principal.kind === 'user') participants = participants.where('user_id', '=', principal.userId);
  else if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
  else throw new HopError('VALIDATION_FAILED', { details: [{ path: 'inviteKey', message: 'required unless signed in as a participant' }] });

  const participant = await participants.orderBy('position').executeTakeFirst();
  if (!participant) throw new HopError('NOT_INVITED', { details: { meetingId } });
  return participant;
}

/**
 * Throws unless `participant` may be in the meeting's room at `now`:
 * OUTSIDE_GUEST_WINDOW for a guest outside the guest window, MEETING_CANCELLED,
 * MEETING_ENDED, or MEETING_STATUS_CONFLICT (naming `action`) for a draft,
 * which has sent no invitations yet, and a postponed meeting, which waits for a new date.
 */
export function requireMeetingOpen(
  meeting: { id: string; status: string; starts_at: Date | string; ends_at: Date | string },
  participant: JoiningParticipant,
  now: Date,
  action: string,
): void {
  const meetingId = meeting.id;
  const opens = new Date(meeting.starts_at).getTime() - GUEST_EARLY_ENTRY_MS;
  const closes = new Date(meeting.ends_at).getTime() + GUEST_LATE_ENTRY_MS;
  if (participant.role === 'guest' && (now.getTime() < opens || now.getTime() > closes)) {
    throw new HopError('OUTSIDE_GUEST_WINDOW', { details: { meetingId, opensAt: new Date(opens).toISOString() } });
  }

  if (meeting.status === 'cancelled') throw new HopError('MEETING_CANCELLED', { details: { meetingId } });
  if (meeting.status === 'ended') throw new HopError('MEETING_ENDED', { details: { meetingId } });
  if (meeting.status === 'draft' || meeting.status === 'postponed') {
    throw new HopError('MEETING_STATUS_CONFLICT', { details: { meetingId, status: meeting.status, action } });
  }
}
