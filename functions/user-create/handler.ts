import { randomUUID } from 'node:crypto';
import { createUserRequestSchema } from '../../lib/contract/directory.ts';
import { emitUserUpserted, inDirectoryTransaction, loadUser, upsertUser } from '../../lib/domain/directory.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'user-create';

/**
 * POST /api/v1/users: creates a person with their memberships. The rows and
 * `vn.hop.directory.user.upserted.v1` commit in one transaction. The system
 * role starts as `member`.
 */
export const handler = httpFunction({
  name,
  body: createUserRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    const now = deps.now();
    const userId = randomUUID();
    const user = await inDirectoryTransaction(deps.db, async (trx) => {
      await upsertUser(
        trx,
        {
          userId,
          displayName: body.displayName,
          email: body.email,
          phone: body.phone,
          memberships: body.memberships,
          externalId: body.externalId,
        },
        { now, missingUnit: 'REFERENCED_UNIT_NOT_FOUND', rejectDisabledUnits: true },
      );
      await trx.updateTable('app_user').set({ system_role: body.systemRole }).where('id', '=', userId).execute();
      const created = await loadUser(trx, userId);
      if (!created) throw new Error(`user ${userId} vanished inside the transaction that created it`);
      await emitUserUpserted(trx, created, name, now);
      await recordAudit(trx, {
        principal,
        action: 'user.created',
        entityType: 'user',
        entityId: userId,
        before: null,
        after: created,
        ...requestMetadata(headers),
        at: now,
      });
      return created;
    });
    deps.log.info({ fn: name, userId, units: user.memberships.length }, 'user created');
    return { status: 201, body: user };
  },
});
