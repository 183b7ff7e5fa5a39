import { randomUUID } from 'node:crypto';
import { createWebhookEndpointRequestSchema } from '../../lib/contract/notifications.ts';
import { actorOf, recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { assertWebhookTargetAllowed, generateWebhookSecret, toWebhookEndpoint } from '../../lib/domain/notifications/endpoints.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-create';

/**
 * POST /api/v1/admin/webhooks: adds a webhook endpoint. The URL must pass the
 * target check (allow-list, no link-local or metadata address). The response
 * carries the signing secret, which is shown this once and never again.
 */
export const handler = httpFunction({
  name,
  body: createWebhookEndpointRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    const check = await assertWebhookTargetAllowed(deps.db, body.url);
    const now = deps.now();
    const id = randomUUID();
    const secret = generateWebhookSecret();

    const row = await deps.db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('webhook_endpoint')
        .values({
          id,
          name: body.name.normalize('NFC'),
          url: check.url.toString(),
          secret,
          event_kinds: JSON.stringify([...new Set(body.eventKinds)]),
          enabled: body.enabled,
          created_by: actorOf(principal).id,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        principal,
        action: 'webhook-endpoint.created',
        entityType: 'webhook-endpoint',
        entityId: id,
        before: null,
        after: toWebhookEndpoint(created),
        ...requestMetadata(headers),
        at: now,
      });
      return created;
    });
    deps.log.info({ fn: name, endpointId: id, host: check.hostname }, 'webhook endpoint created');
    return { status: 201, body: { ...toWebhookEndpoint(row), secret } };
  },
});
