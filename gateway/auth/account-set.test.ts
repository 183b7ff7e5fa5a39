/**
 * Local accounts for anyone in the directory: an admin sets a user name and
 * password over the API, the person signs in with them, and a reset ends the
 * person's sessions. Runs on the embedded default (PGlite).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';

let ipCounter = 0;
const freshIp = () => `192.0.2.${(ipCounter++ % 250) + 1}`;

describe('admin sets local accounts', () => {
  let hop: TestPlatform;
  let userId: string;

  before(async () => {
    hop = await startTestPlatform();
    const created = await hop.request('POST', '/api/v1/users', { displayName: 'Trần Văn Bình', email: 'binh@example.gov.vn', systemRole: 'organiser', memberships: [] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    userId = created.body.id;
  });

  after(async () => {
    await hop?.stop();
  });

  const login = async (username: string, password: string) => {
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': freshIp() });
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1] ?? null;
    return { ...response, cookie };
  };

  it('creates an account the person signs in with', async () => {
    const set = await hop.request('PUT', `/api/v1/users/${userId}/account`, { username: ' Binh.TV ', password: 'bốn từ dễ nhớ thôi' });
    assert.equal(set.status, 201, JSON.stringify(set.body));
    assert.equal(set.body.username, 'binh.tv');

    const signedIn = await login('binh.tv', 'bốn từ dễ nhớ thôi');
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.ok(signedIn.cookie);
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: signedIn.cookie! });
    assert.equal(me.body.user.id, userId);
    assert.equal(me.body.user.systemRole, 'organiser');
  });

  it('a reset ends the old sessions', async () => {
    const before = await login('binh.tv', 'bốn từ dễ nhớ thôi');
    assert.equal(before.status, 200);
    const reset = await hop.request('PUT', `/api/v1/users/${userId}/account`, { username: 'binh.tv', password: 'một mật khẩu mới dài' });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));

    const old = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: before.cookie! });
    assert.notEqual(old.body?.user?.id, userId, 'the old session no longer signs the person in');
    assert.equal((await login('binh.tv', 'bốn từ dễ nhớ thôi')).status, 401);
    assert.equal((await login('binh.tv', 'một mật khẩu mới dài')).status, 200);
  });

  it('rejects weak passwords and bad names', async () => {
    const weak = await hop.request('PUT', `/api/v1/users/${userId}/account`, { username: 'binh.tv', password: 'ngắn' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'PASSWORD_TOO_WEAK');
    assert.match(weak.body.error.details[0].message, /ít nhất 12 ký tự/);

    const badName = await hop.request('PUT', `/api/v1/users/${userId}/account`, { username: 'Bình TV', password: 'một mật khẩu mới dài' });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.code, 'USERNAME_INVALID');

    const unknown = await hop.request('PUT', '/api/v1/users/00000000-0000-4000-8000-000000000000/account', { username: 'ai.do', password: 'một mật khẩu mới dài' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'USER_NOT_FOUND');

    const extra = await hop.request('PUT', `/api/v1/users/${userId}/account`, { username: 'binh.tv', password: 'một mật khẩu mới dài', role: 'admin' });
    assert.equal(extra.status, 400);
  });

  it('rejects a user name someone else has', async () => {
    const other = await hop.request('POST', '/api/v1/users', { displayName: 'Lê Thị Cúc', systemRole: 'member', memberships: [] });
    const taken = await hop.request('PUT', `/api/v1/users/${other.body.id}/account`, { username: 'binh.tv', password: 'một mật khẩu khác dài' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'USERNAME_TAKEN');
  });

  it('only admins set accounts', async () => {
    const organiser = await login('binh.tv', 'một mật khẩu mới dài');
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: organiser.cookie! });
    const refused = await hop.requestAs(null, 'PUT', `/api/v1/users/${userId}/account`, { username: 'binh.tv', password: 'tự đổi mật khẩu dài' }, {
      cookie: organiser.cookie!,
      'x-csrf-token': me.body.csrfToken,
    });
    assert.equal(refused.status, 403);
    assert.equal((await hop.requestAs(null, 'PUT', `/api/v1/users/${userId}/account`, { username: 'x.y', password: 'một mật khẩu mới dài' })).status, 401);
  });

  it('the audit record has no password', async () => {
    const records = await hop.request('GET', `/api/v1/audit?action=user.account-set&entityId=${userId}`);
    assert.equal(records.status, 200, JSON.stringify(records.body));
    const text = JSON.stringify(records.body);
    assert.match(text, /binh\.tv/);
    assert.doesNotMatch(text, /mật khẩu|dễ nhớ/);
  });
});
