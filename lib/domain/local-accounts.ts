/**
 * Local sign-in accounts (user name and scrypt password hash), for the
 * embedded default and for provinces without an OpenID provider. An admin
 * gives any person in the directory an account through `setLocalAccount`;
 * `npm run admin:create` makes the first administrator.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import { HopError } from '../errors.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';

/** User names: 3 to 64 characters of a-z, 0-9, dot, underscore, hyphen and @, starting with a letter or digit. */
export const usernamePattern = /^[a-z0-9][a-z0-9._@-]{2,63}$/;

/** Folds a user name as it is stored: NFC, trimmed, lower case. */
export function normaliseUsername(username: string): string {
  return username.normalize('NFC').trim().toLowerCase();
}

export interface LocalAccountChange {
  userId: string;
  username: string;
  password: string;
  now: Date;
}

/**
 * Creates or replaces a person's local account inside `trx`: checks the user
 * name and the password policy, stores the new hash, clears a lock-out and
 * signs the person out everywhere. Throws USER_NOT_FOUND, USERNAME_INVALID,
 * PASSWORD_TOO_WEAK or USERNAME_TAKEN. Returns the stored user name and
 * whether the account existed before.
 */
export async function setLocalAccount(trx: Transaction<Database>, change: LocalAccountChange): Promise<{ username: string; existed: boolean; previousUsername: string | null }> {
  const username = normaliseUsername(change.username);
  if (!usernamePattern.test(username)) throw new HopError('USERNAME_INVALID', { details: { username } });
  const problems = checkPasswordPolicy(change.password, username);
  if (problems.length > 0) {
    throw new HopError('PASSWORD_TOO_WEAK', { details: problems.map((problem) => ({ rule: problem.rule, message: problem.vi, message_en: problem.en })) });
  }

  const user = await trx.selectFrom('app_user').select(['id', 'disabled_at']).where('id', '=', change.userId).forUpdate().executeTakeFirst();
  if (!user) throw new HopError('USER_NOT_FOUND', { details: { userId: change.userId } });
  const owner = await trx.selectFrom('local_account').select('user_id').where('username', '=', username).executeTakeFirst();
  if (owner && owner.user_id !== change.userId) throw new HopError('USERNAME_TAKEN', { details: { username } });

  const passwordHash = await hashPassword(change.password);
  const current = await trx.selectFrom('local_account').select('username').where('user_id', '=', change.userId).executeTakeFirst();
  if (current) {
    await trx
      .updateTable('local_account')
      .set({ username, password_hash: passwordHash, failed_attempts: 0, locked_until: null, password_changed_at: change.now })
      .where('user_id', '=', change.userId)
      .execute();
  } else {
    await trx.insertInto('local_account').values({ user_id: change.userId, username, password_hash: passwordHash, locked_until: null }).execute();
  }
  // A new password ends the sessions opened with the old one.
  await trx.updateTable('web_session').set({ revoked_at: change.now }).where('user_id', '=', change.userId).where('revoked_at', 'is', null).execute();
  return { username, existed: current !== undefined, previousUsername: current?.username ?? null };
}
