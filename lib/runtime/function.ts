import { z } from 'zod';
import { errorBody, HopError, type ErrorCode } from '../errors.ts';
import type { Principal } from '../domain/policy.ts';
import type { Dependencies } from './dependencies.ts';

/**
 * The request a function receives, shaped like the OpenFaaS Node.js template's
 * `event`: method, path, query, headers and the parsed body. `params` contains
 * route parameters; over HTTP the gateway sends them in the
 * `X-Hop-Route-Params` header and the template restores them.
 */
export interface FunctionEvent {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  params: Record<string, string>;
  /**
   * The caller, as the gateway authenticated them; anonymous when there
   * are no credentials. Over HTTP the gateway sends it in `X-Hop-Principal`,
   * so a function must be reachable only through the gateway.
   */
  principal: Principal;
}

/**
 * The OpenFaaS Node.js template's `context` (status, headers, succeed, fail),
 * plus `deps`, the adapters hop's template and gateway inject.
 */
export interface FunctionContext {
  deps: Dependencies;
  status(code: number): FunctionContext;
  headers(values: Record<string, string>): FunctionContext;
  succeed(value: unknown): void;
  fail(error: unknown): void;
}

/**
 * Encodes route parameters for the `X-Hop-Route-Params` header as JSON with
 * every non-ASCII character escaped (`\u1ecd`), because HTTP header values are
 * bytes and fetch rejects characters above U+00FF.
 */
export function encodeRouteParams(params: Record<string, string>): string {
  return encodeHeaderJson(params);
}

/** Encodes a value as JSON for an HTTP header, with every non-ASCII character escaped. */
export function encodeHeaderJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Response header a function sets to `base64` when its string body is base64
 * of binary content (an XLSX file), because the OpenFaaS template and the
 * OpenFaaS invoker carry bodies as text. The gateway decodes the body and
 * drops the header.
 */
export const BASE64_BODY_HEADER = 'x-hop-body-encoding';

export type FunctionHandler = (event: FunctionEvent, context: FunctionContext) => Promise<unknown>;

export interface FunctionResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Runs a handler the way the template does and collects its response.
 * A thrown error is returned as `{ error }` so the caller maps it to a 5xx.
 */
export async function invokeHandler(
  handler: FunctionHandler,
  event: FunctionEvent,
  deps: Dependencies,
): Promise<{ result: FunctionResult } | { error: unknown }> {
  const result: FunctionResult = { status: 200, headers: {}, body: undefined };
  let settled: { error: unknown } | null = null;
  let answered = false;

  const context: FunctionContext = {
    deps,
    status(code) {
      result.status = code;
      return context;
    },
    headers(values) {
      Object.assign(result.headers, values);
      return context;
    },
    succeed(value) {
      answered = true;
      result.body = value;
    },
    fail(error) {
      answered = true;
      settled = { error };
    },
  };

  try {
    const returned = await handler(event, context);
    if (!answered) result.body = returned;
  } catch (error) {
    return { error };
  }
  return settled ?? { result };
}

/** Turns zod issues into the `details` of a VALIDATION_FAILED error: path and message per field. */
export function validationDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
}

export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, code: ErrorCode = 'VALIDATION_FAILED'): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HopError(code, { details: validationDetails(parsed.error) });
  return parsed.data;
}

export interface HttpInput<B> {
  body: B;
  principal: Principal;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
}

export interface HttpFunctionDefinition<S extends z.ZodType> {
  name: string;
  body: S;
  /** Returns the status (200 by default), the body, and headers such as `content-type` for a text body; undefined headers are left out. */
  handle: (input: HttpInput<z.output<S>>, deps: Dependencies) => Promise<{ status?: number; body: unknown; headers?: Record<string, string | undefined> }>;
}

/**
 * Builds an HTTP-triggered handler: the body is validated with the schema, a
 * HopError becomes its catalogue status and error body, and any other error is
 * re-thrown so the template responds with 500.
 */
export function httpFunction<S extends z.ZodType>(definition: HttpFunctionDefinition<S>): FunctionHandler {
  return async (event, context) => {
    try {
      const body = parseOrThrow(definition.body, event.body ?? {});
      const output = await definition.handle(
        { body, principal: event.principal, params: event.params, query: event.query, headers: event.headers },
        context.deps,
      );
      if (output.headers) {
        const set = Object.entries(output.headers).filter((entry): entry is [string, string] => entry[1] !== undefined);
        context.headers(Object.fromEntries(set));
      }
      context.status(output.status ?? 200).succeed(output.body);
    } catch (error) {
      if (!(error instanceof HopError)) throw error;
      context.deps.log.info({ fn: definition.name, code: error.code }, 'request rejected');
      context.status(error.status).succeed(errorBody(error.code, error.details));
    }
    return undefined;
  };
}
