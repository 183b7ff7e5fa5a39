import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../../test/support/services.ts';
import type { Bus, BusMessage, BusMessageInput, Subscription } from './bus.ts';

/** Prefix of every topic the contract suite creates in this process, so a Kafka cleanup can delete them. */
export const contractTopicPrefix = `hop-test.bus.${process.pid}.`;

/** Maximum wait for deliveries. The first join of a Kafka consumer group takes a few seconds. */
const deliveryTimeoutMs = 30_000;

/** How long a test waits after the expected deliveries for an unexpected extra one. */
const settleMs = 1_000;

function uniqueName(label: string): string {
  return `${label}.${randomUUID().slice(0, 8)}`;
}

/** Records the messages a handler receives, in the order it receives them. */
class Collector {
  readonly messages: BusMessage[] = [];

  readonly handle = async (message: BusMessage): Promise<void> => {
    this.messages.push(message);
  };

  values(): string[] {
    return this.messages.map((message) => message.value);
  }

  async waitForCount(count: number, description: string): Promise<void> {
    await waitFor(
      `${description}: ${count} message(s), have ${this.messages.length}`,
      () => (this.messages.length >= count ? true : undefined),
      { timeoutMs: deliveryTimeoutMs, intervalMs: 50 },
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs the Bus contract (see bus.ts) against one implementation. `makeBus` is
 * called once for the suite, and `cleanup` closes the bus and whatever it runs
 * on. Every test uses its own topics and groups.
 */
export function runBusContract(
  name: string,
  makeBus: () => Promise<{ bus: Bus; cleanup: () => Promise<void> }>,
): void {
  describe(name, () => {
    let bus: Bus;
    let cleanup: () => Promise<void> = async () => {};
    const subscriptions: Subscription[] = [];

    before(async () => {
      ({ bus, cleanup } = await makeBus());
    });

    after(async () => {
      await Promise.allSettled(subscriptions.map((subscription) => subscription.stop()));
      await cleanup();
    });

    async function newTopic(label: string): Promise<string> {
      const topic = `${contractTopicPrefix}${uniqueName(label)}`;
      await bus.ensureTopics([topic]);
      return topic;
    }

    async function subscribe(groupId: string, topic: string, handle: (message: BusMessage) => Promise<void>) {
      const subscription = await bus.subscribe({ groupId, topics: [topic], handle });
      subscriptions.push(subscription);
      return subscription;
    }

    test('ping resolves', async () => {
      await bus.ping();
    });

    test('publishes and consumes in a group', async () => {
      const topic = await newTopic('basic');
      const collector = new Collector();
      await subscribe(uniqueName('group'), topic, collector.handle);
      const before = Date.now();

      await bus.publish(topic, [
        { key: 'meeting-1', value: 'first' },
        { key: 'meeting-1', value: 'second' },
        { key: 'meeting-2', value: 'third' },
      ]);
      await collector.waitForCount(3, 'basic delivery');
      await sleep(settleMs);

      assert.deepEqual(collector.values().sort(), ['first', 'second', 'third']);
      const first = collector.messages.find((message) => message.value === 'first')!;
      const second = collector.messages.find((message) => message.value === 'second')!;
      assert.equal(first.topic, topic);
      assert.equal(first.key, 'meeting-1');
      assert.equal(first.partition, second.partition, 'messages with one key share a partition');
      assert.ok(first.partition >= 0, `partition ${first.partition} is negative`);
      assert.ok(first.partition < 6, `partition ${first.partition} is beyond the 6 partitions`);
      assert.match(first.offset, /^\d+$/);
      assert.equal(BigInt(second.offset), BigInt(first.offset) + 1n, 'offsets increase by one within a partition');
      assert.ok(first.timestamp >= before - 5_000, `timestamp ${first.timestamp} is before the publish at ${before}`);
      assert.ok(first.timestamp <= Date.now(), `timestamp ${first.timestamp} is in the future`);
    });

    test('keeps per-key order across 200 messages', async () => {
      const topic = await newTopic('order');
      const collector = new Collector();
      await subscribe(uniqueName('group'), topic, collector.handle);

      const keys = Array.from({ length: 10 }, (_, index) => `meeting-${index}`);
      const expected = new Map<string, string[]>(keys.map((key) => [key, []]));
      const all: BusMessageInput[] = [];
      for (let sequence = 0; sequence < 200; sequence++) {
        const key = keys[sequence % keys.length]!;
        const value = `${key}#${sequence}`;
        expected.get(key)!.push(value);
        all.push({ key, value });
      }
      // Four publish calls in a row, so order must also hold across calls.
      for (let start = 0; start < all.length; start += 50) {
        await bus.publish(topic, all.slice(start, start + 50));
      }

      await collector.waitForCount(200, 'ordered delivery');
      await sleep(settleMs);
      assert.equal(collector.messages.length, 200, 'each message is delivered once');

      const partitionsUsed = new Set<number>();
      for (const key of keys) {
        const received = collector.messages.filter((message) => message.key === key);
        assert.deepEqual(
          received.map((message) => message.value),
          expected.get(key),
          `messages of ${key} arrive in publish order`,
        );
        const partitions = new Set(received.map((message) => message.partition));
        assert.equal(partitions.size, 1, `${key} stays in one partition`);
        partitionsUsed.add(received[0]!.partition);
      }
      assert.ok(partitionsUsed.size > 1, 'ten keys spread over more than one partition');
    });

    test('delivers every message to a second group', async () => {
      const topic = await newTopic('groups');
      const first = new Collector();
      const second = new Collector();
      await subscribe(uniqueName('group-a'), topic, first.handle);
      await subscribe(uniqueName('group-b'), topic, second.handle);

      const messages = Array.from({ length: 20 }, (_, index) => ({ key: `meeting-${index % 4}`, value: `v${index}` }));
      await bus.publish(topic, messages);
      await first.waitForCount(20, 'first group');
      await second.waitForCount(20, 'second group');
      await sleep(settleMs);

      const expected = messages.map((message) => message.value).sort();
      assert.deepEqual(first.values().sort(), expected);
      assert.deepEqual(second.values().sort(), expected);
    });

    test('redelivers a message whose handler threw', async () => {
      const topic = await newTopic('retry');
      const deliveries: string[] = [];
      let thrown = false;
      await subscribe(uniqueName('group'), topic, async (message) => {
        deliveries.push(message.value);
        if (message.value === 'm2' && !thrown) {
          thrown = true;
          throw new Error('handler failure injected by the test');
        }
      });

      // One key, so all five share a partition and its order.
      await bus.publish(
        topic,
        ['m0', 'm1', 'm2', 'm3', 'm4'].map((value) => ({ key: 'meeting-1', value })),
      );
      await waitFor('m4 delivered', () => (deliveries.includes('m4') ? true : undefined), {
        timeoutMs: deliveryTimeoutMs,
      });
      await sleep(settleMs);

      assert.deepEqual(deliveries, ['m0', 'm1', 'm2', 'm2', 'm3', 'm4']);
    });

    test('commits nothing past a failing message', async () => {
      const topic = await newTopic('poison');
      const groupId = uniqueName('group');
      const failing: string[] = [];
      const failingSubscription = await subscribe(groupId, topic, async (message) => {
        failing.push(message.value);
        if (message.value === 'm2') throw new Error('handler failure injected by the test');
      });

      await bus.publish(
        topic,
        ['m0', 'm1', 'm2', 'm3', 'm4'].map((value) => ({ key: 'meeting-1', value })),
      );
      await waitFor('m2 delivered twice', () => (failing.filter((value) => value === 'm2').length >= 2 ? true : undefined), {
        timeoutMs: deliveryTimeoutMs,
      });
      await failingSubscription.stop();

      assert.deepEqual(
        failing.filter((value) => value !== 'm2'),
        ['m0', 'm1'],
        'no message after m2 was handled while m2 failed',
      );

      // A new member of the group starts at the failed message: m0 and m1 were
      // committed, and nothing after m2 was.
      const resumed = new Collector();
      await subscribe(groupId, topic, resumed.handle);
      await resumed.waitForCount(3, 'resumed group');
      await sleep(settleMs);
      assert.deepEqual(resumed.values(), ['m2', 'm3', 'm4']);
    });

    test('hands batches over in offset order', async () => {
      const topic = await newTopic('batch');
      const runs: string[][] = [];
      const subscription = await bus.subscribe({
        groupId: uniqueName('group'),
        topics: [topic],
        handle: async () => {
          throw new Error('handle called although the subscription takes batches');
        },
        batch: {
          maxMessages: 4,
          handle: async (messages) => {
            runs.push(messages.map((message) => message.value));
          },
        },
      });
      subscriptions.push(subscription);

      // One key, so all ten share a partition and its order.
      const values = Array.from({ length: 10 }, (_, index) => `b${index}`);
      await bus.publish(topic, values.map((value) => ({ key: 'meeting-1', value })));
      await waitFor('all ten delivered', () => (runs.flat().length >= 10 ? true : undefined), { timeoutMs: deliveryTimeoutMs });
      await sleep(settleMs);

      assert.deepEqual(runs.flat(), values, 'each message once, in offset order');
      assert.ok(runs.every((run) => run.length >= 1 && run.length <= 4), `runs of 1 to 4 messages: ${JSON.stringify(runs)}`);
    });

    test('redelivers a whole batch that threw', async () => {
      const topic = await newTopic('batch-retry');
      const groupId = uniqueName('group');
      const runs: string[][] = [];
      let thrown = false;
      const subscription = await bus.subscribe({
        groupId,
        topics: [topic],
        handle: async () => {
          throw new Error('handle called although the subscription takes batches');
        },
        batch: {
          maxMessages: 100,
          handle: async (messages) => {
            const values = messages.map((message) => message.value);
            runs.push(values);
            if (values.includes('m2') && !thrown) {
              thrown = true;
              throw new Error('batch failure injected by the test');
            }
          },
        },
      });
      subscriptions.push(subscription);

      await bus.publish(topic, ['m0', 'm1', 'm2', 'm3', 'm4'].map((value) => ({ key: 'meeting-1', value })));
      await waitFor('m4 handled after the failure', () => (thrown && runs.slice(runs.findIndex((run) => run.includes('m2')) + 1).flat().includes('m4') ? true : undefined), {
        timeoutMs: deliveryTimeoutMs,
      });
      await subscription.stop();
      await sleep(settleMs);

      const published = ['m0', 'm1', 'm2', 'm3', 'm4'];
      const failedAt = runs.findIndex((run) => run.includes('m2'));
      const redelivered = runs.slice(failedAt + 1).flat();
      assert.deepEqual(redelivered, published.slice(published.indexOf(runs[failedAt]![0]!)), 'the failed batch is delivered again from its first message');

      // Nothing of the failed run was committed before its redelivery succeeded, and all of it is now.
      const resumed = new Collector();
      await subscribe(groupId, topic, resumed.handle);
      await bus.publish(topic, [{ key: 'meeting-1', value: 'm5' }]);
      await resumed.waitForCount(1, 'resumed group');
      await sleep(settleMs);
      assert.deepEqual(resumed.values(), ['m5']);
    });

    test('resumes after the last committed offset', async () => {
      const topic = await newTopic('resume');
      const groupId = uniqueName('group');
      const firstRun = new Collector();
      const firstSubscription = await subscribe(groupId, topic, firstRun.handle);

      const batch = (from: number) =>
        Array.from({ length: 10 }, (_, index) => ({ key: `meeting-${(from + index) % 3}`, value: `v${from + index}` }));
      await bus.publish(topic, batch(0));
      await firstRun.waitForCount(10, 'first run');
      await firstSubscription.stop();

      await bus.publish(topic, batch(10));
      const secondRun = new Collector();
      await subscribe(groupId, topic, secondRun.handle);
      await secondRun.waitForCount(10, 'second run');
      await sleep(settleMs);

      assert.deepEqual(firstRun.values().sort(), batch(0).map((message) => message.value).sort());
      assert.deepEqual(
        secondRun.values().sort(),
        batch(10).map((message) => message.value).sort(),
        'the second run gets only the messages published after the first stopped',
      );
    });

    test('stop finishes the message in progress', async () => {
      const topic = await newTopic('stop');
      const groupId = uniqueName('group');
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const started: string[] = [];
      const finished: string[] = [];
      const slowSubscription = await subscribe(groupId, topic, async (message) => {
        started.push(message.value);
        if (message.value === 'slow') await released;
        finished.push(message.value);
      });

      await bus.publish(topic, [
        { key: 'meeting-1', value: 'slow' },
        { key: 'meeting-1', value: 'after' },
      ]);
      await waitFor('slow message started', () => (started.includes('slow') ? true : undefined), {
        timeoutMs: deliveryTimeoutMs,
      });

      const stopping = slowSubscription.stop();
      await sleep(200);
      release();
      await stopping;
      assert.deepEqual(finished, ['slow'], 'stop waited for the message in progress and took no new one');

      const resumed = new Collector();
      await subscribe(groupId, topic, resumed.handle);
      await resumed.waitForCount(1, 'resumed group');
      await sleep(settleMs);
      assert.deepEqual(resumed.values(), ['after'], 'the finished message was committed');
    });

    test('round-trips headers', async () => {
      const topic = await newTopic('headers');
      const collector = new Collector();
      await subscribe(uniqueName('group'), topic, collector.handle);
      const headers = {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'ce-type': 'meeting.scheduled',
        note: 'Cuộc họp giao ban',
      };

      await bus.publish(topic, [
        { key: 'meeting-1', value: 'with headers', headers },
        { key: 'meeting-1', value: 'without headers' },
      ]);
      await collector.waitForCount(2, 'header delivery');

      assert.deepEqual(collector.messages[0]!.headers, headers);
      assert.deepEqual(collector.messages[1]!.headers, {});
    });

    test('ensureTopics is idempotent', async () => {
      const topic = `${contractTopicPrefix}${uniqueName('ensure')}`;
      await bus.ensureTopics([topic, topic]);
      await bus.ensureTopics([topic]);

      const collector = new Collector();
      await subscribe(uniqueName('group'), topic, collector.handle);
      await bus.publish(topic, [{ key: 'meeting-1', value: 'after ensuring twice' }]);
      await collector.waitForCount(1, 'delivery after ensureTopics');
      assert.deepEqual(collector.values(), ['after ensuring twice']);
    });

    test('rejects a missing topic', async () => {
      const topic = `${contractTopicPrefix}${uniqueName('missing')}`;
      const expected = (error: unknown) =>
        error instanceof Error && error.message.includes(`topic ${topic} does not exist`);
      await assert.rejects(bus.publish(topic, [{ key: 'meeting-1', value: 'lost' }]), expected);
      await assert.rejects(subscribe(uniqueName('group'), topic, async () => {}), expected);
    });

    test('concurrent publishes each arrive once', async () => {
      const topic = await newTopic('concurrent');
      const collector = new Collector();
      await subscribe(uniqueName('group'), topic, collector.handle);

      // Twenty callers publish five messages each at once, all with one key.
      await Promise.all(
        Array.from({ length: 20 }, (_, caller) =>
          bus.publish(
            topic,
            Array.from({ length: 5 }, (_, index) => ({ key: 'meeting-1', value: `c${caller}.${index}` })),
          ),
        ),
      );
      await collector.waitForCount(100, 'concurrent delivery');
      await sleep(settleMs);

      assert.equal(collector.messages.length, 100);
      assert.equal(new Set(collector.values()).size, 100, 'no message is delivered twice');
      const offsets = collector.messages.map((message) => BigInt(message.offset));
      assert.equal(new Set(offsets).size, 100, 'every message has its own offset');
      for (let caller = 0; caller < 20; caller++) {
        const sequence = collector.values().filter((value) => value.startsWith(`c${caller}.`));
        assert.deepEqual(sequence, [0, 1, 2, 3, 4].map((index) => `c${caller}.${index}`), `caller ${caller} keeps its order`);
      }
    });

    test('two members of a group split messages', async () => {
      const topic = await newTopic('members');
      const groupId = uniqueName('group');
      const first = new Collector();
      const second = new Collector();
      await subscribe(groupId, topic, first.handle);
      await subscribe(groupId, topic, second.handle);

      const messages = Array.from({ length: 30 }, (_, index) => ({ key: `meeting-${index % 10}`, value: `v${index}` }));
      await bus.publish(topic, messages);
      await waitFor(
        'all 30 messages delivered to the group',
        () => (first.messages.length + second.messages.length >= 30 ? true : undefined),
        { timeoutMs: deliveryTimeoutMs },
      );
      await sleep(settleMs);

      const received = [...first.values(), ...second.values()].sort();
      assert.deepEqual(received, messages.map((message) => message.value).sort(), 'each message reaches one member once');
    });
  });
}
