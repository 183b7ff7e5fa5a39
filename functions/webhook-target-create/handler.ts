import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createAllowedTargetRequestSchema } from '../../lib/contract/notifications.ts';
import { actorOf, recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { toAllowedTarget } from '../../lib/domain/notifications/endpoints.ts';
import { parseAllowListTarget } from '../../lib/domain/notifications/target-check.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'webhook-target-create';

/**
 * POST /api/v1/admin/webhook-targets: adds a host name, IP address or CIDR
 * block (optionally one port) to the webhook allow-list. A bare IP address is
 * stored as a block of one address (`/32`, `/128`). Link-local and metadata
 * addresses stay refused whatever this list contains.
 */
export const handler = httpFunction({
  name,
  body: createAllowedTargetRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    const parsed = parseAllowListTarget(body.target);
    if (!parsed) throw new HopError('WEBHOOK_ALLOWED_TARGET_INVALID', { details: { target: body.target } });
    const now = deps.now();
    const id = randomUUID();

    const row = await deps.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('webhook_allowed_target')
        .select('id')
        .where('kind', '=', parsed.kind)
        .where('target', '=', parsed.target)
        .where(sql<number>`coalesce(port, 0)`, '=', body.port ?? 0)
        .executeTakeFirst();
      if (existing) throw new HopError('WEBHOOK_ALLOWED_TARGET_EXISTS', { details: { id: existing.id } });

      const created = await trx
        .insertInto('webhook_allowed_target')
        .values({
          id,
          kind: parsed.kind,
          target: parsed.target,
          port: body.port,
          note: body.note === null ? null : body.note.normalize('NFC'),
          created_by: actorOf(principal).id,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        principal,
        action: 'webhook-allowed-target.created',
        entityType: 'webhook-allowed-target',
        entityId: id,
        before: null,
        after: toAllowedTarget(created),
        ...requestMetadata(headers),
        at: now,
      });
      return created;
    });
    deps.log.info({ fn: name, entryId: id, kind: row.kind, target: row.target, port: row.port }, 'webhook allow-list entry created');
    return { status: 201, body: toAllowedTarget(row) };
  },
});
