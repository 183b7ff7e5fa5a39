import { z } from 'zod';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { toAllowedTarget } from '../../lib/domain/notifications/endpoints.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-target-delete';

/**
 * DELETE /api/v1/admin/webhook-targets/:id: removes an allow-list entry.
 * Endpoints that relied on it keep their queued deliveries, but each attempt
 * now fails the target check and is retried until the entry is back or the
 * 24-hour window ends. Responds 204.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async ({ params, principal, headers }, deps) => {
    const id = params.id;
    if (!isUuid(id)) throw new HopError('WEBHOOK_ALLOWED_TARGET_NOT_FOUND', { details: { id } });
    const now = deps.now();

    const row = await deps.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('webhook_allowed_target').where('id', '=', id).returningAll().executeTakeFirst();
      if (!deleted) throw new HopError('WEBHOOK_ALLOWED_TARGET_NOT_FOUND', { details: { id } });
      await recordAudit(trx, {
        principal,
        action: 'webhook-allowed-target.deleted',
        entityType: 'webhook-allowed-target',
        entityId: id,
        before: toAllowedTarget(deleted),
        after: null,
        ...requestMetadata(headers),
        at: now,
      });
      return deleted;
    });
    deps.log.info({ fn: name, entryId: id, target: row.target }, 'webhook allow-list entry deleted');
    return { status: 204, body: null };
  },
});
