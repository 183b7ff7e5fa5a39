import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeProtectedHeader, generateKeyPair, importJWK, type JWTPayload } from 'jose';
import { HopError, type ErrorCode } from '../../errors.ts';
import { startOidcProvider, testUserAn, type TestOidcProvider } from '../../../test/support/oidc-provider.ts';
import { identityFromClaims, parseRoleMap, type ClaimMappingOptions } from './claims.ts';
import { createOidcVerifier, oidcSettingsFromEnv, type OidcVerifierOptions } from './oidc.ts';

const mapping: ClaimMappingOptions = {
  rolesClaim: 'realm_access.roles',
  roleMap: { 'hop-admin': 'admin', 'hop-organiser': 'organiser', 'hop-member': 'member' },
  defaultRole: 'member',
  unitsClaim: 'hop_units',
};

async function rejection(promise: Promise<unknown>): Promise<HopError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HopError, `expected a HopError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}

async function assertRejectedWith(promise: Promise<unknown>, code: ErrorCode): Promise<HopError> {
  const error = await rejection(promise);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
  return error;
}

function claimsOf(claims: Record<string, unknown>): Record<string, unknown> {
  return { iss: 'https://sso.example.gov.vn/realms/hop', sub: 'user-1', ...claims };
}

describe('OIDC verifier against a real provider', () => {
  let provider: TestOidcProvider;
  let options: OidcVerifierOptions;

  /** Signs a token with the provider's current private key and kid, or with `key` and `kid` when given. */
  async function forge(payload: JWTPayload, header: { kid?: string; key?: CryptoKey } = {}): Promise<string> {
    const key = header.key ?? (await importJWK(provider.currentPrivateKey(), 'RS256'));
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: provider.issuer, aud: provider.clientId, sub: testUserAn.sub, iat: now, exp: now + 300, ...payload })
      .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? provider.currentKid() })
      .sign(key);
  }

  before(async () => {
    provider = await startOidcProvider();
    options = { issuer: provider.issuer, audience: provider.clientId, clockToleranceSeconds: 0 };
  });

  after(async () => {
    await provider.close();
  });

  test('ID token verifies and maps to identity', async () => {
    const verifier = createOidcVerifier(options);
    const token = await provider.getIdToken(testUserAn, { nonce: 'n-123' });

    const claims = await verifier.verify(token, { nonce: 'n-123' });
    assert.equal(claims.iss, provider.issuer);
    assert.equal(claims.sub, testUserAn.sub);
    assert.equal(claims.aud, provider.clientId);
    assert.equal(decodeProtectedHeader(token).alg, 'RS256');

    const identity = identityFromClaims(claims, mapping);
    assert.equal(identity.externalId, `${provider.issuer}|${testUserAn.sub}`);
    assert.equal(identity.displayName, 'Nguyễn Văn An');
    assert.equal(identity.email, 'an.nv@sonoivu.example.gov.vn');
    assert.equal(identity.systemRole, 'organiser');
    assert.deepEqual(identity.providerRoles, ['hop-organiser', 'offline_access']);
    assert.deepEqual(identity.unitCodes, ['SNV', 'SNV-PTC']);
  });

  test('client roles claim maps to admin', async () => {
    const token = await provider.getIdToken(testUserAn);
    const claims = await createOidcVerifier(options).verify(token);

    const identity = identityFromClaims(claims, { ...mapping, rolesClaim: ['resource_access', 'hop', 'roles'] });
    assert.equal(identity.systemRole, 'admin');
  });

  test('discovery document is fetched once', async () => {
    const verifier = createOidcVerifier(options);
    const first = await verifier.discover();
    const second = await verifier.discover();
    assert.equal(first.issuer, provider.issuer);
    assert.equal(first.jwks_uri, `${provider.issuer}/jwks`);
    assert.equal(first, second);
  });

  test('wrong nonce is rejected', async () => {
    const token = await provider.getIdToken(testUserAn, { nonce: 'n-1' });
    const error = await assertRejectedWith(createOidcVerifier(options).verify(token, { nonce: 'n-2' }), 'TOKEN_INVALID');
    assert.deepEqual(error.details, { reason: 'claims', claim: 'nonce', issue: 'mismatch' });
  });

  test('other audience is rejected', async () => {
    const token = await provider.getIdToken(testUserAn);
    const verifier = createOidcVerifier({ ...options, audience: 'another-client' });
    const error = await assertRejectedWith(verifier.verify(token), 'TOKEN_AUDIENCE_INVALID');
    assert.equal(error.status, 401);
    assert.equal(error.retryable, false);
  });

  test('other issuer is rejected', async () => {
    const token = await forge({ iss: 'https://sso.other.example/realms/hop' });
    await assertRejectedWith(createOidcVerifier(options).verify(token), 'TOKEN_ISSUER_INVALID');
  });

  test('expired token is rejected by clock', async () => {
    const token = await provider.getIdToken(testUserAn, { ttlSeconds: 60 });
    const verifier = createOidcVerifier({ ...options, now: () => new Date(Date.now() + 2 * 60_000) });
    await assertRejectedWith(verifier.verify(token), 'TOKEN_EXPIRED');
  });

  test('expired token is rejected after TTL', async () => {
    const token = await provider.getIdToken(testUserAn, { ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await assertRejectedWith(createOidcVerifier(options).verify(token), 'TOKEN_EXPIRED');
  });

  test('clock tolerance accepts a just-expired token', async () => {
    const token = await provider.getIdToken(testUserAn, { ttlSeconds: 60 });
    const verifier = createOidcVerifier({ ...options, clockToleranceSeconds: 120, now: () => new Date(Date.now() + 90_000) });
    const claims = await verifier.verify(token);
    assert.equal(claims.sub, testUserAn.sub);
  });

  test('token before nbf is rejected', async () => {
    const token = await forge({ nbf: Math.floor(Date.now() / 1000) + 600 });
    await assertRejectedWith(createOidcVerifier(options).verify(token), 'TOKEN_NOT_YET_VALID');
  });

  test('missing sub is rejected', async () => {
    const token = await forge({ sub: undefined });
    const error = await assertRejectedWith(createOidcVerifier(options).verify(token), 'TOKEN_INVALID');
    assert.deepEqual(error.details, { reason: 'claims', claim: 'sub', issue: 'missing' });
  });

  test('other key with same kid is rejected', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await forge({}, { key: privateKey, kid: provider.currentKid() });
    await assertRejectedWith(createOidcVerifier(options).verify(token), 'TOKEN_SIGNATURE_INVALID');
  });

  test('unknown kid is rejected', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await forge({}, { key: privateKey, kid: 'not-published' });
    const error = await assertRejectedWith(createOidcVerifier({ ...options, jwksCooldownSeconds: 0 }).verify(token), 'TOKEN_KEY_UNKNOWN');
    assert.deepEqual(error.details, { reason: 'no_matching_key' });
  });

  test('tampered payload is rejected', async () => {
    const token = await provider.getIdToken(testUserAn);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims.realm_access = { roles: ['hop-admin'] };
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await assertRejectedWith(createOidcVerifier(options).verify(tampered), 'TOKEN_SIGNATURE_INVALID');
  });

  test('alg none is rejected', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ iss: provider.issuer, aud: provider.clientId, sub: testUserAn.sub, iat: now, exp: now + 300 }),
    ).toString('base64url');
    await assertRejectedWith(createOidcVerifier(options).verify(`${header}.${payload}.`), 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  test('HS256 with the public key is rejected', async () => {
    const publicJwk = { ...provider.currentPrivateKey() };
    for (const privateField of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete publicJwk[privateField as keyof typeof publicJwk];
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: provider.issuer, aud: provider.clientId, sub: testUserAn.sub, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'HS256', kid: provider.currentKid() })
      .sign(secret);
    await assertRejectedWith(createOidcVerifier(options).verify(token), 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  test('algorithm outside the allowed list is rejected', async () => {
    const token = await provider.getIdToken(testUserAn);
    const verifier = createOidcVerifier({ ...options, allowedAlgorithms: ['ES256'] });
    await assertRejectedWith(verifier.verify(token), 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  test('garbage is rejected as malformed', async () => {
    const verifier = createOidcVerifier(options);
    for (const garbage of ['', 'abc', 'a.b.c', 'a.b.c.d.e', 'x'.repeat(20_000)]) {
      const error = await assertRejectedWith(verifier.verify(garbage), 'TOKEN_INVALID');
      assert.deepEqual(error.details, { reason: 'malformed' }, `details for ${garbage.slice(0, 20)}`);
    }
  });

  test('garbage payload fails the signature', async () => {
    // jose checks the signature before it parses the payload.
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: provider.currentKid() })).toString('base64url');
    await assertRejectedWith(createOidcVerifier(options).verify(`${header}.%%%.xyz`), 'TOKEN_SIGNATURE_INVALID');
  });

  test('rotated key verifies after refetch', async () => {
    const verifier = createOidcVerifier({ ...options, jwksCooldownSeconds: 0 });
    const before = await provider.getIdToken(testUserAn);
    await verifier.verify(before);
    const oldKid = provider.currentKid();

    const newKid = await provider.rotateKeys();
    const after = await provider.getIdToken(testUserAn);
    assert.notEqual(newKid, oldKid);
    assert.equal(decodeProtectedHeader(after).kid, newKid);

    const claims = await verifier.verify(after);
    assert.equal(claims.sub, testUserAn.sub);
    const old = await verifier.verify(before);
    assert.equal(old.sub, testUserAn.sub);
  });
});

describe('OIDC verifier without a provider', () => {
  test('stopped provider is unavailable', async () => {
    const provider = await startOidcProvider();
    const token = await provider.getIdToken(testUserAn);
    await provider.close();

    const verifier = createOidcVerifier({ issuer: provider.issuer, audience: provider.clientId });
    const error = await assertRejectedWith(verifier.verify(token), 'IDENTITY_PROVIDER_UNAVAILABLE');
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
    assert.equal((error.details as { reason: string }).reason, 'discovery_unreachable');
  });

  test('provider stopped after discovery is unavailable', async () => {
    const provider = await startOidcProvider();
    const token = await provider.getIdToken(testUserAn);
    const verifier = createOidcVerifier({ issuer: provider.issuer, audience: provider.clientId });
    await verifier.discover();
    await provider.close();

    const error = await assertRejectedWith(verifier.verify(token), 'IDENTITY_PROVIDER_UNAVAILABLE');
    assert.equal((error.details as { reason: string }).reason, 'jwks_unreachable');
  });

  test('discovery timeout is unavailable', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const verifier = createOidcVerifier({ issuer: `http://127.0.0.1:${port}`, audience: 'hop', requestTimeoutMs: 200 });
      const error = await assertRejectedWith(verifier.discover(), 'IDENTITY_PROVIDER_UNAVAILABLE');
      assert.equal((error.details as { reason: string }).reason, 'discovery_timeout');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('discovery issuer mismatch is unavailable', async () => {
    const provider = await startOidcProvider();
    try {
      const verifier = createOidcVerifier({ issuer: `${provider.issuer}/`, audience: provider.clientId });
      const error = await assertRejectedWith(verifier.discover(), 'IDENTITY_PROVIDER_UNAVAILABLE');
      assert.equal((error.details as { reason: string }).reason, 'discovery_issuer_mismatch');
    } finally {
      await provider.close();
    }
  });

  test('unsafe options are rejected', () => {
    assert.throws(() => createOidcVerifier({ issuer: 'https://sso.example', audience: 'hop', allowedAlgorithms: ['HS256'] }), /HS256/);
    assert.throws(() => createOidcVerifier({ issuer: 'https://sso.example', audience: 'hop', allowedAlgorithms: ['none'] }), /none/);
    assert.throws(() => createOidcVerifier({ issuer: 'http://sso.example', audience: 'hop' }), /https/);
    assert.throws(() => createOidcVerifier({ issuer: 'https://sso.example', audience: [] }), /audience/);
  });
});

describe('OIDC claim mapping', () => {
  test('groups claim maps roles', () => {
    const identity = identityFromClaims(claimsOf({ groups: ['/hop/organisers', '/other'] }), {
      ...mapping,
      rolesClaim: 'groups',
      roleMap: { '/hop/organisers': 'organiser' },
    });
    assert.equal(identity.systemRole, 'organiser');
  });

  test('highest mapped role wins', () => {
    const identity = identityFromClaims(claimsOf({ realm_access: { roles: ['hop-member', 'hop-admin', 'hop-organiser'] } }), mapping);
    assert.equal(identity.systemRole, 'admin');
  });

  test('unmapped roles get default role', () => {
    const identity = identityFromClaims(claimsOf({ realm_access: { roles: ['offline_access'] } }), mapping);
    assert.equal(identity.systemRole, 'member');
  });

  test('no role without default is rejected', () => {
    assert.throws(
      () => identityFromClaims(claimsOf({}), { ...mapping, defaultRole: null }),
      (error: unknown) => error instanceof HopError && error.code === 'IDENTITY_ROLE_MISSING' && error.status === 403,
    );
  });

  test('unverified email is dropped', () => {
    for (const verified of [false, 'false']) {
      const identity = identityFromClaims(claimsOf({ email: 'an@example.gov.vn', email_verified: verified }), mapping);
      assert.equal(identity.email, null, `email_verified ${String(verified)}`);
    }
    const missingFlag = identityFromClaims(claimsOf({ email: 'an@example.gov.vn' }), mapping);
    assert.equal(missingFlag.email, 'an@example.gov.vn');
  });

  test('display name is NFC from parts', () => {
    const decomposed = 'Trần Thị Bích'.normalize('NFD');
    const identity = identityFromClaims(claimsOf({ given_name: 'Bích'.normalize('NFD'), family_name: 'Trần Thị'.normalize('NFD') }), mapping);
    assert.equal(identity.displayName, 'Trần Thị Bích');
    assert.notEqual(identity.displayName, decomposed);
    assert.equal(identityFromClaims(claimsOf({ preferred_username: 'bich.tt' }), mapping).displayName, 'bich.tt');
    assert.equal(identityFromClaims(claimsOf({}), mapping).displayName, 'user-1');
  });

  test('unit codes from a string', () => {
    const identity = identityFromClaims(claimsOf({ hop_units: 'SNV, SNV-PTC SNV' }), mapping);
    assert.deepEqual(identity.unitCodes, ['SNV', 'SNV-PTC']);
  });

  test('wrong claim types are rejected', () => {
    const cases: Record<string, unknown>[] = [
      claimsOf({ realm_access: { roles: 'hop-admin' } }),
      claimsOf({ hop_units: [1, 2] }),
      claimsOf({ email: 'not an address', email_verified: true }),
      claimsOf({ sub: '' }),
    ];
    for (const claims of cases) {
      assert.throws(
        () => identityFromClaims(claims, mapping),
        (error: unknown) => error instanceof HopError && error.code === 'TOKEN_INVALID',
        JSON.stringify(claims),
      );
    }
  });

  test('role map parses both forms', () => {
    assert.deepEqual(parseRoleMap('hop-admin=admin, /Sở Nội vụ=organiser'), { 'hop-admin': 'admin', '/Sở Nội vụ': 'organiser' });
    assert.deepEqual(parseRoleMap('{"hop-admin":"admin"}'), { 'hop-admin': 'admin' });
    assert.deepEqual(parseRoleMap(''), {});
    assert.throws(() => parseRoleMap('hop-admin=root'), /admin, organiser, member, guest/);
    assert.throws(() => parseRoleMap('hop-admin'), /expected provider-role=hop-role/);
  });

  test('settings are read from env', () => {
    assert.equal(oidcSettingsFromEnv({}), undefined);
    const settings = oidcSettingsFromEnv({
      OIDC_ISSUER: 'https://sso.example.gov.vn/realms/hop',
      OIDC_CLIENT_ID: 'hop',
      OIDC_ROLES_CLAIM: 'resource_access.hop.roles',
      OIDC_ROLE_MAP: 'hop-admin=admin,hop-organiser=organiser',
      OIDC_DEFAULT_ROLE: 'none',
      OIDC_UNITS_CLAIM: 'hop_units',
      OIDC_CLOCK_TOLERANCE_SECONDS: '10',
    });
    assert.deepEqual(settings, {
      verifier: { issuer: 'https://sso.example.gov.vn/realms/hop', audience: ['hop'], clockToleranceSeconds: 10 },
      claims: {
        rolesClaim: 'resource_access.hop.roles',
        roleMap: { 'hop-admin': 'admin', 'hop-organiser': 'organiser' },
        defaultRole: null,
        unitsClaim: 'hop_units',
      },
    });
    assert.throws(() => oidcSettingsFromEnv({ OIDC_ISSUER: 'https://sso.example' }), /OIDC_AUDIENCE or OIDC_CLIENT_ID/);
    assert.throws(() => oidcSettingsFromEnv({ OIDC_ISSUER: 'https://sso.example', OIDC_CLIENT_ID: 'hop', OIDC_ALGORITHMS: 'HS256' }), /HS256/);
  });
});
