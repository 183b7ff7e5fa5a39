import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Webhook } from 'standardwebhooks';
import type { Database, NotificationDeliveryRow, WebhookEndpointRow } from '../lib/adapters/db/schema.ts';
import { MailSendError, type MailSender } from '../lib/adapters/notify/smtp.ts';
import { postWebhook } from '../lib/adapters/notify/webhook-http.ts';
import { webhookPayloadSchema, type WebhookPayload } from '../lib/contract/notifications.ts';
import { loadAllowList } from '../lib/domain/notifications/endpoints.ts';
import { claimDeliveries, completeDelivery, type Completion } from '../lib/domain/notifications/queue.ts';
import { classifyWebhookResponse, defaultRetryPolicy, nextAttemptAt, type AttemptOutcome, type RetryPolicy } from '../lib/domain/notifications/retry.ts';
import { checkWebhookTarget, systemResolver, type Resolver } from '../lib/domain/notifications/target-check.ts';
import type { Logger } from '../lib/log.ts';

/**
 * The notification delivery worker: sends the deliveries that
 * notification-fanout writes, as signed webhooks (Standard Webhooks) and as
 * e-mail. Every gateway runs one, and they share the queue in
 * `lib/domain/notifications/queue.ts`. So each delivery is sent by one worker
 * at a time and each target's deliveries go out in order. A slow target holds
 * only its own slot.
 */
export interface DeliveryWorkerOptions {
  db: Kysely<Database>;
  log: Logger;
  /** Null when SMTP is not configured; e-mail deliveries then wait for a worker that has it. */
  mail: MailSender | null;
  /** Deliveries sent at the same time, each to a different target. */
  concurrency?: number;
  /** Limit of one webhook request (connect to response headers) and of one e-mail send. */
  requestTimeoutMs?: number;
  /** How long a claim lasts; must exceed the request time-out with margin, because an expired lease lets another worker send again. */
  leaseMs?: number;
  /** Time between looks at the queue when there is nothing to do. */
  pollIntervalMs?: number;
  retry?: RetryPolicy;
  now?: () => Date;
  /** Uniform random number in [0, 1) for the backoff jitter. */
  random?: () => number;
  resolver?: Resolver;
  /** Unique per worker; recorded as the lease owner. */
  workerId?: string;
}

const USER_AGENT = 'hop-webhooks/1';

export class DeliveryWorker {
  readonly #options: Required<Omit<DeliveryWorkerOptions, 'mail'>> & { mail: MailSender | null };
  readonly #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #sent = 0;

  constructor(options: DeliveryWorkerOptions) {
    this.#options = {
      concurrency: 16,
      requestTimeoutMs: 10_000,
      leaseMs: 120_000,
      pollIntervalMs: 1_000,
      retry: defaultRetryPolicy,
      now: () => new Date(),
      random: Math.random,
      resolver: systemResolver,
      workerId: `delivery-worker-${randomUUID()}`,
      ...options,
    };
    if (this.#options.leaseMs < 2 * this.#options.requestTimeoutMs) {
      throw new Error(`leaseMs (${this.#options.leaseMs}) must be at least twice requestTimeoutMs (${this.#options.requestTimeoutMs})`);
    }
  }

  get workerId(): string {
    return this.#options.workerId;
  }

  /** Attempts finished by this worker (any outcome). */
  get attemptCount(): number {
    return this.#sent;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Asks the worker to look at the queue now instead of at its next poll. */
  wake(): void {
    this.#wake?.();
  }

  /** Stops claiming, aborts the requests in flight and hands their deliveries back to the queue. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Claims up to `concurrency` deliveries and sends them, without the loop.
   * Returns how many it claimed. Tests call it with a fake clock.
   */
  async runOnce(): Promise<number> {
    const claimed = await this.claim(this.#options.concurrency);
    await Promise.all(claimed.map((delivery) => this.#attempt(delivery)));
    return claimed.length;
  }

  /** Claims deliveries without sending them; exposed so tests can play a worker that dies after claiming. */
  async claim(limit: number): Promise<NotificationDeliveryRow[]> {
    const { db, workerId, leaseMs, mail, now } = this.#options;
    return claimDeliveries(db, { workerId, now: now(), leaseMs, limit, emailEnabled: mail !== null });
  }

  async #run(): Promise<void> {
    const { log, concurrency, pollIntervalMs } = this.#options;
    let failures = 0;
    log.info({ workerId: this.workerId, concurrency }, 'delivery worker started');

    while (!this.#stopping.signal.aborted) {
      const free = concurrency - this.#inFlight.size;
      let claimed: NotificationDeliveryRow[] = [];
      if (free > 0) {
        try {
          claimed = await this.claim(free);
          if (failures > 0) log.info({ failures }, 'delivery worker recovered');
          failures = 0;
        } catch (error) {
          failures++;
          // The first failure and then every tenth, so a database outage does not flood the log.
          if (failures === 1 || failures % 10 === 0) log.error({ err: error, failures }, 'delivery worker failed to claim deliveries');
        }
      }
      for (const delivery of claimed) {
        const task: Promise<void> = this.#attempt(delivery).finally(() => {
          this.#inFlight.delete(task);
          this.wake();
        });
        this.#inFlight.add(task);
      }
      if (claimed.length > 0 && claimed.length === free) continue;

      const delay = failures > 0 ? Math.min(30_000, pollIntervalMs * 2 ** Math.min(failures, 5)) : pollIntervalMs;
      await this.#idle(delay);
    }
    log.info({ workerId: this.workerId, attempts: this.#sent }, 'delivery worker stopped');
  }

  /** Waits `delay` ms, or less when woken or stopped; the timer and the abort listener are removed either way. */
  #idle(delay: number): Promise<void> {
    const signal = this.#stopping.signal;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, delay);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  /** Sends one claimed delivery and records the outcome. Never throws. */
  async #attempt(delivery: NotificationDeliveryRow): Promise<void> {
    const { db, now, retry, random, workerId } = this.#options;
    const log = this.#options.log.child({ deliveryId: delivery.id, channel: delivery.channel, target: delivery.target_key, attempt: delivery.attempt_count });

    let completion: Completion;
    try {
      const outcome = delivery.channel === 'webhook' ? await this.#sendWebhook(delivery) : await this.#sendEmail(delivery);
      if (this.#stopping.signal.aborted && outcome.kind === 'retry') {
        completion = { kind: 'release' };
      } else if (outcome.kind === 'retry') {
        const next = nextAttemptAt(retry, new Date(delivery.first_attempt_at!), delivery.attempt_count, outcome.retryAfterMs, now(), random);
        completion = next
          ? { kind: 'retry', nextAttemptAt: next, error: outcome.error, statusCode: outcome.statusCode }
          : { kind: 'dead', error: `gave up after ${delivery.attempt_count} attempts in ${retry.maxAgeMs / 3_600_000} h: ${outcome.error}`, statusCode: outcome.statusCode, disableEndpoint: false };
      } else {
        completion = outcome;
      }
    } catch (error) {
      // Only a bug in this code gets here; the delivery is retried like a failed attempt.
      log.error({ err: error }, 'delivery attempt failed unexpectedly');
      const next = nextAttemptAt(retry, new Date(delivery.first_attempt_at!), delivery.attempt_count, null, now(), random);
      const message = error instanceof Error ? error.message : String(error);
      completion = next ? { kind: 'retry', nextAttemptAt: next, error: message, statusCode: null } : { kind: 'dead', error: message, statusCode: null, disableEndpoint: false };
    }

    this.#sent++;
    try {
      const recorded = await completeDelivery(db, delivery, workerId, now(), completion);
      if (!recorded) log.warn({ outcome: completion.kind }, 'delivery lease was lost before the outcome was recorded; another worker owns it');
      else if (completion.kind === 'delivered') log.info('notification delivered');
      else if (completion.kind === 'retry') log.warn({ error: completion.error, statusCode: completion.statusCode, nextAttemptAt: completion.nextAttemptAt.toISOString() }, 'notification delivery failed; will retry');
      else if (completion.kind === 'dead') log.error({ error: completion.error, statusCode: completion.statusCode, disableEndpoint: completion.disableEndpoint }, 'notification delivery is dead');
    } catch (error) {
      // The lease expires and another attempt follows, so the delivery is not lost.
      log.error({ err: error, outcome: completion.kind }, 'recording the delivery outcome failed');
    }
  }

  async #sendWebhook(delivery: NotificationDeliveryRow): Promise<AttemptOutcome> {
    const { db, now, resolver, requestTimeoutMs } = this.#options;
    const endpoint = await db.selectFrom('webhook_endpoint').selectAll().where('id', '=', delivery.endpoint_id!).executeTakeFirst();
    if (!endpoint) return { kind: 'dead', error: `webhook endpoint ${delivery.endpoint_id} no longer exists`, statusCode: null, disableEndpoint: false };

    const check = await checkWebhookTarget(endpoint.url, await loadAllowList(db), resolver);
    if (!check.ok) return { kind: 'retry', error: `target check refused ${endpoint.url}: ${check.reason}`, statusCode: null, retryAfterMs: null };

    const body = JSON.stringify(storedPayload(delivery));
    const sentAt = now();
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': signatures(endpoint, delivery.id, sentAt, body),
    };
    try {
      const response = await postWebhook({ url: check.url, address: check.address, headers, body, timeoutMs: requestTimeoutMs, signal: this.#stopping.signal });
      return classifyWebhookResponse(response.statusCode, response.retryAfter, sentAt);
    } catch (error) {
      return { kind: 'retry', error: `POST ${check.url.origin} (${check.address}) failed: ${error instanceof Error ? error.message : String(error)}`, statusCode: null, retryAfterMs: null };
    }
  }

  async #sendEmail(delivery: NotificationDeliveryRow): Promise<AttemptOutcome> {
    const { mail, requestTimeoutMs } = this.#options;
    if (!mail) return { kind: 'retry', error: 'SMTP is not configured in this gateway (HOP_SMTP_URL)', statusCode: null, retryAfterMs: null };
    const { data } = storedPayload(delivery);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      // Each SMTP step has its own time-out; this bounds the whole conversation.
      timer = setTimeout(() => reject(new Error(`sending the e-mail took longer than ${3 * requestTimeoutMs} ms`)), 3 * requestTimeoutMs);
    });
    try {
      await Promise.race([
        mail.send({
          to: { name: data.recipient.name, address: delivery.email_address! },
          subject: data.subject,
          text: data.text,
          html: data.html,
          ics: data.ics,
          deliveryId: delivery.id,
        }),
        timeout,
      ]);
      return { kind: 'delivered', statusCode: null };
    } catch (error) {
      if (error instanceof MailSendError && error.permanent) {
        return { kind: 'dead', error: `SMTP server rejected the message permanently: ${error.message}`, statusCode: error.responseCode, disableEndpoint: false };
      }
      const statusCode = error instanceof MailSendError ? error.responseCode : null;
      return { kind: 'retry', error: `sending the e-mail failed: ${error instanceof Error ? error.message : String(error)}`, statusCode, retryAfterMs: null };
    } finally {
      clearTimeout(timer);
    }
  }
}

function storedPayload(delivery: NotificationDeliveryRow): WebhookPayload {
  const value = typeof delivery.payload === 'string' ? JSON.parse(delivery.payload) : delivery.payload;
  return webhookPayloadSchema.parse(value);
}

/**
 * Returns the `webhook-signature` header: the signature with the current
 * secret, followed by one with the previous secret while it is still valid
 * after a rotation (Standard Webhooks separates signatures with spaces, and a
 * receiver accepts any that matches).
 */
function signatures(endpoint: WebhookEndpointRow, messageId: string, sentAt: Date, body: string): string {
  const values = [new Webhook(endpoint.secret).sign(messageId, sentAt, body)];
  const previousValid = endpoint.previous_secret && endpoint.previous_secret_expires_at && new Date(endpoint.previous_secret_expires_at).getTime() > sentAt.getTime();
  if (previousValid) values.push(new Webhook(endpoint.previous_secret!).sign(messageId, sentAt, body));
  return values.join(' ');
}
