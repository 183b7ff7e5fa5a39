/**
 * Raised hands (giơ tay): a participant raises a hand on the join page to
 * request the floor. The live board lists the raised hands in the order they
 * went up, and the chair lowers them.
 * The state lives in `hand_raise`, one row per occurrence and participant, so
 * a reload or a reconnect of the join page finds the hand as it was. A hand
 * goes up only within the occurrence's hand window (`handWindow`), and a hand
 * counts as raised only while its meeting and occurrence are open and it went
 * up within the window of the occurrence's current times. So a hand does not
 * carry over into a cancelled, postponed or moved meeting. Every
 * change raises the meeting's attendance version, which the live boards poll,
 * and writes `meeting.hand-raised` or `meeting.hand-lowered` to the outbox.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, MeetingStatus, OccurrenceStatus, ParticipantTable } from '../adapters/db/schema.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import { newEvent } from '../contract/events.ts';
import type { HandState } from '../contract/hands.ts';
import { bumpAttendanceVersion } from './attendance/tracking.ts';
import { actorOf, recordAudit } from './audit.ts';
import { HopError } from '../errors.ts';
import { GUEST_EARLY_ENTRY_MS, GUEST_LATE_ENTRY_MS, type Principal } from './policy.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface HandChange {
  meetingId: string;
  occurrenceId: string;
  participant: { id: string; name: string };
  now: Date;
  /** CloudEvents source of the event written. */
  source: string;
}

/** A raised hand as the live board lists it. */
export interface RaisedHand {
  participantId: string;
  name: string;
  role: ParticipantTable['role'];
  raisedAt: string;
}

/** The times of an occurrence, as `meeting_occurrence` stores them. */
interface OccurrenceTimes {
  starts_at: Date | string;
  ends_at: Date | string;
}

/**
 * Returns when hands may go up in an occurrence: from 30 minutes before it
 * starts until it ends, the window in which guests may join.
 */
export function handWindow(occurrence: OccurrenceTimes): { opensAt: Date; closesAt: Date } {
  return {
    opensAt: new Date(new Date(occurrence.starts_at).getTime() - GUEST_EARLY_ENTRY_MS),
    closesAt: new Date(new Date(occurrence.ends_at).getTime() + GUEST_LATE_ENTRY_MS),
  };
}

/** Throws HAND_RAISE_OUTSIDE_MEETING unless `now` is within the occurrence's hand window. */
export function requireHandWindow(meetingId: string, occurrence: OccurrenceTimes & { id: string }, now: Date): void {
  const { opensAt, closesAt } = handWindow(occurrence);
  if (now < opensAt || now > closesAt) {
    throw new HopError('HAND_RAISE_OUTSIDE_MEETING', {
      details: { meetingId, occurrenceId: occurrence.id, opensAt: opensAt.toISOString(), closesAt: closesAt.toISOString() },
    });
  }
}

/** The meeting and occurrence a hand belongs to, as far as they decide whether it counts. */
interface HandContext {
  meetingStatus: MeetingStatus;
  occurrence: OccurrenceTimes & { status: OccurrenceStatus };
}

/**
 * Returns whether a stored hand counts as raised: not lowered, in a meeting
 * and occurrence that are not cancelled, drafts or postponed, and raised
 * within the hand window of the occurrence's current times.
 */
function countsAsRaised(hand: { raised_at: Date | string; lowered_at: Date | string | null }, context: HandContext): boolean {
  if (hand.lowered_at !== null) return false;
  if (!handsOpen(context)) return false;
  const { opensAt, closesAt } = handWindow(context.occurrence);
  const raisedAt = new Date(hand.raised_at);
  return raisedAt >= opensAt && raisedAt <= closesAt;
}

function handsOpen(context: HandContext): boolean {
  return !['cancelled', 'draft', 'postponed'].includes(context.meetingStatus) && context.occurrence.status !== 'cancelled';
}

async function loadHandContext(db: Db, occurrenceId: string): Promise<HandContext | undefined> {
  const row = await db
    .selectFrom('meeting_occurrence')
    .innerJoin('meeting', 'meeting.id', 'meeting_occurrence.meeting_id')
    .select(['meeting.status as meetingStatus', 'meeting_occurrence.status', 'meeting_occurrence.starts_at', 'meeting_occurrence.ends_at'])
    .where('meeting_occurrence.id', '=', occurrenceId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { meetingStatus: row.meetingStatus, occurrence: { status: row.status, starts_at: row.starts_at, ends_at: row.ends_at } };
}

/**
 * Raises or lowers the participant's own hand and returns its state. Raising
 * a hand that is up keeps its time, and so its place in the order; lowering
 * a hand that is down changes nothing. Only a change writes an event.
 */
export async function setOwnHand(db: Kysely<Database>, change: HandChange & { raised: boolean }): Promise<HandState> {
  await db.transaction().execute(async (trx) => {
    const before = await lockHand(trx, change.occurrenceId, change.participant.id);
    const up = before !== undefined && before.up;
    if (change.raised === up) return;

    if (change.raised) {
      const values = { raised_at: change.now, lowered_at: null, lowered_by: null };
      await trx
        .insertInto('hand_raise')
        .values({ occurrence_id: change.occurrenceId, participant_id: change.participant.id, meeting_id: change.meetingId, ...values })
        .onConflict((oc) => oc.columns(['occurrence_id', 'participant_id']).doUpdateSet(values))
        .execute();
      const event = newEvent(
        'vn.hop.meeting.hand-raised.v1',
        { meetingId: change.meetingId, occurrenceId: change.occurrenceId, participantId: change.participant.id, participantName: change.participant.name, raisedAt: change.now.toISOString() },
        { source: change.source, subject: change.participant.id, time: change.now },
      );
      await appendToOutbox(trx, event, change.meetingId);
    } else {
      await writeLowered(trx, change, new Date(before!.raised_at), null);
    }
    await bumpAttendanceVersion(trx, change.meetingId);
  });
  return loadHandState(db, change.meetingId, change.occurrenceId, change.participant.id);
}

/**
 * Lowers a participant's hand for the chair or the secretary (`principal`)
 * and returns its state, auditing the change in the same transaction.
 * Lowering a hand that is down changes and audits nothing, so two people
 * pressing at once do no harm.
 */
export async function lowerHandAsModerator(
  db: Kysely<Database>,
  change: HandChange & { principal: Principal; request: { ip: string | null; requestId: string | null } },
): Promise<{ state: HandState; lowered: boolean }> {
  const lowered = await db.transaction().execute(async (trx) => {
    const before = await lockHand(trx, change.occurrenceId, change.participant.id);
    if (before === undefined || !before.up) return false;

    const raisedAt = new Date(before.raised_at).toISOString();
    await writeLowered(trx, change, new Date(raisedAt), actorOf(change.principal).id);
    const entity = { occurrenceId: change.occurrenceId, participantId: change.participant.id };
    await recordAudit(trx, {
      principal: change.principal,
      action: 'hand.lowered',
      entityType: 'hand-raise',
      entityId: `${change.occurrenceId}/${change.participant.id}`,
      before: { ...entity, raised: true, raisedAt },
      after: { ...entity, raised: false, raisedAt, loweredAt: change.now.toISOString() },
      ...change.request,
      at: change.now,
    });
    await bumpAttendanceVersion(trx, change.meetingId);
    return true;
  });
  return { state: await loadHandState(db, change.meetingId, change.occurrenceId, change.participant.id), lowered };
}

/**
 * Serialises changes of one hand, which may come from two devices or from the
 * participant and the chair at once, and returns the stored hand with whether
 * it counts as raised.
 */
async function lockHand(trx: Transaction<Database>, occurrenceId: string, participantId: string) {
  await sql`select pg_advisory_xact_lock(hashtext(${`hop.hand:${occurrenceId}:${participantId}`}))`.execute(trx);
  const hand = await trx
    .selectFrom('hand_raise')
    .select(['raised_at', 'lowered_at'])
    .where('occurrence_id', '=', occurrenceId)
    .where('participant_id', '=', participantId)
    .executeTakeFirst();
  if (hand === undefined) return undefined;
  const context = await loadHandContext(trx, occurrenceId);
  return { ...hand, up: context !== undefined && countsAsRaised(hand, context) };
}

async function writeLowered(trx: Transaction<Database>, change: HandChange, raisedAt: Date, loweredBy: string | null): Promise<void> {
  await trx
    .updateTable('hand_raise')
    .set({ lowered_at: change.now, lowered_by: loweredBy })
    .where('occurrence_id', '=', change.occurrenceId)
    .where('participant_id', '=', change.participant.id)
    .execute();
  const event = newEvent(
    'vn.hop.meeting.hand-lowered.v1',
    {
      meetingId: change.meetingId,
      occurrenceId: change.occurrenceId,
      participantId: change.participant.id,
      raisedAt: raisedAt.toISOString(),
      loweredAt: change.now.toISOString(),
      loweredBy: loweredBy === null ? 'participant' : 'moderator',
    },
    { source: change.source, subject: change.participant.id, time: change.now },
  );
  await appendToOutbox(trx, event, change.meetingId);
}

/**
 * Returns the raised hands of one occurrence in the order they went up (the
 * invitation order breaks a tie), with the participants' names and roles.
 * Hands that do not count as raised (see `countsAsRaised`) are left out.
 */
export async function loadRaisedHands(db: Db, occurrenceId: string): Promise<RaisedHand[]> {
  const context = await loadHandContext(db, occurrenceId);
  if (context === undefined || !handsOpen(context)) return [];
  const { opensAt, closesAt } = handWindow(context.occurrence);
  const rows = await db
    .selectFrom('hand_raise')
    .innerJoin('participant', 'participant.id', 'hand_raise.participant_id')
    .select(['hand_raise.participant_id', 'hand_raise.raised_at', 'participant.name', 'participant.role'])
    .where('hand_raise.occurrence_id', '=', occurrenceId)
    .where('hand_raise.lowered_at', 'is', null)
    .where('hand_raise.raised_at', '>=', opensAt)
    .where('hand_raise.raised_at', '<=', closesAt)
    .orderBy('hand_raise.raised_at')
    .orderBy('participant.position')
    .execute();
  return rows.map((row) => ({ participantId: row.participant_id, name: row.name, role: row.role, raisedAt: new Date(row.raised_at).toISOString() }));
}

/** Returns one participant's hand in one occurrence, with its place among the raised hands. */
export async function loadHandState(db: Db, meetingId: string, occurrenceId: string, participantId: string): Promise<HandState> {
  const row = await db
    .selectFrom('hand_raise')
    .select(['raised_at', 'lowered_at', 'lowered_by'])
    .where('occurrence_id', '=', occurrenceId)
    .where('participant_id', '=', participantId)
    .executeTakeFirst();
  const context = row === undefined ? undefined : await loadHandContext(db, occurrenceId);
  const raised = row !== undefined && context !== undefined && countsAsRaised(row, context);
  let position: number | null = null;
  if (raised) {
    const order = await loadRaisedHands(db, occurrenceId);
    position = order.findIndex((hand) => hand.participantId === participantId) + 1 || null;
  }
  let loweredBy: HandState['loweredBy'] = null;
  if (row?.lowered_at) loweredBy = row.lowered_by === null ? 'participant' : 'moderator';
  return {
    meetingId,
    occurrenceId,
    participantId,
    raised,
    raisedAt: row ? new Date(row.raised_at).toISOString() : null,
    position,
    loweredAt: row?.lowered_at ? new Date(row.lowered_at).toISOString() : null,
    loweredBy,
  };
}
