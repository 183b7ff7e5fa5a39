/**
 * Scheduling at province scale, through the whole gateway on PostgreSQL and
 * Kafka:
 * - 100 000 scheduled meetings with 20 participants each (drawn from 5 000
 *   people): `GET /api/v1/calendar?view=week` for one person, target p95 < 50 ms;
 * - scheduling one meeting for a unit of 200 members: `POST /api/v1/meetings`
 *   until meeting-notify has written the 200 invitations to the outbox
 *   (written in the scheduling transaction), target p95 < 200 ms.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { startTestPlatform } from '../test/support/platform.ts';
import { benchDatabase, machineDescription, ms, percentile, type BenchResult } from './support.ts';

const MEETINGS = Number(process.env.BENCH_MEETINGS ?? 100_000);
const PEOPLE = 5_000;
const CALENDAR_QUERIES = 200;
const SCHEDULINGS = 30;
const UNIT_MEMBERS = 200;

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

    const hop = await startTestPlatform({ DATABASE_URL: database.url, KAFKA_BROKERS: process.env.KAFKA_BROKERS, KAFKA_PARTITIONS: '3', LOG_LEVEL: 'warn' });
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

      // Scheduling for the 200-member unit, until the invitations are in the outbox.
      const created: number[] = [];
      const notified: number[] = [];
      for (let i = 0; i < SCHEDULINGS + 3; i++) {
        const start = new Date(Date.UTC(2029, 0, 8, 2) + i * 86_400_000);
        const t0 = performance.now();
        const response = await hop.request('POST', '/api/v1/meetings', {
          title: `Hội nghị triển khai nhiệm vụ năm ${2029 + i}`,
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
        if (i >= 3) {
          created.push(createdAt - t0);
          notified.push(performance.now() - t0);
        }
      }

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
        ],
        notes: [
          `Database: ${await machineDescription(database.handle)}.`,
          `Seeding took ${seedSeconds.toFixed(0)} s (not measured). Requests go through the gateway's HTTP API with an admin API key; meeting-create renders each invitation (text, HTML, iCalendar) and writes it to the outbox in the scheduling transaction.`,
        ],
      };
    } finally {
      await hop.stop();
    }
  } finally {
    await database.drop();
  }
}
