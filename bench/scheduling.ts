/**
 * Scheduling at province scale, through the whole gateway on PostgreSQL and
 * Kafka:
 * - 100 000 scheduled meetings with 20 participants each (drawn from 5 000
 *   people): `GET /api/v1/calendar?view=week` for one person, target p95 < 50 ms;
 * - scheduling one meeting for a unit of 200 members: `POST /api/v1/meetings`
 *   until meeting-notify has written the 200 invitations to the outbox
 *   (written in the scheduling transaction), target p95 < 200 ms. Once after
 *   the seeded meetings, where the people-clash check finds nothing, and once
 *   in the seeded weeks, where every request reports clashes. The CPU time of
 *   the first series, its background work included, is reported per meeting
 *   too, because latency on a shared machine also measures the other work on it.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { createGroupsAtEnd, deleteGroups } from '../test/support/kafka-groups.ts';
import { startTestPlatform } from '../test/support/platform.ts';
import { benchDatabase, machineDescription, ms, percentile, type BenchDatabase, type BenchResult } from './support.ts';

const MEETINGS = Number(process.env.BENCH_MEETINGS ?? 100_000);
const PEOPLE = 5_000;
const CALENDAR_QUERIES = 200;
const SCHEDULINGS = 30;
const UNIT_MEMBERS = 200;

interface CpuTimes {
  gatewayMs: number;
  /** CPU ms per backend pid; null when the backends' /proc entries cannot be read (PostgreSQL on another host). */
  postgresMs: Map<number, number> | null;
}

/** Returns the CPU time used so far by this process and by each PostgreSQL backend connected to the benchmark database. */
async function cpuTimes(db: BenchDatabase['handle']['db']): Promise<CpuTimes> {
  const usage = process.cpuUsage();
  const backends = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
  let postgresMs: Map<number, number> | null = new Map();
  for (const { pid } of backends.rows) {
    try {
      // Fields 14 and 15 of /proc/PID/stat: user and system time in clock ticks (100 per second on Linux).
      const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      postgresMs.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      postgresMs = null;
      break;
    }
  }
  return { gatewayMs: (usage.user + usage.system) / 1000, postgresMs };
}

/**
 * Waits until the relay has published every outbox row and notification-fanout has claimed every
 * notification, so the background work of the measured schedulings is counted, then returns the
 * CPU time used since `start`. Backends that closed in between are missing from the PostgreSQL figure.
 */
async function cpuSince(db: BenchDatabase['handle']['db'], start: CpuTimes): Promise<{ gatewayMs: number; postgresMs: number | null }> {
  for (let waited = 0; waited < 120_000; waited += 200) {
    const left = await sql<{ count: string }>`
      select (select count(*) from outbox where published_at is null)
           + greatest(0, (select count(*) from outbox where topic = 'hop.notifications.v1')
                         - (select count(*) from processed_event where consumer = 'notification-fanout')) as count`.execute(db);
    if (Number(left.rows[0]!.count) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const end = await cpuTimes(db);
  let postgresMs: number | null = null;
  if (end.postgresMs && start.postgresMs) {
    postgresMs = 0;
    for (const [pid, used] of end.postgresMs) postgresMs += used - (start.postgresMs.get(pid) ?? 0);
  }
  return { gatewayMs: end.gatewayMs - start.gatewayMs, postgresMs };
}

const personId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export async function schedulingBench(): Promise<BenchResult> {
  const database = await benchDatabase();
  const { db } = database.handle;
  try {
    const seeded = performance.now();
    await sql`insert into app_user (id, display_name, name_search, system_role, updated_at)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'Cán bộ ' || g, 'can bo ' || g, 'member', now()
      from generate_series(1, ${PEOPLE}) g`.execute(db);
    // Two years of working-hours meetings from 2027-01-04, two hours each.
    await sql`insert into meeting (id, title, starts_at, ends_at, time_zone, status, updated_at, last_ends_at)
      select gen_random_uuid(), 'Họp ' || g, s, s + interval '2 hours', 'Asia/Ho_Chi_Minh', 'scheduled', now(), s + interval '2 hours'
      from (select g, timestamptz '2027-01-04 01:00Z' + (g % 730) * interval '1 day' + (g % 8) * interval '1 hour' as s
            from generate_series(1, ${MEETINGS}) g) x`.execute(db);
    await sql`insert into meeting_occurrence (id, meeting_id, recurrence_id, starts_at, ends_at, status, updated_at)
      select gen_random_uuid(), id, starts_at, starts_at, ends_at, 'scheduled', now() from meeting`.execute(db);
    await sql`insert into participant (id, meeting_id, position, name, role, invite_key_hash, user_id)
      select gen_random_uuid(), m.id, p, 'Cán bộ', 'participant', md5(m.id::text || p),
             ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (abs(hashtext(m.id::text || p)) % ${PEOPLE})), 12, '0'))::uuid
      from meeting m cross join generate_series(0, 19) p`.execute(db);

    const unitId = randomUUID();
    await sql`insert into unit (id, kind, name, name_search, updated_at) values (${unitId}, 'department', 'Sở Nội vụ', 'so noi vu', now())`.execute(db);
    await sql`insert into membership (user_id, unit_id, position)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, ${unitId}, 'chuyên viên' from generate_series(1, ${UNIT_MEMBERS}) g`.execute(db);
    await sql`analyze`.execute(db);
    const seedSeconds = (performance.now() - seeded) / 1000;
    const counts = await sql<{ meetings: string; participants: string }>`
      select (select count(*) from meeting) as meetings, (select count(*) from participant) as participants`.execute(db);

    // Own consumer groups at the end of their topics: the shared `hop-fn-` groups would also take
    // events of tests and other benchmarks on the same broker, and their work would be timed here.
    const groupPrefix = `hop-bench-${Date.now()}-fn-`;
    const groups = await createGroupsAtEnd(process.env.KAFKA_BROKERS!, groupPrefix);
    const hop = await startTestPlatform({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_PARTITIONS: '3',
      LOG_LEVEL: 'warn',
      HOP_BRIDGE_GROUP_PREFIX: groupPrefix,
    });
    try {
      // Calendar: one person's week, a different person and week each time.
      const calendar: number[] = [];
      let rows = 0;
      for (let i = 0; i < CALENDAR_QUERIES + 10; i++) {
        const day = new Date(Date.UTC(2027, 2, 1) + (i % 40) * 7 * 86_400_000).toISOString().slice(0, 10);
        const t0 = performance.now();
        const response = await hop.request('GET', `/api/v1/calendar?view=week&date=${day}&user=${personId(1 + ((i * 37) % PEOPLE))}`);
        const elapsed = performance.now() - t0;
        if (response.status !== 200) throw new Error(`calendar query failed: ${response.status} ${JSON.stringify(response.body)}`);
        // The first 10 warm up connections and caches.
        if (i >= 10) {
          calendar.push(elapsed);
          rows += (response.body.occurrences ?? response.body.items ?? []).length;
        }
      }

      // Scheduling for the 200-member unit, until the invitations are in the outbox: first after
      // the seeded two years, then at 09:00 on seeded days, where the unit's people are busy.
      const created: number[] = [];
      const notified: number[] = [];
      const busyNotified: number[] = [];
      let clashesReported = 0;
      let cpuStart: CpuTimes | undefined;
      let cpu: { gatewayMs: number; postgresMs: number | null } | undefined;
      for (let i = 0; i < 2 * (SCHEDULINGS + 3); i++) {
        const busy = i >= SCHEDULINGS + 3;
        const index = busy ? i - SCHEDULINGS - 3 : i;
        if (i === 3) cpuStart = await cpuTimes(db);
        if (i === SCHEDULINGS + 3) cpu = await cpuSince(db, cpuStart!);
        const start = busy ? new Date(Date.UTC(2028, 2, 6, 2) + index * 86_400_000) : new Date(Date.UTC(2029, 0, 8, 2) + index * 86_400_000);
        const t0 = performance.now();
        const response = await hop.request('POST', '/api/v1/meetings', {
          title: `Hội nghị triển khai nhiệm vụ năm ${2029 + index}`,
          startsAt: start.toISOString(),
          endsAt: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
          unitId,
          invitedUnitIds: [unitId],
          participants: [{ name: 'Nguyễn Văn Chủ Trì', email: 'chutri@example.gov.vn', role: 'chair' }],
        });
        const createdAt = performance.now();
        if (response.status !== 201) throw new Error(`scheduling failed: ${response.status} ${JSON.stringify(response.body)}`);
        const meetingId = response.body.id as string;
        for (;;) {
          const row = await db
            .selectFrom('outbox')
            .select(sql<string>`count(*)`.as('count'))
            .where('topic', '=', 'hop.notifications.v1')
            .where('message_key', '=', meetingId)
            .executeTakeFirstOrThrow();
          if (Number(row.count) >= UNIT_MEMBERS + 1) break;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        if (index < 3) continue;
        if (busy) {
          busyNotified.push(performance.now() - t0);
          if ((response.body.warnings as { code: string }[]).some((warning) => warning.code === 'PEOPLE_CONFLICT')) clashesReported++;
        } else {
          created.push(createdAt - t0);
          notified.push(performance.now() - t0);
        }
      }
      const cpuPerMeeting = { gatewayMs: cpu!.gatewayMs / SCHEDULINGS, postgresMs: cpu!.postgresMs === null ? null : cpu!.postgresMs / SCHEDULINGS };
      if (clashesReported === 0) throw new Error('no scheduling in the seeded weeks reported a people clash; the busy case measured nothing');

      return {
        name: `Scheduling with ${Number(counts.rows[0]!.meetings).toLocaleString('en')} meetings and ${Number(counts.rows[0]!.participants).toLocaleString('en')} participants`,
        rows: [
          { metric: `calendar week of one person, p50 (${CALENDAR_QUERIES} queries over HTTP, ${(rows / CALENDAR_QUERIES).toFixed(1)} meetings each on average)`, value: ms(percentile(calendar, 0.5)) },
          { metric: 'calendar week of one person, p95', value: ms(percentile(calendar, 0.95)), target: '< 50 ms', met: percentile(calendar, 0.95) < 50 },
          { metric: `schedule for a ${UNIT_MEMBERS}-member unit: HTTP 201, p95 (${SCHEDULINGS} meetings)`, value: ms(percentile(created, 0.95)) },
          { metric: `schedule until ${UNIT_MEMBERS + 1} invitations are in the outbox, p50`, value: ms(percentile(notified, 0.5)) },
          {
            metric: `schedule until ${UNIT_MEMBERS + 1} invitations are in the outbox, p95`,
            value: ms(percentile(notified, 0.95)),
            target: '< 200 ms',
            met: percentile(notified, 0.95) < 200,
          },
          { metric: `same in the seeded weeks, clashes reported by ${clashesReported} of ${SCHEDULINGS}, p50`, value: ms(percentile(busyNotified, 0.5)) },
          {
            metric: 'same in the seeded weeks, p95',
            value: ms(percentile(busyNotified, 0.95)),
            target: '< 200 ms',
            met: percentile(busyNotified, 0.95) < 200,
          },
          {
            metric: 'CPU per scheduling after the seeded weeks, with its background work until the notifications are fanned out: gateway process (and this loop)',
            value: ms(cpuPerMeeting.gatewayMs),
          },
          { metric: 'CPU per scheduling, same span: PostgreSQL backends of the benchmark database', value: cpuPerMeeting.postgresMs === null ? 'not readable' : ms(cpuPerMeeting.postgresMs) },
        ],
        notes: [
          `Database: ${await machineDescription(database.handle)}.`,
          `Seeding took ${seedSeconds.toFixed(0)} s (not measured). Requests go through the gateway's HTTP API with an admin API key; meeting-create renders each invitation (text, HTML, iCalendar) and writes it to the outbox in the scheduling transaction.`,
        ],
      };
    } finally {
      await hop.stop();
      await deleteGroups(process.env.KAFKA_BROKERS!, groups);
    }
  } finally {
    await database.drop();
  }
}
