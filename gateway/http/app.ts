import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { decide, type Action, type Principal as PolicyPrincipal } from '../../lib/domain/policy.ts';
import { errorBody, errorCatalog, type ErrorCode } from '../../lib/errors.ts';
import { authenticate, clientIp } from '../auth/principal.ts';
import { mountNetworkCheck } from '../network-check.ts';
import type { Logger } from '../../lib/log.ts';
import { BASE64_BODY_HEADER, type FunctionEvent } from '../../lib/runtime/function.ts';
import type { Invoker } from '../invoker.ts';
import type { RegisteredFunction } from '../registry.ts';

export type ReadinessCheck = () => Promise<Record<string, string>>;

export interface AppOptions {
  functions: RegisteredFunction[];
  invoker: Invoker;
  log: Logger;
  readiness: ReadinessCheck;
  maxBodyBytes: number;
  rootDir: string;
  /** The units a signed-in person belongs to, for the policy. */
  loadUnitIds: (userId: string) => Promise<string[]>;
  /** Extra routes mounted before the API (Janus event intake, local storage links). */
  extend?: (app: Hono) => void;
}

function jsonError(c: Context, code: ErrorCode, status: number, details?: unknown) {
  return c.json(errorBody(code, details), status as 400);
}

function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, key) => {
    if (key !== 'cookie' && key !== 'authorization') record[key] = value;
  });
  return record;
}

/**
 * Reads the request's credentials into a policy principal, with the units a
 * signed-in person belongs to. Invalid credentials return their 401 code. The caller
 * rejects them on gated routes and treats them as anonymous elsewhere, so a
 * stale cookie does not break the public join page.
 */
async function requestPrincipal(
  c: Context,
  loadUnitIds: (userId: string) => Promise<string[]>,
): Promise<{ principal: PolicyPrincipal; csrfToken: string | null } | { error: ErrorCode }> {
  const auth = await authenticate(c);
  if (!auth.ok) return { error: auth.code };
  if (auth.principal === null) return { principal: { kind: 'anonymous' }, csrfToken: null };
  if (auth.principal.kind === 'api-key') return { principal: auth.principal, csrfToken: null };
  const { userId, systemRole } = auth.principal;
  return { principal: { kind: 'user', userId, systemRole, unitIds: await loadUnitIds(userId) }, csrfToken: auth.csrfToken };
}

/** Checks the CSRF token of a cookie session on an unsafe method; true when the request may go on. */
function csrfValid(c: Context, csrfToken: string | null): boolean {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || csrfToken === null) return true;
  const given = Buffer.from(c.req.header('x-csrf-token') ?? '');
  const expected = Buffer.from(csrfToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Builds the gateway's HTTP application: health and readiness, the `/api/v1`
 * routes of stack.yml mapped to functions, and the web client with the vendor
 * files it imports.
 */
export async function createApp(options: AppOptions): Promise<Hono> {
  const { log, invoker, maxBodyBytes } = options;
  const app = new Hono();

  app.use(
    '*',
    secureHeaders({
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: false,
      permissionsPolicy: { camera: ['self'], microphone: ['self'], displayCapture: ['self'] },
    }),
  );

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId' as never, requestId as never);
    const started = performance.now();
    await next();
    // A route that wrote the response itself (local storage links) has sent its headers already. Setting one
    // here would make @hono/node-server 2.1 write the head again, fail, log the error and destroy the socket.
    if (!(c.env as Partial<HttpBindings> | undefined)?.outgoing?.headersSent) c.header('x-request-id', requestId);
    const status = c.res.status;
    const line = { requestId, method: c.req.method, path: c.req.path, status, ms: Math.round(performance.now() - started) };
    // A 503 from /readyz reports a dependency, not a failure of this request.
    if (status >= 500 && c.req.path !== '/readyz') log.error(line, 'request failed');
    else if (status >= 500) log.warn(line, 'not ready');
    else if (status >= 400) log.info(line, 'request rejected');
    else log.debug(line, 'request');
  });

  app.onError((error, c) => {
    log.error({ err: error, path: c.req.path }, 'unhandled error in HTTP handler');
    return jsonError(c, 'INTERNAL', 500);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await options.readiness();
    const ready = Object.values(checks).every((value) => value === 'ok' || value === 'off');
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });

  app.use(
    '/api/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => jsonError(c, 'BODY_TOO_LARGE', 413, { maxBytes: maxBodyBytes }),
    }),
  );

  options.extend?.(app);
  // After extend: clientIp reads the sign-in settings that mountAuth (in extend) installs.
  mountNetworkCheck(app, { clientIp, guideFile: path.join(options.rootDir, 'docs/bang-thong-toi-thieu.md') });

  for (const fn of options.functions) {
    if (!fn.route) continue;
    app.on(fn.route.method, fn.route.path, async (c) => {
      const resolved = await requestPrincipal(c, options.loadUnitIds);
      if ('error' in resolved && fn.permission) return jsonError(c, resolved.error, errorCatalog[resolved.error].status);
      const principal: PolicyPrincipal = 'error' in resolved ? { kind: 'anonymous' } : resolved.principal;
      if ('principal' in resolved && !csrfValid(c, resolved.csrfToken)) {
        return jsonError(c, 'CSRF_TOKEN_INVALID', errorCatalog.CSRF_TOKEN_INVALID.status);
      }
      if (fn.permission) {
        const decision = decide(principal, fn.permission);
        if (!decision.allow) {
          log.info({ action: fn.permission, reason: decision.reason, principal: principal.kind }, 'permission denied');
          if (principal.kind === 'anonymous') return jsonError(c, 'AUTH_REQUIRED', errorCatalog.AUTH_REQUIRED.status);
          return jsonError(c, 'PERMISSION_DENIED', 403, { action: fn.permission });
        }
      }

      let body: unknown = undefined;
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        const text = await c.req.text();
        if (text.trim().length > 0) {
          const contentType = c.req.header('content-type') ?? '';
          if (!/^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
            return jsonError(c, 'UNSUPPORTED_MEDIA_TYPE', 415, { contentType });
          }
          try {
            body = JSON.parse(text);
          } catch (error) {
            return jsonError(c, 'INVALID_JSON', 400, { reason: error instanceof Error ? error.message : String(error) });
          }
        }
      }

      const event: FunctionEvent = {
        method: c.req.method,
        path: c.req.path,
        query: c.req.query(),
        headers: {
          ...headerRecord(c.req.raw.headers),
          // Functions see the request id of this gateway's log and the client address
          // as the gateway determined it (HOP_TRUST_PROXY), not what the client claims.
          'x-request-id': String(c.get('requestId' as never) ?? ''),
          'x-forwarded-for': clientIp(c),
        },
        body,
        params: c.req.param() as Record<string, string>,
        principal,
      };

      let result;
      try {
        result = await invoker.invoke(fn.name, event);
      } catch (error) {
        log.error({ err: error, fn: fn.name }, 'function call failed');
        return jsonError(c, 'INTERNAL', 500);
      }

      const base64Body = result.headers[BASE64_BODY_HEADER] === 'base64' && typeof result.body === 'string';
      for (const [name, value] of Object.entries(result.headers)) if (name !== BASE64_BODY_HEADER) c.header(name, value);
      if (base64Body) return c.body(new Uint8Array(Buffer.from(result.body as string, 'base64')), result.status as 200);
      if (result.body === undefined || result.body === null) return c.body(null, result.status as 200);
      if (typeof result.body === 'string') {
        return result.headers['content-type'] ? c.body(result.body, result.status as 200) : c.text(result.body, result.status as 200);
      }
      return c.json(result.body as object, result.status as 200);
    });
  }

  app.all('/api/*', (c) => jsonError(c, 'ROUTE_NOT_FOUND', 404, { method: c.req.method, path: c.req.path }));

  await mountWebClient(app, options.rootDir);
  return app;
}

/**
 * Serves `web/` at the root and the browser libraries listed in
 * `web/vendor.json` (file name → path inside the repository) under `/vendor/`.
 */
async function mountWebClient(app: Hono, rootDir: string): Promise<void> {
  const webDir = path.join(rootDir, 'web');
  let vendor: Record<string, string> = {};
  try {
    vendor = JSON.parse(await readFile(path.join(webDir, 'vendor.json'), 'utf8')) as Record<string, string>;
  } catch {
    vendor = {};
  }

  app.get('/vendor/:file', async (c) => {
    const target = vendor[c.req.param('file')];
    if (!target) return c.notFound();
    const content = await readFile(path.join(rootDir, target));
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(content);
  });

  app.use('/*', serveStatic({ root: webDir }));
  app.notFound((c) => c.text('Không tìm thấy trang. (Page not found.)', 404));
}
