/**
 * The permission policy on the meeting routes, through HTTP with real
 * sessions: an organiser schedules for their unit, an invited member sees and
 * joins, a member of another unit sees nothing, a guest waits for the time
 * window, and anonymous callers are asked to sign in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalAccount } from './auth/accounts.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';

const password = 'mật khẩu đủ dài 2026';
let ipCounter = 10;

interface Session {
  userId: string;
  headers: Record<string, string>;
}

async function signIn(hop: TestPlatform, username: string, systemRole: 'organiser' | 'member', displayName: string, unitId: string): Promise<Session> {
  const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole });
  await hop.platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: 'chuyên viên' }).execute();
  const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.0.${ipCounter++}` });
  assert.equal(response.status, 200, `sign-in of ${username}`);
  const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie, 'session cookie set');
  return { userId, headers: { cookie, 'x-csrf-token': response.body.csrfToken } };
}

describe('meeting routes enforce the policy', () => {
  let hop: TestPlatform;
  let unitA: string;
  let unitB: string;
  let organiserA: Session;
  let memberA: Session;
  let memberB: Session;
  let meeting: { id: string; participants: { inviteKey: string; role: string }[] };

  const as = (session: Session | null, method: string, path: string, body?: unknown) =>
    hop.requestAs(null, method, path, body, session?.headers ?? {});

  before(async () => {
    hop = await startTestPlatform();
    unitA = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Thông tin và Truyền thông' })).body.id;
    unitB = (await hop.request('POST', '/api/v1/units', { kind: 'commune', name: 'UBND xã A Roàng' })).body.id;
    organiserA = await signIn(hop, 'thuky.stttt', 'organiser', 'Lê Thị Thư', unitA);
    memberA = await signIn(hop, 'chuyenvien.stttt', 'member', 'Phan Văn Minh', unitA);
    memberB = await signIn(hop, 'canbo.aroang', 'member', 'Hồ Văn Đức', unitB);
  });
  after(async () => {
    await hop.stop();
  });

  test('anonymous caller must sign in', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/meetings'],
      ['POST', '/api/v1/meetings'],
      ['GET', '/api/v1/meetings/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const response = await as(null, method, path, method === 'POST' ? meetingRequest({ unitId: unitA }) : undefined);
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.equal(response.body.error.code, 'AUTH_REQUIRED');
    }
  });

  test('organiser schedules for own unit', async () => {
    const created = await as(
      organiserA,
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId: unitA,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        participants: [
          { name: 'Phan Văn Minh', userId: memberA.userId, role: 'participant' },
          { name: 'Khách mời Viettel', email: 'khach@example.vn', role: 'guest' },
        ],
      }),
    );
    assert.equal(created.status, 201);
    assert.equal(created.body.unitId, unitA);
    meeting = created.body;
  });

  test('organiser cannot schedule for other unit', async () => {
    const response = await as(organiserA, 'POST', '/api/v1/meetings', meetingRequest({ unitId: unitB }));
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'PERMISSION_DENIED');
  });

  test('member cannot schedule', async () => {
    const response = await as(memberA, 'POST', '/api/v1/meetings', meetingRequest({ unitId: unitA }));
    assert.equal(response.status, 403);
  });

  test('missing CSRF token rejected', async () => {
    const response = await hop.requestAs(null, 'POST', '/api/v1/meetings', meetingRequest({ unitId: unitA }), { cookie: organiserA.headers.cookie! });
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'CSRF_TOKEN_INVALID');
  });

  test('invited member sees and joins', async () => {
    const listed = await as(memberA, 'GET', '/api/v1/meetings');
    assert.equal(listed.status, 200);
    assert.ok(listed.body.meetings.some((item: { id: string }) => item.id === meeting.id));

    const fetched = await as(memberA, 'GET', `/api/v1/meetings/${meeting.id}`);
    assert.equal(fetched.status, 200);

    const join = await as(memberA, 'POST', `/api/v1/meetings/${meeting.id}/join`, {});
    assert.equal(join.status, 503, 'passes the invitation check; media is off in this test');
    assert.equal(join.body.error.code, 'MEDIA_OFF');
  });

  test('invited member cannot cancel', async () => {
    const response = await as(memberA, 'POST', `/api/v1/meetings/${meeting.id}/cancel`, {});
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'PERMISSION_DENIED');
  });

  test('other unit sees nothing', async () => {
    const listed = await as(memberB, 'GET', '/api/v1/meetings');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.meetings.length, 0);

    const fetched = await as(memberB, 'GET', `/api/v1/meetings/${meeting.id}`);
    assert.equal(fetched.status, 404, 'the title does not leak');
    assert.equal(fetched.body.error.code, 'MEETING_NOT_FOUND');

    const cancel = await as(memberB, 'POST', `/api/v1/meetings/${meeting.id}/cancel`, {});
    assert.equal(cancel.status, 404);

    const join = await as(memberB, 'POST', `/api/v1/meetings/${meeting.id}/join`, {});
    assert.equal(join.status, 403);
    assert.equal(join.body.error.code, 'NOT_INVITED');
  });

  test('organiser sees unit meetings', async () => {
    const listed = await as(organiserA, 'GET', '/api/v1/meetings');
    assert.ok(listed.body.meetings.some((item: { id: string }) => item.id === meeting.id));
  });

  test('whole unit invited', async () => {
    const created = await as(organiserA, 'POST', '/api/v1/meetings', meetingRequest({ unitId: unitA, participants: [], invitedUnitIds: [unitA] }));
    assert.equal(created.status, 201);
    const names = created.body.participants.map((participant: { name: string }) => participant.name).sort();
    assert.deepEqual(names, ['Lê Thị Thư', 'Phan Văn Minh']);
    assert.ok(created.body.participants.every((participant: { inviteKey: string }) => participant.inviteKey.length > 20));

    const listed = await as(memberA, 'GET', '/api/v1/meetings');
    assert.ok(listed.body.meetings.some((item: { id: string }) => item.id === created.body.id), 'a member of the unit sees it');
    const hidden = await as(memberB, 'GET', `/api/v1/meetings/${created.body.id}`);
    assert.equal(hidden.status, 404);

    const unknown = await as(organiserA, 'POST', '/api/v1/meetings', meetingRequest({ unitId: unitA, invitedUnitIds: ['00000000-0000-4000-8000-000000000000'] }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'INVITED_UNIT_NOT_FOUND');
  });

  test('guest outside window rejected', async () => {
    const later = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId: unitA,
        startsAt: new Date(Date.now() + 3 * 60 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 4 * 60 * 60_000).toISOString(),
        participants: [{ name: 'Khách mời', email: 'khach2@example.vn', role: 'guest' }],
      }),
    );
    const guestKey = later.body.participants[0].inviteKey;
    const response = await as(null, 'POST', `/api/v1/meetings/${later.body.id}/join`, { inviteKey: guestKey });
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'OUTSIDE_GUEST_WINDOW');
  });

  test('guest inside window passes', async () => {
    const guestKey = meeting.participants.find((participant) => participant.role === 'guest')!.inviteKey;
    const response = await as(null, 'POST', `/api/v1/meetings/${meeting.id}/join`, { inviteKey: guestKey });
    assert.equal(response.body.error.code, 'MEDIA_OFF', 'passes the window check; media is off in this test');
  });

  test('organiser cancels unit meeting', async () => {
    const response = await as(organiserA, 'POST', `/api/v1/meetings/${meeting.id}/cancel`, { reason: 'Bão' });
    assert.equal(response.status, 200);
    assert.equal(response.body.status, 'cancelled');
  });
});

describe('write rate limit on meeting routes', () => {
  let hop: TestPlatform;

  before(async () => {
    hop = await startTestPlatform({ HOP_WRITE_RATE_PER_MINUTE: '3' });
  });
  after(async () => {
    await hop.stop();
  });

  test('fourth write in a minute gets 429', async () => {
    for (let index = 0; index < 3; index++) {
      const response = await hop.request('POST', '/api/v1/meetings', meetingRequest());
      assert.equal(response.status, 201, `write ${index + 1}`);
    }
    const limited = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);

    const read = await hop.request('GET', '/api/v1/meetings');
    assert.equal(read.status, 200, 'reads are not limited');
  });
});
