/**
 * Sign-in with the OpenID provider through the whole gateway: bearer ID tokens
 * from a real oidc-provider, user creation and update by external id, and the
 * browser's code flow from /api/v1/auth/oidc/start to a session cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOidcProvider, testUserAn, type TestOidcProvider, type TestUser } from '../../test/support/oidc-provider.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';

describe('OIDC sign-in on the gateway', () => {
  let provider: TestOidcProvider;
  let hop: TestPlatform;
  let unitSnv: string;
  let unitPtc: string;

  before(async () => {
    provider = await startOidcProvider();
    hop = await startTestPlatform({
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: provider.clientId,
      OIDC_CLIENT_SECRET: provider.clientSecret,
      OIDC_ROLE_MAP: 'hop-admin=admin,hop-organiser=organiser,hop-member=member',
      OIDC_UNITS_CLAIM: 'hop_units',
      OIDC_SCOPES: 'openid profile email hop',
    });
    provider.addRedirectUri(`${hop.baseUrl}/api/v1/auth/oidc/callback`);
    unitSnv = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ', code: 'SNV' })).body.id;
    unitPtc = (await hop.request('POST', '/api/v1/units', { kind: 'office', name: 'Phòng Tổ chức', code: 'SNV-PTC', parentId: unitSnv })).body.id;
    assert.ok(unitSnv && unitPtc, 'units created');
  });

  after(async () => {
    await hop?.stop();
    await provider?.close();
  });

  function userWith(sub: string, claims: Record<string, unknown>): TestUser {
    return { sub, claims: { ...testUserAn.claims, ...claims } };
  }

  async function membershipsOf(externalSub: string): Promise<string[]> {
    const rows = await hop.platform.database.db
      .selectFrom('membership')
      .innerJoin('app_user', 'app_user.id', 'membership.user_id')
      .select('membership.unit_id')
      .where('app_user.external_id', '=', `${provider.issuer}|${externalSub}`)
      .execute();
    return rows.map((row) => row.unit_id).sort();
  }

  test('bearer ID token shows mapped user', async () => {
    const token = await provider.getIdToken(testUserAn);
    const response = await hop.requestAs(token, 'GET', '/api/v1/auth/me');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.kind, 'user');
    assert.equal(response.body.user.displayName, 'Nguyễn Văn An');
    assert.equal(response.body.user.email, 'an.nv@sonoivu.example.gov.vn');
    assert.equal(response.body.user.systemRole, 'organiser');
    assert.equal(response.body.sessionId, null);
  });

  test('first sign-in creates user with memberships', async () => {
    const sub = 'first-sign-in';
    const token = await provider.getIdToken(userWith(sub, { name: 'Trần Thị Bích', email: 'bich@example.gov.vn', hop_units: ['SNV-PTC', 'KHONG-CO'] }));
    const response = await hop.requestAs(token, 'GET', '/api/v1/auth/me');
    assert.equal(response.status, 200, JSON.stringify(response.body));

    const row = await hop.platform.database.db
      .selectFrom('app_user')
      .selectAll()
      .where('external_id', '=', `${provider.issuer}|${sub}`)
      .executeTakeFirstOrThrow();
    assert.equal(row.display_name, 'Trần Thị Bích');
    assert.equal(row.name_search, 'tran thi bich');
    assert.equal(row.system_role, 'organiser');
    assert.deepEqual(await membershipsOf(sub), [unitPtc]);
  });

  test('later sign-in updates user', async () => {
    const sub = 'later-sign-in';
    const first = await provider.getIdToken(userWith(sub, { hop_units: ['SNV'] }));
    assert.equal((await hop.requestAs(first, 'GET', '/api/v1/auth/me')).status, 200);
    assert.deepEqual(await membershipsOf(sub), [unitSnv]);

    const second = await provider.getIdToken(
      userWith(sub, { name: 'Nguyễn Văn An (Sở Nội vụ)', realm_access: { roles: ['hop-admin'] }, hop_units: 'SNV-PTC' }),
    );
    const response = await hop.requestAs(second, 'GET', '/api/v1/auth/me');
    assert.equal(response.status, 200);
    assert.equal(response.body.user.displayName, 'Nguyễn Văn An (Sở Nội vụ)');
    assert.equal(response.body.user.systemRole, 'admin');
    assert.deepEqual(await membershipsOf(sub), [unitPtc]);
  });

  test('disabled user is rejected', async () => {
    const sub = 'disabled-user';
    const user = userWith(sub, { email: 'disabled@example.gov.vn' });
    assert.equal((await hop.requestAs(await provider.getIdToken(user), 'GET', '/api/v1/auth/me')).status, 200);
    await hop.platform.database.db
      .updateTable('app_user')
      .set({ disabled_at: new Date() })
      .where('external_id', '=', `${provider.issuer}|${sub}`)
      .execute();

    const response = await hop.requestAs(await provider.getIdToken(user), 'GET', '/api/v1/auth/me');
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'ACCOUNT_DISABLED');
  });

  test('token for another audience is 401', async () => {
    const other = await startTestPlatform({ OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: 'another-client' });
    try {
      const response = await other.requestAs(await provider.getIdToken(testUserAn), 'GET', '/api/v1/auth/me');
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'TOKEN_AUDIENCE_INVALID');
    } finally {
      await other.stop();
    }
  });

  test('garbage bearer is 401 not 500', async () => {
    for (const token of ['abc', 'a.b.c']) {
      const response = await hop.requestAs(token, 'GET', '/api/v1/auth/me');
      assert.equal(response.status, 401, token);
      assert.equal(response.body.error.code, 'TOKEN_INVALID', token);
    }
    const apiKey = await hop.requestAs(hop.adminToken, 'GET', '/api/v1/auth/me');
    assert.equal(apiKey.body.kind, 'api-key');
  });

  test('stopped provider is 503', async () => {
    const stopped = await startOidcProvider();
    const token = await stopped.getIdToken(testUserAn);
    await stopped.close();
    const other = await startTestPlatform({ OIDC_ISSUER: stopped.issuer, OIDC_CLIENT_ID: stopped.clientId });
    try {
      const response = await other.requestAs(token, 'GET', '/api/v1/auth/me');
      assert.equal(response.status, 503);
      assert.equal(response.body.error.code, 'IDENTITY_PROVIDER_UNAVAILABLE');
    } finally {
      await other.stop();
    }
  });

  test('providers route reports OIDC on', async () => {
    const response = await hop.requestAs(null, 'GET', '/api/v1/auth/providers');
    assert.equal(response.status, 200);
    assert.equal(response.body.oidc.enabled, true);
    assert.equal(response.body.oidc.startUrl, '/api/v1/auth/oidc/start');

    const message = await hop.requestAs(null, 'GET', '/api/v1/auth/errors/TOKEN_INVALID');
    assert.equal(message.status, 200);
    assert.match(message.body.error.message, /không hợp lệ/);
    assert.equal((await hop.requestAs(null, 'GET', '/api/v1/auth/errors/NO_SUCH_CODE')).status, 404);
  });

  /** Runs start → provider login → callback and returns the callback response. */
  async function browserSignIn(user: TestUser, tamper?: (callback: URL) => void): Promise<Response> {
    provider.addAccount(user);
    const start = await fetch(`${hop.baseUrl}/api/v1/auth/oidc/start?login_hint=${encodeURIComponent(user.sub)}&next=/meetings`, { redirect: 'manual' });
    assert.equal(start.status, 302);
    const stateCookie = /^(hop_oidc=[^;]+)/.exec(start.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(stateCookie, 'state cookie set');
    const authorization = new URL(start.headers.get('location')!);
    assert.equal(authorization.origin, provider.issuer);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');

    const callback = await provider.authorize(authorization.href, `${hop.baseUrl}/api/v1/auth/oidc/callback`);
    tamper?.(callback);
    return fetch(callback, { redirect: 'manual', headers: { cookie: stateCookie } });
  }

  test('browser flow issues working session', async () => {
    const user = userWith('browser-user', { name: 'Lê Thị Thư', hop_units: ['SNV'] });
    const callback = await browserSignIn(user);
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/meetings');
    const session = /(hop_session=[^;]+)/.exec(callback.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(session, 'session cookie set');

    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: session });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.displayName, 'Lê Thị Thư');
    assert.equal(me.body.user.systemRole, 'organiser');
    assert.equal(typeof me.body.csrfToken, 'string');
    assert.deepEqual(await membershipsOf('browser-user'), [unitSnv]);
  });

  test('wrong state redirects with error', async () => {
    const callback = await browserSignIn(userWith('wrong-state', {}), (url) => url.searchParams.set('state', 'forged'));
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/login.html?error=TOKEN_INVALID');
    assert.doesNotMatch(callback.headers.get('set-cookie') ?? '', /hop_session=[^;]/);
  });

  test('callback without state cookie rejected', async () => {
    const response = await fetch(`${hop.baseUrl}/api/v1/auth/oidc/callback?code=abc&state=xyz`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/login.html?error=TOKEN_INVALID');
  });
});
