import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import { topics } from '../lib/contract/topics.ts';
import type { BusMessage, Subscription } from '../lib/adapters/bus/bus.ts';
import { EmbeddedBus } from '../lib/adapters/bus/embedded-bus.ts';
import { openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { log } from '../lib/log.ts';
import { waitFor } from '../test/support/services.ts';
import { janusEventKey, mountJanusIntake } from './janus-intake.ts';

type JanusEvent = Record<string, any>;

/** Events Janus 1.1.2 posted for two browsers in one VideoRoom (see docs/attendance.md). */
const recorded = (
  JSON.parse(readFileSync(new URL('../functions/attendance-track/fixtures/two-browsers.json', import.meta.url), 'utf8')) as {
    events: { event: JanusEvent }[];
  }
).events.map((item) => item.event);

function find(predicate: (event: JanusEvent) => boolean, description: string): JanusEvent {
  const event = recorded.find(predicate);
  assert.ok(event, `the recording has a ${description}`);
  return structuredClone(event);
}

describe('Janus event keys', () => {
  test('session events keyed by session', () => {
    const joined = find((e) => e.type === 64 && e.event.data?.event === 'joined', 'VideoRoom joined');
    assert.equal(janusEventKey(joined as never, 'janus-1'), `janus-1:${joined.session_id}`);
  });

  test('leaving keyed by room and feed', () => {
    const leaving = find((e) => e.type === 64 && e.event.data?.event === 'leaving', 'VideoRoom leaving');
    assert.equal(leaving.session_id, undefined, 'Janus sends leaving without a session id');
    assert.equal(janusEventKey(leaving as never, 'janus-1'), `janus-1:${leaving.event.data.room}:${leaving.event.data.id}`);
  });

  test('room destroyed keyed by room', () => {
    const destroyed = { type: 64, event: { plugin: 'janus.plugin.videoroom', data: { event: 'destroyed', room: 1234 } } };
    assert.equal(janusEventKey(destroyed, 'janus-1'), 'janus-1:1234');
  });

  test('transport events keyed by transport', () => {
    const transport = find((e) => e.type === 128, 'transport event');
    assert.equal(janusEventKey(transport as never, 'janus-1'), `janus-1:transport:${transport.event.id}`);
  });

  test('core events keyed by server', () => {
    assert.equal(janusEventKey({ type: 256, event: { status: 'started' } }, 'janus-1'), 'janus-1:server');
  });
});

describe('Janus event intake on the embedded bus', () => {
  let database: DatabaseHandle;
  let bus: EmbeddedBus;
  let subscription: Subscription;
  const received: BusMessage[] = [];
  const app = new Hono();

  before(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    bus = new EmbeddedBus({ db: database.db, partitions: 6 });
    await bus.ensureTopics([topics.media]);
    subscription = await bus.subscribe({
      groupId: 'test-janus-intake',
      topics: [topics.media],
      handle: async (message) => {
        received.push(message);
      },
    });
    mountJanusIntake(app, bus, log, { maxBytes: 1024 * 1024 });
  });

  after(async () => {
    await subscription.stop();
    await bus.close();
    await database.close();
  });

  test('leaving events spread over partitions, sessions stay together', async () => {
    const joined = find((e) => e.type === 64 && e.event.data?.event === 'joined', 'VideoRoom joined');
    const leaving = find((e) => e.type === 64 && e.event.data?.event === 'leaving', 'VideoRoom leaving');
    const detached = find((e) => e.type === 2 && e.event.name === 'detached', 'handle detached');
    const publishers = 60;
    const posted: JanusEvent[] = [];
    for (let i = 0; i < publishers; i++) {
      const sessionId = 7_000_000_000_000_000 + i;
      const feedId = 8_000_000_000_000_000 + i;
      posted.push(
        { ...joined, emitter: 'janus-1', session_id: sessionId, event: { ...joined.event, data: { ...joined.event.data, id: feedId } } },
        { ...detached, emitter: 'janus-1', session_id: sessionId },
        { ...leaving, emitter: 'janus-1', event: { ...leaving.event, data: { ...leaving.event.data, id: feedId } } },
      );
    }

    const response = await app.request('/janus/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(posted) });
    assert.equal(response.status, 202);
    await waitFor(`${posted.length} messages consumed`, () => (received.length >= posted.length ? true : undefined), { timeoutMs: 10_000 });

    const messages = received.map((message) => ({ ...message, event: JSON.parse(message.value).data.event as JanusEvent }));
    const leavingPartitions = new Set(messages.filter((m) => m.event.event.data?.event === 'leaving').map((m) => m.partition));
    assert.ok(leavingPartitions.size >= 4, `${publishers} leaving events landed on ${leavingPartitions.size} of 6 partitions`);

    const bySession = new Map<number, Set<string>>();
    for (const message of messages.filter((m) => m.event.session_id !== undefined)) {
      const keys = bySession.get(message.event.session_id) ?? new Set<string>();
      keys.add(`${message.key}@${message.partition}`);
      bySession.set(message.event.session_id, keys);
    }
    assert.equal(bySession.size, publishers);
    for (const [session, keys] of bySession) assert.equal(keys.size, 1, `session ${session} has one key and partition, got ${[...keys].join(', ')}`);

    for (const message of messages.filter((m) => m.event.session_id !== undefined)) {
      const sameSession = messages.filter((m) => m.event.session_id === message.event.session_id).map((m) => m.event.type);
      assert.deepEqual(sameSession, [64, 2], `session ${message.event.session_id} events arrive in posted order`);
    }
  });
});
