import { realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errorBody, HopError, type ErrorBody } from '../../../lib/errors.ts';
import { log as rootLog, type Logger } from '../../../lib/log.ts';
import type { Dependencies } from '../../../lib/runtime/dependencies.ts';
import { principalSchema, type Principal } from '../../../lib/domain/policy.ts';
import { encodeRouteParams, invokeHandler, type FunctionEvent, type FunctionHandler, type FunctionResult } from '../../../lib/runtime/function.ts';
import { buildDependencies } from './dependencies.ts';

/**
 * The HTTP server of the hop-node20-ts OpenFaaS template. of-watchdog (http
 * mode) forwards each request to it on 127.0.0.1:3000; it turns the request
 * into a FunctionEvent, runs the handler with invokeHandler and writes the
 * result. Unlike the stock node20 template, it never sends the text of a
 * thrown error or of `context.fail` to the caller, who gets 500 with the
 * INTERNAL error body instead.
 */

export const ROUTE_PARAMS_HEADER = 'x-hop-route-params';
/** The caller as the hop gateway authenticated it; requests without it are anonymous. */
export const PRINCIPAL_HEADER = 'x-hop-principal';
export const HEALTH_PATH = '/_/health';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_PORT = 3000;

export interface RunnerOptions {
  handler: FunctionHandler;
  deps: Dependencies;
  /** Maximum request body size in bytes. A larger body gets 413. */
  maxBodyBytes?: number;
  log?: Logger;
}

class BodyTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`request body is larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Creates the node:http server that runs `handler` for every request except the health check. */
export function createRunnerServer(options: RunnerOptions): Server {
  return createServer((req, res) => {
    void handleRunnerRequest(options, req, res);
  });
}

/** Handles one request. The returned promise never rejects. */
export async function handleRunnerRequest(options: RunnerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const log = options.log ?? options.deps.log;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';

  try {
    if (method === 'GET' && url.pathname === HEALTH_PATH) {
      sendJson(res, 200, { status: 'ok' });
      return;
    }

    const params = parseRouteParams(req.headers[ROUTE_PARAMS_HEADER]);
    if (params === null) {
      sendJson(
        res,
        400,
        errorBody('VALIDATION_FAILED', [{ path: 'X-Hop-Route-Params', message: 'must be a JSON object of strings' }]),
      );
      return;
    }

    const principal = parsePrincipal(req.headers[PRINCIPAL_HEADER]);
    if (principal === null) {
      sendJson(res, 400, errorBody('VALIDATION_FAILED', [{ path: 'X-Hop-Principal', message: 'must be a principal as the gateway sends it' }]));
      return;
    }

    let raw: Buffer;
    try {
      raw = await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      // The rest of the body is not read, so the connection closes after the response.
      res.setHeader('Connection', 'close');
      sendJson(res, 413, errorBody('BODY_TOO_LARGE'));
      return;
    }

    const parsed = parseBody(raw, req.headers['content-type']);
    if (!parsed.ok) {
      sendJson(res, 400, errorBody('INVALID_JSON'));
      return;
    }

    const event: FunctionEvent = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flattenHeaders(req),
      body: parsed.body,
      params,
      principal,
    };

    const outcome = await invokeHandler(options.handler, event, options.deps);
    if ('error' in outcome) {
      sendFailure(res, log, outcome.error, event);
      return;
    }
    writeResult(res, log, outcome.result, event);
  } catch (error) {
    log.error({ err: error, method, path: url.pathname }, 'runner failed to handle the request');
    if (res.headersSent) res.destroy();
    else sendJson(res, 500, errorBody('INTERNAL'));
  }
}

export { encodeRouteParams };

/** Returns the principal the gateway sent, anonymous without the header, or null when it is invalid. */
function parsePrincipal(header: string | string[] | undefined): Principal | null {
  if (header === undefined) return { kind: 'anonymous' };
  if (Array.isArray(header)) return null;
  try {
    const parsed = principalSchema.safeParse(JSON.parse(header));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Returns the route parameters the gateway sent, {} without the header, or
 * null when the header is invalid. Accepts the escaped form of
 * encodeRouteParams and also raw UTF-8 bytes, which Node.js hands over as
 * Latin-1 characters.
 */
function parseRouteParams(header: string | string[] | undefined): Record<string, string> | null {
  if (header === undefined) return {};
  if (Array.isArray(header)) return null;
  const text = /[\u0080-\u00ff]/.test(header) ? Buffer.from(header, 'latin1').toString('utf8') : header;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const params: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') return null;
    params[key] = item;
  }
  return params;
}

/** Reads the whole body, throwing BodyTooLargeError as soon as it passes `maxBytes`. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // Keep reading and dropping the rest, so the client can still read the
        // 413 response before the connection closes.
        req.resume();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

type ParsedBody = { ok: true; body: unknown } | { ok: false };

/**
 * Parses the body by its media type: JSON (application/json or any +json
 * type) into a value, text/* into a string, a form into an object of strings,
 * anything else into a Buffer. An empty body is undefined. Without a
 * Content-Type the body is text, as in the stock node20 template.
 */
function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  if (raw.length === 0) return { ok: true, body: undefined };
  const mediaType = (contentType ?? 'text/plain').split(';')[0]!.trim().toLowerCase();

  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return { ok: true, body: JSON.parse(raw.toString('utf8')) };
    } catch {
      return { ok: false };
    }
  }
  if (mediaType.startsWith('text/')) return { ok: true, body: raw.toString('utf8') };
  if (mediaType === 'application/x-www-form-urlencoded') {
    return { ok: true, body: Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) };
  }
  return { ok: true, body: raw };
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Responds to a thrown error or `context.fail`. A HopError gets its catalogue
 * status and error body. Anything else is logged and gets 500 INTERNAL, never
 * the error's own text.
 */
function sendFailure(res: ServerResponse, log: Logger, error: unknown, event: FunctionEvent): void {
  if (error instanceof HopError) {
    const level = error.status >= 500 ? 'error' : 'info';
    log[level]({ err: error, code: error.code, method: event.method, path: event.path }, 'handler raised a HopError');
    sendJson(res, error.status, errorBody(error.code, error.details));
    return;
  }
  log.error({ err: error, method: event.method, path: event.path }, 'handler failed');
  sendJson(res, 500, errorBody('INTERNAL'));
}

/**
 * Writes the handler's status, headers and body. A string is sent as text, a
 * Buffer as bytes, undefined and null as an empty body, and any other value
 * as JSON. A Content-Type set by the handler wins over those defaults.
 */
function writeResult(res: ServerResponse, log: Logger, result: FunctionResult, event: FunctionEvent): void {
  if (!Number.isInteger(result.status) || result.status < 200 || result.status > 599) {
    log.error({ status: result.status, method: event.method, path: event.path }, 'handler set an invalid HTTP status');
    sendJson(res, 500, errorBody('INTERNAL'));
    return;
  }

  let payload: Buffer | undefined;
  let defaultType: string | undefined;
  const body = result.body;
  // 204 and 304 responses have no body (RFC 9110), whatever the handler returned.
  if (body === undefined || body === null || result.status === 204 || result.status === 304) {
    payload = undefined;
  } else if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    payload = Buffer.from(body);
    defaultType = 'application/octet-stream';
  } else if (typeof body === 'string') {
    payload = Buffer.from(body, 'utf8');
    defaultType = 'text/plain; charset=utf-8';
  } else {
    payload = Buffer.from(JSON.stringify(body), 'utf8');
    defaultType = 'application/json; charset=utf-8';
  }

  // setHeader throws on a name or value with invalid characters. The caller
  // turns that into 500, because nothing has been sent yet.
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  if (payload !== undefined && defaultType !== undefined && !res.hasHeader('content-type')) {
    res.setHeader('Content-Type', defaultType);
  }
  if (result.status !== 204 && result.status !== 304) res.setHeader('Content-Length', payload?.length ?? 0);
  res.statusCode = result.status;
  res.end(payload);
}

function sendJson(res: ServerResponse, status: number, body: ErrorBody | Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

// ---------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------

export interface RunnerConfig {
  port: number;
  host: string;
  maxBodyBytes: number;
  /** Absolute path of the handler module. */
  handlerPath: string;
  functionName: string;
}

/**
 * Reads the runner's settings from the environment:
 * - `http_port`: listening port, default 3000 (the stock templates' name).
 * - HOP_RUNNER_HOST: listening address, default 127.0.0.1, where of-watchdog connects.
 * - MAX_BODY_BYTES: maximum request body, default 1 MiB.
 * - HOP_HANDLER_PATH: handler module, default `../function/handler` next to
 *   this file, where faas-cli puts the function in the build context.
 * - HOP_FUNCTION_NAME: the `fn` field of the log lines.
 */
export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const port = env.http_port ? Number(env.http_port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`http_port must be a TCP port, got ${env.http_port}`);

  const maxBodyBytes = env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new Error(`MAX_BODY_BYTES must be a positive whole number of bytes, got ${env.MAX_BODY_BYTES}`);
  }

  const ownFile = fileURLToPath(import.meta.url);
  const handlerPath = env.HOP_HANDLER_PATH
    ? path.resolve(env.HOP_HANDLER_PATH)
    : path.resolve(path.dirname(ownFile), '..', 'function', `handler${path.extname(ownFile)}`);

  return {
    port,
    host: env.HOP_RUNNER_HOST || '127.0.0.1',
    maxBodyBytes,
    handlerPath,
    functionName: env.HOP_FUNCTION_NAME || 'function',
  };
}

/** Imports the handler module and returns its `handler` export. */
export async function loadHandler(handlerPath: string): Promise<FunctionHandler> {
  const module = (await import(pathToFileURL(handlerPath).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`${handlerPath} does not export a function named handler`);
  return module.handler as FunctionHandler;
}

/**
 * Loads the handler, builds the dependencies and listens. Returns the server's
 * address and a `close` that stops accepting requests, waits for the ones in
 * flight and closes the dependencies.
 */
export async function startRunner(env: NodeJS.ProcessEnv = process.env): Promise<{ port: number; close: () => Promise<void> }> {
  const config = loadRunnerConfig(env);
  const log = rootLog.child({ fn: config.functionName });
  const handler = await loadHandler(config.handlerPath);
  const built = await buildDependencies(env, log);

  const server = createRunnerServer({ handler, deps: built.deps, maxBodyBytes: config.maxBodyBytes, log });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await built.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  log.info({ host: config.host, port, handler: config.handlerPath, maxBodyBytes: config.maxBodyBytes }, 'runner listening');

  return {
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await built.close();
    },
  };
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  try {
    const runner = await startRunner();
    const stop = (signal: NodeJS.Signals) => {
      rootLog.info({ signal }, 'runner stopping');
      runner.close().then(
        () => process.exit(0),
        (error: unknown) => {
          rootLog.error({ err: error }, 'runner did not stop cleanly');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (error) {
    rootLog.fatal({ err: error }, 'runner failed to start');
    process.exit(1);
  }
}
