import { disableRequestSchema } from '../../lib/contract/directory.ts';
import { disableUser, emitUserDisabled, inDirectoryTransaction, loadUser } from '../../lib/domain/directory.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'user-disable';

/**
 * POST /api/v1/users/:id/disable: marks a person disabled; their memberships
 * are kept. Disabling a disabled person returns them unchanged and emits
 * nothing; otherwise `vn.hop.directory.user.disabled.v1` commits with the change.
 */
export const handler = httpFunction({
  name,
  body: disableRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const userId = params.id;
    if (!isUuid(userId)) throw new HopError('USER_NOT_FOUND', { details: { userId } });

    const now = deps.now();
    const result = await inDirectoryTransaction(deps.db, async (trx) => {
      const before = await loadUser(trx, userId);
      const disabled = await disableUser(trx, userId, now);
      if (!before || !disabled) throw new HopError('USER_NOT_FOUND', { details: { userId } });
      if (disabled.changed) await emitUserDisabled(trx, disabled.row.id, name, now);
      const user = await loadUser(trx, disabled.row.id);
      if (!user) throw new Error(`user ${userId} vanished inside the transaction that disabled it`);
      if (disabled.changed) {
        await recordAudit(trx, {
          principal,
          action: 'user.disabled',
          entityType: 'user',
          entityId: user.id,
          before,
          after: user,
          ...requestMetadata(headers),
          at: now,
        });
      }
      return { user, changed: disabled.changed };
    });
    if (result.changed) deps.log.info({ fn: name, userId }, 'user disabled');
    return { body: result.user };
  },
});
