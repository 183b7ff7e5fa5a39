import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCatalog } from '../../lib/errors.ts';
import { log } from '../../lib/log.ts';
import { CronScheduler } from '../cron.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';

describe('HTTP API on the embedded default', () => {
  let hop: TestPlatform;

  before(async () => {
    hop = await startTestPlatform();
  });
  after(async () => {
    await hop.stop();
  });

  test('health and readiness', async () => {
    const health = await hop.request('GET', '/healthz');
    assert.equal(health.status, 200);
    const ready = await hop.request('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks.database, 'ok');
    assert.equal(ready.body.checks.bus, 'ok');
    assert.equal(ready.body.checks.media, 'off');
  });

  test('create, get and list a meeting', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'scheduled');
    assert.equal(created.body.timeZone, 'Asia/Ho_Chi_Minh');
    assert.equal(created.body.participants.length, 2);
    assert.equal(created.body.participants[0].role, 'chair');
    assert.equal(created.body.participants[1].role, 'participant');
    assert.match(created.body.participants[0].joinPath, /^\/join\.html\?m=[0-9a-f-]{36}&k=/);

    const fetched = await hop.request('GET', `/api/v1/meetings/${created.body.id}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.title, 'Họp giao ban tuần Sở Thông tin và Truyền thông');
    assert.equal(fetched.body.participants[0].inviteKey, undefined, 'invite keys are shown only at creation');

    const listed = await hop.request('GET', '/api/v1/meetings');
    assert.equal(listed.status, 200);
    const item = listed.body.meetings.find((meeting: { id: string }) => meeting.id === created.body.id);
    assert.equal(item.participantCount, 2);
  });

  test('title stored in NFC', async () => {
    const decomposed = 'Họp ban chỉ đạo'.normalize('NFD');
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest({ title: `  ${decomposed}  ` }));
    assert.equal(created.status, 201);
    assert.equal(created.body.title, 'Họp ban chỉ đạo'.normalize('NFC'));
  });

  test('meeting.scheduled reaches the outbox and the bus', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    const row = await hop.platform.database.db
      .selectFrom('outbox')
      .selectAll()
      .where('message_key', '=', created.body.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.topic, 'hop.meetings.v1');
    assert.equal((row.payload as { type: string }).type, 'vn.hop.meeting.scheduled.v1');

    const deadline = Date.now() + 5000;
    let published = null;
    while (Date.now() < deadline) {
      published = await hop.platform.database.db
        .selectFrom('outbox')
        .select('published_at')
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      if (published.published_at) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(published?.published_at, 'the relay marks the event published');
  });

  test('room fails plainly when media is off', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    const deadline = Date.now() + 5000;
    let roomStatus = 'pending';
    while (Date.now() < deadline && roomStatus === 'pending') {
      roomStatus = (await hop.request('GET', `/api/v1/meetings/${created.body.id}`)).body.roomStatus;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(roomStatus, 'failed');

    const key = created.body.participants[0].inviteKey;
    const join = await hop.request('POST', `/api/v1/meetings/${created.body.id}/join`, { inviteKey: key });
    assert.equal(join.status, 503);
    assert.equal(join.body.error.code, 'MEDIA_OFF');
  });

  test('cancel is idempotent', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    const first = await hop.request('POST', `/api/v1/meetings/${created.body.id}/cancel`, { reason: 'Bão số 5' });
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'cancelled');
    const second = await hop.request('POST', `/api/v1/meetings/${created.body.id}/cancel`);
    assert.equal(second.status, 200);
    assert.equal(second.body.status, 'cancelled');

    const key = created.body.participants[1].inviteKey;
    const join = await hop.request('POST', `/api/v1/meetings/${created.body.id}/join`, { inviteKey: key });
    assert.equal(join.status, 409);
    assert.equal(join.body.error.code, 'MEETING_CANCELLED');
  });

  test('cron ends a meeting past its end', async () => {
    const now = Date.now();
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({ startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 1000).toISOString() }),
    );
    assert.equal(created.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 1200));

    const cron = new CronScheduler(hop.platform.invoker, log);
    await cron.fire('meeting-end');

    const fetched = await hop.request('GET', `/api/v1/meetings/${created.body.id}`);
    assert.equal(fetched.body.status, 'ended');
    const events = await hop.platform.database.db
      .selectFrom('outbox')
      .select('payload')
      .where('message_key', '=', created.body.id)
      .where('topic', '=', 'hop.meetings.v1')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      events.map((row) => (row.payload as { type: string }).type),
      ['vn.hop.meeting.scheduled.v1', 'vn.hop.meeting.ended.v1'],
    );

    const join = await hop.request('POST', `/api/v1/meetings/${created.body.id}/join`, { inviteKey: created.body.participants[0].inviteKey });
    assert.equal(join.status, 409);
    assert.equal(join.body.error.code, 'MEETING_ENDED');
    const cancel = await hop.request('POST', `/api/v1/meetings/${created.body.id}/cancel`);
    assert.equal(cancel.status, 409);
    assert.equal(cancel.body.error.code, 'MEETING_ENDED');
  });

  test('cron schedule fires by itself', async () => {
    let calls = 0;
    const cron = new CronScheduler(
      {
        invoke: async () => {
          calls++;
          return { status: 200, headers: {}, body: {} };
        },
      },
      log,
    );
    cron.start([{ name: 'every-second', handlerDir: '', route: null, permission: null, topics: [], schedule: '* * * * * *', batchSize: null }]);
    try {
      const deadline = Date.now() + 3000;
      while (calls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      cron.stop();
    }
    assert.ok(calls >= 2, `fired ${calls} times in 3 s`);
  });

  describe('bad input', () => {
    const cases: { name: string; method?: string; path?: string; body: unknown; headers?: Record<string, string>; status: number; code: string }[] = [
      { name: 'invalid JSON', body: '{"title": "Họp', status: 400, code: 'INVALID_JSON' },
      { name: 'not JSON content type', body: 'title=x', headers: { 'content-type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'wrong types', body: meetingRequest({ title: 42, participants: 'everyone' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'missing fields', body: { title: 'Họp' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'empty body', body: '', status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unknown field', body: meetingRequest({ room: 'A' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'no participants', body: meetingRequest({ participants: [] }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'invalid e-mail', body: meetingRequest({ participants: [{ name: 'A', email: 'not-mail' }] }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'date without offset', body: meetingRequest({ startsAt: '2026-12-07T08:00:00' }), status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'end before start',
        body: meetingRequest({ startsAt: '2026-12-07T10:00:00+07:00', endsAt: '2026-12-07T09:00:00+07:00' }),
        status: 400,
        code: 'END_BEFORE_START',
      },
      { name: 'NUL in a name', body: meetingRequest({ participants: [{ name: 'An\u0000' }] }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unpaired surrogate in title', body: JSON.stringify(meetingRequest({ title: 'Họp \ud800' })), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'control character in title', body: meetingRequest({ title: 'Họp \u001b[31m' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'invisible title', body: meetingRequest({ title: '\u200b\u200b \u00a0' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'line break in title', body: meetingRequest({ title: 'Họp\ngiao ban' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'phone without digits', body: meetingRequest({ participants: [{ name: 'An', phone: '------' }] }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'year 2001', body: meetingRequest({ startsAt: '2001-01-01T08:00:00+07:00', endsAt: '2001-01-01T09:00:00+07:00' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'year 1999', body: meetingRequest({ startsAt: '1999-01-01T08:00:00+07:00', endsAt: '1999-01-01T09:00:00+07:00' }), status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'meeting of a month',
        body: meetingRequest({ startsAt: '2026-12-07T08:00:00+07:00', endsAt: '2027-01-07T08:00:00+07:00' }),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      { name: 'unknown time zone', body: meetingRequest({ timeZone: 'Asia/Hue' }), status: 400, code: 'UNKNOWN_TIME_ZONE' },
      { name: '10 MB body', body: JSON.stringify({ title: 'x'.repeat(10 * 1024 * 1024) }), status: 413, code: 'BODY_TOO_LARGE' },
      { name: 'unknown route', method: 'GET', path: '/api/v1/nothing', body: undefined, status: 404, code: 'ROUTE_NOT_FOUND' },
      { name: 'meeting id not a UUID', method: 'GET', path: '/api/v1/meetings/abc', body: undefined, status: 404, code: 'MEETING_NOT_FOUND' },
      {
        name: 'unknown meeting',
        method: 'GET',
        path: '/api/v1/meetings/00000000-0000-4000-8000-000000000000',
        body: undefined,
        status: 404,
        code: 'MEETING_NOT_FOUND',
      },
    ];

    for (const item of cases) {
      test(item.name, async () => {
        const response = await hop.request(item.method ?? 'POST', item.path ?? '/api/v1/meetings', item.body, item.headers);
        assert.equal(response.status, item.status);
        assert.equal(response.body.error.code, item.code);
        assert.equal(response.body.error.message, errorCatalog[item.code as keyof typeof errorCatalog].vi);
        assert.equal(response.body.error.message, response.body.error.message.normalize('NFC'));
      });
    }

    test('validation errors name the fields', async () => {
      const response = await hop.request('POST', '/api/v1/meetings', meetingRequest({ title: 42 }));
      assert.deepEqual(
        response.body.error.details.map((detail: { path: string }) => detail.path),
        ['title'],
      );
    });

    test('NUL in cancel reason', async () => {
      const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
      const response = await hop.request('POST', `/api/v1/meetings/${created.body.id}/cancel`, { reason: 'x\u0000' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'VALIDATION_FAILED');
      const after = await hop.request('GET', `/api/v1/meetings/${created.body.id}`);
      assert.equal(after.body.status, 'scheduled');
    });

    test('multi-line description kept', async () => {
      const created = await hop.request('POST', '/api/v1/meetings', meetingRequest({ description: '1. Báo cáo\n2. Thảo luận' }));
      assert.equal(created.status, 201);
      assert.equal(created.body.description, '1. Báo cáo\n2. Thảo luận');
    });

    test('Janus event intake rejects junk', async () => {
      const junk = await hop.request('POST', '/janus/events', { hello: 'world' });
      assert.equal(junk.status, 400);
      assert.equal(junk.body.error.code, 'JANUS_EVENT_INVALID');
      const notJson = await hop.request('POST', '/janus/events', 'nope', { 'content-type': 'application/json' });
      assert.equal(notJson.status, 400);
      const valid = await hop.request('POST', '/janus/events', [{ type: 1, emitter: 'janus-test', session_id: 42, event: { name: 'created' } }]);
      assert.equal(valid.status, 202);
      assert.equal(valid.body.accepted, 1);
    });

    test('non-invited participant cannot join', async () => {
      const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
      const other = await hop.request('POST', '/api/v1/meetings', meetingRequest());
      const keyOfOtherMeeting = other.body.participants[0].inviteKey;

      const wrongKey = await hop.request('POST', `/api/v1/meetings/${created.body.id}/join`, { inviteKey: keyOfOtherMeeting });
      assert.equal(wrongKey.status, 403);
      assert.equal(wrongKey.body.error.code, 'NOT_INVITED');

      const madeUp = await hop.request('POST', `/api/v1/meetings/${created.body.id}/join`, { inviteKey: 'x'.repeat(43) });
      assert.equal(madeUp.status, 403);

      const missing = await hop.request('POST', `/api/v1/meetings/${created.body.id}/join`, {});
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.code, 'VALIDATION_FAILED');
    });

    test('server still serves after bad input', async () => {
      const response = await hop.request('GET', '/healthz');
      assert.equal(response.status, 200);
    });
  });

  test('web client served in Vietnamese', async () => {
    const page = await hop.request('GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<html lang="vi">/);
    assert.match(page.body, /Lập lịch họp/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  });
});
