import { emptyRequestSchema } from '../../lib/contract/notifications.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { replayDelivery, toNotificationDelivery } from '../../lib/domain/notifications/deliveries.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'notification-delivery-replay';

/**
 * POST /api/v1/admin/notification-deliveries/:id/replay: puts one dead
 * delivery back in its target's queue with attempts reset. It keeps its
 * sequence number, so it goes out before later pending deliveries of the same
 * target. A delivery in any other status gets NOTIFICATION_DELIVERY_NOT_DEAD.
 */
export const handler = httpFunction({
  name,
  body: emptyRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const id = params.id;
    if (!isUuid(id)) throw new HopError('NOTIFICATION_DELIVERY_NOT_FOUND', { details: { id } });
    const now = deps.now();

    const after = await deps.db.transaction().execute(async (trx) => {
      const replayed = await replayDelivery(trx, id, now);
      await recordAudit(trx, {
        principal,
        action: 'notification-delivery.replayed',
        entityType: 'notification-delivery',
        entityId: id,
        before: toNotificationDelivery(replayed.before),
        after: toNotificationDelivery(replayed.after),
        ...requestMetadata(headers),
        at: now,
      });
      return replayed.after;
    });
    deps.log.info({ fn: name, deliveryId: id }, 'dead delivery replayed');
    return { body: toNotificationDelivery(after) };
  },
});
