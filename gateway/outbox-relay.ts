import { sql, type Kysely } from 'kysely';
import type { Bus } from '../lib/adapters/bus/bus.ts';
import type { Database } from '../lib/adapters/db/schema.ts';
import type { Logger } from '../lib/log.ts';

/**
 * The outbox relay: publishes events that functions wrote to the `outbox` table
 * and marks them published. A crash after publishing and before marking makes
 * the relay publish those rows again, so delivery is at least once. Consumers
 * drop repeats by event id (`processed_event`).
 *
 * Rows go out in id order, so the events of one meeting keep the order in which
 * their transactions inserted them. On PostgreSQL a transaction-scoped advisory
 * lock lets only one gateway relay at a time; PGlite serves one process only.
 */
export interface OutboxRelayOptions {
  db: Kysely<Database>;
  dialect: 'postgres' | 'pglite';
  bus: Bus;
  log: Logger;
  batchSize?: number;
  idleIntervalMs?: number;
}

/** Arbitrary constant shared by every gateway: the advisory lock id of the relay. */
const RELAY_LOCK_ID = 7_214_661_030;

export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  readonly #stopping = new AbortController();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #published = 0;

  constructor(options: OutboxRelayOptions) {
    this.#options = { batchSize: 200, idleIntervalMs: 250, ...options };
  }

  get publishedCount(): number {
    return this.#published;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Asks the relay to look at the outbox now instead of at its next poll. */
  wake(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    this.wake();
    await this.#loop;
  }

  /** Publishes one batch; returns how many rows went out. Exposed for tests. */
  async relayOnce(): Promise<number> {
    const { db, dialect } = this.#options;
    if (dialect === 'pglite') return this.#publishBatch(db);

    return db.transaction().execute(async (trx) => {
      const lock = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${RELAY_LOCK_ID}) as locked`.execute(trx);
      if (!lock.rows[0]?.locked) return 0;
      return this.#publishBatch(trx);
    });
  }

  async #publishBatch(db: Kysely<Database>): Promise<number> {
    const { bus, batchSize } = this.#options;
    const rows = await db
      .selectFrom('outbox')
      .select(['id', 'topic', 'message_key', 'payload', 'headers'])
      .where('published_at', 'is', null)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) return 0;

    // Consecutive rows of one topic go out in one ordered publish call.
    let start = 0;
    while (start < rows.length) {
      let end = start + 1;
      while (end < rows.length && rows[end]!.topic === rows[start]!.topic) end++;
      const run = rows.slice(start, end);
      await bus.publish(
        run[0]!.topic,
        run.map((row) => ({
          key: row.message_key,
          value: typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
          headers: row.headers,
        })),
      );
      start = end;
    }

    await db
      .updateTable('outbox')
      .set({ published_at: new Date() })
      .where(
        'id',
        'in',
        rows.map((row) => row.id),
      )
      .execute();
    this.#published += rows.length;
    return rows.length;
  }

  /**
   * Waits `delay` ms, or less when woken or stopped. The timer and the abort
   * listener end with the wait, so frequent wake-ups leave none behind.
   */
  #idle(delay: number): Promise<void> {
    const stopping = this.#stopping.signal;
    if (stopping.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.removeEventListener('abort', done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, delay);
      stopping.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  async #run(): Promise<void> {
    const { log, idleIntervalMs } = this.#options;
    let failures = 0;
    log.info('outbox relay started');

    while (!this.#stopping.signal.aborted) {
      let published = 0;
      try {
        published = await this.relayOnce();
        if (failures > 0) log.info({ failures }, 'outbox relay recovered');
        failures = 0;
      } catch (error) {
        failures++;
        // Log the first failure and then every tenth, so an outage does not flood the log.
        if (failures === 1 || failures % 10 === 0) log.error({ err: error, failures }, 'outbox relay failed to publish');
      }
      if (published > 0) continue;

      const delay = failures > 0 ? Math.min(30_000, idleIntervalMs * 2 ** Math.min(failures, 7)) : idleIntervalMs;
      await this.#idle(delay);
    }
    log.info({ published: this.#published }, 'outbox relay stopped');
  }
}
