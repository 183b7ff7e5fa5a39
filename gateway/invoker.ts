import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorBody } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Dependencies } from '../lib/runtime/dependencies.ts';
import { encodeHeaderJson, encodeRouteParams, invokeHandler, type FunctionEvent, type FunctionHandler, type FunctionResult } from '../lib/runtime/function.ts';
import type { RegisteredFunction } from './registry.ts';

/**
 * Calls a function by name. A returned result carries the function's own
 * status. A thrown error means the call did not complete (the function threw,
 * timed out or could not be reached), and callers treat it as retryable.
 */
export interface Invoker {
  invoke(name: string, event: FunctionEvent): Promise<FunctionResult>;
}

export class FunctionCallError extends Error {
  readonly functionName: string;

  constructor(functionName: string, message: string, cause?: unknown) {
    super(`function ${functionName}: ${message}`, { cause });
    this.name = 'FunctionCallError';
    this.functionName = functionName;
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs handlers imported from `functions/<name>/handler.ts` in this process. */
export class InProcessInvoker implements Invoker {
  readonly #handlers: Map<string, FunctionHandler>;
  readonly #deps: Dependencies;
  readonly #timeoutMs: number;
  readonly #afterInvoke: (result: FunctionResult | undefined) => void;

  private constructor(handlers: Map<string, FunctionHandler>, deps: Dependencies, timeoutMs: number, afterInvoke: (result: FunctionResult | undefined) => void) {
    this.#handlers = handlers;
    this.#deps = deps;
    this.#timeoutMs = timeoutMs;
    this.#afterInvoke = afterInvoke;
  }

  /**
   * Imports every registered function's handler. `afterInvoke` runs after each
   * call (the relay's wake-up), with the result, or undefined when the call failed.
   */
  static async load(
    functions: RegisteredFunction[],
    deps: Dependencies,
    options: { rootDir: string; timeoutMs: number; afterInvoke?: (result: FunctionResult | undefined) => void },
  ): Promise<InProcessInvoker> {
    const handlers = new Map<string, FunctionHandler>();
    for (const fn of functions) {
      const file = path.join(options.rootDir, fn.handlerDir, 'handler.ts');
      const module = (await import(pathToFileURL(file).href)) as { handler?: unknown };
      if (typeof module.handler !== 'function') throw new Error(`${file} does not export a handler function`);
      handlers.set(fn.name, module.handler as FunctionHandler);
    }
    return new InProcessInvoker(handlers, deps, options.timeoutMs, options.afterInvoke ?? (() => {}));
  }

  async invoke(name: string, event: FunctionEvent): Promise<FunctionResult> {
    const handler = this.#handlers.get(name);
    if (!handler) throw new FunctionCallError(name, 'not registered');

    let outcome: Awaited<ReturnType<typeof invokeHandler>>;
    try {
      outcome = await withTimeout(
        invokeHandler(handler, event, this.#deps),
        this.#timeoutMs,
        () => new FunctionCallError(name, `timed out after ${this.#timeoutMs} ms`),
      );
    } catch (error) {
      this.#afterInvoke(undefined);
      throw error;
    }
    this.#afterInvoke('result' in outcome ? outcome.result : undefined);
    if ('error' in outcome) throw new FunctionCallError(name, 'handler failed', outcome.error);
    return outcome.result;
  }
}

/** Calls functions deployed on OpenFaaS through its gateway, `POST|GET {baseUrl}/function/NAME`. */
export class OpenFaasInvoker implements Invoker {
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #log: Logger;

  constructor(baseUrl: string, timeoutMs: number, log: Logger) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  async invoke(name: string, event: FunctionEvent): Promise<FunctionResult> {
    const url = new URL(`${this.#baseUrl}/function/${name}`);
    for (const [key, value] of Object.entries(event.query)) url.searchParams.set(key, value);

    const headers: Record<string, string> = { ...event.headers, 'x-hop-route-params': encodeRouteParams(event.params),
      'x-hop-principal': encodeHeaderJson(event.principal) };
    delete headers['content-length'];
    delete headers.host;
    const hasBody = event.method !== 'GET' && event.method !== 'HEAD';
    // Bodies travel as JSON; a JSON media type of the caller (a CloudEvents batch, say) is kept.
    const mediaType = (event.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (hasBody) headers['content-type'] = mediaType === 'application/json' || mediaType.endsWith('+json') ? mediaType : 'application/json';

    let response: Response;
    try {
      response = await fetch(url, {
        method: event.method,
        headers,
        body: hasBody ? JSON.stringify(event.body ?? {}) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new FunctionCallError(name, `OpenFaaS gateway request failed`, error);
    }

    // Decoded by hand so a leading byte order mark (CSV for Excel) is kept.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer());
    if (response.status >= 500) {
      this.#log.warn({ fn: name, status: response.status }, 'function returned a server error');
    }
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = errorBody('INTERNAL');
      }
    }
    // A 5xx without hop's error body comes from OpenFaaS itself (function down,
    // scaling, time-out): it becomes UNAVAILABLE or INTERNAL with hop's messages.
    const isHopError = typeof body === 'object' && body !== null && 'error' in body;
    if (response.status >= 500 && !isHopError) {
      const unavailable = response.status === 502 || response.status === 503 || response.status === 504;
      return {
        status: unavailable ? 503 : 500,
        headers: {},
        body: errorBody(unavailable ? 'UNAVAILABLE' : 'INTERNAL', { function: name, upstreamStatus: response.status }),
      };
    }

    const resultHeaders: Record<string, string> = {};
    const contentType = response.headers.get('content-type');
    if (contentType) resultHeaders['content-type'] = contentType;
    return { status: response.status, headers: resultHeaders, body };
  }
}
