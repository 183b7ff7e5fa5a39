import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { actions, type Action } from '../lib/domain/policy.ts';

/**
 * The function registry, read from stack.yml: each function's HTTP route, the
 * Kafka topics it consumes, its cron schedule and its event batch size, from
 * its annotations.
 */
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const stackSchema = z.object({
  functions: z.record(
    z.string().regex(/^[a-z][a-z0-9-]*$/),
    z.object({
      handler: z.string(),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
  ),
});

export interface FunctionRoute {
  method: (typeof methods)[number];
  /** Hono-style path with `:param` segments. */
  path: string;
}

export interface RegisteredFunction {
  name: string;
  /** The handler folder relative to the repository root. */
  handlerDir: string;
  route: FunctionRoute | null;
  /** Policy action the caller of the HTTP route must be allowed (`com.hop.permission`); null for open routes. */
  permission: Action | null;
  topics: string[];
  schedule: string | null;
  /**
   * Maximum events per call when the bridge delivers this function's topics
   * as CloudEvents batches (`com.hop.batch-size`); null delivers one event per call.
   */
  batchSize: number | null;
}

/** Upper bound of `com.hop.batch-size`, so one call's body stays a few megabytes at most. */
export const MAX_BATCH_SIZE = 1_000;

function parseRoute(name: string, value: string | undefined): FunctionRoute | null {
  if (value === undefined) return null;
  const [method, routePath, ...rest] = value.trim().split(/\s+/);
  if (!method || !routePath || rest.length > 0 || !(methods as readonly string[]).includes(method) || !routePath.startsWith('/')) {
    throw new Error(`stack.yml: function ${name} has an invalid com.hop.route "${value}"; expected "METHOD /path"`);
  }
  return { method: method as FunctionRoute['method'], path: routePath };
}

function parsePermission(name: string, value: string | undefined): Action | null {
  if (value === undefined) return null;
  const action = value.trim();
  if (!Object.hasOwn(actions, action)) {
    throw new Error(`stack.yml: function ${name} has an unknown com.hop.permission "${value}"; expected one of ${Object.keys(actions).join(', ')}`);
  }
  return action as Action;
}

function parseBatchSize(name: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const size = Number(value.trim());
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    throw new Error(`stack.yml: function ${name} has an invalid com.hop.batch-size "${value}"; expected an integer from 1 to ${MAX_BATCH_SIZE}`);
  }
  return size === 1 ? null : size;
}

export function parseStack(text: string): RegisteredFunction[] {
  const stack = stackSchema.parse(parse(text, { merge: true }));
  return Object.entries(stack.functions).map(([name, fn]) => {
    const annotations = fn.annotations ?? {};
    const topic = annotations.topic?.trim();
    const isCron = topic === 'cron-function';
    if (isCron && !annotations.schedule) {
      throw new Error(`stack.yml: function ${name} has topic cron-function but no schedule annotation`);
    }
    return {
      name,
      handlerDir: fn.handler.replace(/^\.\//, ''),
      route: parseRoute(name, annotations['com.hop.route']),
      permission: parsePermission(name, annotations['com.hop.permission']),
      topics: topic && !isCron ? topic.split(',').map((item) => item.trim()).filter(Boolean) : [],
      schedule: isCron ? annotations.schedule!.trim() : null,
      batchSize: parseBatchSize(name, annotations['com.hop.batch-size']),
    };
  });
}

export async function loadRegistry(stackFile: string): Promise<RegisteredFunction[]> {
  return parseStack(await readFile(path.resolve(stackFile), 'utf8'));
}
