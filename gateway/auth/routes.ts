import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../lib/adapters/db/schema.ts';
import { recordAudit } from '../../lib/domain/audit.ts';
import { errorBody } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { validationDetails } from '../../lib/runtime/function.ts';
import type { GatewayConfig } from '../config.ts';
import { normaliseUsername, signIn } from './accounts.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.ts';
import { mountOidcSignIn, type OidcSignIn } from './oidc-signin.ts';
import {
  attachAuth,
  authenticate,
  authSettingsFromConfig,
  clientIp,
  createAuthRuntime,
  csrfProtection,
  errorResponse,
  requireAdmin,
  requirePrincipal,
  type AuthRuntime,
} from './principal.ts';
import { rateLimitedResponse, rateLimitMiddleware, throttledWarning } from './rate-limit.ts';
import { createSession, revokeSession, sessionCookieName } from './sessions.ts';

const loginRequestSchema = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(4096),
});

/** Scope names such as `meetings:read`; the permission policy gives them their meaning. */
const scopeSchema = z.string().regex(/^[a-z][a-z0-9-]*(:[a-z0-9-]+)*$/, 'scope names are lower-case words joined by ":", such as meetings:read');

const createApiKeyRequestSchema = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(scopeSchema).max(50).default([]),
});

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MountAuthOptions {
  db: Kysely<Database>;
  config: GatewayConfig;
  log: Logger;
  /** Sign-in with the province's OpenID provider (bearer tokens and the browser flow); undefined turns it off. */
  oidc?: OidcSignIn | undefined;
}

/**
 * Mounts sign-in on the gateway: the auth state for `resolvePrincipal` on
 * every `/api/*` request (without requiring sign-in on any existing route),
 * `/api/v1/auth/login|logout|me|providers`, the OIDC browser sign-in when
 * configured, and the admin API key routes. Returns the
 * runtime so callers can reuse its write limiter.
 */
export function mountAuth(app: Hono, options: MountAuthOptions): AuthRuntime {
  const runtime = createAuthRuntime(options.db, authSettingsFromConfig(options.config), options.log, options.oidc);
  app.use('/api/*', attachAuth(runtime));
  mountOidcSignIn(app, runtime, options.config, options.oidc);

  const warnLoginLimit = throttledWarning(runtime.log, 'sign-in rate limit reached');
  app.post('/api/v1/auth/login', (c) => login(c, runtime, warnLoginLimit));
  app.post('/api/v1/auth/logout', csrfProtection(), (c) => logout(c, runtime));
  app.get('/api/v1/auth/me', requirePrincipal(), (c) => me(c, runtime));

  // Every write of the API counts against the caller's and the address's budget;
  // sign-in and sign-out have their own, stricter limiter above.
  const writeLimit = writeRateLimit(runtime);
  app.use('/api/v1/*', async (c, next) => (c.req.path.startsWith('/api/v1/auth/') ? next() : writeLimit(c, next)));
  app.use('/api/v1/admin/api-keys/*', csrfProtection(), requireAdmin());
  app.post('/api/v1/admin/api-keys', (c) => createKey(c, runtime));
  app.get('/api/v1/admin/api-keys', async (c) => c.json({ apiKeys: await listApiKeys(runtime.db) }));
  app.delete('/api/v1/admin/api-keys/:id', (c) => revokeKey(c, runtime));

  return runtime;
}

/**
 * Write limiter for unsafe methods: one bucket per principal (user or API key)
 * and one per client IP, HOP_WRITE_RATE_PER_MINUTE each. Requests whose
 * credentials are invalid count only against their IP.
 */
export function writeRateLimit(runtime: AuthRuntime) {
  return rateLimitMiddleware(
    runtime.writes,
    async (c) => {
      const keys = [`ip:${clientIp(c)}`];
      const result = await authenticate(c);
      if (result.ok && result.principal?.kind === 'user') keys.push(`principal:user:${result.principal.userId}`);
      if (result.ok && result.principal?.kind === 'api-key') keys.push(`principal:api-key:${result.principal.keyId}`);
      return keys;
    },
    runtime.log,
  );
}

async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const contentType = c.req.header('content-type') ?? '';
  // Requiring JSON also stops another site's HTML form from posting here, since a form cannot send this type.
  if (!/^application\/json\b/i.test(contentType)) {
    return { ok: false, response: errorResponse(c, 'UNSUPPORTED_MEDIA_TYPE', { contentType }) };
  }
  try {
    return { ok: true, value: JSON.parse(await c.req.text()) };
  } catch (error) {
    return { ok: false, response: errorResponse(c, 'INVALID_JSON', { reason: error instanceof Error ? error.message : String(error) }) };
  }
}

const lockTimeFormat = new Intl.DateTimeFormat('vi-VN', {
  timeZone: 'Asia/Ho_Chi_Minh',
  hour: '2-digit',
  minute: '2-digit',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hourCycle: 'h23',
});

/** Formats a time as "14:35 ngày 05/12/2026" in Vietnam's time zone. */
export function formatVietnamTime(time: Date): string {
  const parts = Object.fromEntries(lockTimeFormat.formatToParts(time).map((part) => [part.type, part.value]));
  return `${parts.hour}:${parts.minute} ngày ${parts.day}/${parts.month}/${parts.year}`;
}

function lockedResponse(c: Context, lockedUntil: Date) {
  const body = errorBody('ACCOUNT_LOCKED', { lockedUntil: lockedUntil.toISOString() });
  // Rounded up to the minute, so "thử lại sau 14:35" is never before the lock ends.
  const shown = new Date(Math.ceil(lockedUntil.getTime() / 60_000) * 60_000);
  body.error.message = `Tài khoản tạm khóa vì đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ${formatVietnamTime(shown)} (giờ Việt Nam).`;
  body.error.message_en = `The account is locked after too many failed sign-ins; retry after ${lockedUntil.toISOString()}.`;
  c.header('Retry-After', String(Math.max(1, Math.ceil((lockedUntil.getTime() - Date.now()) / 1000))));
  return c.json(body, 423);
}

async function login(c: Context, runtime: AuthRuntime, warnLoginLimit: (fields: object) => void) {
  const { db, settings, log } = runtime;
  const json = await readJson(c);
  if (!json.ok) return json.response;
  const parsed = loginRequestSchema.safeParse(json.value);
  if (!parsed.success) return errorResponse(c, 'VALIDATION_FAILED', validationDetails(parsed.error));

  const ip = clientIp(c);
  const username = normaliseUsername(parsed.data.username);
  const decision = runtime.logins.takeAll([`ip:${ip}`, `username:${username}`]);
  if (!decision.allowed) {
    warnLoginLimit({ ip, username, retryAfterSeconds: decision.retryAfterSeconds });
    return rateLimitedResponse(c, decision.retryAfterSeconds);
  }

  const result = await signIn(db, username, parsed.data.password, settings.lockout);
  if (result.outcome === 'locked') {
    log.warn({ username, ip, lockedUntil: result.lockedUntil.toISOString() }, 'sign-in rejected: account locked');
    return lockedResponse(c, result.lockedUntil);
  }
  if (result.outcome === 'invalid') {
    log.info({ username, ip }, 'sign-in rejected: wrong user name or password');
    return errorResponse(c, 'INVALID_CREDENTIALS');
  }

  const session = await createSession(db, {
    userId: result.userId,
    ttlMs: settings.sessionTtlMs,
    ip,
    userAgent: c.req.header('user-agent') ?? null,
  });
  setCookie(c, sessionCookieName, session.token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: settings.secureCookie,
    path: '/',
    expires: session.expiresAt,
  });
  log.info({ userId: result.userId, username, ip }, 'signed in');
  return c.json({
    user: { id: result.userId, username: result.username, displayName: result.displayName, systemRole: result.systemRole },
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
  });
}

async function logout(c: Context, runtime: AuthRuntime) {
  const result = await authenticate(c);
  if (result.ok && result.principal?.kind === 'user' && result.principal.sessionId !== null) {
    await revokeSession(runtime.db, result.principal.sessionId);
    runtime.log.info({ userId: result.principal.userId }, 'signed out');
  }
  deleteCookie(c, sessionCookieName, { path: '/', secure: runtime.settings.secureCookie });
  return c.body(null, 204);
}

async function me(c: Context, runtime: AuthRuntime) {
  const result = await authenticate(c);
  if (!result.ok || !result.principal) return errorResponse(c, 'AUTH_REQUIRED');
  const principal = result.principal;
  if (principal.kind === 'api-key') return c.json({ kind: 'api-key', keyId: principal.keyId, scopes: principal.scopes });

  const user = await runtime.db
    .selectFrom('app_user')
    .leftJoin('local_account', 'local_account.user_id', 'app_user.id')
    .select(['app_user.id', 'app_user.display_name', 'app_user.email', 'app_user.system_role', 'local_account.username'])
    .where('app_user.id', '=', principal.userId)
    .executeTakeFirst();
  if (!user) return errorResponse(c, 'SESSION_INVALID');
  const memberships = await runtime.db.selectFrom('membership').select('unit_id').where('user_id', '=', user.id).execute();
  return c.json({
    kind: 'user',
    user: {
      id: user.id,
      username: user.username,
      displayName: user.display_name,
      email: user.email,
      systemRole: user.system_role,
      unitIds: memberships.map((membership) => membership.unit_id),
    },
    sessionId: principal.sessionId,
    csrfToken: result.csrfToken,
  });
}

async function createKey(c: Context, runtime: AuthRuntime) {
  const json = await readJson(c);
  if (!json.ok) return json.response;
  const parsed = createApiKeyRequestSchema.safeParse(json.value);
  if (!parsed.success) return errorResponse(c, 'VALIDATION_FAILED', validationDetails(parsed.error));

  const result = await authenticate(c);
  // requireAdmin ran before this handler, so the principal is an admin user.
  const createdBy = result.ok && result.principal?.kind === 'user' ? result.principal.userId : null;
  if (!createdBy) return errorResponse(c, 'ADMIN_REQUIRED');

  const scopes = [...new Set(parsed.data.scopes)];
  const { key, token } = await runtime.db.transaction().execute(async (trx) => {
    const created = await createApiKey(trx, { name: parsed.data.name, scopes, createdBy });
    // The summary has no secret; the token is returned once and never stored or logged.
    await recordAudit(trx, {
      actor: { kind: 'user', id: createdBy },
      action: 'api-key.created',
      entityType: 'api-key',
      entityId: created.key.id,
      before: null,
      after: created.key,
      ...auditRequestMetadata(c),
    });
    return created;
  });
  runtime.log.info({ keyId: key.id, prefix: key.prefix, scopes, createdBy }, 'API key created');
  return c.json({ apiKey: key, token }, 201);
}

async function revokeKey(c: Context, runtime: AuthRuntime) {
  const id = c.req.param('id');
  if (!id || !uuidPattern.test(id)) return errorResponse(c, 'API_KEY_NOT_FOUND', { id });
  const result = await authenticate(c);
  // requireAdmin ran before this handler, so the principal is an admin user.
  const revokedBy = result.ok && result.principal?.kind === 'user' ? result.principal.userId : null;
  if (!revokedBy) return errorResponse(c, 'ADMIN_REQUIRED');

  const key = await runtime.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('api_key').select('revoked_at').where('id', '=', id).forUpdate().executeTakeFirst();
    const revoked = await revokeApiKey(trx, id);
    // Revoking a revoked key changes nothing, so it is not recorded again.
    if (current && revoked && current.revoked_at === null) {
      await recordAudit(trx, {
        actor: { kind: 'user', id: revokedBy },
        action: 'api-key.revoked',
        entityType: 'api-key',
        entityId: revoked.id,
        before: { ...revoked, revokedAt: null },
        after: revoked,
        ...auditRequestMetadata(c),
      });
    }
    return revoked;
  });
  if (!key) return errorResponse(c, 'API_KEY_NOT_FOUND', { id });
  runtime.log.info({ keyId: key.id, prefix: key.prefix, by: revokedBy }, 'API key revoked');
  return c.json({ apiKey: key });
}

/**
 * Returns the client IP (by the gateway's HOP_TRUST_PROXY rule) and the request id for
 * an audit record. The request id is the `X-Request-Id` the client or proxy
 * sent; the one the gateway generates when it is missing is not visible here.
 */
function auditRequestMetadata(c: Context): { ip: string | null; requestId: string | null } {
  const ip = clientIp(c);
  const requestId = c.req.header('x-request-id')?.trim();
  return { ip: ip === 'unknown' ? null : ip, requestId: requestId ? requestId.slice(0, 200) : null };
}
