/**
 * The chair's live board: the attendance of one occurrence with what the
 * chair acts on during the meeting, the raised hands and the joins refused at
 * a connection cap. Reports and a participant's own view read the attendance
 * alone (meeting-attendance.ts).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../adapters/db/schema.ts';
import { loadRaisedHands, type RaisedHand } from '../hands.ts';
import { loadJoinRefusals, type JoinRefusal } from '../join-refusals.ts';
import { loadMeetingAttendance, type MeetingAttendance } from './meeting-attendance.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface MeetingBoard extends MeetingAttendance {
  /** Everyone's rows, as opposed to a participant's own view (`own`, attendance-list). */
  scope: 'all';
  /** Raised hands in the order they went up. */
  raisedHands: RaisedHand[];
  /** Joins refused at a connection cap, latest first. */
  refusedJoins: JoinRefusal[];
}

/** Loads the board of one occurrence: everyone's attendance, the raised hands and the refused joins. */
export async function loadMeetingBoard(db: Db, meetingId: string, occurrence: { id: string; starts_at: Date; ends_at: Date }, now: Date): Promise<MeetingBoard> {
  const [attendance, raisedHands, refusedJoins] = await Promise.all([
    loadMeetingAttendance(db, meetingId, occurrence, now),
    loadRaisedHands(db, occurrence.id),
    loadJoinRefusals(db, occurrence.id),
  ]);
  return { scope: 'all', ...attendance, raisedHands, refusedJoins };
}
