import { updateWebhookEndpointRequestSchema } from '../../lib/contract/notifications.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { assertWebhookTargetAllowed, loadEndpointForUpdate, toWebhookEndpoint } from '../../lib/domain/notifications/endpoints.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-update';

/**
 * PATCH /api/v1/admin/webhooks/:id: changes the name, URL, kind filter or
 * enabled flag. A new URL, and the URL of an endpoint being enabled, must pass
 * the target check. Enabling clears the reason hop recorded when it disabled
 * the endpoint after a 410 Gone; its pending deliveries then go out in order.
 */
export const handler = httpFunction({
  name,
  body: updateWebhookEndpointRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const id = params.id;
    if (!isUuid(id)) throw new HopError('WEBHOOK_ENDPOINT_NOT_FOUND', { details: { id } });
    const checkedUrl = body.url === undefined ? undefined : (await assertWebhookTargetAllowed(deps.db, body.url)).url.toString();
    const now = deps.now();

    const row = await deps.db.transaction().execute(async (trx) => {
      const before = await loadEndpointForUpdate(trx, id);
      const enabling = body.enabled === true && !before.enabled;
      if (enabling && checkedUrl === undefined) await assertWebhookTargetAllowed(trx, before.url);

      const after = await trx
        .updateTable('webhook_endpoint')
        .set({
          ...(body.name === undefined ? {} : { name: body.name.normalize('NFC') }),
          ...(checkedUrl === undefined ? {} : { url: checkedUrl }),
          ...(body.eventKinds === undefined ? {} : { event_kinds: JSON.stringify([...new Set(body.eventKinds)]) }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.enabled === true ? { disabled_reason: null } : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        principal,
        action: 'webhook-endpoint.updated',
        entityType: 'webhook-endpoint',
        entityId: id,
        before: toWebhookEndpoint(before),
        after: toWebhookEndpoint(after),
        ...requestMetadata(headers),
        at: now,
      });
      return after;
    });
    deps.log.info({ fn: name, endpointId: id, enabled: row.enabled }, 'webhook endpoint updated');
    return { body: toWebhookEndpoint(row) };
  },
});
