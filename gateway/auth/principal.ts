import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { getCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import type { Database, SystemRole } from '../../lib/adapters/db/schema.ts';
import { errorBody, errorCatalog, HopError, type ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { GatewayConfig } from '../config.ts';
import { findApiKey } from './api-keys.ts';
import { authenticateBearerToken, type OidcSignIn } from './oidc-signin.ts';
import { TokenBucketLimiter } from './rate-limit.ts';
import { findSession, sessionCookieName } from './sessions.ts';
import { equalInConstantTime } from './tokens.ts';

/**
 * The sender of a request: a signed-in person (session cookie, or an OIDC
 * bearer token with `sessionId` null) or an integration (API key).
 */
export type Principal =
  | { kind: 'user'; userId: string; systemRole: SystemRole; sessionId: string | null }
  | { kind: 'api-key'; keyId: string; scopes: string[] };

/** Result of reading the credentials of a request. `csrfToken` is set for cookie sessions. */
export type Authentication =
  | { ok: true; principal: Principal | null; csrfToken: string | null }
  | { ok: false; code: ErrorCode; details?: unknown };

export interface AuthSettings {
  sessionTtlMs: number;
  lockout: { maxFailures: number; lockMs: number };
  loginRatePerMinute: number;
  writeRatePerMinute: number;
  trustProxy: boolean;
  /** Set the cookie's Secure attribute; true when PUBLIC_BASE_URL is https. */
  secureCookie: boolean;
}

export function authSettingsFromConfig(config: GatewayConfig): AuthSettings {
  const { env } = config;
  return {
    sessionTtlMs: env.HOP_SESSION_TTL_MINUTES * 60_000,
    lockout: { maxFailures: env.HOP_LOGIN_MAX_FAILURES, lockMs: env.HOP_LOGIN_LOCK_MINUTES * 60_000 },
    loginRatePerMinute: env.HOP_LOGIN_RATE_PER_MINUTE,
    writeRatePerMinute: env.HOP_WRITE_RATE_PER_MINUTE,
    trustProxy: env.HOP_TRUST_PROXY === 'on',
    secureCookie: new URL(config.publicBaseUrl).protocol === 'https:',
  };
}

/** The sign-in state shared by all requests of one gateway: database, settings and rate limiters. */
export interface AuthRuntime {
  db: Kysely<Database>;
  settings: AuthSettings;
  log: Logger;
  /** Sign-in attempts, keyed `ip:<address>` and `username:<name>`. */
  logins: TokenBucketLimiter;
  /** Write requests, keyed `principal:<id>` and `ip:<address>`. */
  writes: TokenBucketLimiter;
  /** Sign-in with the province's OpenID provider; undefined when OIDC_ISSUER is unset. */
  oidc: OidcSignIn | undefined;
}

export function createAuthRuntime(db: Kysely<Database>, settings: AuthSettings, log: Logger, oidc?: OidcSignIn): AuthRuntime {
  const login = { capacity: settings.loginRatePerMinute, refillPerMinute: settings.loginRatePerMinute };
  return {
    db,
    settings,
    log,
    oidc,
    logins: new TokenBucketLimiter(login),
    writes: new TokenBucketLimiter({ capacity: settings.writeRatePerMinute, refillPerMinute: settings.writeRatePerMinute }),
  };
}

declare module 'hono' {
  interface ContextVariableMap {
    hopAuth: AuthRuntime;
    hopAuthentication: Authentication;
  }
}

/** Middleware that makes the sign-in state available to `resolvePrincipal` on every request after it. */
export function attachAuth(runtime: AuthRuntime): MiddlewareHandler {
  return async (c, next) => {
    c.set('hopAuth', runtime);
    await next();
  };
}

function runtimeOf(c: Context): AuthRuntime {
  const runtime = c.get('hopAuth');
  if (!runtime) throw new Error('sign-in is not mounted: mountAuth() must run before this route is added');
  return runtime;
}

/**
 * Returns the client's IP address: the TCP peer, or with HOP_TRUST_PROXY=on the
 * last X-Forwarded-For entry, which the reverse proxy appended. Earlier entries
 * come from the client and can be forged.
 */
export function clientIp(c: Context): string {
  if (runtimeOf(c).settings.trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // The request did not come through @hono/node-server (app.request in a test).
    return 'unknown';
  }
}

/**
 * Reads the request's credentials once and caches the result on the context.
 * An Authorization header takes precedence over the cookie and must be
 * `Bearer hop_…` (an API key) or, when OIDC is configured, `Bearer <JWT>` from
 * the OpenID provider; without either the principal is null.
 */
export async function authenticate(c: Context): Promise<Authentication> {
  const cached = c.get('hopAuthentication');
  if (cached) return cached;
  const result = await readCredentials(c, runtimeOf(c));
  c.set('hopAuthentication', result);
  return result;
}

async function readCredentials(c: Context, runtime: AuthRuntime): Promise<Authentication> {
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match) return { ok: false, code: 'API_KEY_INVALID' };
    const token = match[1]!;
    if (runtime.oidc && !token.startsWith('hop_')) return authenticateBearerToken(runtime, runtime.oidc, token, clientIp(c));
    const key = await findApiKey(runtime.db, token);
    if (key.status === 'invalid') return { ok: false, code: 'API_KEY_INVALID' };
    if (key.status === 'revoked') return { ok: false, code: 'API_KEY_REVOKED' };
    return { ok: true, principal: { kind: 'api-key', keyId: key.keyId, scopes: key.scopes }, csrfToken: null };
  }

  const token = getCookie(c, sessionCookieName);
  if (token === undefined) return { ok: true, principal: null, csrfToken: null };
  const session = await findSession(runtime.db, token);
  if (session.status === 'invalid') return { ok: false, code: 'SESSION_INVALID' };
  if (session.status === 'expired') return { ok: false, code: 'SESSION_EXPIRED' };
  const { id, userId, systemRole, csrfToken } = session.session;
  return { ok: true, principal: { kind: 'user', userId, systemRole, sessionId: id }, csrfToken };
}

/**
 * Returns the principal of the request, or null when it carries no
 * credentials. Throws HopError with a 401 code (SESSION_INVALID,
 * SESSION_EXPIRED, API_KEY_INVALID, API_KEY_REVOKED) when the credentials are
 * not valid. The app's error handler turns an uncaught HopError into a 500, so
 * callers catch it or use `authenticate` or `requirePrincipal` instead.
 */
export async function resolvePrincipal(c: Context): Promise<Principal | null> {
  const result = await authenticate(c);
  if (!result.ok) throw new HopError(result.code);
  return result.principal;
}

/** Sends the catalogue error `code` with its status. */
export function errorResponse(c: Context, code: ErrorCode, details?: unknown) {
  return c.json(errorBody(code, details), errorCatalog[code].status as ContentfulStatusCode);
}

/** Middleware that returns 401 unless the request has a valid session or API key. */
export function requirePrincipal(): MiddlewareHandler {
  return async (c, next) => {
    const result = await authenticate(c);
    if (!result.ok) return errorResponse(c, result.code, result.details);
    if (!result.principal) return errorResponse(c, 'AUTH_REQUIRED');
    return next();
  };
}

/** Middleware that returns 401 without credentials and 403 ADMIN_REQUIRED unless a signed-in user has system role admin. API keys never pass. */
export function requireAdmin(): MiddlewareHandler {
  return async (c, next) => {
    const result = await authenticate(c);
    if (!result.ok) return errorResponse(c, result.code, result.details);
    if (!result.principal) return errorResponse(c, 'AUTH_REQUIRED');
    if (result.principal.kind !== 'user' || result.principal.systemRole !== 'admin') return errorResponse(c, 'ADMIN_REQUIRED');
    return next();
  };
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Double-submit CSRF check: an unsafe request (POST, PUT, PATCH, DELETE)
 * authenticated by the session cookie must send the session's CSRF token in
 * X-CSRF-Token, which another site's page cannot read. Bearer requests are
 * exempt because browsers never add an Authorization header on their own.
 * Requests with invalid or no credentials pass because they act as no principal.
 */
export function csrfProtection(): MiddlewareHandler {
  return async (c, next) => {
    if (safeMethods.has(c.req.method)) return next();
    const result = await authenticate(c);
    if (!result.ok || result.principal?.kind !== 'user' || result.csrfToken === null) return next();
    const given = c.req.header('x-csrf-token');
    if (!given || !equalInConstantTime(given, result.csrfToken)) return errorResponse(c, 'CSRF_TOKEN_INVALID');
    return next();
  };
}
