/**
 * Connection caps on real PostgreSQL: many sessions recorded at the same
 * moment (one pool connection each) must not pass a meeting's or a Janus
 * server's cap, and refused joins are stored once per participant and
 * reason for the chair's board.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../adapters/db/database.ts';
import type { Database } from '../adapters/db/schema.ts';
import { createTestDatabase, waitFor } from '../../test/support/services.ts';
import { loadMeetingBoard } from './attendance/live-board.ts';
import { checkCapacity, countConnected, recordRefusal, recordSessionWithinCaps, type CapacityLimits } from './media-capacity.ts';

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set';
/** Joins fired at once; the pool has a connection for each, so every one runs in its own transaction. */
const JOINS = 24;

describe('connection caps on PostgreSQL', { skip }, () => {
  let database: DatabaseHandle;
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let databaseName: string;

  before(async () => {
    const created = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    drop = created.drop;
    databaseName = new URL(created.url).pathname.slice(1);
    database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: JOINS });
    db = database.db;
    await migrateToLatest(db);
  });

  after(async () => {
    await database?.close();
    // pg's pool resolves end() before its sockets close; dropping the database then would cut them and log errors.
    await waitFor('the pool connections to close', async () => {
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      try {
        const result = await admin.query('select count(*)::int as count from pg_stat_activity where datname = $1', [databaseName]);
        return result.rows[0].count === 0 ? true : undefined;
      } finally {
        await admin.end();
      }
    });
    await drop?.();
  });

  /** Creates a meeting in progress with `count` participants and a ready room on `server`. */
  async function meeting(count: number, server: string, maxConnections: number | null) {
    const meetingId = randomUUID();
    const start = new Date(Date.now() - 10 * 60_000);
    const end = new Date(Date.now() + 60 * 60_000);
    await db
      .insertInto('meeting')
      .values({ id: meetingId, title: 'Họp trực tuyến toàn tỉnh', description: null, starts_at: start, ends_at: end, last_ends_at: end, time_zone: 'Asia/Ho_Chi_Minh', status: 'in_progress', cancel_reason: null, updated_at: start })
      .execute();
    const occurrenceId = randomUUID();
    await db.insertInto('meeting_occurrence').values({ id: occurrenceId, meeting_id: meetingId, recurrence_id: start, starts_at: start, ends_at: end, status: 'scheduled', updated_at: start }).execute();
    await db
      .insertInto('room')
      .values({ meeting_id: meetingId, status: 'ready', janus_server: server, room_id: Math.floor(Math.random() * 1e9), secret: 's', pin: 'p', last_error: null, updated_at: start, max_connections: maxConnections })
      .execute();
    const participants = Array.from({ length: count }, (_, index) => ({ id: randomUUID(), name: `Đại biểu xã số ${index + 1}` }));
    await db
      .insertInto('participant')
      .values(participants.map((p, position) => ({ id: p.id, meeting_id: meetingId, position, name: p.name, email: null, phone: null, role: 'participant' as const, invite_key_hash: randomUUID() })))
      .execute();
    return { meetingId, occurrenceId, participants, server };
  }

  let sessionCounter = 0;
  /** Records a session for each participant at once, as the signalling proxy does when many pages join together. */
  async function joinAtOnce(joins: { meetingId: string; server: string; participantId: string }[], limits: CapacityLimits) {
    const now = new Date();
    return Promise.all(
      joins.map((join) =>
        recordSessionWithinCaps(db, { janusServer: join.server, sessionId: String(++sessionCounter), meetingId: join.meetingId, participantId: join.participantId, tokenHash: 'x' }, limits, now),
      ),
    );
  }

  test('simultaneous joins stay within the meeting cap', async () => {
    const m = await meeting(JOINS, `janus-${randomUUID().slice(0, 8)}`, 3);
    const results = await joinAtOnce(m.participants.map((p) => ({ meetingId: m.meetingId, server: m.server, participantId: p.id })), { meetingMax: 200, serverMax: 1000 });

    assert.equal(results.filter((refusal) => refusal === null).length, 3, 'joins admitted');
    assert.equal(await countConnected(db, { meetingId: m.meetingId }, new Date()), 3, 'participants connected');
    const refusals = results.filter((refusal) => refusal !== null);
    assert.equal(refusals.length, JOINS - 3, 'joins refused');
    for (const refusal of refusals) {
      assert.equal(refusal.code, 'MEETING_FULL');
      assert.equal(refusal.limit, 3);
      assert.equal(refusal.connected, 3);
    }
  });

  test('simultaneous joins stay within the server cap', async () => {
    const server = `janus-${randomUUID().slice(0, 8)}`;
    const first = await meeting(JOINS / 2, server, null);
    const second = await meeting(JOINS / 2, server, null);
    const joins = [first, second].flatMap((m) => m.participants.map((p) => ({ meetingId: m.meetingId, server, participantId: p.id })));
    const results = await joinAtOnce(joins, { meetingMax: 200, serverMax: 5 });

    assert.equal(results.filter((refusal) => refusal === null).length, 5, 'joins admitted');
    assert.equal(await countConnected(db, { janusServer: server }, new Date()), 5, 'participants connected to the server');
    assert.ok(results.every((refusal) => refusal === null || (refusal.code === 'MEDIA_SERVER_FULL' && refusal.limit === 5)));
  });

  test('connected participant opens a second session at the cap', async () => {
    const m = await meeting(2, `janus-${randomUUID().slice(0, 8)}`, 1);
    const limits = { meetingMax: 200, serverMax: 1000 };
    const [admitted] = await joinAtOnce([{ meetingId: m.meetingId, server: m.server, participantId: m.participants[0]!.id }], limits);
    assert.equal(admitted, null);

    const [again] = await joinAtOnce([{ meetingId: m.meetingId, server: m.server, participantId: m.participants[0]!.id }], limits);
    assert.equal(again, null, 'a second device or a reconnect is not refused');
    const [other] = await joinAtOnce([{ meetingId: m.meetingId, server: m.server, participantId: m.participants[1]!.id }], limits);
    assert.equal(other?.code, 'MEETING_FULL');
  });

  test('cap changed after a check applies to the next session', async () => {
    const m = await meeting(3, `janus-${randomUUID().slice(0, 8)}`, 2);
    const limits = { meetingMax: 200, serverMax: 1000 };
    await joinAtOnce([{ meetingId: m.meetingId, server: m.server, participantId: m.participants[0]!.id }], limits);
    const early = await checkCapacity(db, { meetingId: m.meetingId, participantId: m.participants[1]!.id, janusServer: m.server, roomMax: 2 }, limits, new Date());
    assert.equal(early, null, 'the early check passes with the old cap');

    await db.updateTable('room').set({ max_connections: 1 }).where('meeting_id', '=', m.meetingId).execute();
    const [late] = await joinAtOnce([{ meetingId: m.meetingId, server: m.server, participantId: m.participants[1]!.id }], limits);
    assert.equal(late?.code, 'MEETING_FULL');
    assert.equal(late?.limit, 1);
  });

  test('refusals stored once per participant and reason', async () => {
    const m = await meeting(3, `janus-${randomUUID().slice(0, 8)}`, 1);
    const [a, b] = m.participants;
    const versionOf = async () => Number((await db.selectFrom('attendance_version').select('version').where('meeting_id', '=', m.meetingId).executeTakeFirst())?.version ?? 0);
    const first = new Date(Date.now() - 60_000);
    const later = new Date();

    await recordRefusal(db, { code: 'MEETING_FULL', reason: 'meeting-full', limit: 1, connected: 1 }, { meetingId: m.meetingId, participantId: a!.id, participantName: a!.name, janusServer: m.server }, '/test', first);
    const afterFirst = await versionOf();
    assert.ok(afterFirst > 0, 'the board version is raised');
    await recordRefusal(db, { code: 'MEETING_FULL', reason: 'meeting-full', limit: 1, connected: 1 }, { meetingId: m.meetingId, participantId: a!.id, participantName: a!.name, janusServer: m.server }, '/test', later);
    await recordRefusal(db, { code: 'MEDIA_SERVER_FULL', reason: 'server-full', limit: 300, connected: 300 }, { meetingId: m.meetingId, participantId: b!.id, participantName: b!.name, janusServer: m.server }, '/test', later);
    assert.ok((await versionOf()) > afterFirst, 'every refusal raises the version');

    const events = await db.selectFrom('outbox').select('headers').where('message_key', '=', m.meetingId).execute();
    assert.equal(events.filter((row) => row.headers['ce-type'] === 'vn.hop.media.join-refused.v1').length, 3, 'one event per refusal');

    const board = await loadMeetingBoard(db, m.meetingId, { id: m.occurrenceId, starts_at: new Date(), ends_at: new Date() }, new Date());
    assert.equal(board.refusedJoins.length, 2, 'one row per participant and reason');
    const repeated = board.refusedJoins.find((row) => row.participantId === a!.id)!;
    assert.equal(repeated.attempts, 2);
    assert.equal(repeated.participantName, 'Đại biểu xã số 1');
    assert.equal(repeated.reason, 'meeting-full');
    assert.equal(repeated.firstRefusedAt, first.toISOString());
    assert.equal(repeated.lastRefusedAt, later.toISOString());
    const server = board.refusedJoins.find((row) => row.participantId === b!.id)!;
    assert.equal(server.reason, 'server-full');
    assert.equal(server.limit, 300);

  });
});
