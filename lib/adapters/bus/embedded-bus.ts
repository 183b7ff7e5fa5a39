import { EventEmitter, setMaxListeners } from 'node:events';
import { sql, type Kysely } from 'kysely';
import { log, type Logger } from '../../log.ts';
import type { Bus, BusMessage, BusMessageInput, SubscribeOptions, Subscription } from './bus.ts';

export interface EmbeddedBusOptions {
  /** PGlite or PostgreSQL. The bus creates its tables (bus_topic, bus_message, bus_offset) on first use. */
  db: Kysely<any>;
  /** Partition count of the topics that ensureTopics creates (default 6). */
  partitions?: number;
  /** How often a subscription checks its topics for messages appended by another process, in milliseconds (default 200). */
  pollIntervalMs?: number;
  /** Messages a partition loop reads per query (default 100). */
  batchSize?: number;
  /** First wait before a message whose handler threw is delivered again, in milliseconds (default 100). It doubles per attempt. */
  retryBackoffMs?: number;
  /** Maximum wait between deliveries of a failing message, in milliseconds (default 5000). */
  maxRetryBackoffMs?: number;
}

type Settings = Required<Omit<EmbeddedBusOptions, 'db'>>;

interface MessageRow {
  topic: string;
  partition: number;
  offset: number | string | bigint;
  key: string | null;
  value: string;
  headers: Record<string, string> | string | null;
  appended_at: Date | string;
}

/**
 * Owners of (group, topic, partition) claims per database handle, shared by
 * every EmbeddedBus of this process on that handle.
 */
const claimsByDatabase = new WeakMap<object, Map<string, object>>();

/**
 * The Bus as a durable log in the application's own database, for `npm start`
 * without Kafka. It keeps the Bus contract:
 *
 * - A topic has a fixed partition count (bus_topic). A message goes to the
 *   partition chosen by Kafka's murmur2 hash of its key, the same partition
 *   kafkajs's DefaultPartitioner picks for the same count.
 * - Offsets increase by one per partition. A publish locks the topic's
 *   bus_topic row and appends after the partition's highest offset in the same
 *   transaction, so concurrent publishers (in this process or, on PostgreSQL,
 *   in others) never reuse an offset.
 * - A subscription runs one loop per topic partition. A loop handles messages
 *   in offset order, one at a time or in runs of up to `batch.maxMessages`,
 *   and stores the group's next offset (bus_offset) after each handler
 *   resolves. A handler that throws gets the same messages again after a backoff.
 * - An idle loop wakes at once when this process publishes to its topic. For
 *   publishes by other processes, the subscription reads its topics' append
 *   counters (bus_topic.appended) every pollIntervalMs: one query per
 *   subscription, not one per partition.
 *
 * Within one process, a (group, topic, partition) is consumed by one
 * subscription at a time. A second subscription of the same group takes no
 * partition that the first owns, and takes each over when the first stops.
 *
 * NOTE: claims live in process memory. Two processes that consume the same
 * group from one PostgreSQL database would both receive each message, so run
 * one process per database with the embedded bus and use Kafka beyond that.
 *
 * TODO: retention. Messages are kept until an administrator deletes rows from
 * bus_message, because nothing purges consumed messages yet.
 */
export class EmbeddedBus implements Bus {
  readonly kind = 'embedded' as const;
  readonly #db: Kysely<any>;
  readonly #settings: Settings;
  readonly #log: Logger = log.child({ module: 'bus', bus: 'embedded' });
  /** Emits the topic name after each publish commits, to wake this process's partition loops. */
  readonly #appended = new EventEmitter();
  readonly #partitionCounts = new Map<string, number>();
  readonly #subscriptions = new Set<EmbeddedSubscription>();
  readonly #claims: Map<string, object>;
  #schema: Promise<void> | null = null;
  #closed = false;

  constructor(options: EmbeddedBusOptions) {
    this.#db = options.db;
    this.#settings = {
      partitions: options.partitions ?? 6,
      pollIntervalMs: options.pollIntervalMs ?? 200,
      batchSize: options.batchSize ?? 100,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      maxRetryBackoffMs: options.maxRetryBackoffMs ?? 5_000,
    };
    if (!Number.isInteger(this.#settings.partitions) || this.#settings.partitions < 1) {
      throw new Error(`partitions must be a positive integer, got ${this.#settings.partitions}`);
    }
    this.#appended.setMaxListeners(0);

    let claims = claimsByDatabase.get(options.db);
    if (!claims) {
      claims = new Map();
      claimsByDatabase.set(options.db, claims);
    }
    this.#claims = claims;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const requested = [...new Set(topics)];
    if (requested.length === 0) return;
    await this.#ensureSchema();
    await this.#db
      .insertInto('bus_topic')
      .values(requested.map((name) => ({ name, partitions: this.#settings.partitions })))
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
  }

  async publish(topic: string, messages: BusMessageInput[]): Promise<void> {
    if (messages.length === 0) return;
    const partitions = await this.#partitionCount(topic);

    const byPartition = new Map<number, BusMessageInput[]>();
    for (const message of messages) {
      const partition = partitionForKey(message.key, partitions);
      const list = byPartition.get(partition) ?? [];
      list.push(message);
      byPartition.set(partition, list);
    }

    await this.#db.transaction().execute(async (trx) => {
      // Locks the topic's row until commit, so publishers of one topic take
      // turns and the highest offset read below stays the highest. The counter
      // signals subscriptions in other processes that the topic changed.
      await sql`update bus_topic set appended = appended + ${messages.length} where name = ${topic}`.execute(trx);
      for (const [partition, list] of byPartition) {
        const highest = await sql<{ highest: number | string | bigint | null }>`
          select max("offset") as highest from bus_message where topic = ${topic} and partition = ${partition}
        `.execute(trx);
        const last = highest.rows[0]?.highest;
        const first = last === null || last === undefined ? 0n : BigInt(last) + 1n;
        await trx
          .insertInto('bus_message')
          .values(
            list.map((message, index) => ({
              topic,
              partition,
              offset: (first + BigInt(index)).toString(),
              key: message.key,
              value: message.value,
              headers: JSON.stringify(message.headers ?? {}),
            })),
          )
          .execute();
      }
    });
    this.#appended.emit('append', topic);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new Error('EmbeddedBus is closed');
    const topics = [...new Set(options.topics)];
    const partitionsByTopic = new Map<string, number>();
    for (const topic of topics) partitionsByTopic.set(topic, await this.#partitionCount(topic));

    if (options.fromBeginning === false) {
      // A group without a committed offset starts after the last message, as
      // Kafka's auto.offset.reset=latest does when the group first joins.
      for (const topic of topics) await this.#startGroupAtEnd(options.groupId, topic);
    }

    const subscription = new EmbeddedSubscription({
      db: this.#db,
      options: { ...options, topics },
      partitionsByTopic,
      settings: this.#settings,
      claims: this.#claims,
      appended: this.#appended,
      log: this.#log.child({ groupId: options.groupId }),
      onStopped: (stopped) => this.#subscriptions.delete(stopped),
    });
    this.#subscriptions.add(subscription);
    subscription.start();
    this.#log.info({ groupId: options.groupId, topics }, 'subscribed');
    return subscription;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  /** Stops the subscriptions. The database handle stays open because the caller owns it. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.stop()));
  }

  #ensureSchema(): Promise<void> {
    this.#schema ??= createSchema(this.#db).catch((error: unknown) => {
      this.#schema = null;
      throw error;
    });
    return this.#schema;
  }

  async #partitionCount(topic: string): Promise<number> {
    const cached = this.#partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    await this.#ensureSchema();
    const row = await this.#db
      .selectFrom('bus_topic')
      .select('partitions')
      .where('name', '=', topic)
      .executeTakeFirst();
    if (!row) throw new Error(`topic ${topic} does not exist; create it with ensureTopics first`);
    const partitions = Number(row.partitions);
    this.#partitionCounts.set(topic, partitions);
    return partitions;
  }

  async #startGroupAtEnd(groupId: string, topic: string): Promise<void> {
    await sql`
      insert into bus_offset (group_id, topic, partition, next_offset)
      select ${groupId}, ${topic}, p.partition, coalesce(max(m."offset") + 1, 0)
      from generate_series(0, (select partitions - 1 from bus_topic where name = ${topic})) as p(partition)
      left join bus_message m on m.topic = ${topic} and m.partition = p.partition
      group by p.partition
      on conflict (group_id, topic, partition) do nothing
    `.execute(this.#db);
  }
}

interface EmbeddedSubscriptionInit {
  db: Kysely<any>;
  options: SubscribeOptions;
  partitionsByTopic: Map<string, number>;
  settings: Settings;
  claims: Map<string, object>;
  appended: EventEmitter;
  log: Logger;
  onStopped: (subscription: EmbeddedSubscription) => void;
}

class EmbeddedSubscription implements Subscription {
  readonly #init: EmbeddedSubscriptionInit;
  readonly #stopSignal = new AbortController();
  readonly #loops: Promise<void>[] = [];
  /** Change counter per topic, raised whenever the topic may have new messages. A loop compares it to skip a wait that would miss a change. */
  readonly #changes = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #onAppend = (topic: string) => this.#notify(topic);
  #stopped: Promise<void> | null = null;

  constructor(init: EmbeddedSubscriptionInit) {
    this.#init = init;
    // Every partition loop and the watcher listen for the abort.
    setMaxListeners(0, this.#stopSignal.signal);
  }

  start(): void {
    for (const topic of this.#init.partitionsByTopic.keys()) this.#changes.set(topic, 0);
    this.#init.appended.on('append', this.#onAppend);
    this.#loops.push(this.#watchOtherProcesses());
    for (const [topic, partitions] of this.#init.partitionsByTopic) {
      for (let partition = 0; partition < partitions; partition++) {
        this.#loops.push(this.#runPartition(topic, partition));
      }
    }
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopSignal.abort();
    this.#init.appended.off('append', this.#onAppend);
    // Each loop finishes and commits the message in progress before it ends.
    await Promise.all(this.#loops);
    this.#init.onStopped(this);
    this.#init.log.info({ topics: this.#init.options.topics }, 'subscription stopped');
  }

  async #runPartition(topic: string, partition: number): Promise<void> {
    const { db, options, settings, log: subscriptionLog } = this.#init;
    const claimKey = `${options.groupId}\u0000${topic}\u0000${partition}`;
    const signal = this.#stopSignal.signal;
    /** The group's next offset in this partition, or null until read from bus_offset. */
    let next: bigint | null = null;
    let failedAttempts = 0;

    try {
      while (!signal.aborted) {
        if (!this.#claim(claimKey)) {
          await sleep(settings.pollIntervalMs, signal);
          continue;
        }

        try {
          const changesBeforeRead = this.#changes.get(topic) ?? 0;
          next ??= await readCommittedOffset(db, options.groupId, topic, partition);
          const rows = await db
            .selectFrom('bus_message')
            .selectAll()
            .where('topic', '=', topic)
            .where('partition', '=', partition)
            .where('offset', '>=', next.toString())
            .orderBy('offset')
            .limit(settings.batchSize)
            .execute();
          if (rows.length === 0) {
            await this.#waitForChange(topic, changesBeforeRead);
            continue;
          }

          const runLength = options.batch ? Math.max(1, options.batch.maxMessages) : 1;
          const messages = (rows as MessageRow[]).map(toBusMessage);
          for (let start = 0; start < messages.length; start += runLength) {
            if (signal.aborted) break;
            const run = messages.slice(start, start + runLength);
            try {
              if (options.batch) await options.batch.handle(run);
              else await options.handle(run[0]!);
            } catch (error) {
              failedAttempts += 1;
              const delayMs = backoff(settings, failedAttempts);
              subscriptionLog.warn(
                { err: error, topic, partition, offset: run[0]!.offset, messages: run.length, attempts: failedAttempts, retryInMs: delayMs },
                'message handler failed; the messages will be delivered again',
              );
              await sleep(delayMs, signal);
              // The next read starts at this run again, since `next` still points at its first message.
              break;
            }
            failedAttempts = 0;
            next = BigInt(run[run.length - 1]!.offset) + 1n;
            await commitOffset(db, options.groupId, topic, partition, next);
          }
        } catch (error) {
          // After a failed read or commit the loop reads the committed offset
          // again, so a message whose commit failed is delivered again (at least once).
          const delayMs = backoff(settings, 1);
          subscriptionLog.error({ err: error, topic, partition, retryInMs: delayMs }, 'partition loop failed; retrying');
          next = null;
          await sleep(delayMs, signal);
        }
      }
    } finally {
      if (this.#init.claims.get(claimKey) === this) this.#init.claims.delete(claimKey);
    }
  }

  /** Takes the (group, topic, partition) claim unless another subscription of this process owns it. */
  #claim(claimKey: string): boolean {
    const owner = this.#init.claims.get(claimKey);
    if (owner === this) return true;
    if (owner !== undefined) return false;
    this.#init.claims.set(claimKey, this);
    return true;
  }

  /**
   * Waits until `topic` changes after `changesSeen`, or the subscription stops.
   * A change that happened during the caller's read returns at once. A wait
   * also ends after 50 poll intervals (10 s by default) as a safety net.
   */
  #waitForChange(topic: string, changesSeen: number): Promise<void> {
    const signal = this.#stopSignal.signal;
    if (signal.aborted || (this.#changes.get(topic) ?? 0) !== changesSeen) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(topic) ?? new Set<() => void>();
      this.#waiters.set(topic, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.#init.settings.pollIntervalMs * 50);
      waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #notify(topic: string): void {
    if (!this.#changes.has(topic)) return;
    this.#changes.set(topic, (this.#changes.get(topic) ?? 0) + 1);
    for (const wake of [...(this.#waiters.get(topic) ?? [])]) wake();
  }

  /** Reads the append counters of the subscribed topics every poll interval and wakes the loops of topics that changed. */
  async #watchOtherProcesses(): Promise<void> {
    const { db, settings, log: subscriptionLog } = this.#init;
    const topics = [...this.#init.partitionsByTopic.keys()];
    const signal = this.#stopSignal.signal;
    const lastSeen = new Map<string, string>();
    while (!signal.aborted) {
      try {
        const rows = await db.selectFrom('bus_topic').select(['name', 'appended']).where('name', 'in', topics).execute();
        for (const row of rows as Array<{ name: string; appended: number | string | bigint }>) {
          const appended = String(row.appended);
          const previous = lastSeen.get(row.name);
          lastSeen.set(row.name, appended);
          if (previous !== undefined && previous !== appended) this.#notify(row.name);
        }
      } catch (error) {
        subscriptionLog.error({ err: error, topics }, 'reading topic append counters failed; retrying');
      }
      await sleep(settings.pollIntervalMs, signal);
    }
  }
}

async function createSchema(db: Kysely<any>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Two processes creating the tables at once would collide on PostgreSQL's
    // catalog even with "if not exists", so they take turns.
    await sql`select pg_advisory_xact_lock(hashtext('hop.embedded-bus.schema'))`.execute(trx);
    await sql`
      create table if not exists bus_topic (
        name text primary key,
        partitions integer not null check (partitions > 0),
        appended bigint not null default 0,
        created_at timestamptz not null default now()
      )
    `.execute(trx);
    await sql`
      create table if not exists bus_message (
        topic text not null references bus_topic (name),
        partition integer not null,
        "offset" bigint not null,
        key text,
        value text not null,
        headers jsonb not null default '{}'::jsonb,
        appended_at timestamptz not null default now(),
        primary key (topic, partition, "offset")
      )
    `.execute(trx);
    await sql`
      create table if not exists bus_offset (
        group_id text not null,
        topic text not null,
        partition integer not null,
        next_offset bigint not null,
        updated_at timestamptz not null default now(),
        primary key (group_id, topic, partition)
      )
    `.execute(trx);
  });
}

async function readCommittedOffset(db: Kysely<any>, groupId: string, topic: string, partition: number): Promise<bigint> {
  const row = await db
    .selectFrom('bus_offset')
    .select('next_offset')
    .where('group_id', '=', groupId)
    .where('topic', '=', topic)
    .where('partition', '=', partition)
    .executeTakeFirst();
  // A group without a committed offset starts at the earliest message.
  return row ? BigInt(row.next_offset) : 0n;
}

async function commitOffset(db: Kysely<any>, groupId: string, topic: string, partition: number, nextOffset: bigint) {
  await db
    .insertInto('bus_offset')
    .values({ group_id: groupId, topic, partition, next_offset: nextOffset.toString() })
    .onConflict((conflict) =>
      conflict.columns(['group_id', 'topic', 'partition']).doUpdateSet({
        next_offset: nextOffset.toString(),
        updated_at: sql`now()`,
      }),
    )
    .execute();
}

function toBusMessage(row: MessageRow): BusMessage {
  const headers = typeof row.headers === 'string' ? (JSON.parse(row.headers) as Record<string, string>) : row.headers;
  return {
    topic: row.topic,
    partition: Number(row.partition),
    offset: String(row.offset),
    key: row.key,
    value: row.value,
    headers: { ...(headers ?? {}) },
    timestamp: new Date(row.appended_at).getTime(),
  };
}

function backoff(settings: Settings, attempts: number): number {
  return Math.min(settings.retryBackoffMs * 2 ** (attempts - 1), settings.maxRetryBackoffMs);
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

/**
 * Returns the partition for `key`, which is Kafka's murmur2 hash of the key's
 * UTF-8 bytes with the sign bit cleared, modulo the partition count. Apache
 * Kafka's BuiltInPartitioner and kafkajs's DefaultPartitioner compute the same
 * value (bus.test.ts compares it with kafkajs's).
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/** Kafka's 32-bit murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c. */
function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;

  const blocks = length >> 2;
  for (let i = 0; i < blocks; i++) {
    const index = i * 4;
    let k = (data[index]! & 0xff) | ((data[index + 1]! & 0xff) << 8) | ((data[index + 2]! & 0xff) << 16) | ((data[index + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }

  const tail = blocks * 4;
  switch (length & 3) {
    case 3:
      h ^= (data[tail + 2]! & 0xff) << 16;
    // falls through
    case 2:
      h ^= (data[tail + 1]! & 0xff) << 8;
    // falls through
    case 1:
      h ^= data[tail]! & 0xff;
      h = Math.imul(h, m);
  }

  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
