import { z } from 'zod';
import { listDeliveriesQuerySchema } from '../../lib/contract/notifications.ts';
import { listDeliveries } from '../../lib/domain/notifications/deliveries.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/admin/notification-deliveries?status=&channel=&endpointId=&notificationId=&meetingId=&limit=&cursor=:
 * deliveries newest first; `status=dead` is the dead-letter list. Returns
 * `{ deliveries, nextCursor }` without the notification texts.
 */
export const handler = httpFunction({
  name: 'notification-delivery-list',
  body: z.unknown(),
  handle: async ({ query }, deps) => {
    const filter = parseOrThrow(listDeliveriesQuerySchema, query);
    return { body: await listDeliveries(deps.db, filter) };
  },
});
