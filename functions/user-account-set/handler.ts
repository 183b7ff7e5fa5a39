import { z } from 'zod';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { setLocalAccount } from '../../lib/domain/local-accounts.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'user-account-set';

const requestSchema = z
  .object({
    username: z.string().min(1).max(200),
    password: z.string().min(1).max(4096),
  })
  .strict();

/**
 * PUT /api/v1/users/:id/account: gives a person a local sign-in account, or
 * a new user name or password (admins only, through the `directory.manage`
 * annotation). The person's open sessions end, and a lock-out is cleared. The
 * audit record names the user name, never the password.
 */
export const handler = httpFunction({
  name,
  body: requestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const userId = params.id;
    if (!isUuid(userId)) throw new HopError('USER_NOT_FOUND', { details: { userId } });
    const now = deps.now();

    const result = await deps.db.transaction().execute(async (trx) => {
      const account = await setLocalAccount(trx, { userId, username: body.username, password: body.password, now });
      await recordAudit(trx, {
        principal,
        action: 'user.account-set',
        entityType: 'user',
        entityId: userId,
        before: account.existed ? { username: account.previousUsername } : null,
        after: { username: account.username, passwordChanged: true },
        ...requestMetadata(headers),
        at: now,
      });
      return account;
    });
    deps.log.info({ fn: name, userId, created: !result.existed }, 'local account set');
    return { status: result.existed ? 200 : 201, body: { userId, username: result.username } };
  },
});
