/**
 * Reminder planning and dispatch on real PostgreSQL: planning follows the
 * meeting's occurrences and settings, and dispatch emits each due reminder
 * once, also with two dispatchers at once and after a dispatcher is killed
 * with SIGKILL in the middle of a backlog.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../adapters/db/database.ts';
import { createTestDatabase, waitFor } from '../../test/support/services.ts';
import { DEFAULT_REMINDER_OFFSETS_MINUTES, dispatchDueReminders, planReminders, reminderOffsetsSchema } from './reminders.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const source = '/hop/functions/reminder-dispatch';

const adminUrl = process.env.TEST_DATABASE_URL;
if (!adminUrl && process.env.CI === 'true') throw new Error('TEST_DATABASE_URL is required under CI');

describe('reminders', { skip: adminUrl ? false : 'TEST_DATABASE_URL is not set' }, () => {
  let handle: DatabaseHandle;
  let databaseUrl: string;
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    const database = await createTestDatabase(adminUrl!);
    databaseUrl = database.url;
    drop = database.drop;
    handle = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 8 });
    await migrateToLatest(handle.db);
  });

  after(async () => {
    await handle?.close();
    await drop?.();
  });

  beforeEach(async () => {
    if (!handle) return;
    await sql`truncate meeting, outbox, unit cascade`.execute(handle.db);
  });

  /** Inserts a scheduled meeting with one occurrence per start, each an hour long. */
  async function insertMeeting(starts: Date[], options: { unitId?: string | null; offsets?: number[] | null; status?: string } = {}) {
    const id = randomUUID();
    const first = starts[0]!;
    const last = new Date(starts.at(-1)!.getTime() + HOUR);
    await handle.db
      .insertInto('meeting')
      .values({
        id,
        title: 'Giao ban tuần Sở Nội vụ',
        description: null,
        starts_at: first,
        ends_at: new Date(first.getTime() + HOUR),
        time_zone: 'Asia/Ho_Chi_Minh',
        status: (options.status ?? 'scheduled') as 'scheduled',
        cancel_reason: null,
        unit_id: options.unitId ?? null,
        updated_at: new Date(),
        last_ends_at: last,
        reminder_offsets: options.offsets ? JSON.stringify(options.offsets) : null,
      } as never)
      .execute();
    const occurrenceIds: string[] = [];
    for (const start of starts) {
      const occurrenceId = randomUUID();
      occurrenceIds.push(occurrenceId);
      await handle.db
        .insertInto('meeting_occurrence')
        .values({ id: occurrenceId, meeting_id: id, recurrence_id: start, starts_at: start, ends_at: new Date(start.getTime() + HOUR), status: 'scheduled', updated_at: new Date() })
        .execute();
    }
    return { id, occurrenceIds };
  }

  const plan = (meetingId: string, now: Date) => handle.db.transaction().execute((trx) => planReminders(trx, meetingId, now));
  const remindersOf = (meetingId: string) =>
    handle.db.selectFrom('reminder').selectAll().where('meeting_id', '=', meetingId).orderBy('due_at').execute();
  const dueEvents = async () =>
    (await handle.db.selectFrom('outbox').select(['payload', 'topic', 'message_key']).where('topic', '=', 'hop.reminders.v1').execute()).map(
      (row) => ({ ...(typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload), topic: row.topic, key: row.message_key }),
    );

  it('plans the default offsets', async () => {
    const now = new Date('2026-12-07T01:00:00Z');
    const start = new Date(now.getTime() + 3 * DAY);
    const meeting = await insertMeeting([start]);

    const result = await plan(meeting.id, now);
    assert.deepEqual(result, { planned: 2, moved: 0, removed: 0 });
    const rows = await remindersOf(meeting.id);
    assert.deepEqual(
      rows.map((row) => row.offset_minutes),
      [...DEFAULT_REMINDER_OFFSETS_MINUTES],
    );
    assert.equal(new Date(rows[0]!.due_at).toISOString(), new Date(start.getTime() - DAY).toISOString());
    assert.equal(new Date(rows[1]!.due_at).toISOString(), new Date(start.getTime() - 30 * MINUTE).toISOString());

    assert.deepEqual(await plan(meeting.id, now), { planned: 0, moved: 0, removed: 0 }, 'planning again changes nothing');
  });

  it('skips reminders already past', async () => {
    const now = new Date('2026-12-07T01:00:00Z');
    const meeting = await insertMeeting([new Date(now.getTime() + 10 * MINUTE)]);
    assert.equal((await plan(meeting.id, now)).planned, 0);
  });

  it('uses unit then meeting offsets', async () => {
    const now = new Date('2026-12-07T01:00:00Z');
    const unitId = randomUUID();
    await handle.db.insertInto('unit').values({ id: unitId, name: 'Sở Nội vụ', name_search: 'so noi vu', kind: 'department', code: null, parent_id: null, updated_at: now } as never).execute();
    await handle.db.insertInto('unit_reminder_setting').values({ unit_id: unitId, offsets_minutes: JSON.stringify([120, 15]), updated_by: null, updated_at: now }).execute();

    const byUnit = await insertMeeting([new Date(now.getTime() + DAY)], { unitId });
    await plan(byUnit.id, now);
    assert.deepEqual((await remindersOf(byUnit.id)).map((row) => row.offset_minutes), [120, 15]);

    const own = await insertMeeting([new Date(now.getTime() + DAY)], { unitId, offsets: [60] });
    await plan(own.id, now);
    assert.deepEqual((await remindersOf(own.id)).map((row) => row.offset_minutes), [60]);
  });

  it('moving an occurrence moves its reminders', async () => {
    const now = new Date('2026-12-07T01:00:00Z');
    const start = new Date(now.getTime() + 3 * DAY);
    const meeting = await insertMeeting([start]);
    await plan(meeting.id, now);

    const moved = new Date(start.getTime() + 2 * HOUR);
    await handle.db.updateTable('meeting_occurrence').set({ starts_at: moved, ends_at: new Date(moved.getTime() + HOUR), status: 'moved' }).execute();
    assert.deepEqual(await plan(meeting.id, now), { planned: 0, moved: 2, removed: 0 });
    const rows = await remindersOf(meeting.id);
    assert.equal(new Date(rows[1]!.due_at).toISOString(), new Date(moved.getTime() - 30 * MINUTE).toISOString());
  });

  it('a sent reminder fires again after a move', async () => {
    const start = new Date('2026-12-10T02:00:00Z');
    const meeting = await insertMeeting([start]);
    await plan(meeting.id, new Date(start.getTime() - 2 * DAY));

    // The one-day reminder goes out, then the meeting moves two days later.
    const dayBefore = new Date(start.getTime() - DAY);
    assert.equal((await dispatchDueReminders(handle.db, () => dayBefore, { source })).emitted, 1);
    const moved = new Date(start.getTime() + 2 * DAY);
    await handle.db.updateTable('meeting_occurrence').set({ starts_at: moved, ends_at: new Date(moved.getTime() + HOUR), status: 'moved' }).execute();
    const result = await plan(meeting.id, dayBefore);
    assert.equal(result.planned, 1, 'the sent one-day reminder is due again');
    assert.equal(result.moved, 1, 'the pending 30-minute reminder moved');

    const rows = await remindersOf(meeting.id);
    assert.ok(rows.every((row) => row.status === 'pending'));
    assert.equal(new Date(rows[0]!.due_at).toISOString(), new Date(moved.getTime() - DAY).toISOString());
  });

  it('cancelling removes pending reminders', async () => {
    const now = new Date('2026-12-07T01:00:00Z');
    const meeting = await insertMeeting([new Date(now.getTime() + 3 * DAY), new Date(now.getTime() + 10 * DAY)]);
    assert.equal((await plan(meeting.id, now)).planned, 4);

    await handle.db.updateTable('meeting_occurrence').set({ status: 'cancelled' }).where('id', '=', meeting.occurrenceIds[1]!).execute();
    assert.equal((await plan(meeting.id, now)).removed, 2, 'the cancelled occurrence loses its reminders');

    await handle.db.updateTable('meeting').set({ status: 'cancelled' }).where('id', '=', meeting.id).execute();
    assert.equal((await plan(meeting.id, now)).removed, 2);
    assert.equal((await remindersOf(meeting.id)).length, 0);
  });

  it('dispatch emits due reminders once', async () => {
    const start = new Date('2026-12-10T02:00:00Z');
    const meeting = await insertMeeting([start]);
    await plan(meeting.id, new Date(start.getTime() - 2 * DAY));

    const early = await dispatchDueReminders(handle.db, () => new Date(start.getTime() - DAY - MINUTE), { source });
    assert.equal(early.emitted, 0, 'nothing is due a minute early');

    const due = new Date(start.getTime() - DAY);
    assert.equal((await dispatchDueReminders(handle.db, () => due, { source })).emitted, 1);
    assert.equal((await dispatchDueReminders(handle.db, () => due, { source })).emitted, 0, 'a second run finds nothing');

    const [event] = await dueEvents();
    assert.equal(event.type, 'vn.hop.reminder.due.v1');
    assert.equal(event.key, meeting.id);
    assert.equal(event.data.offsetMinutes, 24 * 60);
    assert.equal(event.data.startsAt, start.toISOString());
  });

  it('dispatch skips started or cancelled meetings', async () => {
    const start = new Date('2026-12-10T02:00:00Z');
    const meeting = await insertMeeting([start]);
    await plan(meeting.id, new Date(start.getTime() - 2 * DAY));
    await handle.db.updateTable('meeting').set({ status: 'cancelled' }).where('id', '=', meeting.id).execute();

    const result = await dispatchDueReminders(handle.db, () => new Date(start.getTime() + MINUTE), { source });
    assert.deepEqual({ emitted: result.emitted, skipped: result.skipped }, { emitted: 0, skipped: 2 });
    assert.equal((await dueEvents()).length, 0);
  });

  it('two dispatchers emit each reminder once', async () => {
    const start = new Date('2026-12-10T02:00:00Z');
    const planAt = new Date(start.getTime() - 2 * DAY);
    for (let i = 0; i < 300; i++) await plan((await insertMeeting([start], { offsets: [30] })).id, planAt);

    const second = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 4 });
    try {
      const due = () => new Date(start.getTime() - 10 * MINUTE);
      const [a, b] = await Promise.all([
        dispatchDueReminders(handle.db, due, { source, batchSize: 20 }),
        dispatchDueReminders(second.db, due, { source, batchSize: 20 }),
      ]);
      assert.equal(a.emitted + b.emitted, 300);
      assert.ok(a.emitted > 0 && b.emitted > 0, `both dispatchers worked: ${a.emitted} and ${b.emitted}`);
    } finally {
      await second.close();
    }
    const events = await dueEvents();
    assert.equal(events.length, 300);
    assert.equal(new Set(events.map((event) => event.data.reminderId)).size, 300);
  });

  it('a killed dispatcher loses and repeats nothing', async () => {
    const start = new Date('2026-12-10T02:00:00Z');
    const planAt = new Date(start.getTime() - 2 * DAY);
    const total = 3000;
    const meeting = await insertMeeting([start], { offsets: [30] });
    // One meeting with many occurrence rows is the quickest way to a large backlog.
    const rows = Array.from({ length: total }, (_, index) => ({
      id: randomUUID(),
      meeting_id: meeting.id,
      occurrence_id: meeting.occurrenceIds[0]!,
      offset_minutes: 30 + index,
      due_at: new Date(start.getTime() - 40 * MINUTE),
      status: 'pending' as const,
      updated_at: planAt,
    }));
    for (let i = 0; i < rows.length; i += 500) await handle.db.insertInto('reminder').values(rows.slice(i, i + 500)).execute();

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../../test/support/dispatch-reminders-child.ts', import.meta.url))],
      { env: { ...process.env, DISPATCH_DATABASE_URL: databaseUrl, DISPATCH_NOW: new Date(start.getTime() - 10 * MINUTE).toISOString(), DISPATCH_BATCH_SIZE: '25' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the child dispatched part of the backlog', async () => ((await dueEvents()).length >= 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 20 });
    child.kill('SIGKILL');
    await exited;

    const before = (await dueEvents()).length;
    assert.ok(before < total, `the child was killed before it finished (${before} of ${total})`);
    await dispatchDueReminders(handle.db, () => new Date(start.getTime() - 10 * MINUTE), { source });

    const events = await dueEvents();
    assert.equal(events.length, total, 'every reminder emitted');
    assert.equal(new Set(events.map((event) => event.data.reminderId)).size, total, 'none emitted twice');
    const pending = await handle.db.selectFrom('reminder').select('id').where('status', '=', 'pending').execute();
    assert.equal(pending.length, 0);
  });

  it('offsets schema rejects bad input', () => {
    assert.deepEqual(reminderOffsetsSchema.parse([30, 1440]), [1440, 30]);
    assert.equal(reminderOffsetsSchema.safeParse([]).success, false);
    assert.equal(reminderOffsetsSchema.safeParse([30, 30]).success, false);
    assert.equal(reminderOffsetsSchema.safeParse([1]).success, false);
    assert.equal(reminderOffsetsSchema.safeParse([60 * 24 * 31]).success, false);
    assert.equal(reminderOffsetsSchema.safeParse([1, 2, 3, 4, 5, 6].map((n) => n * 10)).success, false);
    assert.equal(reminderOffsetsSchema.safeParse([30.5]).success, false);
  });
});
