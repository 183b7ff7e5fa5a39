import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The function registry, read from stack.yml: each function's HTTP route, the
 * Kafka topics it consumes and its cron schedule, from its annotations.
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
  topics: string[];
  schedule: string | null;
}

function parseRoute(name: string, value: string | undefined): FunctionRoute | null {
  if (value === undefined) return null;
  const [method, routePath, ...rest] = value.trim().split(/\s+/);
  if (!method || !routePath || rest.length > 0 || !(methods as readonly string[]).includes(method) || !routePath.startsWith('/')) {
    throw new Error(`stack.yml: function ${name} has an invalid com.hop.route "${value}"; expected "METHOD /path"`);
  }
  return { method: method as FunctionRoute['method'], path: routePath };
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
      topics: topic && !isCron ? topic.split(',').map((item) => item.trim()).filter(Boolean) : [],
      schedule: isCron ? annotations.schedule!.trim() : null,
    };
  });
}

export async function loadRegistry(stackFile: string): Promise<RegisteredFunction[]> {
  return parseStack(await readFile(path.resolve(stackFile), 'utf8'));
}
