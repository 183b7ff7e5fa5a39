import { z } from 'zod';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * A new hop function. `faas-cli new NAME --lang hop-node20-ts --handler
 * ./functions/NAME` copies this file to functions/NAME/handler.ts, where the
 * `../../lib` imports resolve.
 */
export const handler = httpFunction({
  name: 'hello',
  body: z.object({ name: z.string().min(1).max(200).optional() }),
  handle: async ({ body }, deps) => ({
    body: { message: `Xin chào, ${body.name ?? 'hop'}!`, at: deps.now().toISOString() },
  }),
});
