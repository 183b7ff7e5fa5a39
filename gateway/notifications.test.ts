/**
 * Notification delivery through the whole gateway on real PostgreSQL. It
 * covers the admin API of webhook endpoints, the allow-list and the
 * dead-letter list. A notification event that a producer writes to the outbox
 * travels through the relay, the bus, notification-fanout and the delivery
 * worker to a receiver on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { BusMessage, Subscription } from '../lib/adapters/bus/bus.ts';
import { appendToOutbox } from '../lib/adapters/db/outbox.ts';
import { newEvent } from '../lib/contract/events.ts';
import type { NotificationRequested } from '../lib/contract/notifications.ts';
import { topics } from '../lib/contract/topics.ts';
import { errorCatalog } from '../lib/errors.ts';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase, requireService, waitFor } from '../test/support/services.ts';
import { deadLetterHeaders } from './bridge.ts';

interface Received {
  headers: Record<string, string>;
  body: string;
}

describe('notification delivery through the gateway', () => {
  let hop: TestPlatform | undefined;
  let drop: (() => Promise<void>) | undefined;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  let answer = 200;
  let deadLetters: BusMessage[] = [];
  let deadLetterSubscription: Subscription | undefined;

  before(async (t) => {
    const adminUrl = requireService(t as never, 'postgres');
    if (!adminUrl) return;
    const database = await createTestDatabase(adminUrl);
    drop = database.drop;
    hop = await startTestPlatform({ DATABASE_URL: database.url });

    receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hop/notifications`;

    deadLetterSubscription = await hop.platform.bus.subscribe({
      groupId: `notifications-test-${randomUUID()}`,
      topics: [topics.deadLetter],
      fromBeginning: true,
      handle: async (message) => {
        deadLetters.push(message);
      },
    });
  });

  after(async () => {
    await deadLetterSubscription?.stop();
    await hop?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await drop?.();
  });

  function notification(overrides: Partial<NotificationRequested> = {}): NotificationRequested {
    return {
      notificationId: randomUUID(),
      kind: 'scheduled',
      meetingId: randomUUID(),
      occurrenceId: null,
      recipient: { participantId: randomUUID(), userId: null, name: 'Phan Thị Thu', email: 'thu@hop.test', phone: null, language: 'vi' },
      subject: 'Giấy mời họp: Họp bàn phương án phòng chống bão',
      text: 'Kính mời tham dự cuộc họp lúc 08:00 Thứ Ba, 08/12/2026.',
      html: '<p>Kính mời tham dự cuộc họp lúc 08:00 Thứ Ba, 08/12/2026.</p>',
      ics: null,
      ...overrides,
    };
  }

  /** Writes the event to the outbox, as the meeting functions do; the relay and the bridge take it from there. */
  async function produce(data: NotificationRequested): Promise<void> {
    const event = newEvent('vn.hop.notification.requested.v1', data, { source: '/hop/functions/meeting-create', subject: data.meetingId });
    await hop!.platform.database.db.transaction().execute((trx) => appendToOutbox(trx, event, data.meetingId));
    hop!.platform.relay?.wake();
  }

  let endpointId: string;
  let secret: string;

  test('allow-list and refused URLs', async (t) => {
    if (!hop) return t.skip('no database');
    const entry = await hop.request('POST', '/api/v1/admin/webhook-targets', { target: '127.0.0.1', note: 'Máy nhận thử nghiệm' });
    assert.equal(entry.status, 201);
    assert.equal(entry.body.kind, 'cidr');
    assert.equal(entry.body.target, '127.0.0.1/32');
    const duplicate = await hop.request('POST', '/api/v1/admin/webhook-targets', { target: '127.0.0.1/32' });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'WEBHOOK_ALLOWED_TARGET_EXISTS');
    const invalid = await hop.request('POST', '/api/v1/admin/webhook-targets', { target: '10.0.0.0/40' });
    assert.equal(invalid.body.error.code, 'WEBHOOK_ALLOWED_TARGET_INVALID');
    const everything = await hop.request('POST', '/api/v1/admin/webhook-targets', { target: '169.254.0.0/16' });
    assert.equal(everything.status, 201);

    const cases: [string, string][] = [
      ['http://169.254.169.254/latest/meta-data/', 'WEBHOOK_TARGET_FORBIDDEN'],
      ['http://[fe80::1]/hook', 'WEBHOOK_TARGET_FORBIDDEN'],
      ['http://127.0.0.2:8080/hook', 'WEBHOOK_TARGET_NOT_ALLOWED'],
      ['ftp://127.0.0.1/hook', 'WEBHOOK_URL_INVALID'],
      ['http://user:secret@127.0.0.1/hook', 'WEBHOOK_URL_INVALID'],
    ];
    for (const [url, code] of cases) {
      const response = await hop.request('POST', '/api/v1/admin/webhooks', { name: 'Cổng thử', url });
      assert.equal(response.status, 400, url);
      assert.equal(response.body.error.code, code, url);
      assert.equal(response.body.error.message, errorCatalog[code as keyof typeof errorCatalog].vi);
    }
    const forbidden = await hop.request('POST', '/api/v1/admin/webhooks', { name: 'Cổng thử', url: 'http://169.254.169.254/' });
    assert.match(forbidden.body.error.message, /^Không được gửi webhook tới địa chỉ này/);

    const deleted = await hop.request('DELETE', `/api/v1/admin/webhook-targets/${everything.body.id}`);
    assert.equal(deleted.status, 204);
    const list = await hop.request('GET', '/api/v1/admin/webhook-targets');
    assert.deepEqual(list.body.targets.map((target: { target: string }) => target.target), ['127.0.0.1/32']);
  });

  test('create returns the secret once', async (t) => {
    if (!hop) return t.skip('no database');
    const created = await hop.request('POST', '/api/v1/admin/webhooks', { name: 'Hệ thống quản lý văn bản', url: receiverUrl, eventKinds: ['scheduled', 'cancelled'] });
    assert.equal(created.status, 201);
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    endpointId = created.body.id;
    secret = created.body.secret;

    const list = await hop.request('GET', '/api/v1/admin/webhooks');
    assert.equal(list.status, 200);
    assert.equal(list.body.endpoints.length, 1);
    assert.equal(list.body.endpoints[0].secret, undefined);
    assert.ok(!JSON.stringify(list.body).includes(secret.slice(6)));

    const audit = await hop.request('GET', `/api/v1/audit?entityId=${endpointId}`);
    assert.equal(audit.body.records.length, 1);
    assert.equal(audit.body.records[0].action, 'webhook-endpoint.created');
    assert.ok(!JSON.stringify(audit.body).includes(secret.slice(6)), 'the audit record has no secret');
  });

  test('outbox event reaches the receiver signed', async (t) => {
    if (!hop) return t.skip('no database');
    const data = notification();
    await produce(data);
    await produce(notification({ kind: 'reminder' }));
    await waitFor('the webhook request', () => (received.length >= 1 ? true : undefined));

    const request = received[0]!;
    const body = new Webhook(secret).verify(request.body, request.headers) as { type: string; data: NotificationRequested };
    assert.equal(body.type, 'notification.scheduled');
    assert.deepEqual(body.data, data);
    await waitFor('the delivery to be recorded', async () => {
      const list = await hop!.request('GET', `/api/v1/admin/notification-deliveries?notificationId=${data.notificationId}`);
      return list.body.deliveries[0]?.status === 'delivered' ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(received.length, 1, 'the reminder does not match the kind filter');
  });

  test('invalid event is dead-lettered', async (t) => {
    if (!hop) return t.skip('no database');
    const event = newEvent('vn.hop.notification.requested.v1', notification(), { source: '/hop/functions/meeting-update' }) as { data: Record<string, unknown> };
    event.data.recipient = { name: '', language: 'fr' };
    await hop.platform.bus.publish(topics.notifications, [{ key: randomUUID(), value: JSON.stringify(event) }]);
    const dead = await waitFor('the dead letter', () => deadLetters.find((message) => message.headers[deadLetterHeaders.function] === 'notification-fanout'));
    assert.equal(dead.headers[deadLetterHeaders.code], 'EVENT_INVALID');
    assert.match(dead.headers[deadLetterHeaders.reason] ?? '', /recipient/);
  });

  test('dead deliveries are listed and replayed', async (t) => {
    if (!hop) return t.skip('no database');
    answer = 422;
    const first = notification();
    const second = notification({ meetingId: first.meetingId, kind: 'cancelled' });
    await produce(first);
    await produce(second);
    const deadList = await waitFor('two dead deliveries', async () => {
      const list = await hop!.request('GET', `/api/v1/admin/notification-deliveries?status=dead&endpointId=${endpointId}`);
      return list.body.deliveries.length === 2 ? list.body.deliveries : undefined;
    });
    assert.equal(deadList[0].lastStatusCode, 422);
    assert.match(deadList[0].lastError, /422/);
    const bySequence = [...deadList].sort((a: { sequence: number }, b: { sequence: number }) => a.sequence - b.sequence);

    const notDead = await hop.request('POST', `/api/v1/admin/notification-deliveries/${randomUUID()}/replay`, {});
    assert.equal(notDead.body.error.code, 'NOTIFICATION_DELIVERY_NOT_FOUND');

    answer = 200;
    const before = received.length;
    const replayed = await hop.request('POST', `/api/v1/admin/webhooks/${endpointId}/replay-dead`, {});
    assert.equal(replayed.status, 200);
    assert.deepEqual(replayed.body.deliveryIds, bySequence.map((delivery: { id: string }) => delivery.id));
    await waitFor('the replayed deliveries', () => (received.length >= before + 2 ? true : undefined));
    assert.deepEqual(
      received.slice(before).map((request) => request.headers['webhook-id']),
      bySequence.map((delivery: { id: string }) => delivery.id),
    );

    const again = await hop.request('POST', `/api/v1/admin/notification-deliveries/${bySequence[0].id}/replay`, {});
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'NOTIFICATION_DELIVERY_NOT_DEAD');
    const audit = await hop.request('GET', `/api/v1/audit?entityId=${endpointId}&action=notification-delivery.replayed`);
    assert.equal(audit.body.records.length, 1);
  });

  test('rotate, update and disable', async (t) => {
    if (!hop) return t.skip('no database');
    const rotated = await hop.request('POST', `/api/v1/admin/webhooks/${endpointId}/rotate-secret`, {});
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, secret);
    assert.ok(rotated.body.previousSecretExpiresAt);

    const before = received.length;
    await produce(notification());
    await waitFor('a delivery after rotation', () => (received.length > before ? true : undefined));
    const request = received.at(-1)!;
    assert.ok(new Webhook(rotated.body.secret).verify(request.body, request.headers));
    assert.ok(new Webhook(secret).verify(request.body, request.headers), 'the previous secret still verifies');

    const refused = await hop.request('PATCH', `/api/v1/admin/webhooks/${endpointId}`, { url: 'http://[fe80::1]:9000/' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'WEBHOOK_TARGET_FORBIDDEN');
    const renamed = await hop.request('PATCH', `/api/v1/admin/webhooks/${endpointId}`, { name: 'Cổng văn bản điện tử', eventKinds: [] });
    assert.equal(renamed.status, 200);
    assert.deepEqual(renamed.body.eventKinds, []);

    const disabled = await hop.request('POST', `/api/v1/admin/webhooks/${endpointId}/disable`, {});
    assert.equal(disabled.body.enabled, false);
    const data = notification();
    await produce(data);
    await waitFor('the event to be processed', async () => {
      const row = await hop!.platform.database.db.selectFrom('processed_event').select('event_id').where('consumer', '=', 'notification-fanout').execute();
      return row.length >= 6 ? true : undefined;
    });
    const none = await hop.request('GET', `/api/v1/admin/notification-deliveries?notificationId=${data.notificationId}`);
    assert.equal(none.body.deliveries.length, 0, 'a disabled endpoint gets no new deliveries');

    const actions = (await hop.request('GET', `/api/v1/audit?entityId=${endpointId}`)).body.records.map((record: { action: string }) => record.action);
    for (const action of ['webhook-endpoint.created', 'webhook-endpoint.secret-rotated', 'webhook-endpoint.updated', 'webhook-endpoint.disabled']) {
      assert.ok(actions.includes(action), `audit has ${action}`);
    }
  });
});
