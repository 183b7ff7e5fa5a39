import { z } from 'zod';
import { toAllowedTarget } from '../../lib/domain/notifications/endpoints.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/** GET /api/v1/admin/webhook-targets: the webhook allow-list, oldest entry first. */
export const handler = httpFunction({
  name: 'webhook-target-list',
  body: z.unknown(),
  handle: async (_input, deps) => {
    const rows = await deps.db.selectFrom('webhook_allowed_target').selectAll().orderBy('created_at').orderBy('id').execute();
    return { body: { targets: rows.map(toAllowedTarget) } };
  },
});
