/**
 * The live board across gateways: two gateways on one PostgreSQL database, a
 * board open on the second, a mark written through the first. The board must
 * show the change within a second.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase } from '../test/support/services.ts';
import { createLocalAccount } from './auth/accounts.ts';

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set';

/** Reads server-sent events from a fetch response body and yields each `board` event's data. */
async function* boards(body: ReadableStream<Uint8Array>): AsyncGenerator<any> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.split('\n').includes('event: board')) continue;
      const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
      yield JSON.parse(data);
    }
  }
}

describe('attendance board across gateways', { skip }, () => {
  let first: TestPlatform;
  let second: TestPlatform;
  let drop: () => Promise<void>;

  before(async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    drop = database.drop;
    first = await startTestPlatform({ DATABASE_URL: database.url });
    second = await startTestPlatform({ DATABASE_URL: database.url, HOP_BRIDGE: 'off', HOP_RELAY: 'off' });
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
    await drop?.();
  });

  test('mark on one gateway reaches a board on another', async (t) => {
    const password = 'mật khẩu đủ dài 2026';
    const { userId } = await createLocalAccount(first.platform.database.db, { username: 'chutri.board', displayName: 'Phan Văn Hùng', password, systemRole: 'member' });
    const created = await first.request('POST', '/api/v1/meetings', meetingRequest({
      startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
      participants: [{ name: 'Phan Văn Hùng', userId, role: 'chair' }, { name: 'Trần Văn Bình' }],
    }));
    assert.equal(created.status, 201);
    const meetingId = created.body.id as string;
    const login = await second.requestAs(null, 'POST', '/api/v1/auth/login', { username: 'chutri.board', password });
    const cookie = /^(hop_session=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;

    const controller = new AbortController();
    const response = await fetch(`${second.baseUrl}/api/v1/meetings/${meetingId}/attendance/stream`, { headers: { cookie }, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const stream = boards(response.body!);
    const initial = (await stream.next()).value;
    assert.equal(initial.summary.invited, 2);
    assert.equal(initial.summary.present, 0);

    const started = performance.now();
    // An API key with the attendance:write scope marks, as an e-office integration would.
    const marked = await first.request('PUT', `/api/v1/meetings/${meetingId}/attendance/${created.body.participants[1].id}`, { status: 'present_in_person' });
    assert.equal(marked.status, 200);
    const markedAt = performance.now();
    const updated = (await stream.next()).value;
    const delay = performance.now() - markedAt;
    controller.abort();
    t.diagnostic(`board on the second gateway updated ${Math.round(delay)} ms after the mark (${Math.round(markedAt - started)} ms for the requests)`);
    assert.equal(updated.summary.present, 1);
    assert.ok(delay < 1000, `board updated after ${delay} ms`);

    const denied = await fetch(`${second.baseUrl}/api/v1/meetings/${meetingId}/attendance/stream`);
    assert.equal(denied.status, 401);
  });
});
