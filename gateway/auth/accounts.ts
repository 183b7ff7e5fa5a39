import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, SystemRole } from '../../lib/adapters/db/schema.ts';
import { checkPasswordPolicy, hashPassword, maxPasswordLength, needsRehash, verifyDummyPassword, verifyPassword } from '../../lib/domain/passwords.ts';
import { foldForSearch, normalizeName } from '../../lib/domain/text-search.ts';

import { normaliseUsername, usernamePattern } from '../../lib/domain/local-accounts.ts';

export { normaliseUsername };

export type AccountProblem = 'username-invalid' | 'display-name-invalid' | 'password-weak' | 'username-taken';

/** A rejected account creation, with the reason in Vietnamese for people and in English for logs. */
export class AccountError extends Error {
  readonly problem: AccountProblem;
  readonly vi: string;

  constructor(problem: AccountProblem, vi: string, en: string) {
    super(en);
    this.name = 'AccountError';
    this.problem = problem;
    this.vi = vi;
  }
}

export interface NewLocalAccount {
  username: string;
  displayName: string;
  password: string;
  systemRole: SystemRole;
  email?: string | null;
}

/**
 * Creates an app_user and its local_account in one transaction, after checking
 * the user name and the password policy. `scripts/create-admin.ts` and the
 * tests create administrators through this function. Throws AccountError when
 * the input is rejected or the user name is taken.
 */
export async function createLocalAccount(db: Kysely<Database>, input: NewLocalAccount): Promise<{ userId: string; username: string }> {
  const username = normaliseUsername(input.username);
  if (!usernamePattern.test(username)) {
    throw new AccountError(
      'username-invalid',
      `Tên đăng nhập "${username}" không hợp lệ: cần từ 3 đến 64 ký tự, chỉ gồm chữ cái không dấu a-z, chữ số, dấu chấm, gạch dưới, gạch ngang hoặc @, và bắt đầu bằng chữ cái hoặc chữ số.`,
      `invalid user name "${username}": use 3 to 64 characters of a-z, 0-9, ".", "_", "-" or "@", starting with a letter or digit`,
    );
  }
  const displayName = normalizeName(input.displayName);
  if (displayName.length === 0 || displayName.length > 200) {
    throw new AccountError(
      'display-name-invalid',
      'Họ và tên phải có từ 1 đến 200 ký tự.',
      'the display name must have 1 to 200 characters',
    );
  }
  const problems = checkPasswordPolicy(input.password, username);
  if (problems.length > 0) {
    throw new AccountError(
      'password-weak',
      problems.map((problem) => problem.vi).join(' '),
      problems.map((problem) => problem.en).join(' '),
    );
  }

  const passwordHash = await hashPassword(input.password);
  const userId = randomUUID();
  const taken = () =>
    new AccountError(
      'username-taken',
      `Tên đăng nhập "${username}" đã có người dùng. Hãy chọn tên khác.`,
      `the user name "${username}" is already taken`,
    );

  try {
    await db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('local_account').select('user_id').where('username', '=', username).executeTakeFirst();
      if (existing) throw taken();
      await trx
        .insertInto('app_user')
        .values({
          id: userId,
          display_name: displayName,
          name_search: foldForSearch(displayName),
          email: input.email ?? null,
          phone: null,
          system_role: input.systemRole,
          external_id: null,
          disabled_at: null,
          updated_at: new Date(),
        })
        .execute();
      await trx.insertInto('local_account').values({ user_id: userId, username, password_hash: passwordHash, locked_until: null }).execute();
    });
  } catch (error) {
    // Two creations of the same name at once: the unique index rejects the second.
    if ((error as { code?: string }).code === '23505' && String((error as Error).message).includes('username')) throw taken();
    throw error;
  }
  return { userId, username };
}

export interface LockoutPolicy {
  maxFailures: number;
  lockMs: number;
}

export type SignInResult =
  | { outcome: 'ok'; userId: string; username: string; systemRole: SystemRole; displayName: string }
  | { outcome: 'invalid' }
  | { outcome: 'locked'; lockedUntil: Date };

/**
 * Checks a user name and password. Unknown names, wrong passwords and disabled
 * users all return `invalid`, and an unknown name still costs one scrypt hash,
 * so neither the response nor its timing reveals which names exist. Each wrong
 * password counts towards the lock-out; the failure that reaches
 * `maxFailures` locks the account for `lockMs` and restarts the count.
 */
export async function signIn(
  db: Kysely<Database>,
  usernameInput: string,
  password: string,
  policy: LockoutPolicy,
  now: Date = new Date(),
): Promise<SignInResult> {
  const username = normaliseUsername(usernameInput);
  if (password.length > maxPasswordLength) {
    await verifyDummyPassword('');
    return { outcome: 'invalid' };
  }

  const account = await db
    .selectFrom('local_account')
    .innerJoin('app_user', 'app_user.id', 'local_account.user_id')
    .select([
      'local_account.user_id',
      'local_account.username',
      'local_account.password_hash',
      'local_account.locked_until',
      'app_user.system_role',
      'app_user.display_name',
      'app_user.disabled_at',
    ])
    .where('local_account.username', '=', username)
    .executeTakeFirst();

  if (!account) {
    await verifyDummyPassword(password);
    return { outcome: 'invalid' };
  }
  // NOTE: a locked account is rejected without hashing, so the lock (not the
  // password) is visible to any caller. The message states the unlock time anyway.
  if (account.locked_until && new Date(account.locked_until) > now) {
    return { outcome: 'locked', lockedUntil: new Date(account.locked_until) };
  }

  const valid = await verifyPassword(password, account.password_hash);
  if (!valid) {
    const lockUntil = new Date(now.getTime() + policy.lockMs);
    const updated = await db
      .updateTable('local_account')
      .set({
        failed_attempts: sql<number>`case when failed_attempts + 1 >= ${policy.maxFailures} then 0 else failed_attempts + 1 end`,
        locked_until: sql<Date>`case when failed_attempts + 1 >= ${policy.maxFailures} then ${lockUntil}::timestamptz else locked_until end`,
      })
      .where('user_id', '=', account.user_id)
      .returning(['locked_until'])
      .executeTakeFirst();
    if (updated?.locked_until && new Date(updated.locked_until) > now) {
      return { outcome: 'locked', lockedUntil: new Date(updated.locked_until) };
    }
    return { outcome: 'invalid' };
  }
  if (account.disabled_at) return { outcome: 'invalid' };

  const changes: { failed_attempts: number; locked_until: null; password_hash?: string } = { failed_attempts: 0, locked_until: null };
  if (needsRehash(account.password_hash)) changes.password_hash = await hashPassword(password);
  await db.updateTable('local_account').set(changes).where('user_id', '=', account.user_id).execute();

  return {
    outcome: 'ok',
    userId: account.user_id,
    username: account.username,
    systemRole: account.system_role,
    displayName: account.display_name,
  };
}
