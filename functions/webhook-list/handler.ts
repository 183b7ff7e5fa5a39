import { z } from 'zod';
import { toWebhookEndpoint } from '../../lib/domain/notifications/endpoints.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/** GET /api/v1/admin/webhooks: every webhook endpoint, oldest first, without secrets. */
export const handler = httpFunction({
  name: 'webhook-list',
  body: z.unknown(),
  handle: async (_input, deps) => {
    const rows = await deps.db.selectFrom('webhook_endpoint').selectAll().orderBy('created_at').orderBy('id').execute();
    return { body: { endpoints: rows.map(toWebhookEndpoint) } };
  },
});
