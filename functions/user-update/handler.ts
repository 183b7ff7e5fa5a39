import { updateUserRequestSchema } from '../../lib/contract/directory.ts';
import { emitUserUpserted, inDirectoryTransaction, loadUser, upsertUser } from '../../lib/domain/directory.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'user-update';

/**
 * PATCH /api/v1/users/:id: changes the given fields of an active person;
 * `memberships`, when given, replaces the whole list. A disabled person is
 * rejected with USER_DISABLED. The change and
 * `vn.hop.directory.user.upserted.v1` commit in one transaction.
 */
export const handler = httpFunction({
  name,
  body: updateUserRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const userId = params.id;
    if (!isUuid(userId)) throw new HopError('USER_NOT_FOUND', { details: { userId } });

    const now = deps.now();
    const user = await inDirectoryTransaction(deps.db, async (trx) => {
      const current = await loadUser(trx, userId);
      if (!current) throw new HopError('USER_NOT_FOUND', { details: { userId } });
      if (current.disabledAt !== null) throw new HopError('USER_DISABLED', { details: { userId } });

      await upsertUser(
        trx,
        {
          userId: current.id,
          displayName: body.displayName ?? current.displayName,
          email: body.email === undefined ? current.email : body.email,
          phone: body.phone === undefined ? current.phone : body.phone,
          memberships: body.memberships ?? current.memberships,
          externalId: body.externalId === undefined ? current.externalId : body.externalId,
        },
        { now, missingUnit: 'REFERENCED_UNIT_NOT_FOUND', rejectDisabledUnits: true },
      );
      if (body.systemRole !== undefined) {
        await trx.updateTable('app_user').set({ system_role: body.systemRole }).where('id', '=', current.id).execute();
      }
      const updated = await loadUser(trx, current.id);
      if (!updated) throw new Error(`user ${current.id} vanished inside the transaction that updated it`);
      await emitUserUpserted(trx, updated, name, now);
      await recordAudit(trx, {
        principal,
        action: 'user.updated',
        entityType: 'user',
        entityId: updated.id,
        before: current,
        after: updated,
        ...requestMetadata(headers),
        at: now,
      });
      return updated;
    });
    deps.log.info({ fn: name, userId }, 'user updated');
    return { body: user };
  },
});
