import { emptyRequestSchema } from '../../lib/contract/notifications.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { loadEndpointForUpdate, toWebhookEndpoint } from '../../lib/domain/notifications/endpoints.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-disable';

/**
 * POST /api/v1/admin/webhooks/:id/disable: stops deliveries to an endpoint.
 * Its pending deliveries stay queued and go out when it is enabled again;
 * new notifications add no deliveries for it meanwhile. Disabling a disabled
 * endpoint changes nothing.
 */
export const handler = httpFunction({
  name,
  body: emptyRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const id = params.id;
    if (!isUuid(id)) throw new HopError('WEBHOOK_ENDPOINT_NOT_FOUND', { details: { id } });
    const now = deps.now();

    const row = await deps.db.transaction().execute(async (trx) => {
      const before = await loadEndpointForUpdate(trx, id);
      if (!before.enabled) return before;
      const after = await trx
        .updateTable('webhook_endpoint')
        .set({ enabled: false, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        principal,
        action: 'webhook-endpoint.disabled',
        entityType: 'webhook-endpoint',
        entityId: id,
        before: toWebhookEndpoint(before),
        after: toWebhookEndpoint(after),
        ...requestMetadata(headers),
        at: now,
      });
      return after;
    });
    deps.log.info({ fn: name, endpointId: id }, 'webhook endpoint disabled');
    return { body: toWebhookEndpoint(row) };
  },
});
