/**
 * Who a meeting invites: people named one by one (directory people or guests
 * with an e-mail address or phone) and whole units, whose active members
 * become participants at invitation time.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import { uuidV7 } from '../adapters/db/uuid-v7.ts';
import type { z } from 'zod';
import type { participantInputSchema } from '../contract/meeting.ts';
import { HopError } from '../errors.ts';
import { deriveInviteKey, hashInviteKey } from './invite-key.ts';

type Db = Kysely<Database> | Transaction<Database>;
type ParticipantInput = z.output<typeof participantInputSchema>;

export interface ResolvedParticipant extends ParticipantInput {
  invitedUnitId: string | null;
}

export interface Invitation {
  id: string;
  participant: ResolvedParticipant;
  inviteKey: string;
}

/** Throws USER_NOT_FOUND unless every directory person named exists and is active. */
export async function checkInvitedUsers(db: Db, participants: readonly ParticipantInput[]): Promise<void> {
  const userIds = [...new Set(participants.flatMap((participant) => (participant.userId ? [participant.userId] : [])))];
  if (userIds.length === 0) return;
  const found = await db.selectFrom('app_user').select('id').where('id', 'in', userIds).where('disabled_at', 'is', null).execute();
  const missing = userIds.filter((id) => !found.some((row) => row.id === id));
  if (missing.length > 0) throw new HopError('USER_NOT_FOUND', { details: { userIds: missing } });
}

/**
 * Returns the named participants followed by the active members of the
 * invited units, each person once: a member already named, or already in
 * `alreadyInvited`, is not added again. A named directory person gets the
 * directory's name, e-mail and phone. Throws INVITED_UNIT_NOT_FOUND for an
 * unknown unit. `memberCounts` has the members each unit added.
 */
export async function resolveParticipants(
  db: Db,
  named: readonly ParticipantInput[],
  unitIds: readonly string[],
  alreadyInvited: ReadonlySet<string> = new Set(),
): Promise<{ participants: ResolvedParticipant[]; memberCounts: Map<string, number> }> {
  const uniqueUnitIds = [...new Set(unitIds)];
  if (uniqueUnitIds.length > 0) {
    const known = await db.selectFrom('unit').select('id').where('id', 'in', uniqueUnitIds).execute();
    const missing = uniqueUnitIds.filter((id) => !known.some((unit) => unit.id === id));
    if (missing.length > 0) throw new HopError('INVITED_UNIT_NOT_FOUND', { details: { unitIds: missing } });
  }

  const seen = new Set(alreadyInvited);
  // A directory person is named, reached and shown as the directory has them; the request's name and contact only fill gaps.
  const namedUserIds = [...new Set(named.flatMap((participant) => (participant.userId ? [participant.userId] : [])))];
  const directory = new Map(
    namedUserIds.length === 0
      ? []
      : (await db.selectFrom('app_user').select(['id', 'display_name', 'email', 'phone']).where('id', 'in', namedUserIds).execute()).map((row) => [row.id, row]),
  );
  const participants: ResolvedParticipant[] = named.map((participant) => {
    if (!participant.userId) return { ...participant, invitedUnitId: null };
    seen.add(participant.userId);
    const person = directory.get(participant.userId);
    return {
      ...participant,
      name: person?.display_name ?? participant.name,
      email: person?.email ?? participant.email,
      phone: person?.phone ?? participant.phone,
      invitedUnitId: null,
    };
  });
  const memberCounts = new Map<string, number>(uniqueUnitIds.map((id) => [id, 0]));
  if (uniqueUnitIds.length === 0) return { participants, memberCounts };

  const members = await db
    .selectFrom('membership')
    .innerJoin('app_user', 'app_user.id', 'membership.user_id')
    .innerJoin('unit', 'unit.id', 'membership.unit_id')
    .select(['app_user.id', 'app_user.display_name', 'app_user.email', 'app_user.phone', 'membership.unit_id'])
    .where('membership.unit_id', 'in', uniqueUnitIds)
    .where('app_user.disabled_at', 'is', null)
    .where('unit.disabled_at', 'is', null)
    .orderBy('app_user.name_search')
    .execute();
  for (const member of members) {
    if (seen.has(member.id)) continue;
    seen.add(member.id);
    memberCounts.set(member.unit_id, (memberCounts.get(member.unit_id) ?? 0) + 1);
    participants.push({
      name: member.display_name,
      email: member.email ?? undefined,
      phone: member.phone ?? undefined,
      role: 'participant',
      userId: member.id,
      invitedUnitId: member.unit_id,
    });
  }
  return { participants, memberCounts };
}

/**
 * Gives each participant an id and an invitation key derived from it with the
 * installation's join-token key (`deriveInviteKey`), so later notices can carry
 * the same link without the key being stored. The ids are time-ordered
 * (`uuidV7`) because a unit invites hundreds of people in one insert.
 */
export function newInvitations(participants: readonly ResolvedParticipant[], secret: string): Invitation[] {
  return participants.map((participant) => {
    const id = uuidV7();
    return { id, participant, inviteKey: deriveInviteKey(secret, id) };
  });
}

/**
 * Inserts the invitations as participants from list position `firstPosition`,
 * storing only the hash of each key. The rows travel as one JSON parameter,
 * because a whole unit is hundreds of rows of ten columns.
 */
export async function insertParticipants(trx: Transaction<Database>, meetingId: string, invitations: readonly Invitation[], firstPosition: number): Promise<void> {
  if (invitations.length === 0) return;
  const rows = invitations.map(({ id, participant, inviteKey }, index) => ({
    id,
    position: firstPosition + index,
    name: participant.name,
    email: participant.email ?? null,
    phone: participant.phone ?? null,
    role: participant.role,
    invite_key_hash: hashInviteKey(inviteKey),
    user_id: participant.userId ?? null,
    invited_unit_id: participant.invitedUnitId,
  }));
  await sql`
    insert into participant (id, meeting_id, position, name, email, phone, role, invite_key_hash, user_id, invited_unit_id)
    select row.id, ${meetingId}, row.position, row.name, row.email, row.phone, row.role, row.invite_key_hash, row.user_id, row.invited_unit_id
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as row(id uuid, position integer, name text, email text, phone text, role text, invite_key_hash text, user_id uuid, invited_unit_id uuid)
  `.execute(trx);
}

/** Records the units invited as a whole, with the members each added. */
export async function insertInvitedUnits(trx: Transaction<Database>, meetingId: string, memberCounts: ReadonlyMap<string, number>, at: Date): Promise<void> {
  if (memberCounts.size === 0) return;
  await trx
    .insertInto('meeting_invited_unit')
    .values([...memberCounts].map(([unitId, count]) => ({ meeting_id: meetingId, unit_id: unitId, member_count: count, invited_at: at })))
    .onConflict((conflict) => conflict.columns(['meeting_id', 'unit_id']).doUpdateSet((eb) => ({ member_count: eb('meeting_invited_unit.member_count', '+', eb.ref('excluded.member_count')) })))
    .execute();
}

/** The audit view of a participant: no invitation key. */
export function participantAuditView(id: string, participant: ResolvedParticipant) {
  return {
    id,
    name: participant.name,
    email: participant.email ?? null,
    phone: participant.phone ?? null,
    role: participant.role,
    userId: participant.userId ?? null,
    invitedUnitId: participant.invitedUnitId,
  };
}
