/**
 * Measures the calendar week query on PostgreSQL at 100 000 single meetings
 * (spread over two years, 2 hours each) × 20 participants drawn from 5000
 * people: for one person, and for the whole province. Creates and drops its
 * own database from TEST_DATABASE_URL; prints the EXPLAIN ANALYZE plans.
 * Run: TEST_DATABASE_URL=postgres://… npx tsx scripts/measure-calendar-query.ts
 */
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../lib/adapters/db/database.ts';
import { log } from '../lib/log.ts';
import { createTestDatabase } from '../test/support/services.ts';

const created = await createTestDatabase(process.env.TEST_DATABASE_URL!);
const handle = await openDatabase({ kind: 'postgres', url: created.url });
try {
  await migrateToLatest(handle.db);
  const t0 = Date.now();
  await sql`insert into app_user (id, display_name, name_search, system_role, updated_at)
    select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'U' || g, 'u' || g, 'member', now() from generate_series(1, 5000) g`.execute(handle.db);
  await sql`insert into meeting (id, title, starts_at, ends_at, time_zone, status, updated_at, last_ends_at)
    select gen_random_uuid(), 'M' || g, s, s + interval '2 hours', 'Asia/Ho_Chi_Minh', 'scheduled', now(), s + interval '2 hours'
    from (select g, timestamptz '2026-01-05 01:00Z' + (g % 730) * interval '1 day' + (g % 8) * interval '1 hour' as s from generate_series(1, 100000) g) x`.execute(handle.db);
  await sql`insert into meeting_occurrence (id, meeting_id, recurrence_id, starts_at, ends_at, status)
    select gen_random_uuid(), id, starts_at, starts_at, ends_at, 'scheduled' from meeting`.execute(handle.db);
  await sql`insert into participant (id, meeting_id, position, name, role, invite_key_hash, user_id)
    select gen_random_uuid(), m.id, p, 'P', 'participant', md5(m.id::text || p), ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (abs(hashtext(m.id::text || p)) % 5000)), 12, '0'))::uuid
    from meeting m cross join generate_series(0, 19) p`.execute(handle.db);
  await sql`analyze`.execute(handle.db);
  console.log(`loaded in ${Date.now() - t0} ms`);

  const user = '00000000-0000-4000-8000-000000000042';
  const plan = await sql<{ 'QUERY PLAN': string }>`explain (analyze, buffers) select o.id, o.starts_at, m.title
    from meeting_occurrence o join meeting m on m.id = o.meeting_id
    where o.starts_at < timestamptz '2027-03-15 17:00Z' and o.ends_at > timestamptz '2027-03-08 17:00Z'
      and o.starts_at > timestamptz '2027-03-01 17:00Z'
      and m.id in (select meeting_id from participant where user_id = ${user}::uuid)
    order by o.starts_at, o.id limit 2001`.execute(handle.db);
  console.log(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));

  const province = await sql<{ 'QUERY PLAN': string }>`explain (analyze, buffers) select o.id, o.starts_at, m.title
    from meeting_occurrence o join meeting m on m.id = o.meeting_id
    where o.starts_at < timestamptz '2027-03-15 17:00Z' and o.ends_at > timestamptz '2027-03-08 17:00Z'
      and o.starts_at > timestamptz '2027-03-01 17:00Z'
    order by o.starts_at, o.id limit 2001`.execute(handle.db);
  console.log(province.rows.map((row) => row['QUERY PLAN']).join('\n'));
} finally {
  await handle.close();
  await created.drop();
}
