import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { createTestDatabase, requireService, waitFor } from '../../../test/support/services.ts';
import { openDatabase } from '../db/database.ts';
import { contractTopicPrefix, runBusContract } from './bus-contract.ts';
import { createBus } from './create-bus.ts';
import { EmbeddedBus, partitionForKey } from './embedded-bus.ts';
import { KafkaBus } from './kafka-bus.ts';

runBusContract('EmbeddedBus on in-memory PGlite', async () => {
  const database = await openDatabase({ kind: 'pglite', dataDir: null });
  const bus = new EmbeddedBus({ db: database.db });
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      await database.close();
    },
  };
});

const postgresAdminUrl = process.env.TEST_DATABASE_URL;
if (postgresAdminUrl) {
  runBusContract('EmbeddedBus on PostgreSQL', async () => {
    const testDatabase = await createTestDatabase(postgresAdminUrl);
    const database = await openDatabase({ kind: 'postgres', url: testDatabase.url });
    const bus = new EmbeddedBus({ db: database.db });
    return {
      bus,
      cleanup: async () => {
        await bus.close();
        await database.close();
        // pg-pool's end() resolves before the closed clients' sockets are gone;
        // dropping the database "with (force)" right away makes the pool log
        // "terminating connection due to administrator command".
        await delay(200);
        await testDatabase.drop();
      },
    };
  });
} else {
  test('EmbeddedBus on PostgreSQL', (t) => {
    requireService(t, 'postgres');
  });
}

const kafkaBrokers = process.env.KAFKA_BROKERS;
if (kafkaBrokers) {
  runBusContract('KafkaBus', async () => {
    const brokers = kafkaBrokers.split(',');
    const bus = new KafkaBus({ brokers, clientId: `hop-bus-test-${process.pid}` });
    return {
      bus,
      cleanup: async () => {
        await bus.close();
        await deleteContractTopics(brokers);
      },
    };
  });
} else {
  test('KafkaBus', (t) => {
    requireService(t, 'kafka');
  });
}

/** Deletes the topics this process's contract run created on the test broker. */
async function deleteContractTopics(brokers: string[]): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'hop-bus-test-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(contractTopicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

describe('EmbeddedBus specifics', () => {
  test('partitioner matches kafkajs DefaultPartitioner', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 6, 7, 50]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
      }));
      const keys = ['', 'a', 'ab', 'abc', 'abcd', 'meeting-1', 'cuộc-họp-0193', ...Array.from({ length: 100 }, (_, i) => `m-${i}`)];
      for (const key of keys) {
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: 'x' } });
        assert.equal(partitionForKey(key, partitions), expected, `key ${JSON.stringify(key)} with ${partitions} partitions`);
      }
    }
  });

  test('fromBeginning false skips earlier messages', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    const bus = new EmbeddedBus({ db: database.db });
    try {
      await bus.ensureTopics(['hop-test.latest']);
      await bus.publish('hop-test.latest', [{ key: 'k', value: 'before' }]);
      const received: string[] = [];
      const subscription = await bus.subscribe({
        groupId: 'latest-group',
        topics: ['hop-test.latest'],
        fromBeginning: false,
        handle: async (message) => {
          received.push(message.value);
        },
      });
      await bus.publish('hop-test.latest', [{ key: 'k', value: 'after' }]);
      await waitFor('the message published after subscribing', () => (received.includes('after') ? true : undefined));
      await subscription.stop();
      assert.deepEqual(received, ['after']);
    } finally {
      await bus.close();
      await database.close();
    }
  });

  test('sees publishes of another bus instance', async () => {
    // A second EmbeddedBus on the same database acts as another process. Its
    // publishes do not reach the first bus's in-process wake-up, so only the
    // append-counter poll can deliver them.
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    const consumingBus = new EmbeddedBus({ db: database.db, pollIntervalMs: 100 });
    const publishingBus = new EmbeddedBus({ db: database.db });
    try {
      await consumingBus.ensureTopics(['hop-test.remote']);
      const received: string[] = [];
      await consumingBus.subscribe({
        groupId: 'remote-group',
        topics: ['hop-test.remote'],
        handle: async (message) => {
          received.push(message.value);
        },
      });
      await delay(300);

      const publishedAt = Date.now();
      await publishingBus.publish('hop-test.remote', [{ key: 'k', value: 'from elsewhere' }]);
      await waitFor('the other instance\'s message', () => (received.length > 0 ? true : undefined), { timeoutMs: 5_000 });
      const latencyMs = Date.now() - publishedAt;
      assert.deepEqual(received, ['from elsewhere']);
      assert.ok(latencyMs < 2_000, `delivered after ${latencyMs} ms; the 100 ms poll should find it well before the 5 s safety wake-up`);
    } finally {
      await consumingBus.close();
      await publishingBus.close();
      await database.close();
    }
  });

  test('createBus builds the configured kind', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      const embedded = createBus({ kind: 'embedded', db: database.db, partitions: 3 });
      assert.equal(embedded.kind, 'embedded');
      await embedded.close();
      const kafka = createBus({ kind: 'kafka', brokers: ['127.0.0.1:1'], clientId: 'hop-create-bus-test' });
      assert.equal(kafka.kind, 'kafka');
      await kafka.close();
    } finally {
      await database.close();
    }
  });
});
