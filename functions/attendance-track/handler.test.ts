/**
 * Replays of Janus event-handler sequences through attendance-track against
 * PostgreSQL. `fixtures/two-browsers.json` was recorded from a real Janus 1.1
 * with two Chromium browsers (test/e2e/attendance-video.test.ts with
 * HOP_CAPTURE_ATTENDANCE_FIXTURE): two joins, one `leaving`, then the room
 * destroyed at the meeting end. The messy cases are built from the recorded
 * events (same shapes, new ids and times): duplicates, reordering, a rejoin
 * within and after the grace period, two devices, a `leaving` without
 * `joined`, a session timeout, a Janus restart without `leaving`, and the
 * meeting end.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../../lib/adapters/db/database.ts';
import type { Database } from '../../lib/adapters/db/schema.ts';
import { newEvent } from '../../lib/contract/events.ts';
import { signJoinToken } from '../../lib/domain/join-token.ts';
import { log } from '../../lib/log.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { invokeHandler } from '../../lib/runtime/function.ts';
import { createTestDatabase } from '../../test/support/services.ts';
import { handler } from './handler.ts';
import { handler as settle } from '../attendance-settle/handler.ts';

type JanusEvent = Record<string, any>;
interface Fixture {
  sessions: { sessionId: string; participant: number }[];
  events: { server: string; time: string; event: JanusEvent }[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/two-browsers.json', import.meta.url), 'utf8')) as Fixture;
const SERVER = 'janus-att';
const SECRET = 'attendance replay test secret, 32+ characters';
const GRACE_MS = 120_000;
const MINUTE = 60_000;

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set';

const micros = (at: Date) => at.getTime() * 1000;
const clone = <T>(value: T): T => structuredClone(value);
const find = (predicate: (event: JanusEvent) => boolean) => clone(fixture.events.map((item) => item.event).find(predicate)!);

/** Recorded shapes the synthetic sequences are built from. */
const shapes = {
  joined: find((e) => e.type === 64 && e.event.data?.event === 'joined'),
  leaving: find((e) => e.type === 64 && e.event.data?.event === 'leaving'),
  detached: find((e) => e.type === 2 && e.event.name === 'detached'),
  sessionDestroyed: find((e) => e.type === 1 && e.event.name === 'destroyed'),
  started: find((e) => e.type === 256 && e.event.status === 'started'),
  media: find((e) => e.type === 32),
};

describe('attendance-track replays', { skip }, () => {
  let database: DatabaseHandle;
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let now = new Date();
  const deps = (): Dependencies => ({ db, media: null, storage: null, log, now: () => now, joinTokenSecret: SECRET });

  before(async () => {
    process.env.HOP_ATTENDANCE_GRACE_SECONDS = String(GRACE_MS / 1000);
    const created = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    drop = created.drop;
    database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 4 });
    db = database.db;
    await migrateToLatest(db);
  });

  after(async () => {
    delete process.env.HOP_ATTENDANCE_GRACE_SECONDS;
    await database?.close();
    await drop?.();
  });

  /** Creates a meeting of `count` participants (two by default) with one occurrence starting at `start`. */
  async function meeting(start: Date, count = 2) {
    const meetingId = randomUUID();
    // A server name per meeting, because the recorded session and feed ids repeat in every replay.
    const server = `${SERVER}-${meetingId.slice(0, 8)}`;
    const end = new Date(start.getTime() + 2 * 60 * MINUTE);
    await db
      .insertInto('meeting')
      .values({ id: meetingId, title: 'Họp thử điểm danh', description: null, starts_at: start, ends_at: end, last_ends_at: end, time_zone: 'Asia/Ho_Chi_Minh', status: 'in_progress', cancel_reason: null, updated_at: start })
      .execute();
    const roomId = Number(shapes.joined.event.data.room);
    await db.insertInto('room').values({ meeting_id: meetingId, status: 'ready', janus_server: server, room_id: roomId, secret: 's', pin: 'p', last_error: null, updated_at: start }).execute();
    await db.insertInto('meeting_occurrence').values({ id: randomUUID(), meeting_id: meetingId, recurrence_id: start, starts_at: start, ends_at: end, status: 'scheduled', updated_at: start }).execute();
    const participants = Array.from({ length: count }, () => randomUUID());
    for (const [position, id] of participants.entries()) {
      await db
        .insertInto('participant')
        .values({ id, meeting_id: meetingId, position, name: 'Nguyễn Văn An', email: null, phone: null, role: position === 0 ? 'chair' : 'participant', invite_key_hash: randomUUID() })
        .execute();
    }
    const token = (index: number) => signJoinToken({ meetingId, participantId: participants[index]!, role: 'participant', expiresAt: new Date(start.getTime() + 10 * MINUTE) }, SECRET);
    /** Records a session the way the signalling proxy does. */
    const session = async (sessionId: string, index: number, openedAt: Date, closedAt: Date | null = null) => {
      await db
        .insertInto('media_session')
        .values({ janus_server: server, session_id: sessionId, meeting_id: meetingId, participant_id: participants[index]!, token_hash: 'x', opened_at: openedAt, closed_at: closedAt })
        .execute();
    };
    return { meetingId, participants, token, session, start, server };
  }

  async function deliver(m: { server: string }, event: JanusEvent, cloudEventId = randomUUID()) {
    const cloudEvent = { ...newEvent('vn.hop.janus.event.v1', { server: m.server, event }, { source: `/hop/janus/${m.server}` }), id: cloudEventId };
    const outcome = await invokeHandler(handler, { method: 'POST', path: '/', query: {}, headers: {}, body: cloudEvent, params: {}, principal: { kind: 'anonymous' } }, deps());
    assert.ok('result' in outcome, `handler threw: ${'error' in outcome ? String(outcome.error) : ''}`);
    assert.ok([200, 202].includes(outcome.result.status), `handler answered ${outcome.result.status} ${JSON.stringify(outcome.result.body)}`);
    return outcome.result.status;
  }

  /** Delivers `events` as one CloudEvents batch, as the bridge does under a backlog; returns each event's status. */
  async function deliverBatch(m: { server: string }, events: (JanusEvent | object)[], ids: string[] = events.map(() => randomUUID())) {
    const body = events.map((event, index) =>
      'specversion' in event ? event : { ...newEvent('vn.hop.janus.event.v1', { server: m.server, event: event as JanusEvent }, { source: `/hop/janus/${m.server}` }), id: ids[index]! },
    );
    const outcome = await invokeHandler(handler, { method: 'POST', path: '/', query: {}, headers: {}, body, params: {}, principal: { kind: 'anonymous' } }, deps());
    assert.ok('result' in outcome, `handler threw: ${'error' in outcome ? String(outcome.error) : ''}`);
    assert.equal(outcome.result.status, 200, JSON.stringify(outcome.result.body));
    const results = (outcome.result.body as { results: { status: number }[] }).results;
    assert.equal(results.length, events.length, 'one result per event');
    return results.map((result) => result.status);
  }

  async function runSettle() {
    const outcome = await invokeHandler(settle, { method: 'POST', path: '/', query: {}, headers: {}, body: {}, params: {}, principal: { kind: 'anonymous' } }, deps());
    assert.ok('result' in outcome && outcome.result.status === 200);
  }

  async function intervals(meetingId: string, participantId: string) {
    const rows = await db.selectFrom('attendance_interval').selectAll().where('meeting_id', '=', meetingId).where('participant_id', '=', participantId).orderBy('started_at').execute();
    return rows.map((row) => ({ startedAt: new Date(row.started_at).toISOString(), endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null, status: row.status }));
  }

  async function eventTypes(meetingId: string) {
    const rows = await db.selectFrom('outbox').select('headers').where('topic', '=', 'hop.attendance.v1').where('message_key', '=', meetingId).orderBy('id').execute();
    return rows.map((row) => row.headers['ce-type']!.replace('vn.hop.attendance.', '').replace('.v1', ''));
  }

  /** The recorded sequence moved to start one minute after `start`, with tokens of this meeting. */
  function recorded(m: Awaited<ReturnType<typeof meeting>>, options: { tokens: boolean }) {
    const first = fixture.events[0]!.event.timestamp as number;
    const shift = micros(m.start) + MINUTE * 1000 - first;
    return fixture.events.map((item) => {
      const event = clone(item.event);
      event.timestamp = (event.timestamp as number) + shift;
      const data = event.event?.data;
      if (data?.token) {
        const index = Number(/participant (\d)/.exec(data.token)![1]);
        if (options.tokens) data.token = m.token(index);
        else delete data.token;
      }
      return event;
    });
  }

  const at = (event: JanusEvent) => new Date(Math.floor(event.timestamp / 1000)).toISOString();

  /** Records the recorded sessions as the proxy did: opened when Janus created them. */
  async function recordSessions(m: Awaited<ReturnType<typeof meeting>>, events: JanusEvent[]) {
    for (const s of fixture.sessions) {
      const created = events.find((e) => e.type === 1 && e.event.name === 'created' && String(e.session_id) === s.sessionId)!;
      await m.session(s.sessionId, s.participant, new Date(at(created)));
    }
  }

  async function expectRecorded(m: Awaited<ReturnType<typeof meeting>>, events: JanusEvent[]) {
    const joins = events.filter((e) => e.type === 64 && e.event.data?.event === 'joined');
    const leaving = events.find((e) => e.type === 64 && e.event.data?.event === 'leaving')!;
    const destroyed = events.find((e) => e.type === 64 && e.event.data?.event === 'destroyed')!;
    const bySession = new Map(fixture.sessions.map((s) => [s.sessionId, s.participant]));
    const joinOf = (index: number) => joins.find((e) => bySession.get(String(e.session_id)) === index)!;

    assert.deepEqual(await intervals(m.meetingId, m.participants[0]!), [{ startedAt: at(joinOf(0)), endedAt: at(leaving), status: 'grace' }]);
    assert.deepEqual(await intervals(m.meetingId, m.participants[1]!), [{ startedAt: at(joinOf(1)), endedAt: at(destroyed), status: 'grace' }]);
    now = new Date(Date.parse(at(destroyed)) + GRACE_MS + 1000);
    await runSettle();
    assert.deepEqual((await intervals(m.meetingId, m.participants[0]!)).map((i) => i.status), ['closed']);
    assert.deepEqual((await intervals(m.meetingId, m.participants[1]!)).map((i) => i.status), ['closed']);
    assert.deepEqual((await eventTypes(m.meetingId)).sort(), ['joined', 'joined', 'left', 'left']);
  }

  test('recorded sequence gives one interval each', async () => {
    const m = await meeting(new Date(Date.now() - 30 * MINUTE));
    now = m.start;
    const events = recorded(m, { tokens: true });
    await recordSessions(m, events);
    for (const event of events) await deliver(m, event);
    await expectRecorded(m, events);
  });

  test('identifies by proxy session without token', async () => {
    const m = await meeting(new Date(Date.now() - 30 * MINUTE));
    now = m.start;
    const events = recorded(m, { tokens: false });
    await recordSessions(m, events);
    for (const event of events) await deliver(m, event);
    await expectRecorded(m, events);
  });

  test('sessions not opened by the proxy are ignored', async () => {
    const m = await meeting(new Date(Date.now() - 30 * MINUTE));
    now = m.start;
    for (const event of recorded(m, { tokens: false })) await deliver(m, event);
    assert.equal((await db.selectFrom('attendance_interval').select('status').where('meeting_id', '=', m.meetingId).execute()).length, 0);
  });

  test('duplicated events change nothing', async () => {
    const m = await meeting(new Date(Date.now() - 30 * MINUTE));
    now = m.start;
    const events = recorded(m, { tokens: true });
    await recordSessions(m, events);
    for (const event of events) {
      const id = randomUUID();
      await deliver(m, event, id);
      await deliver(m, event, id); // redelivery of the same message
      await deliver(m, clone(event)); // Janus retransmitting the post
    }
    await expectRecorded(m, events);
  });

  test('reversed and shuffled orders give the same', async () => {
    for (const order of ['reversed', 'shuffled'] as const) {
      const m = await meeting(new Date(Date.now() - 30 * MINUTE));
      now = m.start;
      const events = recorded(m, { tokens: true });
      await recordSessions(m, events);
      const delivered = order === 'reversed' ? [...events].reverse() : shuffle(events, 7);
      for (const event of delivered) await deliver(m, event);
      await expectRecorded(m, events);
    }
  });

  test('batches give the same as single events', async () => {
    for (const size of [3, 1_000]) {
      const m = await meeting(new Date(Date.now() - 30 * MINUTE));
      now = m.start;
      const events = recorded(m, { tokens: true });
      await recordSessions(m, events);
      for (let start = 0; start < events.length; start += size) {
        const statuses = await deliverBatch(m, events.slice(start, start + size));
        assert.ok(statuses.every((status) => status === 200 || status === 202), `statuses ${statuses.join(',')}`);
      }
      await expectRecorded(m, events);
    }
  });

  test('batch with duplicates and shuffled order', async () => {
    const m = await meeting(new Date(Date.now() - 30 * MINUTE));
    now = m.start;
    const events = recorded(m, { tokens: false });
    await recordSessions(m, events);
    const ids = events.map(() => randomUUID());
    // Each event twice under its id (a redelivered message) and once more under a new id (Janus posting it again).
    const copies = events.flatMap((event, index) => [
      { event, id: ids[index]! },
      { event, id: ids[index]! },
      { event: clone(event), id: randomUUID() },
    ]);
    const mixed = shuffle(copies, 11);
    await deliverBatch(m, mixed.map((copy) => copy.event), mixed.map((copy) => copy.id));
    // The same ids again in a second batch change nothing either.
    await deliverBatch(m, events, ids);
    await expectRecorded(m, events);
  });

  test('batch answers invalid events alone', async () => {
    const m = await meeting(new Date(Date.now() - 30 * MINUTE));
    now = m.start;
    const events = recorded(m, { tokens: true });
    await recordSessions(m, events);
    const broken = { ...newEvent('vn.hop.janus.event.v1', { server: m.server, event: events[0]! }, { source: '/test' }), data: { server: '' } };
    const statuses = await deliverBatch(m, [...events.slice(0, 10), broken, { hello: 'world', specversion: '1.0' }, ...events.slice(10)]);
    assert.equal(statuses[10], 400, 'data that fails the schema');
    assert.equal(statuses[11], 400, 'not a CloudEvent');
    await expectRecorded(m, events);
  });

  test('concurrent batches on two partitions', async () => {
    // Janus's `leaving` (keyed by room and feed) and the session events (keyed by session) reach
    // different partitions, so their batches run at the same time and touch the same participants.
    const m = await meeting(new Date(Date.now() - 60 * MINUTE), 30);
    now = m.start;
    const devices = m.participants.map((_, index) => publisher(m, index));
    for (const [index, device] of devices.entries()) await m.session(device.sessionId, index, m.start);
    await deliverBatch(m, devices.map((device) => device.joined(plus(m.start, MINUTE))));
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        deliverBatch(m, devices.map((device) => device.leaving(plus(m.start, (10 + round) * MINUTE)))),
        deliverBatch(m, [...devices].reverse().map((device) => device.sessionEnded(plus(m.start, (10 + round) * MINUTE + 500), 'destroyed'))),
      ]);
    }
    for (const participant of m.participants) {
      assert.deepEqual(await intervals(m.meetingId, participant), [
        { startedAt: plus(m.start, MINUTE).toISOString(), endedAt: plus(m.start, 10 * MINUTE).toISOString(), status: 'grace' },
      ]);
    }
  });

  /** Builds the events of one publisher on its own session from the recorded shapes. */
  function publisher(m: Awaited<ReturnType<typeof meeting>>, index: number) {
    const sessionId = String(1_000_000 + Math.floor(Math.random() * 1e12));
    const handleId = String(2_000_000 + Math.floor(Math.random() * 1e12));
    const feedId = String(3_000_000 + Math.floor(Math.random() * 1e12));
    const room = shapes.joined.event.data.room;
    return {
      sessionId,
      joined(time: Date) {
        const event = clone(shapes.joined);
        Object.assign(event, { timestamp: micros(time), session_id: Number(sessionId), handle_id: Number(handleId) });
        Object.assign(event.event.data, { id: Number(feedId), token: m.token(index), room });
        return event;
      },
      leaving(time: Date) {
        const event = clone(shapes.leaving);
        event.timestamp = micros(time);
        Object.assign(event.event.data, { id: Number(feedId), room });
        return event;
      },
      media(time: Date) {
        return { ...clone(shapes.media), timestamp: micros(time), session_id: Number(sessionId), handle_id: Number(handleId) };
      },
      sessionEnded(time: Date, name: 'destroyed' | 'timeout') {
        const event = clone(shapes.sessionDestroyed);
        Object.assign(event, { timestamp: micros(time), session_id: Number(sessionId) });
        event.event.name = name;
        return event;
      },
    };
  }

  const plus = (base: Date, ms: number) => new Date(base.getTime() + ms);

  test('rejoin within the grace period keeps one interval', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const first = publisher(m, 0);
    const second = publisher(m, 0);
    await m.session(first.sessionId, 0, m.start);
    await m.session(second.sessionId, 0, m.start);
    await deliver(m, first.joined(plus(m.start, MINUTE)));
    await deliver(m, first.leaving(plus(m.start, 10 * MINUTE)));
    await deliver(m, second.joined(plus(m.start, 11 * MINUTE)));
    await deliver(m, second.leaving(plus(m.start, 20 * MINUTE)));
    now = plus(m.start, 30 * MINUTE);
    await runSettle();
    assert.deepEqual(await intervals(m.meetingId, m.participants[0]!), [
      { startedAt: plus(m.start, MINUTE).toISOString(), endedAt: plus(m.start, 20 * MINUTE).toISOString(), status: 'closed' },
    ]);
    assert.deepEqual(await eventTypes(m.meetingId), ['joined', 'left']);
  });

  test('rejoin after the grace period starts another', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const first = publisher(m, 0);
    const second = publisher(m, 0);
    await m.session(first.sessionId, 0, m.start);
    await m.session(second.sessionId, 0, m.start);
    await deliver(m, first.joined(plus(m.start, MINUTE)));
    await deliver(m, first.leaving(plus(m.start, 10 * MINUTE)));
    now = plus(m.start, 13 * MINUTE);
    await runSettle();
    await deliver(m, second.joined(plus(m.start, 13 * MINUTE)));
    await deliver(m, second.leaving(plus(m.start, 20 * MINUTE)));
    now = plus(m.start, 30 * MINUTE);
    await runSettle();
    assert.deepEqual((await intervals(m.meetingId, m.participants[0]!)).map((i) => [i.startedAt, i.endedAt, i.status]), [
      [plus(m.start, MINUTE).toISOString(), plus(m.start, 10 * MINUTE).toISOString(), 'closed'],
      [plus(m.start, 13 * MINUTE).toISOString(), plus(m.start, 20 * MINUTE).toISOString(), 'closed'],
    ]);
    assert.deepEqual(await eventTypes(m.meetingId), ['joined', 'left', 'joined', 'left']);
  });

  test('two devices count once', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const laptop = publisher(m, 0);
    const phone = publisher(m, 0);
    await m.session(laptop.sessionId, 0, m.start);
    await m.session(phone.sessionId, 0, m.start);
    await deliver(m, laptop.joined(plus(m.start, MINUTE)));
    await deliver(m, phone.joined(plus(m.start, 5 * MINUTE)));
    await deliver(m, laptop.leaving(plus(m.start, 20 * MINUTE)));
    await deliver(m, phone.leaving(plus(m.start, 25 * MINUTE)));
    now = plus(m.start, 40 * MINUTE);
    await runSettle();
    assert.deepEqual(await intervals(m.meetingId, m.participants[0]!), [
      { startedAt: plus(m.start, MINUTE).toISOString(), endedAt: plus(m.start, 25 * MINUTE).toISOString(), status: 'closed' },
    ]);
    assert.deepEqual(await eventTypes(m.meetingId), ['joined', 'left']);
  });

  test('leaving without joined records nothing', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = plus(m.start, 40 * MINUTE);
    const ghost = publisher(m, 1);
    await m.session(ghost.sessionId, 1, m.start);
    await deliver(m, ghost.leaving(plus(m.start, 10 * MINUTE)));
    await runSettle();
    assert.deepEqual(await intervals(m.meetingId, m.participants[1]!), []);
    assert.deepEqual(await eventTypes(m.meetingId), []);
    const rows = await db.selectFrom('attendance_connection').selectAll().where('janus_server', '=', m.server).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.joined_at, null, 'the orphan leaving stays without joined_at');
    assert.equal(rows[0]!.participant_id, null);
  });

  test('session timeout ends at last sign of life', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const device = publisher(m, 0);
    await m.session(device.sessionId, 0, m.start);
    await deliver(m, device.joined(plus(m.start, MINUTE)));
    for (let minute = 2; minute <= 9; minute++) await deliver(m, device.media(plus(m.start, minute * MINUTE)));
    // Janus times the session out 60 s after the last keepalive; stats stopped at minute 9.
    await deliver(m, device.sessionEnded(plus(m.start, 9 * MINUTE + 75_000), 'timeout'));
    assert.deepEqual(await intervals(m.meetingId, m.participants[0]!), [
      { startedAt: plus(m.start, MINUTE).toISOString(), endedAt: plus(m.start, 9 * MINUTE + 15_000).toISOString(), status: 'grace' },
    ]);
  });

  test('Janus restart without leaving closes at socket close', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const withProxyClose = publisher(m, 0);
    const withStatsOnly = publisher(m, 1);
    await m.session(withProxyClose.sessionId, 0, m.start, plus(m.start, 20 * MINUTE));
    await m.session(withStatsOnly.sessionId, 1, m.start);
    await deliver(m, withProxyClose.joined(plus(m.start, MINUTE)));
    await deliver(m, withStatsOnly.joined(plus(m.start, MINUTE)));
    await deliver(m, withStatsOnly.media(plus(m.start, 18 * MINUTE)));
    const restarted = { ...clone(shapes.started), timestamp: micros(plus(m.start, 25 * MINUTE)) };
    await deliver(m, restarted);
    assert.equal((await intervals(m.meetingId, m.participants[0]!))[0]!.endedAt, plus(m.start, 20 * MINUTE).toISOString());
    assert.equal((await intervals(m.meetingId, m.participants[1]!))[0]!.endedAt, plus(m.start, 18 * MINUTE).toISOString());
    const open = await db.selectFrom('attendance_connection').select('feed_id').where('meeting_id', '=', m.meetingId).where('left_at', 'is', null).execute();
    assert.equal(open.length, 0, 'no phantom presence after the restart');
  });

  test('unused events skipped without a claim', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const device = publisher(m, 0);
    await m.session(device.sessionId, 0, m.start);
    const joinedAt = plus(m.start, MINUTE);
    assert.equal(await deliver(m, device.joined(joinedAt)), 200);

    const jsep = { ...find((e) => e.type === 8), session_id: Number(device.sessionId), timestamp: micros(plus(joinedAt, 200)) };
    const transport = { ...find((e) => e.type === 128), timestamp: micros(plus(joinedAt, 300)) };
    const attached = { ...find((e) => e.type === 2 && e.event.name === 'attached'), session_id: Number(device.sessionId), timestamp: micros(plus(joinedAt, 400)) };
    const skippedIds: string[] = [];
    for (const event of [jsep, transport, attached, device.media(plus(joinedAt, 5_000))]) {
      const id = randomUUID();
      skippedIds.push(id);
      assert.equal(await deliver(m, event, id), 202, `type ${(event as JanusEvent).type} is skipped`);
    }
    const claimed = await db.selectFrom('processed_event').select('event_id').where('event_id', 'in', skippedIds).execute();
    assert.equal(claimed.length, 0, 'skipped events leave no processed_event row');

    const lastSeen = async () => {
      const row = await db.selectFrom('attendance_connection').select('last_seen_at').where('meeting_id', '=', m.meetingId).executeTakeFirstOrThrow();
      return new Date(row.last_seen_at!).toISOString();
    };
    assert.equal(await lastSeen(), joinedAt.toISOString(), 'a sign of life 5 s after the join changes nothing');
    const mediaId = randomUUID();
    assert.equal(await deliver(m, device.media(plus(joinedAt, 15_000)), mediaId), 200);
    assert.equal(await lastSeen(), plus(joinedAt, 15_000).toISOString(), 'a sign of life 15 s after the join moves last_seen_at');
    const mediaClaim = await db.selectFrom('processed_event').select('event_id').where('event_id', '=', mediaId).execute();
    assert.equal(mediaClaim.length, 0, 'a sign of life needs no claim');
  });

  test('meeting end closes open intervals', async () => {
    const m = await meeting(new Date(Date.now() - 60 * MINUTE));
    now = m.start;
    const device = publisher(m, 1);
    await m.session(device.sessionId, 1, m.start);
    await deliver(m, device.joined(plus(m.start, 2 * MINUTE)));
    const endedAt = plus(m.start, 50 * MINUTE);
    await db.updateTable('meeting').set({ status: 'ended' }).where('id', '=', m.meetingId).execute();
    now = endedAt;
    const ended = newEvent('vn.hop.meeting.ended.v1', { meetingId: m.meetingId, endedAt: endedAt.toISOString() }, { source: '/hop/functions/meeting-finish' });
    const outcome = await invokeHandler(handler, { method: 'POST', path: '/', query: {}, headers: {}, body: ended, params: {}, principal: { kind: 'anonymous' } }, deps());
    assert.ok('result' in outcome && outcome.result.status === 200);
    assert.deepEqual(await intervals(m.meetingId, m.participants[1]!), [
      { startedAt: plus(m.start, 2 * MINUTE).toISOString(), endedAt: endedAt.toISOString(), status: 'closed' },
    ]);
    assert.deepEqual(await eventTypes(m.meetingId), ['joined', 'left']);
  });
});

/** Returns a copy of `items` in a pseudo-random order fixed by `seed`. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let index = copy.length - 1; index > 0; index--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}
