/**
 * 10 000 reminders due in the same minute: reminder-dispatch's work
 * (`dispatchDueReminders`) claims them and writes `vn.hop.reminder.due.v1`
 * to the outbox, and the outbox relay publishes them to Kafka. The target is
 * every reminder emitted within 60 seconds of its due time; this measures the
 * time from the dispatcher's start at the due minute to the last event
 * acknowledged by the broker.
 */
import { sql } from 'kysely';
import { KafkaBus } from '../lib/adapters/bus/kafka-bus.ts';
import { allTopics } from '../lib/contract/topics.ts';
import { dispatchDueReminders } from '../lib/domain/reminders.ts';
import { log } from '../lib/log.ts';
import { OutboxRelay } from '../gateway/outbox-relay.ts';
import { benchDatabase, type BenchResult } from './support.ts';

const REMINDERS = Number(process.env.BENCH_REMINDERS ?? 10_000);

export async function remindersBench(): Promise<BenchResult> {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set; run the benchmarks with npm run bench');
  const database = await benchDatabase();
  const { db } = database.handle;
  const bus = new KafkaBus({ brokers: brokers.split(','), clientId: 'hop-bench', partitions: 3 });
  try {
    await bus.ensureTopics(allTopics);
    const due = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60 * 60_000);
    const start = new Date(due.getTime() + 30 * 60_000);

    // One meeting, occurrence and 30-minute reminder per row of generate_series.
    const seeded = performance.now();
    await sql`
      insert into meeting (id, title, starts_at, ends_at, time_zone, status, last_ends_at, updated_at)
      select gen_random_uuid(), 'Giao ban ' || n, ${start}, ${start}::timestamptz + interval '1 hour', 'Asia/Ho_Chi_Minh', 'scheduled',
             ${start}::timestamptz + interval '1 hour', now()
      from generate_series(1, ${REMINDERS}) as n`.execute(db);
    await sql`
      insert into meeting_occurrence (id, meeting_id, recurrence_id, starts_at, ends_at, status, updated_at)
      select gen_random_uuid(), id, starts_at, starts_at, ends_at, 'scheduled', now() from meeting`.execute(db);
    await sql`
      insert into reminder (id, meeting_id, occurrence_id, offset_minutes, due_at, status, updated_at)
      select gen_random_uuid(), meeting_id, id, 30, ${due}, 'pending', now() from meeting_occurrence`.execute(db);
    await sql`analyze`.execute(db);
    const seedMs = performance.now() - seeded;

    const relay = new OutboxRelay({ db, dialect: 'postgres', bus, log: log.child({ module: 'bench-relay' }), batchSize: 500, idleIntervalMs: 50 });
    relay.start();
    const t0 = performance.now();
    const dispatched = await dispatchDueReminders(db, () => due, { source: '/hop/functions/reminder-dispatch' });
    const dispatchMs = performance.now() - t0;
    relay.wake();
    for (;;) {
      const row = await db.selectFrom('outbox').select(sql<string>`count(*)`.as('count')).where('published_at', 'is', null).executeTakeFirstOrThrow();
      if (Number(row.count) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const publishedMs = performance.now() - t0;
    await relay.stop();

    return {
      name: `${REMINDERS.toLocaleString('en')} reminders due in one minute`,
      rows: [
        { metric: 'reminders emitted', value: String(dispatched.emitted), target: String(REMINDERS), met: dispatched.emitted === REMINDERS },
        { metric: 'dispatch: claim, write to outbox, mark sent', value: `${(dispatchMs / 1000).toFixed(2)} s (${dispatched.batches} batches of 500)` },
        { metric: 'due time to last event acknowledged by Kafka', value: `${(publishedMs / 1000).toFixed(2)} s`, target: '< 60 s', met: publishedMs < 60_000 },
      ],
      notes: [`seeding ${REMINDERS} meetings, occurrences and reminders took ${(seedMs / 1000).toFixed(1)} s (not measured)`],
    };
  } finally {
    await bus.close();
    await database.drop();
  }
}
