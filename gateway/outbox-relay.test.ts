import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { newEvent } from '../lib/contract/events.ts';
import type { Bus, BusMessage, BusMessageInput } from '../lib/adapters/bus/bus.ts';
import { createBus } from '../lib/adapters/bus/create-bus.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { appendToOutbox } from '../lib/adapters/db/outbox.ts';
import { log } from '../lib/log.ts';
import { claimEvent } from '../lib/runtime/event-function.ts';
import { createTestDatabase, requireService, waitFor } from '../test/support/services.ts';
import { OutboxRelay } from './outbox-relay.ts';

/** A bus that fails on request, before storing (broker down) or after storing (process dies before marking). */
class FlakyBus implements Bus {
  failBefore = false;
  failAfter = false;
  constructor(private readonly inner: Bus) {}
  get kind() {
    return this.inner.kind;
  }
  ensureTopics(topics: string[]) {
    return this.inner.ensureTopics(topics);
  }
  async publish(topic: string, messages: BusMessageInput[]) {
    if (this.failBefore) throw new Error('broker unavailable');
    await this.inner.publish(topic, messages);
    if (this.failAfter) throw new Error('process died after publishing');
  }
  subscribe(options: Parameters<Bus['subscribe']>[0]) {
    return this.inner.subscribe(options);
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
}

async function scheduleInOutbox(handle: DatabaseHandle, meetingId: string): Promise<string> {
  const event = newEvent(
    'vn.hop.meeting.scheduled.v1',
    { meetingId, title: 'Họp', startsAt: '2026-12-07T01:00:00Z', endsAt: '2026-12-07T02:00:00Z', timeZone: 'Asia/Ho_Chi_Minh', participantCount: 1 },
    { source: '/test', subject: meetingId },
  );
  await handle.db.transaction().execute((trx) => appendToOutbox(trx, event, meetingId));
  return event.id;
}

async function unpublished(handle: DatabaseHandle): Promise<number> {
  const rows = await handle.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute();
  return rows.length;
}

function relaySuite(name: string, open: (t: TestContext) => Promise<{ handle: DatabaseHandle; bus: Bus; cleanup: () => Promise<void> } | undefined>) {
  describe(`outbox relay on ${name}`, () => {
    test('broker down, nothing lost', async (t) => {
      const opened = await open(t);
      if (!opened) return;
      const { handle, bus, cleanup } = opened;
      try {
        const flaky = new FlakyBus(bus);
        const relay = new OutboxRelay({ db: handle.db, dialect: handle.kind, bus: flaky, log });
        const meetingId = randomUUID();
        const ids = [await scheduleInOutbox(handle, meetingId), await scheduleInOutbox(handle, meetingId)];

        flaky.failBefore = true;
        await assert.rejects(relay.relayOnce(), /broker unavailable/);
        assert.equal(await unpublished(handle), 2);

        flaky.failBefore = false;
        assert.equal(await relay.relayOnce(), 2);
        assert.equal(await unpublished(handle), 0);

        const received: BusMessage[] = [];
        const subscription = await bus.subscribe({
          groupId: `relay-test-${randomUUID()}`,
          topics: ['hop.meetings.v1'],
          handle: async (message) => {
            if (message.key === meetingId) received.push(message);
          },
        });
        await waitFor('two events', () => (received.length === 2 ? true : undefined));
        await subscription.stop();
        assert.deepEqual(
          received.map((message) => JSON.parse(message.value).id),
          ids,
        );
        assert.equal(received[0]!.headers['ce-type'], 'vn.hop.meeting.scheduled.v1');
      } finally {
        await cleanup();
      }
    });

    test('crash after publish, applied once', async (t) => {
      const opened = await open(t);
      if (!opened) return;
      const { handle, bus, cleanup } = opened;
      try {
        const flaky = new FlakyBus(bus);
        const relay = new OutboxRelay({ db: handle.db, dialect: handle.kind, bus: flaky, log });
        const meetingId = randomUUID();
        const eventId = await scheduleInOutbox(handle, meetingId);

        flaky.failAfter = true;
        await assert.rejects(relay.relayOnce(), /process died/);
        assert.equal(await unpublished(handle), 1, 'the row is still there to publish');
        flaky.failAfter = false;
        assert.equal(await relay.relayOnce(), 1);

        let deliveries = 0;
        let applied = 0;
        const consumer = `relay-test-consumer-${randomUUID()}`;
        const subscription = await bus.subscribe({
          groupId: consumer,
          topics: ['hop.meetings.v1'],
          handle: async (message) => {
            if (message.key !== meetingId) return;
            deliveries++;
            const id = JSON.parse(message.value).id as string;
            await handle.db.transaction().execute(async (trx) => {
              if (await claimEvent(trx, consumer, id)) applied++;
            });
          },
        });
        await waitFor('both copies delivered', () => (deliveries === 2 ? true : undefined));
        await subscription.stop();
        assert.equal(applied, 1, `event ${eventId} applied once`);
      } finally {
        await cleanup();
      }
    });
  });
}

relaySuite('PGlite with the embedded bus', async () => {
  const handle = await openDatabase({ kind: 'pglite', dataDir: null });
  await migrateToLatest(handle.db);
  const bus = createBus({ kind: 'embedded', db: handle.db, partitions: 3 });
  await bus.ensureTopics(['hop.meetings.v1']);
  return {
    handle,
    bus,
    cleanup: async () => {
      await bus.close();
      await handle.close();
    },
  };
});

relaySuite('PostgreSQL with Kafka', async (t) => {
  const adminUrl = requireService(t, 'postgres');
  const brokers = requireService(t, 'kafka');
  if (!adminUrl || !brokers) return undefined;
  const database = await createTestDatabase(adminUrl);
  const handle = await openDatabase({ kind: 'postgres', url: database.url });
  await migrateToLatest(handle.db);
  const bus = createBus({ kind: 'kafka', brokers: brokers.split(','), clientId: 'hop-relay-test', partitions: 3 });
  await bus.ensureTopics(['hop.meetings.v1']);
  return {
    handle,
    bus,
    cleanup: async () => {
      await bus.close();
      await handle.close();
      await database.drop();
    },
  };
});
