import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../config.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { createTestDatabase, requireService } from '../../test/support/services.ts';
import { createLocalAccount } from './accounts.ts';
import { authSettingsFromConfig } from './principal.ts';
import { formatVietnamTime } from './routes.ts';
import { sha256Hex } from './tokens.ts';

const adminPassword = 'trâu cày ruộng sáng sớm';
const memberPassword = 'mưa phùn gió bấc tháng giêng';

// Each test signs in from its own address (X-Forwarded-For with HOP_TRUST_PROXY=on),
// so the per-IP sign-in limit of one test does not spill into the next.
let nextAddress = 1;
function freshIp(): string {
  nextAddress += 1;
  return `198.51.100.${nextAddress}`;
}

interface SignedIn {
  status: number;
  body: any;
  headers: Headers;
  /** `hop_session=<token>`, ready for a Cookie header. */
  cookie: string | null;
}

async function login(hop: TestPlatform, username: string, password: string, ip = freshIp()): Promise<SignedIn> {
  const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': ip });
  const setCookie = response.headers.get('set-cookie');
  const cookie = setCookie ? (/^(hop_session=[^;]+)/.exec(setCookie)?.[1] ?? null) : null;
  return { ...response, cookie };
}

async function createAdmin(hop: TestPlatform, username: string): Promise<string> {
  const { userId } = await createLocalAccount(hop.platform.database.db, {
    username,
    displayName: 'Nguyễn Thị Hòa',
    password: adminPassword,
    systemRole: 'admin',
  });
  return userId;
}

describe('sign-in on the embedded default', () => {
  let hop: TestPlatform;

  before(async () => {
    hop = await startTestPlatform({ HOP_TRUST_PROXY: 'on' });
    await createAdmin(hop, 'hoa.nt');
    await createLocalAccount(hop.platform.database.db, {
      username: 'binh.tv',
      displayName: 'Trần Văn Bình',
      password: memberPassword,
      systemRole: 'member',
    });
  });
  after(async () => {
    await hop.stop();
  });

  test('login sets the session cookie', async () => {
    const signedIn = await login(hop, 'Hoa.NT', adminPassword);
    assert.equal(signedIn.status, 200);
    assert.equal(signedIn.body.user.username, 'hoa.nt');
    assert.equal(signedIn.body.user.displayName, 'Nguyễn Thị Hòa');
    assert.equal(signedIn.body.user.systemRole, 'admin');
    assert.match(signedIn.body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(signedIn.cookie, 'a hop_session cookie is set');

    const setCookie = signedIn.headers.get('set-cookie')!;
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/, 'no Secure attribute on plain http');
  });

  test('session stored only as a hash', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const token = signedIn.cookie!.slice('hop_session='.length);
    const rows = await hop.platform.database.db.selectFrom('web_session').select('id').execute();
    assert.ok(rows.length > 0);
    assert.ok(rows.every((row) => row.id !== token && /^[0-9a-f]{64}$/.test(row.id)));
  });

  test('Secure cookie behind https', () => {
    const config = loadConfig({ PUBLIC_BASE_URL: 'https://hop.example.gov.vn' });
    assert.equal(authSettingsFromConfig(config).secureCookie, true);
    assert.equal(authSettingsFromConfig(loadConfig({})).secureCookie, false);
  });

  test('wrong password is rejected', async () => {
    const rejected = await login(hop, 'binh.tv', 'not the password at all');
    assert.equal(rejected.status, 401);
    assert.equal(rejected.body.error.code, 'INVALID_CREDENTIALS');
    assert.equal(rejected.body.error.message, 'Tên đăng nhập hoặc mật khẩu không đúng.');
    assert.equal(rejected.cookie, null);
  });

  test('unknown user gets the same error', async () => {
    const wrongPassword = await login(hop, 'binh.tv', 'not the password at all');
    const unknownUser = await login(hop, 'khong.co.ai', 'not the password at all');
    assert.equal(unknownUser.status, wrongPassword.status);
    assert.deepEqual(unknownUser.body, wrongPassword.body);
  });

  test('lock-out after five failures', async () => {
    await createLocalAccount(hop.platform.database.db, {
      username: 'lan.pt',
      displayName: 'Phạm Thị Lan',
      password: memberPassword,
      systemRole: 'member',
    });
    const ip = freshIp();
    for (let attempt = 1; attempt <= 4; attempt++) {
      const rejected = await login(hop, 'lan.pt', `wrong password ${attempt}`, ip);
      assert.equal(rejected.status, 401, `attempt ${attempt}`);
      assert.equal(rejected.body.error.code, 'INVALID_CREDENTIALS', `attempt ${attempt}`);
    }

    const before = Date.now();
    const locked = await login(hop, 'lan.pt', 'wrong password 5', ip);
    assert.equal(locked.status, 423);
    assert.equal(locked.body.error.code, 'ACCOUNT_LOCKED');
    const lockedUntil = new Date(locked.body.error.details.lockedUntil);
    const lockMs = lockedUntil.getTime() - before;
    assert.ok(lockMs > 14 * 60_000, `locked for ${lockMs} ms`);
    assert.ok(lockMs <= 15 * 60_000 + 5000, `locked for ${lockMs} ms`);
    const shown = formatVietnamTime(new Date(Math.ceil(lockedUntil.getTime() / 60_000) * 60_000));
    assert.equal(
      locked.body.error.message,
      `Tài khoản tạm khóa vì đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ${shown} (giờ Việt Nam).`,
    );
    assert.match(locked.body.error.message_en, /retry after \d{4}-\d\d-\d\dT/);
    assert.ok(Number(locked.headers.get('retry-after')) > 800);

    const rightPassword = await login(hop, 'lan.pt', memberPassword, freshIp());
    assert.equal(rightPassword.status, 423, 'the right password does not open a locked account');

    await hop.platform.database.db
      .updateTable('local_account')
      .set({ locked_until: new Date(Date.now() - 1000) })
      .where('username', '=', 'lan.pt')
      .execute();
    const afterLock = await login(hop, 'lan.pt', memberPassword, freshIp());
    assert.equal(afterLock.status, 200, 'the account opens when the lock has passed');
    const account = await hop.platform.database.db
      .selectFrom('local_account')
      .select(['failed_attempts', 'locked_until'])
      .where('username', '=', 'lan.pt')
      .executeTakeFirstOrThrow();
    assert.equal(account.failed_attempts, 0);
    assert.equal(account.locked_until, null);
  });

  test('Vietnam time format', () => {
    assert.equal(formatVietnamTime(new Date('2026-03-05T07:35:00Z')), '14:35 ngày 05/03/2026');
  });

  test('login rate limit per IP', async () => {
    const ip = freshIp();
    for (let attempt = 1; attempt <= 10; attempt++) {
      const rejected = await login(hop, `khong.ton.tai.${attempt}`, 'some password here', ip);
      assert.equal(rejected.status, 401, `attempt ${attempt}`);
    }
    const limited = await login(hop, 'khong.ton.tai.11', 'some password here', ip);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, `Retry-After ${retryAfter}`);
    assert.ok(retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.body.error.details.retryAfterSeconds, retryAfter);
  });

  test('login rate limit per user name', async () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const rejected = await login(hop, 'khong.ton.tai.nua', 'some password here');
      assert.equal(rejected.status, 401, `attempt ${attempt}`);
    }
    const limited = await login(hop, 'KHONG.TON.TAI.NUA', 'some password here');
    assert.equal(limited.status, 429);
    assert.ok(limited.headers.get('retry-after'));
  });

  test('login rejects a form post', async () => {
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', 'username=hoa.nt&password=x', {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': freshIp(),
    });
    assert.equal(response.status, 415);
    assert.equal(response.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('login validates the body', async () => {
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username: 'hoa.nt' }, { 'x-forwarded-for': freshIp() });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'VALIDATION_FAILED');
  });

  test('me with the cookie', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: signedIn.cookie! });
    assert.equal(me.status, 200);
    assert.equal(me.body.kind, 'user');
    assert.equal(me.body.user.username, 'hoa.nt');
    assert.equal(me.body.user.systemRole, 'admin');
    assert.equal(me.body.csrfToken, signedIn.body.csrfToken);
  });

  test('me without the cookie', async () => {
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me');
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'AUTH_REQUIRED');
  });

  test('me with a forged cookie', async () => {
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: 'hop_session=forged-token-value' });
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'SESSION_INVALID');
  });

  test('logout revokes the session', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const logout = await hop.requestAs(null, 'POST', '/api/v1/auth/logout', undefined, {
      cookie: signedIn.cookie!,
      'x-csrf-token': signedIn.body.csrfToken,
    });
    assert.equal(logout.status, 204);
    assert.match(logout.headers.get('set-cookie') ?? '', /hop_session=;/);

    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: signedIn.cookie! });
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'SESSION_INVALID');
  });

  test('CSRF token missing is rejected', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const missing = await hop.requestAs(null, 'POST', '/api/v1/auth/logout', undefined, { cookie: signedIn.cookie! });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, 'CSRF_TOKEN_INVALID');

    const wrong = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'x' }, { cookie: signedIn.cookie!, 'x-csrf-token': 'wrong' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'CSRF_TOKEN_INVALID');

    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: signedIn.cookie! });
    assert.equal(me.status, 200, 'the session survives a rejected request');
  });

  test('expired session is rejected', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const token = signedIn.cookie!.slice('hop_session='.length);
    await hop.platform.database.db
      .updateTable('web_session')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', sha256Hex(token))
      .execute();
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: signedIn.cookie! });
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'SESSION_EXPIRED');
  });

  test('forged cookie acts as anonymous', async () => {
    const listed = await hop.requestAs(null, 'GET', '/api/v1/meetings', undefined, { cookie: 'hop_session=forged-token-value' });
    assert.equal(listed.status, 401);
    assert.equal(listed.body.error.code, 'AUTH_REQUIRED');
    const health = await hop.requestAs(null, 'GET', '/healthz', undefined, { cookie: 'hop_session=forged-token-value' });
    assert.equal(health.status, 200);
  });

  test('API key create, use and revoke', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const admin = { cookie: signedIn.cookie!, 'x-csrf-token': signedIn.body.csrfToken };

    const created = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'Cổng dịch vụ công', scopes: ['meetings:read', 'meetings:write'] }, admin);
    assert.equal(created.status, 201);
    const token: string = created.body.token;
    assert.match(token, /^hop_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.slice(4, 12), created.body.apiKey.prefix);
    assert.equal(created.body.apiKey.name, 'Cổng dịch vụ công');
    assert.deepEqual(created.body.apiKey.scopes, ['meetings:read', 'meetings:write']);
    assert.equal(created.body.apiKey.revokedAt, null);

    const stored = await hop.platform.database.db.selectFrom('api_key').select(['secret_hash']).where('id', '=', created.body.apiKey.id).executeTakeFirstOrThrow();
    assert.match(stored.secret_hash, /^[0-9a-f]{64}$/);
    assert.equal(token.includes(stored.secret_hash), false, 'only the hash is stored');

    const listed = await hop.requestAs(null, 'GET', '/api/v1/admin/api-keys', undefined, admin);
    assert.equal(listed.status, 200);
    const item = listed.body.apiKeys.find((key: { id: string }) => key.id === created.body.apiKey.id);
    assert.equal(item.prefix, created.body.apiKey.prefix);
    assert.equal(JSON.stringify(listed.body).includes(token), false, 'the list never shows the secret');

    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { authorization: `Bearer ${token}` });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { kind: 'api-key', keyId: created.body.apiKey.id, scopes: ['meetings:read', 'meetings:write'] });
    const used = await hop.platform.database.db.selectFrom('api_key').select('last_used_at').where('id', '=', created.body.apiKey.id).executeTakeFirstOrThrow();
    assert.ok(used.last_used_at, 'last_used_at is set');

    const byKey = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'key from key' }, { authorization: `Bearer ${token}` });
    assert.equal(byKey.status, 403, 'a bearer request needs no CSRF token but an API key is not an admin');
    assert.equal(byKey.body.error.code, 'ADMIN_REQUIRED');

    const revoked = await hop.requestAs(null, 'DELETE', `/api/v1/admin/api-keys/${created.body.apiKey.id}`, undefined, admin);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.apiKey.revokedAt);

    const afterRevoke = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { authorization: `Bearer ${token}` });
    assert.equal(afterRevoke.status, 401);
    assert.equal(afterRevoke.body.error.code, 'API_KEY_REVOKED');

    const unknown = await hop.requestAs(null, 'DELETE', '/api/v1/admin/api-keys/00000000-0000-4000-8000-000000000000', undefined, admin);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'API_KEY_NOT_FOUND');
  });

  test('API key with a wrong secret', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const created = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'Hệ thống văn bản' }, { cookie: signedIn.cookie!, 'x-csrf-token': signedIn.body.csrfToken });
    assert.equal(created.status, 201);
    const token: string = created.body.token;
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { authorization: `Bearer ${tampered}` });
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'API_KEY_INVALID');
  });

  test('garbage bearer is rejected', async () => {
    for (const authorization of ['Bearer garbage', 'Bearer hop_zz_zz', 'Basic aG9wOmhvcA==', 'Bearer']) {
      const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { authorization });
      assert.equal(me.status, 401, authorization);
      assert.equal(me.body.error.code, 'API_KEY_INVALID', authorization);
    }
  });

  test('admin routes need an admin', async () => {
    const anonymous = await hop.requestAs(null, 'GET', '/api/v1/admin/api-keys');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 'AUTH_REQUIRED');

    const member = await login(hop, 'binh.tv', memberPassword);
    assert.equal(member.status, 200);
    const listed = await hop.requestAs(null, 'GET', '/api/v1/admin/api-keys', undefined, { cookie: member.cookie! });
    assert.equal(listed.status, 403);
    assert.equal(listed.body.error.code, 'ADMIN_REQUIRED');
  });

  test('API key request is validated', async () => {
    const signedIn = await login(hop, 'hoa.nt', adminPassword);
    const admin = { cookie: signedIn.cookie!, 'x-csrf-token': signedIn.body.csrfToken };
    const badScope = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'x', scopes: ['Meetings Read'] }, admin);
    assert.equal(badScope.status, 400);
    assert.equal(badScope.body.error.code, 'VALIDATION_FAILED');
    const noName = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { scopes: [] }, admin);
    assert.equal(noName.status, 400);
  });

  test('duplicate user name is refused', async () => {
    await assert.rejects(createAdmin(hop, 'HOA.NT'), (error: Error & { problem?: string }) => error.problem === 'username-taken');
  });
});

describe('sign-in on PostgreSQL', () => {
  let hop: TestPlatform | null = null;
  let drop: (() => Promise<void>) | null = null;

  after(async () => {
    await hop?.stop();
    await drop?.();
  });

  test('login and API key', async (t) => {
    const adminUrl = requireService(t, 'postgres');
    if (!adminUrl) return;
    const database = await createTestDatabase(adminUrl);
    drop = database.drop;
    hop = await startTestPlatform({ DATABASE_URL: database.url });
    await createAdmin(hop, 'admin.tinh');

    const signedIn = await login(hop, 'admin.tinh', adminPassword);
    assert.equal(signedIn.status, 200);
    const admin = { cookie: signedIn.cookie!, 'x-csrf-token': signedIn.body.csrfToken };

    const wrong = await login(hop, 'admin.tinh', 'not the password at all');
    assert.equal(wrong.body.error.code, 'INVALID_CREDENTIALS');
    const failed = await hop.platform.database.db.selectFrom('local_account').select('failed_attempts').executeTakeFirstOrThrow();
    assert.equal(failed.failed_attempts, 1);

    const created = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'Tích hợp', scopes: ['meetings:read'] }, admin);
    assert.equal(created.status, 201);
    const me = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { authorization: `Bearer ${created.body.token}` });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.scopes, ['meetings:read']);

    const revoked = await hop.requestAs(null, 'DELETE', `/api/v1/admin/api-keys/${created.body.apiKey.id}`, undefined, admin);
    assert.equal(revoked.status, 200);
    const afterRevoke = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { authorization: `Bearer ${created.body.token}` });
    assert.equal(afterRevoke.body.error.code, 'API_KEY_REVOKED');

    const logout = await hop.requestAs(null, 'POST', '/api/v1/auth/logout', undefined, admin);
    assert.equal(logout.status, 204);
    const meAfter = await hop.requestAs(null, 'GET', '/api/v1/auth/me', undefined, { cookie: signedIn.cookie! });
    assert.equal(meAfter.body.error.code, 'SESSION_INVALID');
  });
});
