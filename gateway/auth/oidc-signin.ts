import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { identityFromClaims, type OidcIdentity } from '../../lib/adapters/identity/claims.ts';
import { createOidcVerifier, type OidcSettings, type OidcVerifier } from '../../lib/adapters/identity/oidc.ts';
import type { Database, SystemRole } from '../../lib/adapters/db/schema.ts';
import { emitUserUpserted, inDirectoryTransaction, loadUser } from '../../lib/domain/directory.ts';
import { foldForSearch, normalizeName } from '../../lib/domain/text-search.ts';
import { errorCatalog, HopError, type ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { GatewayConfig } from '../config.ts';
import { clientIp, type Authentication, type AuthRuntime } from './principal.ts';
import { createSession, sessionCookieName } from './sessions.ts';
import { equalInConstantTime } from './tokens.ts';

/**
 * Sign-in with the province's OpenID provider: bearer ID tokens and JWT access
 * tokens on the API, and the browser's authorization code flow with PKCE
 * (`/api/v1/auth/oidc/start` and `/callback`). Both map the verified identity
 * to an `app_user` by `external_id`.
 */

/** OIDC sign-in of one gateway, built from the OIDC_* variables. */
export interface OidcSignIn {
  verifier: OidcVerifier;
  settings: OidcSettings;
  clientId: string | null;
  /** Null when OIDC_CLIENT_SECRET is unset: then only bearer tokens are accepted. */
  clientSecret: string | null;
  scopes: string;
  /** HMAC key of the state cookie, derived from the client secret so every gateway of a cluster accepts the cookie. */
  stateKey: Buffer | null;
}

/** Creates the OIDC sign-in when OIDC_ISSUER is set; returns undefined otherwise. */
export function createOidcSignIn(config: GatewayConfig): OidcSignIn | undefined {
  if (!config.oidc) return undefined;
  const { env } = config;
  const clientSecret = env.OIDC_CLIENT_SECRET?.trim() || null;
  return {
    verifier: createOidcVerifier(config.oidc.verifier),
    settings: config.oidc,
    clientId: env.OIDC_CLIENT_ID?.trim() || null,
    clientSecret,
    scopes: env.OIDC_SCOPES,
    stateKey: clientSecret === null ? null : createHmac('sha256', clientSecret).update('hop oidc state cookie v1').digest(),
  };
}

/** True when the browser sign-in can run: it needs the client id and secret for the token request. */
export function browserSignInEnabled(oidc: OidcSignIn | undefined): oidc is OidcSignIn & { clientId: string; clientSecret: string; stateKey: Buffer } {
  return oidc !== undefined && oidc.clientId !== null && oidc.clientSecret !== null && oidc.stateKey !== null;
}

// Mapping an identity to a user

export type ProvisionResult = { status: 'active'; userId: string; systemRole: SystemRole } | { status: 'disabled'; userId: string };

/**
 * Finds the user with `identity.externalId`, creating them on first sign-in, and
 * brings display name, e-mail, system role and (when the units claim is
 * configured) memberships in line with the token. Unit codes that match no
 * active unit are logged and skipped. A disabled user is returned as
 * `disabled` and left unchanged.
 */
export async function provisionUser(
  db: Kysely<Database>,
  identity: OidcIdentity,
  options: { syncMemberships: boolean; log: Logger; now?: Date },
): Promise<ProvisionResult> {
  const now = options.now ?? new Date();
  const existing = await db
    .selectFrom('app_user')
    .select(['id', 'display_name', 'email', 'system_role', 'disabled_at'])
    .where('external_id', '=', identity.externalId)
    .executeTakeFirst();
  if (existing?.disabled_at) return { status: 'disabled', userId: existing.id };
  if (existing && !options.syncMemberships && existing.display_name === normalizeName(identity.displayName) && existing.email === identity.email && existing.system_role === identity.systemRole) {
    return { status: 'active', userId: existing.id, systemRole: existing.system_role };
  }

  // The directory lock serialises two first sign-ins of the same person, so only one creates the user.
  return inDirectoryTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom('app_user')
      .select(['id', 'display_name', 'email', 'system_role', 'disabled_at'])
      .where('external_id', '=', identity.externalId)
      .executeTakeFirst();
    if (row?.disabled_at) return { status: 'disabled', userId: row.id } as const;

    const userId = row?.id ?? crypto.randomUUID();
    const displayName = normalizeName(identity.displayName);
    const email = await unclaimedEmail(trx, identity.email, userId, options.log);
    let changed = !row || row.display_name !== displayName || row.email !== email || row.system_role !== identity.systemRole;

    if (!row) {
      await trx
        .insertInto('app_user')
        .values({
          id: userId,
          display_name: displayName,
          name_search: foldForSearch(displayName),
          email,
          phone: null,
          system_role: identity.systemRole,
          external_id: identity.externalId,
          disabled_at: null,
          updated_at: now,
        })
        .execute();
      options.log.info({ userId, externalId: identity.externalId, systemRole: identity.systemRole }, 'OIDC user created');
    } else if (changed) {
      await trx
        .updateTable('app_user')
        .set({ display_name: displayName, name_search: foldForSearch(displayName), email, system_role: identity.systemRole, updated_at: now })
        .where('id', '=', userId)
        .execute();
      if (row.system_role !== identity.systemRole) {
        options.log.info({ userId, from: row.system_role, to: identity.systemRole }, 'OIDC user system role changed');
      }
    }

    if (options.syncMemberships && (await syncMemberships(trx, userId, identity.unitCodes, options.log))) changed = true;

    if (changed) {
      const user = await loadUser(trx, userId);
      if (user) await emitUserUpserted(trx, user, 'oidc-signin', now);
    }
    return { status: 'active', userId, systemRole: identity.systemRole } as const;
  });
}

/** Returns `email` unless another user already has it (compared ignoring case); then the new user gets none, so sign-in still works. */
async function unclaimedEmail(db: Kysely<Database>, email: string | null, userId: string, log: Logger): Promise<string | null> {
  if (email === null) return null;
  const holder = await db
    .selectFrom('app_user')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .where('id', '!=', userId)
    .executeTakeFirst();
  if (!holder) return email;
  log.warn({ userId, holderId: holder.id }, 'OIDC e-mail address belongs to another user; stored without e-mail');
  return null;
}

/**
 * Makes the user's memberships the active units whose `code` is in `unitCodes`:
 * adds the missing ones (position null) and removes the others. Returns whether
 * anything changed.
 */
async function syncMemberships(db: Kysely<Database>, userId: string, unitCodes: string[], log: Logger): Promise<boolean> {
  const units = unitCodes.length === 0
    ? []
    : await db.selectFrom('unit').select(['id', 'code', 'disabled_at']).where('code', 'in', unitCodes).execute();
  const active = units.filter((unit) => unit.disabled_at === null);
  const known = new Set(units.map((unit) => unit.code));
  const unknown = unitCodes.filter((code) => !known.has(code));
  const disabled = units.filter((unit) => unit.disabled_at !== null).map((unit) => unit.code);
  if (unknown.length > 0 || disabled.length > 0) {
    log.warn({ userId, unknownUnitCodes: unknown, disabledUnitCodes: disabled }, 'OIDC unit codes skipped: no active unit has them');
  }

  const wanted = new Set(active.map((unit) => unit.id));
  const current = new Set((await db.selectFrom('membership').select('unit_id').where('user_id', '=', userId).execute()).map((row) => row.unit_id));
  const added = [...wanted].filter((unitId) => !current.has(unitId));
  const removed = [...current].filter((unitId) => !wanted.has(unitId));

  if (removed.length > 0) await db.deleteFrom('membership').where('user_id', '=', userId).where('unit_id', 'in', removed).execute();
  for (const unitId of added) {
    await db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: null }).execute();
  }
  if (added.length > 0 || removed.length > 0) log.info({ userId, added, removed }, 'OIDC memberships updated');
  return added.length > 0 || removed.length > 0;
}

// Bearer tokens

/** Claim `typ` values Keycloak puts in tokens that hop accepts: ID tokens and access tokens. Refresh and logout tokens are rejected. */
const acceptedTokenTypes = new Set(['ID', 'Bearer']);

function failure(code: ErrorCode, details?: unknown): Authentication {
  return details === undefined ? { ok: false, code } : { ok: false, code, details };
}

/** Verifies and maps a token; throws a HopError. Returns the user or the failure to send. */
async function signInWithToken(
  runtime: AuthRuntime,
  oidc: OidcSignIn,
  token: string,
  nonce?: string,
): Promise<{ ok: true; userId: string; systemRole: SystemRole } | { ok: false; code: ErrorCode; details?: unknown }> {
  const claims = await oidc.verifier.verify(token, nonce === undefined ? {} : { nonce });
  if (claims.typ !== undefined && !(typeof claims.typ === 'string' && acceptedTokenTypes.has(claims.typ))) {
    return { ok: false, code: 'TOKEN_INVALID', details: { reason: 'claims', claim: 'typ', issue: 'not an ID token or access token' } };
  }
  const identity = identityFromClaims(claims, oidc.settings.claims);
  const result = await provisionUser(runtime.db, identity, { syncMemberships: oidc.settings.claims.unitsClaim !== undefined, log: runtime.log });
  if (result.status === 'disabled') {
    runtime.log.info({ userId: result.userId, externalId: identity.externalId }, 'OIDC sign-in rejected: user disabled');
    return { ok: false, code: 'ACCOUNT_DISABLED' };
  }
  return { ok: true, userId: result.userId, systemRole: result.systemRole };
}

/**
 * Authenticates `Authorization: Bearer <JWT>` with the OIDC verifier. Every
 * failure is a catalogue code: the 401 TOKEN_* codes, IDENTITY_PROVIDER_UNAVAILABLE
 * (503), IDENTITY_ROLE_MISSING (403) or INVALID_CREDENTIALS for a disabled user.
 */
export async function authenticateBearerToken(runtime: AuthRuntime, oidc: OidcSignIn, token: string, ip: string): Promise<Authentication> {
  try {
    const result = await signInWithToken(runtime, oidc, token);
    if (!result.ok) return failure(result.code, result.details);
    return { ok: true, principal: { kind: 'user', userId: result.userId, systemRole: result.systemRole, sessionId: null }, csrfToken: null };
  } catch (error) {
    if (!(error instanceof HopError)) throw error;
    runtime.log.info({ code: error.code, details: error.details, ip }, 'OIDC bearer token rejected');
    return failure(error.code, error.details);
  }
}

// Browser sign-in

const stateCookieName = 'hop_oidc';
const stateCookiePath = '/api/v1/auth/oidc';
const stateLifetimeSeconds = 600;

const stateSchema = z.object({
  state: z.string().min(1),
  nonce: z.string().min(1),
  verifier: z.string().min(43).max(128),
  next: z.string(),
  expiresAt: z.number(),
});
type SignInState = z.infer<typeof stateSchema>;

function signState(key: Buffer, state: SignInState): string {
  const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** Returns the state of a cookie whose signature verifies and that has not expired, else null. */
function readState(key: Buffer, cookie: string | undefined, now: number): SignInState | null {
  if (!cookie) return null;
  const [payload, signature, extra] = cookie.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  if (!equalInConstantTime(signature, createHmac('sha256', key).update(payload).digest('base64url'))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const state = stateSchema.safeParse(parsed);
  if (!state.success || state.data.expiresAt <= now) return null;
  return state.data;
}

const endpointsSchema = z.looseObject({ authorization_endpoint: z.url(), token_endpoint: z.url() });

const tokenResponseSchema = z.looseObject({ id_token: z.string().min(1) });

/** Local path to return to after sign-in: `next` when it is a path on this site, else `/`. */
function localPath(next: string | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') && next.length <= 2048 ? next : '/';
}

/** The callback address registered at the provider: PUBLIC_BASE_URL when set, else the origin of this request. */
function redirectUri(c: Context, config: GatewayConfig): string {
  const base = config.env.PUBLIC_BASE_URL ?? new URL(c.req.url).origin;
  return `${base.replace(/\/+$/, '')}/api/v1/auth/oidc/callback`;
}

function errorRedirect(c: Context, code: ErrorCode) {
  return c.redirect(`/login.html?error=${encodeURIComponent(code)}`, 302);
}

/**
 * Mounts `GET /api/v1/auth/providers` (which sign-in methods are on),
 * `GET /api/v1/auth/errors/:code` (a catalogue message for the login page) and,
 * when OIDC is configured, the browser sign-in routes.
 */
export function mountOidcSignIn(app: Hono, runtime: AuthRuntime, config: GatewayConfig, oidc: OidcSignIn | undefined): void {
  app.get('/api/v1/auth/providers', (c) =>
    c.json({ password: true, oidc: { enabled: browserSignInEnabled(oidc), bearer: oidc !== undefined, startUrl: '/api/v1/auth/oidc/start' } }),
  );
  app.get('/api/v1/auth/errors/:code', (c) => {
    const code = c.req.param('code');
    if (!Object.hasOwn(errorCatalog, code)) return c.json({ error: { code: 'ROUTE_NOT_FOUND' } }, 404);
    const definition = errorCatalog[code as ErrorCode];
    return c.json({ error: { code, message: definition.vi, message_en: definition.en } });
  });

  if (!browserSignInEnabled(oidc)) {
    if (oidc) runtime.log.warn('OIDC browser sign-in is off: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required; bearer tokens are accepted');
    return;
  }
  app.get('/api/v1/auth/oidc/start', (c) => start(c, runtime, config, oidc));
  app.get('/api/v1/auth/oidc/callback', (c) => callback(c, runtime, config, oidc));
}

type BrowserOidc = OidcSignIn & { clientId: string; clientSecret: string; stateKey: Buffer };

async function providerEndpoints(oidc: OidcSignIn): Promise<z.infer<typeof endpointsSchema>> {
  const metadata = await oidc.verifier.discover();
  const endpoints = endpointsSchema.safeParse(metadata);
  if (!endpoints.success) {
    throw new HopError('IDENTITY_PROVIDER_UNAVAILABLE', { details: { reason: 'discovery_invalid', missing: 'authorization_endpoint or token_endpoint' } });
  }
  return endpoints.data;
}

async function start(c: Context, runtime: AuthRuntime, config: GatewayConfig, oidc: BrowserOidc) {
  let endpoints;
  try {
    endpoints = await providerEndpoints(oidc);
  } catch (error) {
    if (!(error instanceof HopError)) throw error;
    runtime.log.warn({ code: error.code, details: error.details }, 'OIDC sign-in could not start');
    return errorRedirect(c, error.code);
  }

  const state: SignInState = {
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    verifier: randomBytes(32).toString('base64url'),
    next: localPath(c.req.query('next')),
    expiresAt: Date.now() + stateLifetimeSeconds * 1000,
  };
  setCookie(c, stateCookieName, signState(oidc.stateKey, state), {
    httpOnly: true,
    // Lax: the provider returns the browser with a top-level GET, which carries Lax cookies.
    sameSite: 'Lax',
    secure: runtime.settings.secureCookie,
    path: stateCookiePath,
    maxAge: stateLifetimeSeconds,
  });

  const authorization = new URL(endpoints.authorization_endpoint);
  authorization.searchParams.set('client_id', oidc.clientId);
  authorization.searchParams.set('response_type', 'code');
  authorization.searchParams.set('redirect_uri', redirectUri(c, config));
  authorization.searchParams.set('scope', oidc.scopes);
  authorization.searchParams.set('state', state.state);
  authorization.searchParams.set('nonce', state.nonce);
  authorization.searchParams.set('code_challenge', createHash('sha256').update(state.verifier).digest('base64url'));
  authorization.searchParams.set('code_challenge_method', 'S256');
  const loginHint = c.req.query('login_hint');
  if (loginHint && loginHint.length <= 256) authorization.searchParams.set('login_hint', loginHint);
  return c.redirect(authorization.toString(), 302);
}

/** Form encoding of a client id or secret for HTTP Basic, as RFC 6749 section 2.3.1 requires. */
function formEncode(text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2);
}

/** Exchanges the authorization code for the ID token at the token endpoint. */
async function exchangeCode(oidc: BrowserOidc, tokenEndpoint: string, code: string, verifier: string, redirect: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(tokenEndpoint, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
      headers: {
        authorization: `Basic ${Buffer.from(`${formEncode(oidc.clientId)}:${formEncode(oidc.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier }),
    });
  } catch (error) {
    throw new HopError('IDENTITY_PROVIDER_UNAVAILABLE', { cause: error, details: { reason: 'token_unreachable' } });
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // handled below: no JSON body
  }
  if (response.status >= 400 && response.status < 500) {
    // A 4xx such as invalid_grant: a used, expired or forged code, or a client misconfiguration.
    const providerError = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
    throw new HopError('TOKEN_INVALID', { details: { reason: 'token_request', status: response.status, error: providerError ?? null } });
  }
  const parsed = tokenResponseSchema.safeParse(body);
  if (response.status !== 200 || !parsed.success) {
    throw new HopError('IDENTITY_PROVIDER_UNAVAILABLE', { details: { reason: 'token_response', status: response.status } });
  }
  return parsed.data.id_token;
}

async function callback(c: Context, runtime: AuthRuntime, config: GatewayConfig, oidc: BrowserOidc) {
  const state = readState(oidc.stateKey, getCookie(c, stateCookieName), Date.now());
  deleteCookie(c, stateCookieName, { path: stateCookiePath, secure: runtime.settings.secureCookie });
  const ip = clientIp(c);

  const givenState = c.req.query('state');
  if (!state || !givenState || !equalInConstantTime(givenState, state.state)) {
    runtime.log.warn({ ip, hasCookie: state !== null }, 'OIDC callback rejected: state missing or different');
    return errorRedirect(c, 'TOKEN_INVALID');
  }
  const providerError = c.req.query('error');
  const code = c.req.query('code');
  if (providerError || !code) {
    runtime.log.info({ ip, error: providerError ?? null, description: c.req.query('error_description') ?? null }, 'OIDC callback without a code');
    return errorRedirect(c, 'TOKEN_INVALID');
  }

  try {
    const endpoints = await providerEndpoints(oidc);
    const idToken = await exchangeCode(oidc, endpoints.token_endpoint, code, state.verifier, redirectUri(c, config));
    const result = await signInWithToken(runtime, oidc, idToken, state.nonce);
    if (!result.ok) return errorRedirect(c, result.code);

    const session = await createSession(runtime.db, {
      userId: result.userId,
      ttlMs: runtime.settings.sessionTtlMs,
      ip,
      userAgent: c.req.header('user-agent') ?? null,
    });
    // The same cookie as the password sign-in in routes.ts.
    setCookie(c, sessionCookieName, session.token, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: runtime.settings.secureCookie,
      path: '/',
      expires: session.expiresAt,
    });
    runtime.log.info({ userId: result.userId, ip, method: 'oidc' }, 'signed in');
    return c.redirect(state.next, 302);
  } catch (error) {
    if (!(error instanceof HopError)) throw error;
    runtime.log.warn({ ip, code: error.code, details: error.details }, 'OIDC sign-in failed');
    return errorRedirect(c, error.code);
  }
}
