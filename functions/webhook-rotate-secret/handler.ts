import { emptyRequestSchema } from '../../lib/contract/notifications.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { generateWebhookSecret, loadEndpointForUpdate, PREVIOUS_SECRET_GRACE_MS, toWebhookEndpoint } from '../../lib/domain/notifications/endpoints.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-rotate-secret';

/**
 * POST /api/v1/admin/webhooks/:id/rotate-secret: gives the endpoint a new
 * signing secret and returns it, this once. For 24 hours every request also
 * carries a signature with the previous secret, so the receiver can switch
 * without losing requests. A second rotation within that time ends the grace
 * of the first secret at once.
 */
export const handler = httpFunction({
  name,
  body: emptyRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const id = params.id;
    if (!isUuid(id)) throw new HopError('WEBHOOK_ENDPOINT_NOT_FOUND', { details: { id } });
    const now = deps.now();
    const secret = generateWebhookSecret();

    const row = await deps.db.transaction().execute(async (trx) => {
      const before = await loadEndpointForUpdate(trx, id);
      const after = await trx
        .updateTable('webhook_endpoint')
        .set({
          secret,
          previous_secret: before.secret,
          previous_secret_expires_at: new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        principal,
        action: 'webhook-endpoint.secret-rotated',
        entityType: 'webhook-endpoint',
        entityId: id,
        before: toWebhookEndpoint(before),
        after: toWebhookEndpoint(after),
        ...requestMetadata(headers),
        at: now,
      });
      return after;
    });
    deps.log.info({ fn: name, endpointId: id }, 'webhook secret rotated');
    return { body: { ...toWebhookEndpoint(row), secret } };
  },
});
