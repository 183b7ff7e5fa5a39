import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type logCreator,
} from 'kafkajs';
import { log, type Logger } from '../../log.ts';
import type { Bus, BusMessage, BusMessageInput, SubscribeOptions, Subscription } from './bus.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Partition count of the topics that ensureTopics creates (default 6). */
  partitions?: number;
  /** Replication factor of the topics that ensureTopics creates (default 1, one broker). */
  replicationFactor?: number;
  /** Upper bound for each remote call (connect, send, commit, admin request, disconnect), in milliseconds (default 30000). */
  requestTimeoutMs?: number;
  /** Upper bound for ping, in milliseconds (default 5000). */
  pingTimeoutMs?: number;
  /** Maximum time a fetch waits on the broker for new messages, in milliseconds (default 1000). It also bounds how long stop() waits for a fetch. */
  maxWaitTimeInMs?: number;
  /** Partitions whose messages are handled at the same time within one subscription (default `partitions`, 6). */
  partitionsConsumedConcurrently?: number;
  /**
   * How long the broker keeps a consumer that sends no heartbeat in its group, in
   * milliseconds (default 10000; kafkajs's own default is 30000). A consumer that
   * was killed keeps its partitions this long, so a restarted one waits about as
   * long for them. Brokers accept 6000 to 300000 unless configured otherwise
   * (`group.min.session.timeout.ms`, `group.max.session.timeout.ms`).
   */
  sessionTimeoutMs?: number;
  /** Interval between a consumer's heartbeats, in milliseconds (default 1000); below `sessionTimeoutMs`. */
  heartbeatIntervalMs?: number;
  /**
   * Maximum time between offset commits while a partition has messages, in
   * milliseconds (default 1000). Offsets are also committed at the end of each
   * fetched batch and before the consumer leaves the group.
   */
  commitIntervalMs?: number;
  /**
   * Maximum bytes fetched from one partition at a time (default 65536). kafkajs
   * fetches the next batches only after every partition has handled its batch,
   * so this bounds how long a busy partition delays the others.
   */
  maxBytesPerPartition?: number;
  /** First wait before a message whose handler threw is delivered again, in milliseconds (default 100). It doubles per attempt. */
  retryBackoffMs?: number;
  /** Maximum wait between deliveries of a failing message, in milliseconds (default 5000). */
  maxRetryBackoffMs?: number;
}

/**
 * The Bus on Apache Kafka through kafkajs 2.2.4.
 *
 * Publishing uses one idempotent producer (acks=-1, one request in flight per
 * broker) with Kafka's default partitioner (murmur2 of the key), so messages
 * with the same key keep their order. Each subscription is its own consumer
 * in its group. It handles the partitions assigned to it concurrently
 * (`partitionsConsumedConcurrently`) and each partition's messages one at a
 * time, or in runs of consecutive messages when the subscriber takes batches. An offset is marked for commit (kafkajs `resolveOffset`) only after
 * `handle` resolves, and the marked offsets are committed in groups rather
 * than one broker request per message. A message whose handler throws is
 * fetched again by seeking back to it, so no later offset of its partition is
 * committed first.
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  readonly #kafka: Kafka;
  readonly #log: Logger;
  readonly #options: Required<Omit<KafkaBusOptions, 'brokers' | 'clientId'>>;
  readonly #subscriptions = new Set<KafkaSubscription>();
  /** Topics seen on the broker. A topic is looked up once, before its first publish or subscribe. */
  readonly #knownTopics = new Set<string>();
  #admin: Promise<Admin> | null = null;
  #producer: Promise<Producer> | null = null;
  #closed = false;

  constructor(options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaBus needs at least one broker address (host:port)');
    if ((options.heartbeatIntervalMs ?? 1_000) >= (options.sessionTimeoutMs ?? 10_000)) {
      throw new Error(`KafkaBus heartbeatIntervalMs (${options.heartbeatIntervalMs ?? 1_000}) must be lower than sessionTimeoutMs (${options.sessionTimeoutMs ?? 10_000})`);
    }
    this.#options = {
      partitions: options.partitions ?? 6,
      replicationFactor: options.replicationFactor ?? 1,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      pingTimeoutMs: options.pingTimeoutMs ?? 5_000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1_000,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? options.partitions ?? 6,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      commitIntervalMs: options.commitIntervalMs ?? 1_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 64 * 1024,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      maxRetryBackoffMs: options.maxRetryBackoffMs ?? 5_000,
    };
    this.#log = log.child({ module: 'bus', bus: 'kafka', clientId: options.clientId });
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: 3_000,
      requestTimeout: this.#options.requestTimeoutMs,
      logLevel: logLevel.INFO,
      logCreator: createKafkaLogCreator(this.#log),
    });
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const requested = [...new Set(topics)];
    if (requested.length === 0) return;
    const admin = await this.#adminClient();
    const existing = new Set(await this.#withTimeout(admin.listTopics(), 'listing topics'));
    const missing = requested.filter((topic) => !existing.has(topic));
    for (const topic of requested) if (existing.has(topic)) this.#knownTopics.add(topic);
    if (missing.length === 0) return;

    // createTopics resolves false when another client created them first.
    await this.#withTimeout(
      admin.createTopics({
        waitForLeaders: true,
        timeout: this.#options.requestTimeoutMs,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.#options.partitions,
          replicationFactor: this.#options.replicationFactor,
          // The broker stamps each message when it appends it, which is what
          // BusMessage.timestamp promises.
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        })),
      }),
      `creating topics ${missing.join(', ')}`,
    );
    for (const topic of missing) this.#knownTopics.add(topic);
    this.#log.info({ topics: missing, partitions: this.#options.partitions }, 'created topics');
  }

  async publish(topic: string, messages: BusMessageInput[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#assertTopicsExist([topic]);
    const producer = await this.#producerClient();
    await this.#withTimeout(
      producer.send({
        topic,
        acks: -1,
        timeout: this.#options.requestTimeoutMs,
        messages: messages.map((message) => ({
          key: message.key,
          value: message.value,
          ...(message.headers ? { headers: message.headers } : {}),
        })),
      }),
      `publishing ${messages.length} message(s) to ${topic}`,
    );
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#assertOpen();
    await this.#assertTopicsExist(options.topics);
    const consumer = this.#kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.#options.maxWaitTimeInMs,
      sessionTimeout: this.#options.sessionTimeoutMs,
      heartbeatInterval: this.#options.heartbeatIntervalMs,
      maxBytesPerPartition: this.#options.maxBytesPerPartition,
    });
    const subscription = new KafkaSubscription(consumer, options, this.#options, this.#log, (ended) =>
      this.#subscriptions.delete(ended),
    );

    try {
      await this.#withTimeout(consumer.connect(), `connecting consumer of group ${options.groupId}`);
      await this.#withTimeout(
        consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true }),
        `subscribing group ${options.groupId} to ${options.topics.join(', ')}`,
      );
      // run() resolves once the consumer has joined the group.
      await this.#withTimeout(
        consumer.run({
          // kafkajs commits only the offsets that eachBatch resolved: every
          // commitIntervalMs, at the end of each batch, when a rebalance starts and
          // when eachBatch throws.
          autoCommit: true,
          autoCommitInterval: this.#options.commitIntervalMs,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently,
          eachBatch: (payload) => subscription.eachBatch(payload),
        }),
        `joining group ${options.groupId}`,
      );
    } catch (error) {
      await consumer.disconnect().catch((disconnectError: unknown) => {
        this.#log.warn({ err: disconnectError, groupId: options.groupId }, 'disconnecting a consumer that failed to start failed');
      });
      throw error;
    }

    this.#subscriptions.add(subscription);
    this.#log.info({ groupId: options.groupId, topics: options.topics }, 'subscribed');
    return subscription;
  }

  async ping(): Promise<void> {
    const admin = await this.#adminClient();
    await withTimeout(admin.describeCluster(), this.#options.pingTimeoutMs, 'describing the Kafka cluster');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.stop()));

    const clients: Array<Promise<Admin | Producer> | null> = [this.#admin, this.#producer];
    this.#admin = null;
    this.#producer = null;
    for (const client of clients) {
      if (!client) continue;
      try {
        await this.#withTimeout((await client).disconnect(), 'disconnecting');
      } catch (error) {
        this.#log.warn({ err: error }, 'disconnecting a Kafka client failed');
      }
    }
  }

  /**
   * Rejects when a topic does not exist. Without this check kafkajs retries an
   * unknown topic until the request timeout (with no limit for the idempotent
   * producer), because the broker reports it as a retriable error.
   */
  async #assertTopicsExist(topics: string[]): Promise<void> {
    const unknown = topics.filter((topic) => !this.#knownTopics.has(topic));
    if (unknown.length === 0) return;
    const admin = await this.#adminClient();
    const existing = new Set(await this.#withTimeout(admin.listTopics(), 'listing topics'));
    for (const topic of unknown) {
      if (!existing.has(topic)) throw new Error(`topic ${topic} does not exist; create it with ensureTopics first`);
      this.#knownTopics.add(topic);
    }
  }

  #adminClient(): Promise<Admin> {
    this.#assertOpen();
    this.#admin ??= this.#connect(this.#kafka.admin(), 'admin client').catch((error: unknown) => {
      this.#admin = null;
      throw error;
    });
    return this.#admin;
  }

  #producerClient(): Promise<Producer> {
    this.#assertOpen();
    this.#producer ??= this.#connect(
      this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
      'producer',
    ).catch((error: unknown) => {
      this.#producer = null;
      throw error;
    });
    return this.#producer;
  }

  async #connect<T extends { connect(): Promise<void> }>(client: T, name: string): Promise<T> {
    await this.#withTimeout(client.connect(), `connecting the ${name}`);
    return client;
  }

  #withTimeout<T>(promise: Promise<T>, action: string): Promise<T> {
    return withTimeout(promise, this.#options.requestTimeoutMs, action);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('KafkaBus is closed');
  }
}

type SubscriptionSettings = Required<Omit<KafkaBusOptions, 'brokers' | 'clientId'>>;

class KafkaSubscription implements Subscription {
  readonly #consumer: Consumer;
  readonly #options: SubscribeOptions;
  readonly #settings: SubscriptionSettings;
  readonly #log: Logger;
  readonly #onStopped: (subscription: KafkaSubscription) => void;
  readonly #inFlight = new Set<Promise<boolean>>();
  /** Failed deliveries of the message at the head of each partition, by "topic:partition". */
  readonly #failures = new Map<string, { offset: string; attempts: number }>();
  readonly #stopSignal = new AbortController();
  #stopped: Promise<void> | null = null;

  constructor(
    consumer: Consumer,
    options: SubscribeOptions,
    settings: SubscriptionSettings,
    parentLog: Logger,
    onStopped: (subscription: KafkaSubscription) => void,
  ) {
    this.#consumer = consumer;
    this.#options = options;
    this.#settings = settings;
    this.#log = parentLog.child({ groupId: options.groupId });
    this.#onStopped = onStopped;
    consumer.on(consumer.events.CRASH, (event) => {
      this.#log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
  }

  /**
   * Handles one fetched batch of one partition in offset order: message by
   * message, or in runs of up to `batch.maxMessages` when the subscription
   * takes batches. After each handled run its last offset is resolved and a
   * heartbeat sent; kafkajs commits the resolved offsets. The loop ends early
   * when the subscription stops, the partition is revoked or sought, or a
   * handler throws.
   */
  async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const runLength = this.#options.batch ? Math.max(1, this.#options.batch.maxMessages) : 1;
    for (let start = 0; start < batch.messages.length; start += runLength) {
      // Stopping: the rest stays uncommitted for the group's next member.
      if (this.#stopSignal.signal.aborted || !isRunning() || isStale()) return;
      const run = batch.messages.slice(start, start + runLength);
      const work = this.#process(batch.topic, batch.partition, run, heartbeat);
      this.#inFlight.add(work);
      let handled: boolean;
      try {
        handled = await work;
      } finally {
        this.#inFlight.delete(work);
      }
      if (!handled) return;
      resolveOffset(run[run.length - 1]!.offset);
      // Commits the resolved offsets when commitIntervalMs has passed since the last commit.
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopSignal.abort();
    // The message in progress finishes first. disconnect() then waits for the
    // batch to end, and kafkajs commits its resolved offsets before leaving.
    await Promise.allSettled([...this.#inFlight]);
    try {
      await withTimeout(this.#consumer.disconnect(), this.#settings.requestTimeoutMs, 'disconnecting the consumer');
      this.#log.info({ topics: this.#options.topics }, 'subscription stopped');
    } finally {
      this.#onStopped(this);
    }
  }

  /**
   * Calls the handler for a run of messages (one unless the subscription takes
   * batches) and returns whether it succeeded. While the handler runs,
   * heartbeats go on every heartbeatIntervalMs: kafkajs sends them only between
   * runs, and a handler (the bridge retries a function for up to minutes) may
   * run longer than the session timeout. When the handler throws, the partition
   * is sought back to the run's first message, which ends the batch and makes
   * the next fetch start there, after a backoff.
   */
  async #process(topic: string, partition: number, run: KafkaMessage[], heartbeat: () => Promise<void>): Promise<boolean> {
    const messages = run.map((message) => toBusMessage(topic, partition, message));
    const first = messages[0]!.offset;
    const partitionKey = `${topic}:${partition}`;

    const heartbeats = setInterval(() => {
      // A rebalance error here is seen again by the heartbeat after the run, which rejoins the group.
      heartbeat().catch((error: unknown) => this.#log.debug({ err: error, topic, partition }, 'heartbeat during a message failed'));
    }, this.#settings.heartbeatIntervalMs);
    try {
      if (this.#options.batch) await this.#options.batch.handle(messages);
      else await this.#options.handle(messages[0]!);
    } catch (error) {
      const previous = this.#failures.get(partitionKey);
      const attempts = previous?.offset === first ? previous.attempts + 1 : 1;
      this.#failures.set(partitionKey, { offset: first, attempts });
      const delayMs = Math.min(this.#settings.retryBackoffMs * 2 ** (attempts - 1), this.#settings.maxRetryBackoffMs);
      this.#log.warn(
        { err: error, topic, partition, offset: first, messages: messages.length, attempts, retryInMs: delayMs },
        'message handler failed; the messages will be delivered again',
      );
      // The offsets stay unresolved, so they and everything after them stay uncommitted.
      this.#consumer.seek({ topic, partition, offset: first });
      await sleep(delayMs, this.#stopSignal.signal);
      return false;
    } finally {
      clearInterval(heartbeats);
    }

    this.#failures.delete(partitionKey);
    return true;
  }
}

function toBusMessage(topic: string, partition: number, message: KafkaMessage): BusMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString('utf8') : null,
    value: message.value ? message.value.toString('utf8') : '',
    headers: decodeHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

/** Decodes header values as UTF-8. When a header is sent several times, the last value wins. */
function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined) continue;
    decoded[name] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return decoded;
}

/**
 * Routes kafkajs's log entries to a pino logger, keeping kafkajs's namespace
 * and fields. kafkajs logs every error response from a broker at ERROR in its
 * Connection namespace ("Response Heartbeat(key: 12, version: 3)") before its
 * own retry or rejoin handles it, so those entries are logged as warnings.
 * An error that survives the retries reaches the caller or the consumer's
 * crash handler, which log it as an error.
 */
export function createKafkaLogCreator(logger: Logger): logCreator {
  const kafkaLog = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, clientId: _clientId, ...fields } = entry;
      const bindings = { namespace, ...fields };
      const isResponseError = level === logLevel.ERROR && namespace === 'Connection' && message.startsWith('Response ');
      switch (isResponseError ? logLevel.WARN : level) {
        case logLevel.ERROR:
          kafkaLog.error(bindings, message);
          break;
        case logLevel.WARN:
          kafkaLog.warn(bindings, message);
          break;
        case logLevel.INFO:
          kafkaLog.info(bindings, message);
          break;
        default:
          kafkaLog.debug(bindings, message);
      }
    };
}

/**
 * Rejects with "<action> timed out after N ms" when `promise` does not settle
 * in time. The operation itself is not cancelled and may still complete.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, action: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${action} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits `ms` milliseconds, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
