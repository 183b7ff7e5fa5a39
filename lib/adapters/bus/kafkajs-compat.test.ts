/**
 * Proves that kafkajs 2.2.4 works with the Kafka 4 broker that
 * scripts/services/kafka.sh runs. Kafka 4.0 removed old versions of many
 * protocol requests, and kafkajs picks min(its newest version, the broker's
 * newest) without checking the broker's oldest, so an API is usable only while
 * kafkajs's newest version is at least the broker's oldest. Each step below is
 * its own subtest, so a failure names the step that broke.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { test } from 'node:test';
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { requireService, waitFor } from '../../../test/support/services.ts';
import { log } from '../../log.ts';
import { createKafkaLogCreator } from './kafka-bus.ts';

const require = createRequire(import.meta.url);

/** kafkajs's request definitions: its internal table of the protocol versions it implements per API. */
const { requests } = require('kafkajs/src/protocol/requests/index.js') as {
  requests: Record<string, { versions: string[] }>;
};
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
const kafkajsVersion = (require('kafkajs/package.json') as { version: string }).version;

/** The APIs that KafkaBus and this test call through kafkajs (names as kafkajs spells them). */
const apisUsedByHop = [
  'Produce',
  'Fetch',
  'ListOffsets',
  'Metadata',
  'OffsetCommit',
  'OffsetFetch',
  'GroupCoordinator',
  'JoinGroup',
  'Heartbeat',
  'LeaveGroup',
  'SyncGroup',
  'DescribeGroups',
  'ApiVersions',
  'CreateTopics',
  'DeleteTopics',
  'InitProducerId',
];

interface VersionRange {
  min: number;
  max: number;
}

interface ApiVersionsResult {
  apis: Map<number, VersionRange>;
  supportedFeatures: Map<string, VersionRange>;
  finalizedFeatures: Map<string, VersionRange>;
}

test('kafkajs 2.2.4 against the Kafka 4 broker', async (t) => {
  const brokerSetting = requireService(t, 'kafka');
  if (!brokerSetting) return;
  const brokers = brokerSetting.split(',');
  const [host, port] = splitHostPort(brokers[0]!);

  const kafka = new Kafka({
    clientId: `hop-kafkajs-compat-${process.pid}`,
    brokers,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    logLevel: logLevel.WARN,
    logCreator: createKafkaLogCreator(log.child({ module: 'kafkajs-compat-test' })),
  });
  const topic = `hop-test.compat.${randomUUID().slice(0, 8)}`;
  const groupId = `hop-test.compat-group.${randomUUID().slice(0, 8)}`;
  const clients: Array<Admin | Producer | Consumer> = [];
  t.after(async () => {
    for (const client of clients) await client.disconnect().catch(() => {});
  });

  t.diagnostic(`kafkajs ${kafkajsVersion}, broker ${brokers[0]}`);

  await t.test('broker accepts the versions kafkajs sends', async (st) => {
    const result = await requestApiVersions(host, port);
    const metadataVersion = result.finalizedFeatures.get('metadata.version');
    const supported = result.supportedFeatures.get('metadata.version');
    st.diagnostic(
      `broker metadata.version: finalized level ${metadataVersion?.max ?? 'none'}, supported levels ${supported?.min ?? '?'}..${supported?.max ?? '?'}`,
    );

    const unusable: string[] = [];
    for (const [name, definition] of Object.entries(requests)) {
      const implemented = definition.versions.map(Number);
      if (implemented.length === 0) continue;
      const apiKey = apiKeys[name]!;
      const broker = result.apis.get(apiKey);
      const newestImplemented = Math.max(...implemented);
      if (!broker) {
        unusable.push(`${name} (key ${apiKey}): not served by the broker`);
        continue;
      }
      const chosen = Math.min(newestImplemented, broker.max);
      const line = `${name} (key ${apiKey}): kafkajs v0..v${newestImplemented}, broker v${broker.min}..v${broker.max}, kafkajs sends v${chosen}`;
      if (chosen < broker.min) unusable.push(line);
      else st.diagnostic(line);
    }
    for (const line of unusable) st.diagnostic(`NOT USABLE ${line}`);

    const unusableForHop = unusable.filter((line) => apisUsedByHop.some((name) => line.startsWith(`${name} `)));
    assert.deepEqual(unusableForHop, [], 'every API that hop uses has a version both sides support');
  });

  await t.test('describeCluster reports the broker', async (st) => {
    const admin = kafka.admin();
    clients.push(admin);
    await admin.connect();
    const cluster = await admin.describeCluster();
    st.diagnostic(
      `cluster ${cluster.clusterId}, controller ${cluster.controller}, brokers ${cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(', ')}`,
    );
    assert.ok(cluster.brokers.length >= 1);
  });

  await t.test('creates a topic', async () => {
    const admin = kafka.admin();
    clients.push(admin);
    await admin.connect();
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    });
    assert.equal(created, true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]?.partitions.length, 3);
  });

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  clients.push(producer);
  const produce = async (from: number, count: number) =>
    producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, index) => ({
        key: `meeting-${(from + index) % 3}`,
        value: `message-${from + index}`,
        headers: { 'ce-type': 'compat.test' },
      })),
    });

  await t.test('produces with the idempotent producer', async (st) => {
    await producer.connect();
    const metadata = await produce(0, 10);
    const written = metadata.reduce((sum, entry) => sum + (entry.errorCode === 0 ? 1 : 0), 0);
    st.diagnostic(`produce results: ${JSON.stringify(metadata.map(({ partition, baseOffset }) => ({ partition, baseOffset })))}`);
    assert.ok(written > 0, 'the broker acknowledged the produce requests');
  });

  await t.test('consumes in a group and commits', async () => {
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
    clients.push(consumer);
    const received: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        assert.equal(message.headers?.['ce-type']?.toString(), 'compat.test');
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        // Counted after the commit: kafkajs skips commitOffsets once disconnect() has begun.
        received.push(message.value!.toString());
      },
    });
    await waitFor('10 messages consumed', () => (received.length >= 10 ? true : undefined), { timeoutMs: 30_000 });
    await consumer.disconnect();
    assert.deepEqual(received.sort(), Array.from({ length: 10 }, (_, index) => `message-${index}`).sort());

    const admin = kafka.admin();
    clients.push(admin);
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    // A partition without a commit reports offset -1.
    const total = committed!.partitions.reduce((sum, entry) => sum + Math.max(Number(entry.offset), 0), 0);
    assert.equal(total, 10, 'the committed offsets of the three partitions add up to the 10 messages');
  });

  await t.test('resumes the group from its committed offset', async () => {
    await produce(10, 5);
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
    clients.push(consumer);
    const received: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        received.push(message.value!.toString());
      },
    });
    await waitFor('5 new messages consumed', () => (received.length >= 5 ? true : undefined), { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await consumer.disconnect();
    assert.deepEqual(received.sort(), ['message-10', 'message-11', 'message-12', 'message-13', 'message-14']);
  });

  await t.test('deletes the topic', async () => {
    const admin = kafka.admin();
    clients.push(admin);
    await admin.connect();
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    assert.equal((await admin.listTopics()).includes(topic), false);
  });
});

function splitHostPort(address: string): [string, number] {
  const separator = address.lastIndexOf(':');
  const port = Number(address.slice(separator + 1));
  if (separator < 0 || !Number.isInteger(port)) throw new Error(`invalid broker address ${address}; expected host:port`);
  return [address.slice(0, separator), port];
}

/**
 * Sends an ApiVersions v3 request (KIP-511) over a plain socket and decodes
 * the response. The response's tagged fields carry the broker's supported and
 * finalized features, which kafkajs never sees because it implements only
 * ApiVersions v0..v2.
 */
async function requestApiVersions(host: string, port: number): Promise<ApiVersionsResult> {
  const clientId = Buffer.from('hop-kafkajs-compat');
  const header = Buffer.alloc(10);
  header.writeInt16BE(18, 0); // api_key ApiVersions
  header.writeInt16BE(3, 2); // api_version
  header.writeInt32BE(1, 4); // correlation_id
  header.writeInt16BE(clientId.length, 8); // client_id stays a non-compact string in header v2
  const request = Buffer.concat([
    header,
    clientId,
    uvarint(0), // header tagged fields
    compactString('hop-kafkajs-compat'), // client_software_name
    compactString(kafkajsVersion), // client_software_version
    uvarint(0), // body tagged fields
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(request.length, 0);

  const response = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`ApiVersions request to ${host}:${port} timed out after 10000 ms`));
    }, 10_000);
    socket.on('connect', () => socket.write(Buffer.concat([size, request])));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      const all = Buffer.concat(chunks);
      if (received >= 4 && received >= 4 + all.readInt32BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve(all.subarray(4, 4 + all.readInt32BE(0)));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });

  const reader = new Reader(response);
  assert.equal(reader.int32(), 1, 'correlation id');
  const errorCode = reader.int16();
  assert.equal(errorCode, 0, `ApiVersions v3 error code ${errorCode}`);

  const apis = new Map<number, VersionRange>();
  for (let count = reader.uvarint() - 1; count > 0; count--) {
    const apiKey = reader.int16();
    apis.set(apiKey, { min: reader.int16(), max: reader.int16() });
    reader.skipTaggedFields();
  }
  reader.int32(); // throttle_time_ms

  const supportedFeatures = new Map<string, VersionRange>();
  const finalizedFeatures = new Map<string, VersionRange>();
  for (let tags = reader.uvarint(); tags > 0; tags--) {
    const tag = reader.uvarint();
    const length = reader.uvarint();
    const end = reader.position + length;
    if (tag === 0) {
      for (let count = reader.uvarint() - 1; count > 0; count--) {
        const name = reader.compactString();
        supportedFeatures.set(name, { min: reader.int16(), max: reader.int16() });
        reader.skipTaggedFields();
      }
    } else if (tag === 2) {
      for (let count = reader.uvarint() - 1; count > 0; count--) {
        const name = reader.compactString();
        const max = reader.int16();
        const min = reader.int16();
        finalizedFeatures.set(name, { min, max });
        reader.skipTaggedFields();
      }
    }
    reader.position = end;
  }
  return { apis, supportedFeatures, finalizedFeatures };
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function compactString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([uvarint(bytes.length + 1), bytes]);
}

class Reader {
  position = 0;
  readonly #buffer: Buffer;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  int16(): number {
    const value = this.#buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    const value = this.#buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = this.#buffer[this.position++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  }

  compactString(): string {
    const length = this.uvarint() - 1;
    const value = this.#buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }

  skipTaggedFields(): void {
    for (let count = this.uvarint(); count > 0; count--) {
      this.uvarint(); // tag
      this.position += this.uvarint();
    }
  }
}
