import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { topics } from '../lib/contract/topics.ts';
import type { Bus, BusMessage, Subscription } from '../lib/adapters/bus/bus.ts';
import type { Logger } from '../lib/log.ts';
import type { FunctionEvent, FunctionResult } from '../lib/runtime/function.ts';
import type { Invoker } from './invoker.ts';
import type { RegisteredFunction } from './registry.ts';

/**
 * The Kafka→function bridge: hop's open replacement for OpenFaaS's Kafka
 * connector. One consumer group per function (`hop-fn-NAME`, or `groupPrefix`
 * and the name), one message at a time per partition, so each meeting's events
 * reach a function in order.
 *
 * For every message:
 * - 2xx from the function: done, the offset is committed.
 * - 4xx: the message is invalid for that function, so it goes to the
 *   dead-letter topic with the reason at once, without retry, and is committed.
 * - 5xx, a throw, a time-out or an unreachable function: retried with
 *   exponential backoff and full jitter; after `maxAttempts` it is dead-lettered.
 * The offset is committed only after one of these ends, and a dead-letter
 * publish that fails is thrown to the bus, which then delivers the message again.
 *
 * A function with `com.hop.batch-size` gets up to that many consecutive
 * messages of a partition in one call, as a CloudEvents JSON batch, whenever
 * the partition has a backlog; the same rules then apply to each event's result.
 */
export interface BridgeOptions {
  bus: Bus;
  invoker: Invoker;
  functions: RegisteredFunction[];
  /** Consumer group of each function: this prefix and the function name (default `hop-fn-`). */
  groupPrefix?: string;
  log: Logger;
  maxAttempts: number;
  backoffMs: number;
  backoffMaxMs: number;
}

export const deadLetterHeaders = {
  reason: 'hop-dlq-reason',
  code: 'hop-dlq-code',
  function: 'hop-dlq-function',
  topic: 'hop-dlq-topic',
  partition: 'hop-dlq-partition',
  offset: 'hop-dlq-offset',
  attempts: 'hop-dlq-attempts',
  at: 'hop-dlq-at',
} as const;

type Outcome = { kind: 'done' } | { kind: 'reject'; code: string; reason: string } | { kind: 'retry'; reason: string };

function errorCodeOf(body: unknown): { code: string; message: string } | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : 'UNKNOWN';
  const message =
    'message_en' in error && typeof error.message_en === 'string'
      ? error.message_en
      : 'message' in error && typeof error.message === 'string'
        ? error.message
        : '';
  const details = 'details' in error ? JSON.stringify(error.details).slice(0, 500) : '';
  return { code, message: details ? `${message} ${details}` : message };
}

function classify(result: FunctionResult): Outcome {
  if (result.status >= 200 && result.status < 300) return { kind: 'done' };
  const error = errorCodeOf(result.body);
  if (result.status >= 400 && result.status < 500) {
    return {
      kind: 'reject',
      code: error?.code ?? `HTTP_${result.status}`,
      reason: error?.message || `function answered ${result.status}`,
    };
  }
  return { kind: 'retry', reason: `function answered ${result.status}${error ? ` ${error.code}` : ''}` };
}

/**
 * Upper bound of the messages' total size in one batch call. The function
 * runner accepts request bodies up to 1 MiB by default (MAX_BODY_BYTES).
 */
const MAX_BATCH_BYTES = 512 * 1024;

const batchResultsSchema = z.object({
  results: z.array(z.object({ status: z.number().int().min(100).max(599) }).passthrough()),
});

/** Reads a batch call's per-event results; null when the call failed as a whole or its results do not match the events. */
function batchOutcomes(result: FunctionResult, count: number): Outcome[] | null {
  if (result.status < 200 || result.status >= 300) return null;
  const parsed = batchResultsSchema.safeParse(result.body);
  if (!parsed.success || parsed.data.results.length !== count) return null;
  return parsed.data.results.map((item) => classify({ status: item.status, body: item, headers: {} }));
}

export class KafkaBridge {
  readonly #options: BridgeOptions;
  readonly #subscriptions: Subscription[] = [];
  readonly #stopping = new AbortController();

  constructor(options: BridgeOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { bus, functions, log } = this.#options;
    const consumers = functions.filter((fn) => fn.topics.length > 0);
    await bus.ensureTopics([...new Set([...consumers.flatMap((fn) => fn.topics), topics.deadLetter])]);

    for (const fn of consumers) {
      const batchSize = fn.batchSize;
      const subscription = await bus.subscribe({
        groupId: `${this.#options.groupPrefix ?? 'hop-fn-'}${fn.name}`,
        topics: fn.topics,
        fromBeginning: true,
        handle: (message) => this.#deliver(fn.name, message),
        ...(batchSize ? { batch: { maxMessages: batchSize, handle: (messages: BusMessage[]) => this.#deliverBatches(fn.name, messages) } } : {}),
      });
      this.#subscriptions.push(subscription);
      log.info({ fn: fn.name, topics: fn.topics, batchSize }, 'bridge subscribed');
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.allSettled(this.#subscriptions.map((subscription) => subscription.stop()));
    this.#subscriptions.length = 0;
  }

  async #deliver(functionName: string, message: BusMessage): Promise<void> {
    const { invoker, maxAttempts, backoffMs, backoffMaxMs } = this.#options;
    const log = this.#options.log.child({
      fn: functionName,
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
    });

    let body: unknown;
    try {
      body = JSON.parse(message.value);
    } catch {
      await this.#deadLetter(functionName, message, 'EVENT_INVALID', 'message value is not JSON', 0, log);
      return;
    }

    const event: FunctionEvent = {
      method: 'POST',
      path: '/',
      query: {},
      headers: {
        ...message.headers,
        'content-type': 'application/cloudevents+json',
        'x-topic': message.topic,
        'x-partition': String(message.partition),
        'x-offset': message.offset,
      },
      body,
      params: {},
      principal: { kind: 'anonymous' },
    };

    for (let attempt = 1; ; attempt++) {
      let outcome: Outcome;
      try {
        outcome = classify(await invoker.invoke(functionName, event));
      } catch (error) {
        outcome = { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
        log.warn({ err: error, attempt }, 'function call failed');
      }

      if (outcome.kind === 'done') return;
      if (outcome.kind === 'reject') {
        await this.#deadLetter(functionName, message, outcome.code, outcome.reason, attempt, log);
        return;
      }
      if (attempt >= maxAttempts) {
        await this.#deadLetter(functionName, message, 'RETRIES_EXHAUSTED', outcome.reason, attempt, log);
        return;
      }
      if (this.#stopping.signal.aborted) throw new Error('bridge stopping; message left uncommitted');

      const ceiling = Math.min(backoffMaxMs, backoffMs * 2 ** (attempt - 1));
      const delay = Math.round(Math.random() * ceiling);
      log.info({ attempt, delayMs: delay, reason: outcome.reason }, 'retrying function call');
      try {
        await sleep(delay, undefined, { signal: this.#stopping.signal });
      } catch {
        throw new Error('bridge stopping; message left uncommitted');
      }
    }
  }

  /** Splits a run of messages into calls whose bodies stay under MAX_BATCH_BYTES, and delivers them in order. */
  async #deliverBatches(functionName: string, messages: BusMessage[]): Promise<void> {
    let start = 0;
    while (start < messages.length) {
      let end = start + 1;
      let bytes = messages[start]!.value.length;
      while (end < messages.length && bytes + messages[end]!.value.length <= MAX_BATCH_BYTES) {
        bytes += messages[end]!.value.length;
        end++;
      }
      await this.#deliverBatch(functionName, messages.slice(start, end));
      start = end;
    }
  }

  /**
   * Delivers consecutive messages of one partition in one call, as a
   * CloudEvents JSON batch. The function returns one result per event: 2xx
   * done, 4xx dead-lettered at once. When the call fails as a whole (a throw,
   * a 5xx, or results that do not match the events), the function has applied
   * none of them, so they are delivered again one at a time, with the retries
   * and dead-lettering of single delivery.
   */
  async #deliverBatch(functionName: string, messages: BusMessage[]): Promise<void> {
    if (messages.length === 1) return this.#deliver(functionName, messages[0]!);
    const first = messages[0]!;
    const log = this.#options.log.child({
      fn: functionName,
      topic: first.topic,
      partition: first.partition,
      offset: first.offset,
      lastOffset: messages[messages.length - 1]!.offset,
    });

    const parsed: { message: BusMessage; body: unknown }[] = [];
    for (const message of messages) {
      try {
        parsed.push({ message, body: JSON.parse(message.value) });
      } catch {
        await this.#deadLetter(functionName, message, 'EVENT_INVALID', 'message value is not JSON', 0, log.child({ offset: message.offset }));
      }
    }
    if (parsed.length === 0) return;

    const event: FunctionEvent = {
      method: 'POST',
      path: '/',
      query: {},
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        'x-topic': first.topic,
        'x-partition': String(first.partition),
        'x-offset': first.offset,
      },
      body: parsed.map((item) => item.body),
      params: {},
      principal: { kind: 'anonymous' },
    };

    let outcomes: Outcome[] | null = null;
    try {
      const result = await this.#options.invoker.invoke(functionName, event);
      outcomes = batchOutcomes(result, parsed.length);
      if (!outcomes) log.warn({ status: result.status, events: parsed.length }, 'batch call failed; delivering its events one at a time');
    } catch (error) {
      log.warn({ err: error, events: parsed.length }, 'batch call failed; delivering its events one at a time');
    }

    if (!outcomes || outcomes.some((outcome) => outcome.kind === 'retry')) {
      for (const item of parsed) await this.#deliver(functionName, item.message);
      return;
    }
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.kind !== 'reject') continue;
      const message = parsed[index]!.message;
      await this.#deadLetter(functionName, message, outcome.code, outcome.reason, 1, log.child({ offset: message.offset }));
    }
  }

  async #deadLetter(
    functionName: string,
    message: BusMessage,
    code: string,
    reason: string,
    attempts: number,
    log: Logger,
  ): Promise<void> {
    await this.#options.bus.publish(topics.deadLetter, [
      {
        key: message.key ?? '',
        value: message.value,
        headers: {
          ...message.headers,
          [deadLetterHeaders.reason]: reason.slice(0, 1000),
          [deadLetterHeaders.code]: code,
          [deadLetterHeaders.function]: functionName,
          [deadLetterHeaders.topic]: message.topic,
          [deadLetterHeaders.partition]: String(message.partition),
          [deadLetterHeaders.offset]: message.offset,
          [deadLetterHeaders.attempts]: String(attempts),
          [deadLetterHeaders.at]: new Date().toISOString(),
        },
      },
    ]);
    log.warn({ code, reason, attempts }, 'message dead-lettered');
  }
}
