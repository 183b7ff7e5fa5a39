/**
 * Reminders (nhắc lịch): planning them from a meeting's occurrences, and
 * claiming the due ones exactly once.
 *
 * reminder-plan calls `planReminders` on every meeting event. It reads the
 * meeting's current state rather than the event, so late or repeated events
 * leave the same result. reminder-dispatch calls `dispatchDueReminders` every
 * minute. Each batch claims its rows with `FOR UPDATE SKIP LOCKED`, writes
 * `vn.hop.reminder.due.v1` to the outbox and marks the rows sent in one
 * transaction. Two dispatchers therefore never send the same reminder, and a
 * crash mid-batch rolls the whole batch back for the next run.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import type { Database } from '../adapters/db/schema.ts';
import { newEvent } from '../contract/events.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** One day and 30 minutes before each occurrence, unless the meeting or its unit sets others. */
export const DEFAULT_REMINDER_OFFSETS_MINUTES: readonly number[] = [24 * 60, 30];

/** Maximum offset: 30 days before the start. */
export const MAX_REMINDER_OFFSET_MINUTES = 30 * 24 * 60;

/** Offsets as people set them: 1 to 5 distinct values of 5 minutes to 30 days, stored longest first. */
export const reminderOffsetsSchema = z
  .array(z.number().int().min(5).max(MAX_REMINDER_OFFSET_MINUTES))
  .min(1)
  .max(5)
  .refine((offsets) => new Set(offsets).size === offsets.length, 'reminder offsets must be distinct')
  .transform((offsets) => [...offsets].sort((a, b) => b - a));

/** Meeting states whose future occurrences get reminders. */
const REMINDED_STATUSES = ['scheduled', 'in_progress'] as const;

export interface PlanResult {
  /** Reminders inserted or made due again. */
  planned: number;
  /** Pending reminders whose due time changed. */
  moved: number;
  /** Pending reminders removed because their occurrence, offset or meeting is gone. */
  removed: number;
}

/** Returns the offsets that apply to a meeting: its own, else its unit's, else the default. */
export async function reminderOffsetsFor(db: Db, meeting: { reminder_offsets: number[] | null; unit_id: string | null }): Promise<number[]> {
  if (meeting.reminder_offsets && meeting.reminder_offsets.length > 0) return meeting.reminder_offsets;
  if (meeting.unit_id) {
    const setting = await db.selectFrom('unit_reminder_setting').select('offsets_minutes').where('unit_id', '=', meeting.unit_id).executeTakeFirst();
    if (setting && setting.offsets_minutes.length > 0) return setting.offsets_minutes;
  }
  return [...DEFAULT_REMINDER_OFFSETS_MINUTES];
}

/**
 * Brings a meeting's reminders in line with its current occurrences, inside
 * the caller's transaction. A reminder whose due time has already passed is
 * not planned, so a meeting booked 10 minutes ahead gets no 30-minute
 * reminder. A sent reminder whose occurrence has moved since becomes pending
 * again for the new time. A cancelled, postponed, draft or ended meeting keeps
 * no pending reminders.
 */
export async function planReminders(trx: Transaction<Database>, meetingId: string, now: Date): Promise<PlanResult> {
  const result: PlanResult = { planned: 0, moved: 0, removed: 0 };
  const meeting = await trx
    .selectFrom('meeting')
    .select(['id', 'status', 'unit_id', 'reminder_offsets'])
    .where('id', '=', meetingId)
    .forUpdate()
    .executeTakeFirst();
  if (!meeting) return result;

  const existing = await trx
    .selectFrom('reminder')
    .select(['id', 'occurrence_id', 'offset_minutes', 'due_at', 'status', 'sent_for_start'])
    .where('meeting_id', '=', meetingId)
    .execute();

  const active = (REMINDED_STATUSES as readonly string[]).includes(meeting.status);
  const occurrences = active
    ? await trx
        .selectFrom('meeting_occurrence')
        .select(['id', 'starts_at'])
        .where('meeting_id', '=', meetingId)
        .where('status', 'in', ['scheduled', 'moved'])
        .where('starts_at', '>', now)
        .execute()
    : [];
  const offsets = active ? await reminderOffsetsFor(trx, meeting) : [];

  const wanted = new Map<string, { occurrenceId: string; offset: number; dueAt: Date; startsAt: Date }>();
  for (const occurrence of occurrences) {
    const startsAt = new Date(occurrence.starts_at);
    for (const offset of offsets) {
      // Whole minutes, so the dispatcher's run at the top of that minute finds the reminder at once.
      const dueAt = new Date(Math.floor((startsAt.getTime() - offset * 60_000) / 60_000) * 60_000);
      if (dueAt.getTime() < now.getTime()) continue;
      wanted.set(`${occurrence.id}:${offset}`, { occurrenceId: occurrence.id, offset, dueAt, startsAt });
    }
  }

  const stale: string[] = [];
  for (const row of existing) {
    const key = `${row.occurrence_id}:${row.offset_minutes}`;
    const target = wanted.get(key);
    wanted.delete(key);
    if (!target) {
      if (row.status === 'pending') stale.push(row.id);
      continue;
    }
    if (row.status === 'pending') {
      if (new Date(row.due_at).getTime() !== target.dueAt.getTime()) {
        await trx.updateTable('reminder').set({ due_at: target.dueAt, updated_at: now }).where('id', '=', row.id).execute();
        result.moved += 1;
      }
      continue;
    }
    // Sent for another start: the occurrence moved after the reminder went out, so remind again.
    const sentFor = row.sent_for_start ? new Date(row.sent_for_start).getTime() : null;
    if (sentFor !== target.startsAt.getTime()) {
      await trx
        .updateTable('reminder')
        .set({ status: 'pending', due_at: target.dueAt, sent_at: null, sent_for_start: null, updated_at: now })
        .where('id', '=', row.id)
        .execute();
      result.planned += 1;
    }
  }

  if (stale.length > 0) {
    await trx.deleteFrom('reminder').where('id', 'in', stale).execute();
    result.removed += stale.length;
  }
  if (wanted.size > 0) {
    await trx
      .insertInto('reminder')
      .values(
        [...wanted.values()].map((target) => ({
          id: randomUUID(),
          meeting_id: meetingId,
          occurrence_id: target.occurrenceId,
          offset_minutes: target.offset,
          due_at: target.dueAt,
          status: 'pending' as const,
          updated_at: now,
        })),
      )
      .execute();
    result.planned += wanted.size;
  }
  return result;
}

export interface DispatchOptions {
  /** Reminders claimed per transaction. Default 500. */
  batchSize?: number;
  /** Stop starting new batches after this long, in milliseconds, so a run ends before the next minute's. Default 50000. */
  timeBudgetMs?: number;
  /** CloudEvents source of the emitted events. */
  source: string;
}

export interface DispatchResult {
  /** Reminders emitted as `vn.hop.reminder.due.v1`. */
  emitted: number;
  /** Reminders marked sent without an event, because their occurrence had already started or is no longer on. */
  skipped: number;
  batches: number;
}

/**
 * Claims every pending reminder due at `now()` or earlier, batch by batch, and
 * emits one `vn.hop.reminder.due.v1` per reminder through the outbox. `now` is
 * read per batch, so a long run also picks up reminders that fall due during it.
 */
export async function dispatchDueReminders(db: Kysely<Database>, now: () => Date, options: DispatchOptions): Promise<DispatchResult> {
  const batchSize = options.batchSize ?? 500;
  const budget = options.timeBudgetMs ?? 50_000;
  const started = Date.now();
  const result: DispatchResult = { emitted: 0, skipped: 0, batches: 0 };

  for (;;) {
    const claimed = await db.transaction().execute(async (trx) => {
      const at = now();
      const due = await trx
        .selectFrom('reminder')
        .innerJoin('meeting_occurrence', 'meeting_occurrence.id', 'reminder.occurrence_id')
        .innerJoin('meeting', 'meeting.id', 'reminder.meeting_id')
        .select([
          'reminder.id',
          'reminder.meeting_id',
          'reminder.occurrence_id',
          'reminder.offset_minutes',
          'reminder.due_at',
          'meeting_occurrence.starts_at',
          'meeting_occurrence.status as occurrenceStatus',
          'meeting.status as meetingStatus',
        ])
        .where('reminder.status', '=', 'pending')
        .where('reminder.due_at', '<=', at)
        .orderBy('reminder.due_at')
        .limit(batchSize)
        .forUpdate('reminder')
        .skipLocked()
        .execute();
      if (due.length === 0) return 0;

      const sentIds: string[] = [];
      for (const row of due) {
        const startsAt = new Date(row.starts_at);
        const live =
          (REMINDED_STATUSES as readonly string[]).includes(row.meetingStatus) &&
          row.occurrenceStatus !== 'cancelled' &&
          startsAt.getTime() > at.getTime();
        if (live) {
          const event = newEvent(
            'vn.hop.reminder.due.v1',
            {
              reminderId: row.id,
              meetingId: row.meeting_id,
              occurrenceId: row.occurrence_id,
              offsetMinutes: row.offset_minutes,
              dueAt: new Date(row.due_at).toISOString(),
              startsAt: startsAt.toISOString(),
            },
            { source: options.source, subject: row.meeting_id, time: at },
          );
          await appendToOutbox(trx, event, row.meeting_id);
          result.emitted += 1;
        } else {
          result.skipped += 1;
        }
        sentIds.push(row.id);
      }
      await trx
        .updateTable('reminder')
        .from('meeting_occurrence')
        .set((eb) => ({ status: 'sent', sent_at: at, updated_at: at, sent_for_start: eb.ref('meeting_occurrence.starts_at') }))
        .whereRef('meeting_occurrence.id', '=', 'reminder.occurrence_id')
        .where('reminder.id', 'in', sentIds)
        .execute();
      return due.length;
    });

    if (claimed === 0) break;
    result.batches += 1;
    if (claimed < batchSize || Date.now() - started > budget) break;
  }
  return result;
}

/** Request body of the reminder settings routes; null goes back to the unit's or hop's default. */
export const reminderSettingsRequestSchema = z.object({ offsetsMinutes: reminderOffsetsSchema.nullable() }).strict();
