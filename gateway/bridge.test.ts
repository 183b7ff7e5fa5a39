import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { newEvent } from '../lib/contract/events.ts';
import { topics } from '../lib/contract/topics.ts';
import type { Bus, BusMessage, Subscription } from '../lib/adapters/bus/bus.ts';
import { createBus } from '../lib/adapters/bus/create-bus.ts';
import { openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { log } from '../lib/log.ts';
import { HopError } from '../lib/errors.ts';
import { eventFunction } from '../lib/runtime/event-function.ts';
import { invokeHandler, type FunctionEvent, type FunctionHandler, type FunctionResult } from '../lib/runtime/function.ts';
import { requireService, waitFor } from '../test/support/services.ts';
import { KafkaBridge, deadLetterHeaders } from './bridge.ts';
import type { Invoker } from './invoker.ts';

/** An invoker over real handlers, as the gateway's in-process invoker runs them. */
class HandlerInvoker implements Invoker {
  readonly handlers = new Map<string, FunctionHandler>();
  constructor(private readonly db: DatabaseHandle) {}
  async invoke(name: string, event: FunctionEvent): Promise<FunctionResult> {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`no handler ${name}`);
    const outcome = await invokeHandler(handler, event, { db: this.db.db, media: null, storage: null, log, now: () => new Date(), joinTokenSecret: 'test-join-token-secret-0123456789abcdef' });
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }
}

function scheduled(meetingId: string) {
  return newEvent(
    'vn.hop.meeting.scheduled.v1',
    { meetingId, title: 'Họp', startsAt: '2026-12-07T01:00:00Z', endsAt: '2026-12-07T02:00:00Z', timeZone: 'Asia/Ho_Chi_Minh', participantCount: 1 },
    { source: '/test', subject: meetingId },
  );
}

function bridgeSuite(name: string, makeBus: (t: TestContext) => Promise<Bus | undefined>) {
  describe(`Kafka bridge on ${name}`, () => {
    let database: DatabaseHandle;
    let bus: Bus | undefined;
    let deadLetters: BusMessage[];
    let deadLetterSubscription: Subscription | undefined;
    let topic: string;

    before(async () => {
      database = await openDatabase({ kind: 'pglite', dataDir: null });
    });
    after(async () => {
      await deadLetterSubscription?.stop();
      await bus?.close();
      await database.close();
    });

    async function startBridge(t: TestContext, handlers: Record<string, FunctionHandler>, maxAttempts = 3, options: { batchSize?: number; published?: (bus: Bus) => Promise<void> } = {}) {
      bus ??= await makeBus(t);
      if (!bus) return undefined;
      topic = `test.bridge.${randomUUID()}`;
      if (!deadLetterSubscription) {
        deadLetters = [];
        await bus.ensureTopics([topics.deadLetter]);
        deadLetterSubscription = await bus.subscribe({
          groupId: `test-dlq-${randomUUID()}`,
          topics: [topics.deadLetter],
          fromBeginning: true,
          handle: async (message) => {
            deadLetters.push(message);
          },
        });
      }
      const invoker = new HandlerInvoker(database);
      for (const [fnName, handler] of Object.entries(handlers)) invoker.handlers.set(fnName, handler);
      const bridge = new KafkaBridge({
        bus,
        invoker,
        functions: Object.keys(handlers).map((fnName) => ({ name: fnName, handlerDir: '', route: null, permission: null, topics: [topic], schedule: null, batchSize: options.batchSize ?? null })),
        log,
        maxAttempts,
        backoffMs: 10,
        backoffMaxMs: 50,
      });
      await bus.ensureTopics([topic]);
      // Messages published before the bridge starts reach it in its first fetch, so they arrive as one batch.
      await options.published?.(bus);
      await bridge.start();
      return { bus, bridge };
    }

    test('invalid messages dead-lettered, valid ones delivered in order', async (t) => {
      const seen: string[] = [];
      const fnName = `fn-${randomUUID().slice(0, 8)}`;
      const started = await startBridge(t, {
        [fnName]: eventFunction({
          name: fnName,
          on: {
            'vn.hop.meeting.scheduled.v1': async (event) => {
              seen.push(event.id);
            },
          },
        }),
      });
      if (!started) return;
      const meetingId = randomUUID();
      const first = scheduled(meetingId);
      const second = scheduled(meetingId);
      const badData = { ...scheduled(meetingId), data: { meetingId: 'not-a-uuid' } };
      await started.bus.publish(topic, [
        { key: meetingId, value: JSON.stringify(first) },
        { key: meetingId, value: 'this is not json' },
        { key: meetingId, value: JSON.stringify({ hello: 'world' }) },
        { key: meetingId, value: JSON.stringify(badData) },
        { key: meetingId, value: JSON.stringify(second) },
      ]);

      await waitFor('both valid events', () => (seen.length === 2 ? true : undefined));
      assert.deepEqual(seen, [first.id, second.id]);

      const mine = await waitFor('three dead letters', () => {
        const found = deadLetters.filter((message) => message.headers[deadLetterHeaders.topic] === topic);
        return found.length === 3 ? found : undefined;
      });
      assert.deepEqual(
        mine.map((message) => message.headers[deadLetterHeaders.code]),
        ['EVENT_INVALID', 'EVENT_INVALID', 'EVENT_INVALID'],
      );
      assert.equal(mine[0]!.value, 'this is not json', 'the original bytes are kept');
      assert.match(mine[0]!.headers[deadLetterHeaders.reason]!, /not JSON/);
      assert.match(mine[2]!.headers[deadLetterHeaders.reason]!, /meetingId/);
      assert.equal(mine[0]!.headers[deadLetterHeaders.attempts], '0');
      assert.equal(mine[1]!.headers[deadLetterHeaders.function], fnName);
      await started.bridge.stop();
    });

    test('batch: invalid events dead-lettered, valid ones handled together', async (t) => {
      const calls: string[][] = [];
      const fnName = `fn-${randomUUID().slice(0, 8)}`;
      const meetingId = randomUUID();
      const first = scheduled(meetingId);
      const second = scheduled(meetingId);
      const badData = { ...scheduled(meetingId), data: { meetingId: 'not-a-uuid' } };
      const started = await startBridge(
        t,
        {
          [fnName]: eventFunction({
            name: fnName,
            on: {
              'vn.hop.meeting.scheduled.v1': async () => {
                throw new Error('a batch went to the single-event handler');
              },
            },
            onBatch: async (events) => {
              calls.push(events.map((item) => item.event.id));
            },
          }),
        },
        3,
        {
          batchSize: 10,
          published: (bus) =>
            bus.publish(topic, [
              { key: meetingId, value: JSON.stringify(first) },
              { key: meetingId, value: 'this is not json' },
              { key: meetingId, value: JSON.stringify({ hello: 'world' }) },
              { key: meetingId, value: JSON.stringify(badData) },
              { key: meetingId, value: JSON.stringify(second) },
            ]),
        },
      );
      if (!started) return;

      const mine = await waitFor('three dead letters', () => {
        const found = deadLetters.filter((message) => message.headers[deadLetterHeaders.topic] === topic);
        return found.length === 3 ? found : undefined;
      });
      await waitFor('the valid events', () => (calls.flat().length === 2 ? true : undefined));
      assert.deepEqual(calls, [[first.id, second.id]], 'one call with both valid events, in order');
      assert.deepEqual(
        mine.map((message) => message.headers[deadLetterHeaders.code]),
        ['EVENT_INVALID', 'EVENT_INVALID', 'EVENT_INVALID'],
      );
      assert.equal(mine[0]!.value, 'this is not json');
      assert.match(mine.find((message) => message.value === JSON.stringify(badData))!.headers[deadLetterHeaders.reason]!, /meetingId/);
      await started.bridge.stop();
    });

    test('batch: failed call redelivered one by one', async (t) => {
      const batchCalls: number[] = [];
      const single: string[] = [];
      const fnName = `fn-${randomUUID().slice(0, 8)}`;
      const meetingId = randomUUID();
      const events = [scheduled(meetingId), scheduled(meetingId), scheduled(meetingId)];
      const started = await startBridge(
        t,
        {
          [fnName]: eventFunction({
            name: fnName,
            on: {
              'vn.hop.meeting.scheduled.v1': async (event) => {
                single.push(event.id);
              },
            },
            onBatch: async (batch) => {
              batchCalls.push(batch.length);
              throw new Error('deadlock detected');
            },
          }),
        },
        3,
        { batchSize: 10, published: (bus) => bus.publish(topic, events.map((event) => ({ key: meetingId, value: JSON.stringify(event) }))) },
      );
      if (!started) return;

      await waitFor('all three handled singly', () => (single.length === 3 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(batchCalls, [3], 'one batch call, which failed');
      assert.deepEqual(single, events.map((event) => event.id), 'each event once, in order');
      assert.equal(deadLetters.filter((message) => message.headers[deadLetterHeaders.topic] === topic).length, 0);
      await started.bridge.stop();
    });

    test('batch: a rejected event alone dead-lettered', async (t) => {
      const handled: string[] = [];
      const fnName = `fn-${randomUUID().slice(0, 8)}`;
      const meetingId = randomUUID();
      const events = [scheduled(meetingId), scheduled(meetingId), scheduled(meetingId)];
      const rejected = events[1]!.id;
      const started = await startBridge(
        t,
        {
          [fnName]: eventFunction({
            name: fnName,
            on: {
              'vn.hop.meeting.scheduled.v1': async (event) => {
                if (event.id === rejected) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
                handled.push(event.id);
              },
            },
          }),
        },
        3,
        { batchSize: 10, published: (bus) => bus.publish(topic, events.map((event) => ({ key: meetingId, value: JSON.stringify(event) }))) },
      );
      if (!started) return;

      const [letter] = await waitFor('one dead letter', () => {
        const found = deadLetters.filter((message) => message.headers[deadLetterHeaders.topic] === topic);
        return found.length === 1 ? found : undefined;
      });
      await waitFor('the other two', () => (handled.length === 2 ? true : undefined));
      assert.deepEqual(handled, [events[0]!.id, events[2]!.id]);
      assert.equal(letter!.headers[deadLetterHeaders.code], 'MEETING_NOT_FOUND');
      assert.equal(JSON.parse(letter!.value).id, rejected);
      await started.bridge.stop();
    });

    test('failing function retried, then succeeds', async (t) => {
      let calls = 0;
      const fnName = `fn-${randomUUID().slice(0, 8)}`;
      const started = await startBridge(t, {
        [fnName]: eventFunction({
          name: fnName,
          on: {
            'vn.hop.meeting.scheduled.v1': async () => {
              calls++;
              if (calls < 3) throw new Error('database is restarting');
            },
          },
        }),
      }, 5);
      if (!started) return;
      const meetingId = randomUUID();
      await started.bus.publish(topic, [{ key: meetingId, value: JSON.stringify(scheduled(meetingId)) }]);
      await waitFor('third call', () => (calls >= 3 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(calls, 3);
      assert.equal(deadLetters.filter((message) => message.headers[deadLetterHeaders.topic] === topic).length, 0);
      await started.bridge.stop();
    });

    test('retries exhausted go to dead letter', async (t) => {
      let calls = 0;
      const fnName = `fn-${randomUUID().slice(0, 8)}`;
      const started = await startBridge(t, {
        [fnName]: eventFunction({
          name: fnName,
          on: {
            'vn.hop.meeting.scheduled.v1': async () => {
              calls++;
              throw new Error('Janus is down');
            },
          },
        }),
      }, 3);
      if (!started) return;
      const meetingId = randomUUID();
      await started.bus.publish(topic, [{ key: meetingId, value: JSON.stringify(scheduled(meetingId)) }]);
      const [letter] = await waitFor('dead letter', () => {
        const found = deadLetters.filter((message) => message.headers[deadLetterHeaders.topic] === topic);
        return found.length > 0 ? found : undefined;
      });
      assert.equal(calls, 3);
      assert.equal(letter!.headers[deadLetterHeaders.code], 'RETRIES_EXHAUSTED');
      assert.equal(letter!.headers[deadLetterHeaders.attempts], '3');
      assert.match(letter!.headers[deadLetterHeaders.reason]!, /handler failed|Janus is down/);
      await started.bridge.stop();
    });
  });
}

bridgeSuite('embedded bus', async () => {
  const database = await openDatabase({ kind: 'pglite', dataDir: null });
  return createBus({ kind: 'embedded', db: database.db });
});

bridgeSuite('Kafka', async (t) => {
  const brokers = requireService(t, 'kafka');
  if (!brokers) return undefined;
  return createBus({ kind: 'kafka', brokers: brokers.split(','), clientId: 'hop-bridge-test', partitions: 3 });
});

describe('Kafka bridge consumer groups', () => {
  test('groupPrefix names each group', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    const bus = createBus({ kind: 'embedded', db: database.db });
    try {
      const topic = `test.bridge.${randomUUID()}`;
      await bus.ensureTopics([topic, topics.deadLetter]);
      const seen: string[] = [];
      const invoker = new HandlerInvoker(database);
      invoker.handlers.set(
        'fn-grouped',
        eventFunction({
          name: 'fn-grouped',
          on: {
            'vn.hop.meeting.scheduled.v1': async (event) => {
              seen.push(event.id);
            },
          },
        }),
      );
      const bridge = new KafkaBridge({
        bus,
        invoker,
        functions: [{ name: 'fn-grouped', handlerDir: '', route: null, permission: null, topics: [topic], schedule: null, batchSize: null }],
        groupPrefix: 'install-b-',
        log,
        maxAttempts: 1,
        backoffMs: 10,
        backoffMaxMs: 10,
      });
      await bridge.start();
      const event = scheduled(randomUUID());
      await bus.publish(topic, [{ key: event.data.meetingId, value: JSON.stringify(event) }]);
      await waitFor('the event delivered', () => (seen.length === 1 ? true : undefined));
      await bridge.stop();

      const groups = await sql<{ group_id: string }>`select distinct group_id from bus_offset where topic = ${topic}`.execute(database.db);
      assert.deepEqual(groups.rows.map((row) => row.group_id), ['install-b-fn-grouped']);
    } finally {
      await bus.close();
      await database.close();
    }
  });
});
