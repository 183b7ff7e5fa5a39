/**
 * The notification delivery worker against real PostgreSQL, real HTTP
 * receivers and a real SMTP server, all on 127.0.0.1 (one receiver on
 * 127.0.0.2 to prove the target check refuses before connecting). Events
 * enter through the outbox as a producer writes them and reach
 * notification-fanout as the Kafka bridge delivers them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { appendToOutbox } from '../lib/adapters/db/outbox.ts';
import { createSmtpSender } from '../lib/adapters/notify/smtp.ts';
import { newEvent } from '../lib/contract/events.ts';
import type { NotificationKind, NotificationRequested } from '../lib/contract/notifications.ts';
import { listDeliveries, replayDeadDeliveriesOfEndpoint } from '../lib/domain/notifications/deliveries.ts';
import { generateWebhookSecret } from '../lib/domain/notifications/endpoints.ts';
import type { RetryPolicy } from '../lib/domain/notifications/retry.ts';
import type { Resolver } from '../lib/domain/notifications/target-check.ts';
import { log } from '../lib/log.ts';
import type { Dependencies } from '../lib/runtime/dependencies.ts';
import { invokeHandler, type FunctionEvent } from '../lib/runtime/function.ts';
import { createTestDatabase, requireService, waitFor } from '../test/support/services.ts';
import { handler as fanoutHandler } from '../functions/notification-fanout/handler.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from './delivery-worker.ts';

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  host: string;
  body: string;
}

type Reply = { status: number; headers?: Record<string, string> } | 'hang';

/** An HTTP receiver on a loopback address that records every request and responds with `reply`. */
class Receiver {
  readonly received: Received[] = [];
  connections = 0;
  reply: (request: Received) => Reply = () => ({ status: 204 });
  #server: Server;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', () => this.connections++);
  }

  async listen(host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, host, () => resolve());
    });
    return this;
  }

  get url(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://${address.address}:${address.port}/hooks/hop`;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  ids(): string[] {
    return this.received.map((request) => request.id);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: Received = {
      id: String(req.headers['webhook-id']),
      timestamp: String(req.headers['webhook-timestamp']),
      signature: String(req.headers['webhook-signature']),
      host: String(req.headers.host),
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.received.push(request);
    const reply = this.reply(request);
    if (reply === 'hang') return;
    res.writeHead(reply.status, reply.headers ?? {});
    res.end();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Verifies a received request as a receiver would, at the time the signature claims. */
function verifyAt(secret: string, request: Received): unknown {
  const expected = new Webhook(secret).sign(request.id, new Date(Number(request.timestamp) * 1000), request.body);
  assert.ok(request.signature.split(' ').includes(expected), `signature of ${request.id} does not verify`);
  return JSON.parse(request.body);
}

const fastRetry: RetryPolicy = { baseMs: 1_000, capMs: 60_000, maxAgeMs: 24 * 60 * 60 * 1000, maxRetryAfterMs: 60 * 60 * 1000 };

describe('notification delivery worker', () => {
  let databaseUrl: string;
  let drop: (() => Promise<void>) | undefined;
  let handle: DatabaseHandle;
  const extraHandles: DatabaseHandle[] = [];

  before(async (t) => {
    const adminUrl = requireService(t as never, 'postgres');
    if (!adminUrl) return;
    const created = await createTestDatabase(adminUrl);
    databaseUrl = created.url;
    drop = created.drop;
    handle = await openDatabase({ kind: 'postgres', url: databaseUrl });
    await migrateToLatest(handle.db);
    await allow('127.0.0.1/32');
  });

  after(async () => {
    for (const extra of extraHandles) await extra.close();
    await handle?.close();
    await drop?.();
  });

  function deps(overrides: Partial<Dependencies> = {}): Dependencies {
    return { db: handle.db, media: null, storage: null, log, now: () => new Date(), joinTokenSecret: 'x'.repeat(32), emailEnabled: false, ...overrides };
  }

  async function allow(target: string, port: number | null = null): Promise<void> {
    await handle.db
      .insertInto('webhook_allowed_target')
      .values({ id: randomUUID(), kind: target.includes('/') ? 'cidr' : 'host', target, port, note: null, created_by: null })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async function endpoint(url: string, eventKinds: NotificationKind[] = []): Promise<{ id: string; secret: string }> {
    const id = randomUUID();
    const secret = generateWebhookSecret();
    await handle.db
      .insertInto('webhook_endpoint')
      .values({ id, name: `Cổng nhận ${id.slice(0, 4)}`, url, secret, event_kinds: JSON.stringify(eventKinds), created_by: null })
      .execute();
    return { id, secret };
  }

  /** Disables every endpoint, so each test fans out only to the endpoints it creates. */
  async function onlyNewEndpoints(): Promise<void> {
    await handle.db.updateTable('webhook_endpoint').set({ enabled: false }).execute();
  }

  function notification(overrides: Partial<NotificationRequested> = {}): NotificationRequested {
    return {
      notificationId: randomUUID(),
      kind: 'scheduled',
      meetingId: randomUUID(),
      occurrenceId: null,
      recipient: { participantId: randomUUID(), userId: null, name: 'Nguyễn Thị Hòa', email: null, phone: '+84 905 123 456', language: 'vi' },
      subject: 'Giấy mời họp: Họp giao ban tuần',
      text: 'Kính mời chị tham dự cuộc họp giao ban tuần lúc 14:30 Thứ Hai, 07/12/2026.',
      html: '<p>Kính mời chị tham dự cuộc họp giao ban tuần lúc <b>14:30</b> Thứ Hai, 07/12/2026.</p>',
      ics: null,
      ...overrides,
    };
  }

  /**
   * Emits one notification as a producer does (outbox row) and hands it to
   * notification-fanout as the bridge does. Returns the event.
   */
  async function emit(data: NotificationRequested, options: { emailEnabled?: boolean; eventId?: string } = {}) {
    const event = newEvent('vn.hop.notification.requested.v1', data, { source: '/hop/functions/test-producer', subject: data.meetingId, ...(options.eventId ? { id: options.eventId } : {}) });
    await handle.db.transaction().execute((trx) => appendToOutbox(trx, event, data.meetingId));
    await deliverToFanout(event, options.emailEnabled ?? false);
    return event;
  }

  async function deliverToFanout(body: unknown, emailEnabled: boolean): Promise<{ status: number; body: unknown }> {
    const request: FunctionEvent = { method: 'POST', path: '/', query: {}, headers: { 'content-type': 'application/cloudevents+json' }, body, params: {}, principal: { kind: 'anonymous' } };
    const outcome = await invokeHandler(fanoutHandler, request, deps({ emailEnabled }));
    if ('error' in outcome) throw outcome.error;
    return { status: outcome.result.status, body: outcome.result.body };
  }

  function worker(options: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
    return new DeliveryWorker({ db: handle.db, log, mail: null, requestTimeoutMs: 2_000, leaseMs: 10_000, pollIntervalMs: 50, retry: fastRetry, random: () => 0.5, ...options });
  }

  async function statuses(endpointId: string): Promise<string[]> {
    const rows = await handle.db.selectFrom('notification_delivery').select('status').where('endpoint_id', '=', endpointId).orderBy('sequence').execute();
    return rows.map((row) => row.status);
  }

  async function deliveryIds(endpointId: string): Promise<string[]> {
    const rows = await handle.db.selectFrom('notification_delivery').select('id').where('endpoint_id', '=', endpointId).orderBy('sequence').execute();
    return rows.map((row) => row.id);
  }

  test('deliveries verify with standardwebhooks', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    await allow('127.0.0.1/32');
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url, ['scheduled', 'cancelled']);

    const scheduled = notification();
    const reminder = notification({ kind: 'reminder' });
    const cancelled = notification({ kind: 'cancelled', meetingId: scheduled.meetingId, ics: 'BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n' });
    for (const data of [scheduled, reminder, cancelled]) await emit(data);

    assert.equal(await worker().runOnce(), 1, 'one head of line per endpoint');
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await worker().runOnce(), 0);
    assert.deepEqual(await statuses(target.id), ['delivered', 'delivered']);

    const ids = await deliveryIds(target.id);
    assert.deepEqual(receiver.ids(), ids, 'sent in sequence order, webhook-id = delivery id');
    const webhook = new Webhook(target.secret);
    const bodies = receiver.received.map((request) =>
      webhook.verify(request.body, { 'webhook-id': request.id, 'webhook-timestamp': request.timestamp, 'webhook-signature': request.signature }),
    ) as { type: string; timestamp: string; data: NotificationRequested }[];
    assert.equal(bodies[0]!.type, 'notification.scheduled');
    assert.deepEqual(bodies[0]!.data, scheduled);
    assert.equal(bodies[1]!.type, 'notification.cancelled');
    assert.equal(bodies[1]!.data.ics, cancelled.ics);
    assert.equal(receiver.received[0]!.host, new URL(receiver.url).host);

    const first = receiver.received[0]!;
    const tampered = first.body.replace('Nguyễn Thị Hòa', 'Nguyễn Thị Hoà');
    assert.notEqual(tampered, first.body);
    assert.throws(
      () => webhook.verify(tampered, { 'webhook-id': first.id, 'webhook-timestamp': first.timestamp, 'webhook-signature': first.signature }),
      /No matching signature/,
    );
    assert.throws(
      () => new Webhook(generateWebhookSecret()).verify(first.body, { 'webhook-id': first.id, 'webhook-timestamp': first.timestamp, 'webhook-signature': first.signature }),
      /No matching signature/,
    );
  });

  test('fan-out is idempotent', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const target = await endpoint('http://127.0.0.1:9/never-called');
    const data = notification();
    const event = await emit(data);

    const again = await deliverToFanout(event, false);
    assert.equal(again.status, 200);
    const reemitted = newEvent('vn.hop.notification.requested.v1', data, { source: '/hop/functions/test-producer' });
    assert.equal((await deliverToFanout(reemitted, false)).status, 200);

    const rows = await handle.db.selectFrom('notification_delivery').select(['id', 'event_id']).where('notification_id', '=', data.notificationId).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.event_id, event.id);
    await handle.db.updateTable('webhook_endpoint').set({ enabled: false }).where('id', '=', target.id).execute();
  });

  test('batch fans out in order', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const first = await endpoint('http://127.0.0.1:9/never-called');
    const second = await endpoint('http://127.0.0.1:9/never-called-either', ['scheduled']);
    const meetingId = randomUUID();
    const data = [
      notification({ meetingId }),
      notification({ meetingId, kind: 'cancelled', recipient: { participantId: randomUUID(), userId: null, name: 'Trần Văn Bình', email: 'binh@example.gov.vn', phone: null, language: 'vi' } }),
      notification({ meetingId, recipient: { participantId: randomUUID(), userId: null, name: 'Lê Thị Thư', email: 'thu@example.gov.vn', phone: null, language: 'vi' } }),
    ];
    const events = data.map((item) => newEvent('vn.hop.notification.requested.v1', item, { source: '/hop/functions/test-producer', subject: meetingId }));
    // The e-mail tests below count the e-mail deliveries they find.
    t.after(() => handle.db.deleteFrom('notification_delivery').where('meeting_id', '=', meetingId).where('channel', '=', 'email').execute());

    // The second copy of the first event stands for a redelivery inside one batch.
    const answer = await deliverToFanout([...events, events[0]], true);
    assert.equal(answer.status, 200);
    const results = (answer.body as { results: { id: string; status: number }[] }).results;
    assert.deepEqual(results.map((result) => result.status), [200, 200, 200, 200]);

    const firstRows = await handle.db.selectFrom('notification_delivery').select(['notification_id', 'sequence']).where('endpoint_id', '=', first.id).orderBy('sequence').execute();
    assert.deepEqual(firstRows.map((row) => row.notification_id), data.map((item) => item.notificationId), 'one delivery each, in the order of the batch');
    const secondRows = await handle.db.selectFrom('notification_delivery').select('notification_id').where('endpoint_id', '=', second.id).orderBy('sequence').execute();
    assert.deepEqual(secondRows.map((row) => row.notification_id), [data[0]!.notificationId, data[2]!.notificationId], 'the kind filter applies');
    const emails = await handle.db.selectFrom('notification_delivery').select('email_address').where('channel', '=', 'email').where('meeting_id', '=', meetingId).orderBy('email_address').execute();
    assert.deepEqual(emails.map((row) => row.email_address), ['binh@example.gov.vn', 'thu@example.gov.vn']);

    const again = await deliverToFanout(events, true);
    assert.equal(again.status, 200);
    const total = await handle.db.selectFrom('notification_delivery').select('id').where('meeting_id', '=', meetingId).execute();
    assert.equal(total.length, 7, 'a batch delivered again adds nothing');
  });

  test('concurrent batches share targets', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const shared = await endpoint('http://127.0.0.1:9/never-called');
    const person = (email: string) => ({ participantId: randomUUID(), userId: null, name: 'Nguyễn Thị Hòa', email, phone: null, language: 'vi' as const });
    // Each batch reaches the same e-mail addresses in the opposite order, which locking per event could deadlock on.
    const addresses = Array.from({ length: 6 }, (_, index) => `can.bo.${index}@example.gov.vn`);
    const batch = (order: string[]) => order.map((email) => newEvent('vn.hop.notification.requested.v1', notification({ recipient: person(email) }), { source: '/hop/functions/test-producer' }));
    t.after(() => handle.db.deleteFrom('notification_delivery').where('email_address', 'in', addresses).execute());
    const answers = await Promise.all([deliverToFanout(batch(addresses), true), deliverToFanout(batch([...addresses].reverse()), true)]);
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200]);

    const rows = await handle.db.selectFrom('notification_delivery').select('sequence').where('endpoint_id', '=', shared.id).orderBy('sequence').execute();
    assert.deepEqual(rows.map((row) => Number(row.sequence)), Array.from({ length: 12 }, (_, index) => Number(rows[0]!.sequence) + index), 'one unbroken sequence per target');
  });

  test('invalid event is answered 400', async (t) => {
    if (!handle) return t.skip('no database');
    const bad = newEvent('vn.hop.notification.requested.v1', notification(), { source: '/test' }) as { data: Record<string, unknown> };
    bad.data.kind = 'birthday';
    bad.data.subject = 'Dòng một\r\nBcc: ai-do@example.com';
    const answer = await deliverToFanout(bad, false);
    assert.equal(answer.status, 400);
    const error = (answer.body as { error: { code: string; details: { path: string }[] } }).error;
    assert.equal(error.code, 'EVENT_INVALID');
    assert.deepEqual(error.details.map((detail) => detail.path).sort(), ['kind', 'subject']);
  });

  test('stale timestamp fails verification', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url);
    await emit(notification());

    const sixMinutesAgo = () => new Date(Date.now() - 6 * 60 * 1000);
    await handle.db.updateTable('notification_delivery').set({ next_attempt_at: new Date(Date.now() - 10 * 60 * 1000) }).where('endpoint_id', '=', target.id).execute();
    assert.equal(await worker({ now: sixMinutesAgo }).runOnce(), 1);
    const request = receiver.received[0]!;
    verifyAt(target.secret, request);
    assert.throws(
      () => new Webhook(target.secret).verify(request.body, { 'webhook-id': request.id, 'webhook-timestamp': request.timestamp, 'webhook-signature': request.signature }),
      /timestamp too old/,
    );
  });

  test('receiver down then up gets all in order', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url);
    let down = true;
    receiver.reply = () => (down ? { status: 503 } : { status: 200 });
    for (let index = 0; index < 4; index++) await emit(notification());
    const ids = await deliveryIds(target.id);

    let clock = new Date();
    const sender = worker({ now: () => clock });
    for (let round = 0; round < 6; round++) {
      await sender.runOnce();
      clock = new Date(clock.getTime() + fastRetry.capMs);
    }
    assert.equal(receiver.received.length, 6);
    assert.deepEqual(new Set(receiver.ids()), new Set([ids[0]]), 'only the head of line is tried while the receiver is down');
    const head = await handle.db.selectFrom('notification_delivery').selectAll().where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    assert.equal(head.status, 'pending');
    assert.equal(head.attempt_count, 6);
    assert.equal(head.last_status_code, 503);

    down = false;
    while ((await sender.runOnce()) > 0) clock = new Date(clock.getTime() + 1);
    assert.deepEqual(await statuses(target.id), ['delivered', 'delivered', 'delivered', 'delivered']);
    assert.deepEqual(receiver.ids().slice(6), ids, 'the head succeeds first, then the rest in order');
    for (const request of receiver.received) verifyAt(target.secret, request);
  });

  test('Retry-After is honoured', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url);
    receiver.reply = () => ({ status: 429, headers: { 'retry-after': '120' } });
    await emit(notification());

    const clock = new Date();
    await worker({ now: () => clock }).runOnce();
    const row = await handle.db.selectFrom('notification_delivery').selectAll().where('endpoint_id', '=', target.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.equal(new Date(row.next_attempt_at).getTime(), clock.getTime() + 120_000);

    assert.equal(await worker({ now: () => new Date(clock.getTime() + 119_000) }).runOnce(), 0, 'not due before Retry-After');
  });

  test('hanging endpoint does not delay a healthy one', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const hanging = await new Receiver().listen();
    const healthy = await new Receiver().listen();
    hanging.reply = () => 'hang';
    t.after(() => Promise.all([hanging.close(), healthy.close()]));
    await endpoint(hanging.url);
    const good = await endpoint(healthy.url);
    for (let index = 0; index < 5; index++) await emit(notification());

    const sender = worker({ requestTimeoutMs: 5_000, leaseMs: 20_000 });
    const started = Date.now();
    sender.start();
    t.after(() => sender.stop());
    await waitFor('healthy endpoint to get five deliveries', () => (healthy.received.length === 5 ? true : undefined), { timeoutMs: 4_000, intervalMs: 20 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 4_000, `healthy endpoint took ${elapsed} ms`);
    assert.deepEqual(healthy.ids(), await deliveryIds(good.id));
    assert.equal(hanging.received.length, 1, 'the hanging endpoint holds only its head of line');
    t.diagnostic(`five deliveries to the healthy endpoint in ${elapsed} ms while the other hangs`);
  });

  test('two workers deliver each once', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receivers = await Promise.all(Array.from({ length: 4 }, () => new Receiver().listen()));
    t.after(() => Promise.all(receivers.map((receiver) => receiver.close())));
    const endpoints = await Promise.all(receivers.map((receiver) => endpoint(receiver.url)));
    for (let index = 0; index < 10; index++) await emit(notification());

    // A second pool plays a second gateway.
    const second = await openDatabase({ kind: 'postgres', url: databaseUrl });
    extraHandles.push(second);
    const workers = [worker({ concurrency: 3 }), worker({ db: second.db, concurrency: 3 })];
    for (const each of workers) each.start();
    t.after(() => Promise.all(workers.map((each) => each.stop())));

    await waitFor('40 deliveries', () => (receivers.every((receiver) => receiver.received.length >= 10) ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [index, receiver] of receivers.entries()) {
      assert.deepEqual(receiver.ids(), await deliveryIds(endpoints[index]!.id), `endpoint ${index}: each once, in order`);
    }
    t.diagnostic(`attempts per worker: ${workers.map((each) => each.attemptCount).join(', ')}`);
    assert.equal(workers[0]!.attemptCount + workers[1]!.attemptCount, 40);
  });

  test('lease of a dead worker expires', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receivers = await Promise.all([new Receiver().listen(), new Receiver().listen()]);
    t.after(() => Promise.all(receivers.map((receiver) => receiver.close())));
    const endpoints = await Promise.all(receivers.map((receiver) => endpoint(receiver.url)));
    for (let index = 0; index < 3; index++) await emit(notification());

    let clock = new Date();
    const crashed = worker({ now: () => clock });
    const claimed = await crashed.claim(10);
    assert.equal(claimed.length, 2, 'the crashed worker held both heads of line');

    const survivor = worker({ now: () => clock });
    assert.equal(await survivor.runOnce(), 0, 'leased heads block their endpoints');

    clock = new Date(clock.getTime() + 10_001);
    while ((await survivor.runOnce()) > 0) clock = new Date(clock.getTime() + 1);
    for (const [index, receiver] of receivers.entries()) {
      assert.deepEqual(receiver.ids(), await deliveryIds(endpoints[index]!.id), `endpoint ${index}: each once, in order`);
      assert.deepEqual(await statuses(endpoints[index]!.id), ['delivered', 'delivered', 'delivered']);
    }
    const retaken = await handle.db.selectFrom('notification_delivery').select('attempt_count').where('id', '=', claimed[0]!.id).executeTakeFirstOrThrow();
    assert.equal(retaken.attempt_count, 2, 'the lost attempt is counted');
  });

  test('24 hours of failure is dead; replay in order', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url);
    let up = false;
    receiver.reply = () => ({ status: up ? 200 : 500 });
    for (let index = 0; index < 3; index++) await emit(notification());
    const ids = await deliveryIds(target.id);

    // The default cap of one hour keeps the number of attempts in 24 hours small; the clock jumps to each due time.
    const hourCap: RetryPolicy = { ...fastRetry, capMs: 60 * 60 * 1000 };
    let clock = new Date();
    const sender = worker({ now: () => clock, retry: hourCap });
    let rounds = 0;
    for (; rounds < 1_000; rounds++) {
      await sender.runOnce();
      const head = await handle.db.selectFrom('notification_delivery').select('next_attempt_at').where('endpoint_id', '=', target.id).where('status', '=', 'pending').orderBy('sequence').executeTakeFirst();
      if (!head) break;
      clock = new Date(Math.max(clock.getTime(), new Date(head.next_attempt_at).getTime()));
    }
    t.diagnostic(`${rounds} attempts until all three were dead`);
    assert.deepEqual(await statuses(target.id), ['dead', 'dead', 'dead']);
    const dead = await listDeliveries(handle.db, { status: 'dead', endpointId: target.id, limit: 10 });
    assert.equal(dead.deliveries.length, 3);
    for (const delivery of dead.deliveries) {
      assert.match(delivery.lastError ?? '', /gave up after \d+ attempts in 24 h: receiver answered 500/);
      assert.equal(delivery.lastStatusCode, 500);
      const window = new Date(delivery.deadAt!).getTime() - new Date(delivery.firstAttemptAt!).getTime();
      assert.equal(window, hourCap.maxAgeMs, 'the last attempt is at the end of the 24-hour window');
    }
    const before = receiver.received.length;

    up = true;
    const replayed = await handle.db.transaction().execute((trx) => replayDeadDeliveriesOfEndpoint(trx, target.id, clock));
    assert.deepEqual(replayed, ids);
    while ((await sender.runOnce()) > 0) clock = new Date(clock.getTime() + 1);
    assert.deepEqual(await statuses(target.id), ['delivered', 'delivered', 'delivered']);
    const afterReplay = receiver.received.slice(before);
    assert.deepEqual(afterReplay.map((request) => request.id), ids);
    for (const request of afterReplay) verifyAt(target.secret, request);
  });

  test('4xx is final and 410 disables', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url);
    const answers = [400, 410];
    receiver.reply = () => ({ status: answers.shift() ?? 200 });
    for (let index = 0; index < 3; index++) await emit(notification());

    const sender = worker();
    await sender.runOnce();
    await sender.runOnce();
    assert.equal(await sender.runOnce(), 0, 'a disabled endpoint gets nothing');
    assert.deepEqual(await statuses(target.id), ['dead', 'dead', 'pending']);
    const row = await handle.db.selectFrom('webhook_endpoint').selectAll().where('id', '=', target.id).executeTakeFirstOrThrow();
    assert.equal(row.enabled, false);
    assert.match(row.disabled_reason ?? '', /410 Gone/);
    const audit = await handle.db.selectFrom('audit_record').selectAll().where('entity_id', '=', target.id).execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.action, 'webhook-endpoint.disabled');
    assert.equal(audit[0]!.actor_kind, 'system');
  });

  test('refused targets are never connected', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const outside = await new Receiver().listen('127.0.0.2');
    t.after(() => outside.close());
    const targets = [
      await endpoint(outside.url),
      await endpoint('http://169.254.169.254/latest/meta-data/'),
      await endpoint('http://[fe80::1]:8080/hooks'),
      await endpoint('http://[::ffff:169.254.169.254]/'),
    ];
    await emit(notification());

    const clock = new Date();
    assert.equal(await worker({ now: () => clock }).runOnce(), 4);
    assert.equal(outside.connections, 0, 'no connection to the address outside the allow-list');
    assert.equal(outside.received.length, 0);
    for (const target of targets) {
      const row = await handle.db.selectFrom('notification_delivery').selectAll().where('endpoint_id', '=', target.id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'pending');
      assert.match(row.last_error ?? '', /^target check refused .*: .*(not in the webhook allow-list|is refused: (IPv4 link-local|IPv6 link-local))/);
      assert.equal(row.last_status_code, null);
    }
  });

  test('resolved address is pinned', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    await allow('receiver.hop.test');
    const target = await endpoint(`http://receiver.hop.test:${receiver.port}/hooks`);
    await emit(notification());

    const lookups: string[] = [];
    const resolver: Resolver = async (hostname) => {
      lookups.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    assert.equal(await worker({ resolver }).runOnce(), 1);
    assert.deepEqual(lookups, ['receiver.hop.test'], 'one lookup; the connection uses its answer');
    assert.equal(receiver.received.length, 1);
    assert.equal(receiver.received[0]!.host, `receiver.hop.test:${receiver.port}`);
    assert.deepEqual(await statuses(target.id), ['delivered']);

    const rebound: Resolver = async () => [{ address: '169.254.169.254', family: 4 }];
    await emit(notification());
    await worker({ resolver: rebound }).runOnce();
    assert.equal(receiver.received.length, 1);
    assert.deepEqual(await statuses(target.id), ['delivered', 'pending']);
  });

  test('redirects are not followed', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const elsewhere = await new Receiver().listen();
    const redirecting = await new Receiver().listen();
    t.after(() => Promise.all([elsewhere.close(), redirecting.close()]));
    redirecting.reply = () => ({ status: 307, headers: { location: elsewhere.url } });
    const target = await endpoint(redirecting.url);
    await emit(notification());

    await worker().runOnce();
    assert.equal(redirecting.received.length, 1);
    assert.equal(elsewhere.received.length, 0);
    const row = await handle.db.selectFrom('notification_delivery').selectAll().where('endpoint_id', '=', target.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.equal(row.last_status_code, 307);
    assert.match(row.last_error ?? '', /redirects are not followed/);
  });

  test('rotated secret signs with both', async (t) => {
    if (!handle) return t.skip('no database');
    await onlyNewEndpoints();
    const receiver = await new Receiver().listen();
    t.after(() => receiver.close());
    const target = await endpoint(receiver.url);
    const newSecret = generateWebhookSecret();
    await handle.db
      .updateTable('webhook_endpoint')
      .set({ secret: newSecret, previous_secret: target.secret, previous_secret_expires_at: new Date(Date.now() + 60_000) })
      .where('id', '=', target.id)
      .execute();
    await emit(notification());
    await worker().runOnce();
    const request = receiver.received[0]!;
    assert.equal(request.signature.split(' ').length, 2);
    verifyAt(newSecret, request);
    verifyAt(target.secret, request);

    await handle.db.updateTable('webhook_endpoint').set({ previous_secret_expires_at: new Date(Date.now() - 1) }).where('id', '=', target.id).execute();
    await emit(notification());
    await worker().runOnce();
    assert.equal(receiver.received[1]!.signature.split(' ').length, 1, 'the expired secret no longer signs');
    verifyAt(newSecret, receiver.received[1]!);
  });

  describe('e-mail', () => {
    let smtp: SMTPServer;
    let smtpPort: number;
    const messages: { from: string; to: string[]; raw: string }[] = [];
    const rejectRecipients = new Set<string>();

    before(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onRcptTo(address, _session, callback) {
          if (rejectRecipients.has(address.address)) return callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
          callback();
        },
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              raw: Buffer.concat(chunks).toString('utf8'),
            });
            callback();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
      smtpPort = (smtp.server.address() as AddressInfo).port;
    });

    after(async () => {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    });

    test('e-mail arrives with invite.ics', async (t) => {
      if (!handle) return t.skip('no database');
      await onlyNewEndpoints();
      const mail = createSmtpSender({ url: `smtp://127.0.0.1:${smtpPort}?ignoreTLS=true`, from: '"Hệ thống họp trực tuyến" <hop@hop.test>', timeoutMs: 2_000 });
      t.after(() => mail.close());
      const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//hop//vi', 'METHOD:REQUEST', 'BEGIN:VEVENT', 'UID:hop-test', 'SEQUENCE:0', 'DTSTART:20261207T073000Z', 'SUMMARY:Họp giao ban tuần', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
      const data = notification({ recipient: { participantId: randomUUID(), userId: null, name: 'Nguyễn Thị Hòa', email: 'Hoa.NT@hop.test', phone: null, language: 'vi' }, ics });
      await emit(data, { emailEnabled: true });
      const row = await handle.db.selectFrom('notification_delivery').selectAll().where('notification_id', '=', data.notificationId).executeTakeFirstOrThrow();
      assert.equal(row.channel, 'email');
      assert.equal(row.target_key, 'email:hoa.nt@hop.test');

      assert.equal(await worker({ mail }).runOnce(), 1);
      assert.equal(messages.length, 1);
      const message = messages[0]!;
      assert.equal(message.from, 'hop@hop.test');
      assert.deepEqual(message.to, ['Hoa.NT@hop.test']);
      assert.match(message.raw, /^Subject: =\?UTF-8\?/m);
      assert.match(message.raw, /Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
      assert.match(message.raw, /Content-Type: application\/ics; name=invite\.ics/i);
      assert.match(message.raw, /Content-Disposition: attachment; filename=invite\.ics/i);
      assert.match(message.raw, new RegExp(`^Message-ID: <${row.id}@hop\\.test>`, 'mi'));
      assert.match(message.raw, /Content-Type: text\/html/i);
      const after = await handle.db.selectFrom('notification_delivery').select('status').where('id', '=', row.id).executeTakeFirstOrThrow();
      assert.equal(after.status, 'delivered');
    });

    test('5xx SMTP reply is final', async (t) => {
      if (!handle) return t.skip('no database');
      const mail = createSmtpSender({ url: `smtp://127.0.0.1:${smtpPort}?ignoreTLS=true`, from: 'hop@hop.test', timeoutMs: 2_000 });
      t.after(() => mail.close());
      rejectRecipients.add('gone@hop.test');
      const data = notification({ recipient: { participantId: null, userId: randomUUID(), name: 'Trần Văn Bình', email: 'gone@hop.test', phone: null, language: 'en' } });
      await emit(data, { emailEnabled: true });
      await worker({ mail }).runOnce();
      const row = await handle.db.selectFrom('notification_delivery').selectAll().where('notification_id', '=', data.notificationId).executeTakeFirstOrThrow();
      assert.equal(row.status, 'dead');
      assert.equal(row.last_status_code, 550);
      assert.match(row.last_error ?? '', /rejected the message permanently/);
    });

    test('no e-mail delivery without SMTP', async (t) => {
      if (!handle) return t.skip('no database');
      const data = notification({ recipient: { participantId: null, userId: null, name: 'Lê Văn C', email: 'c@hop.test', phone: null, language: 'vi' } });
      await emit(data, { emailEnabled: false });
      const rows = await handle.db.selectFrom('notification_delivery').select('id').where('notification_id', '=', data.notificationId).execute();
      assert.equal(rows.length, 0);
    });
  });
});
