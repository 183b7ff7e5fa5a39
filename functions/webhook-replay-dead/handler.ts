import { emptyRequestSchema } from '../../lib/contract/notifications.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { replayDeadDeliveriesOfEndpoint } from '../../lib/domain/notifications/deliveries.ts';
import { loadEndpointForUpdate } from '../../lib/domain/notifications/endpoints.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-replay-dead';

/**
 * POST /api/v1/admin/webhooks/:id/replay-dead: puts every dead delivery of the
 * endpoint back in its queue with attempts reset. They keep their sequence
 * numbers, so they go out in their original order, ahead of later pending
 * ones. Returns `{ replayed, deliveryIds }`.
 */
export const handler = httpFunction({
  name,
  body: emptyRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const id = params.id;
    if (!isUuid(id)) throw new HopError('WEBHOOK_ENDPOINT_NOT_FOUND', { details: { id } });
    const now = deps.now();

    const deliveryIds = await deps.db.transaction().execute(async (trx) => {
      await loadEndpointForUpdate(trx, id);
      const replayed = await replayDeadDeliveriesOfEndpoint(trx, id, now);
      if (replayed.length > 0) {
        await recordAudit(trx, {
          principal,
          action: 'notification-delivery.replayed',
          entityType: 'webhook-endpoint',
          entityId: id,
          before: { status: 'dead', count: replayed.length },
          after: { status: 'pending', count: replayed.length, deliveryIds: replayed },
          ...requestMetadata(headers),
          at: now,
        });
      }
      return replayed;
    });
    deps.log.info({ fn: name, endpointId: id, replayed: deliveryIds.length }, 'dead deliveries replayed');
    return { body: { replayed: deliveryIds.length, deliveryIds } };
  },
});
