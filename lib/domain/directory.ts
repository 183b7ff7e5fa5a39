import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Unit, UnitTreeNode, User } from '../contract/directory.ts';
import { eventSource, newEvent, type EventData } from '../contract/events.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import type { AppUserTable, Database, UnitTable } from '../adapters/db/schema.ts';
import { HopError, type ErrorCode } from '../errors.ts';
import { toIso } from './meetings.ts';
import { foldForSearch, normalizeName } from './text-search.ts';

/**
 * The organisation directory's rules, shared by `directory-sync` (events from
 * the province's e-office system) and the admin HTTP functions: units form a
 * tree without cycles, unit codes, e-mail addresses (ignoring case) and
 * external ids are unique, names are stored with `normalizeName` and searched
 * through `foldForSearch`.
 */

type Db = Kysely<Database> | Transaction<Database>;
export type UnitRow = Selectable<UnitTable>;
export type UserRow = Selectable<AppUserTable>;

export type UnitUpsert = EventData<'vn.hop.directory.unit.upserted.v1'>;
export type UserUpsert = EventData<'vn.hop.directory.user.upserted.v1'>;

export interface WriteOptions {
  now: Date;
  /**
   * The error raised when a parent or membership unit does not exist:
   * `REFERENCED_UNIT_NOT_FOUND` for people (a 400), `DIRECTORY_UNIT_PENDING` for
   * events (a 503, so the bridge retries while the unit may still arrive on
   * another partition).
   */
  missingUnit: Extract<ErrorCode, 'REFERENCED_UNIT_NOT_FOUND' | 'DIRECTORY_UNIT_PENDING'>;
  /** True to reject a disabled unit as parent or membership (admin API); events from the e-office system may use them. */
  rejectDisabledUnits: boolean;
}

/**
 * Serialises directory writes across transactions and gateways, so the cycle
 * and uniqueness checks below cannot race with another writer. Released at the
 * end of the transaction.
 */
export async function lockDirectory(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('hop.directory'))`.execute(trx);
}

// Units

/**
 * Inserts or replaces a unit and marks it active. Throws UNIT_PARENT_CYCLE,
 * UNIT_CODE_TAKEN, UNIT_DISABLED or `options.missingUnit`.
 */
export async function upsertUnit(trx: Transaction<Database>, input: UnitUpsert, options: WriteOptions): Promise<UnitRow> {
  const name = normalizeName(input.name);

  if (input.parentId !== null) {
    if (input.parentId.toLowerCase() === input.unitId.toLowerCase()) {
      throw new HopError('UNIT_PARENT_CYCLE', { details: { unitId: input.unitId, parentId: input.parentId } });
    }
    const parent = await trx.selectFrom('unit').select(['id', 'disabled_at']).where('id', '=', input.parentId).executeTakeFirst();
    if (!parent) throw new HopError(options.missingUnit, { details: { unitIds: [input.parentId] } });
    if (options.rejectDisabledUnits && parent.disabled_at !== null) {
      throw new HopError('UNIT_DISABLED', { details: { unitIds: [input.parentId] } });
    }
    if (await isAncestorOrSelf(trx, input.unitId, input.parentId)) {
      throw new HopError('UNIT_PARENT_CYCLE', { details: { unitId: input.unitId, parentId: input.parentId } });
    }
  }

  if (input.code !== null) {
    const holder = await trx
      .selectFrom('unit')
      .select('id')
      .where('code', '=', input.code)
      .where('id', '!=', input.unitId)
      .executeTakeFirst();
    if (holder) throw new HopError('UNIT_CODE_TAKEN', { details: { code: input.code, unitId: holder.id } });
  }

  const values = {
    parent_id: input.parentId,
    kind: input.kind,
    code: input.code,
    name,
    name_search: foldForSearch(name),
    disabled_at: null,
    updated_at: options.now,
  };
  return trx
    .insertInto('unit')
    .values({ id: input.unitId, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** True when `unitId` is `startId` or one of its ancestors, so making `startId` its parent would close a cycle. */
async function isAncestorOrSelf(trx: Db, unitId: string, startId: string): Promise<boolean> {
  // `union` (not `union all`) ends the walk even if the stored tree already has a cycle.
  const result = await sql<{ id: string }>`
    with recursive ancestors(id, parent_id) as (
      select id, parent_id from unit where id = ${startId}
      union
      select unit.id, unit.parent_id from unit join ancestors on unit.id = ancestors.parent_id
    )
    select id from ancestors where id = ${unitId}
  `.execute(trx);
  return result.rows.length > 0;
}

/** Marks a unit disabled. Returns the row and whether it changed, or undefined when the unit does not exist. */
export async function disableUnit(
  trx: Transaction<Database>,
  unitId: string,
  now: Date,
): Promise<{ row: UnitRow; changed: boolean } | undefined> {
  const row = await trx.selectFrom('unit').selectAll().where('id', '=', unitId).executeTakeFirst();
  if (!row) return undefined;
  if (row.disabled_at !== null) return { row, changed: false };
  const updated = await trx
    .updateTable('unit')
    .set({ disabled_at: now, updated_at: now })
    .where('id', '=', unitId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row: updated, changed: true };
}

export function toUnit(row: UnitRow): Unit {
  return {
    id: row.id,
    parentId: row.parent_id,
    kind: row.kind,
    code: row.code,
    name: row.name,
    disabledAt: row.disabled_at === null ? null : toIso(row.disabled_at),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

export function unitUpsertedData(row: UnitRow): UnitUpsert {
  return { unitId: row.id, parentId: row.parent_id, kind: row.kind, code: row.code, name: row.name };
}

export async function loadUnit(db: Db, unitId: string): Promise<UnitRow | undefined> {
  return db.selectFrom('unit').selectAll().where('id', '=', unitId).executeTakeFirst();
}

/** Units ordered by folded name, then id. */
export async function listUnits(db: Db, { includeDisabled }: { includeDisabled: boolean }): Promise<Unit[]> {
  let select = db.selectFrom('unit').selectAll().orderBy('name_search').orderBy('id');
  if (!includeDisabled) select = select.where('disabled_at', 'is', null);
  return (await select.execute()).map(toUnit);
}

/**
 * Nests units under their parents, keeping the input order among siblings.
 * A unit whose parent is not in the list (a disabled parent that was left
 * out) becomes a root.
 */
export function buildUnitTree(units: Unit[]): UnitTreeNode[] {
  const nodes = new Map<string, UnitTreeNode>(units.map((unit) => [unit.id, { ...unit, children: [] }]));
  const roots: UnitTreeNode[] = [];
  for (const unit of units) {
    const node = nodes.get(unit.id)!;
    const parent = unit.parentId === null ? undefined : nodes.get(unit.parentId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** Ids of `unitId` and every unit below it. */
export async function unitAndDescendantIds(db: Db, unitId: string): Promise<string[]> {
  const result = await sql<{ id: string }>`
    with recursive subtree(id) as (
      select id from unit where id = ${unitId}
      union
      select unit.id from unit join subtree on unit.parent_id = subtree.id
    )
    select id from subtree
  `.execute(db);
  return result.rows.map((row) => row.id);
}

// Users

/** Normalises an e-mail address for storage: trimmed and lower-cased, which is how uniqueness is checked. */
function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Inserts or replaces a person, marks them active and replaces their
 * memberships with `input.memberships`. Throws USER_EMAIL_TAKEN,
 * USER_EXTERNAL_ID_TAKEN, UNIT_DISABLED or `options.missingUnit`.
 */
export async function upsertUser(trx: Transaction<Database>, input: UserUpsert, options: WriteOptions): Promise<UserRow> {
  const displayName = normalizeName(input.displayName);
  const email = input.email === null ? null : normalizeEmail(input.email);
  const unitIds = input.memberships.map((membership) => membership.unitId);

  if (unitIds.length > 0) {
    const units = await trx.selectFrom('unit').select(['id', 'disabled_at']).where('id', 'in', unitIds).execute();
    const found = new Set(units.map((unit) => unit.id.toLowerCase()));
    const missing = unitIds.filter((id) => !found.has(id.toLowerCase()));
    if (missing.length > 0) throw new HopError(options.missingUnit, { details: { unitIds: missing } });
    const disabled = units.filter((unit) => unit.disabled_at !== null).map((unit) => unit.id);
    if (options.rejectDisabledUnits && disabled.length > 0) {
      throw new HopError('UNIT_DISABLED', { details: { unitIds: disabled } });
    }
  }

  if (email !== null) {
    const holder = await trx
      .selectFrom('app_user')
      .select('id')
      .where(sql<string>`lower(email)`, '=', email)
      .where('id', '!=', input.userId)
      .executeTakeFirst();
    if (holder) throw new HopError('USER_EMAIL_TAKEN', { details: { email, userId: holder.id } });
  }
  if (input.externalId !== null) {
    const holder = await trx
      .selectFrom('app_user')
      .select('id')
      .where('external_id', '=', input.externalId)
      .where('id', '!=', input.userId)
      .executeTakeFirst();
    if (holder) throw new HopError('USER_EXTERNAL_ID_TAKEN', { details: { externalId: input.externalId, userId: holder.id } });
  }

  const values = {
    display_name: displayName,
    name_search: foldForSearch(displayName),
    email,
    phone: input.phone,
    external_id: input.externalId,
    disabled_at: null,
    updated_at: options.now,
  };
  const row = await trx
    .insertInto('app_user')
    .values({ id: input.userId, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();

  let removal = trx.deleteFrom('membership').where('user_id', '=', input.userId);
  if (unitIds.length > 0) removal = removal.where('unit_id', 'not in', unitIds);
  await removal.execute();
  for (const membership of input.memberships) {
    const position = membership.position === null ? null : normalizeName(membership.position);
    await trx
      .insertInto('membership')
      .values({ user_id: input.userId, unit_id: membership.unitId, position })
      .onConflict((oc) => oc.columns(['user_id', 'unit_id']).doUpdateSet({ position }))
      .execute();
  }
  return row;
}

/** Marks a person disabled; memberships are kept. Returns undefined when the user does not exist. */
export async function disableUser(
  trx: Transaction<Database>,
  userId: string,
  now: Date,
): Promise<{ row: UserRow; changed: boolean } | undefined> {
  const row = await trx.selectFrom('app_user').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!row) return undefined;
  if (row.disabled_at !== null) return { row, changed: false };
  const updated = await trx
    .updateTable('app_user')
    .set({ disabled_at: now, updated_at: now })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row: updated, changed: true };
}

type Membership = User['memberships'][number];

async function loadMemberships(db: Db, userIds: string[]): Promise<Map<string, Membership[]>> {
  const byUser = new Map<string, Membership[]>();
  if (userIds.length === 0) return byUser;
  const rows = await db
    .selectFrom('membership')
    .innerJoin('unit', 'unit.id', 'membership.unit_id')
    .select(['membership.user_id', 'membership.unit_id', 'membership.position'])
    .where('membership.user_id', 'in', userIds)
    .orderBy('unit.name_search')
    .orderBy('membership.unit_id')
    .execute();
  for (const row of rows) {
    const list = byUser.get(row.user_id) ?? [];
    list.push({ unitId: row.unit_id, position: row.position });
    byUser.set(row.user_id, list);
  }
  return byUser;
}

function toUser(row: UserRow, memberships: Membership[]): User {
  return {
    id: row.id,
    displayName: row.display_name,
    email: row.email,
    phone: row.phone,
    externalId: row.external_id,
    systemRole: row.system_role,
    memberships,
    disabledAt: row.disabled_at === null ? null : toIso(row.disabled_at),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/** Loads a person with their memberships, or undefined. */
export async function loadUser(db: Db, userId: string): Promise<User | undefined> {
  const row = await db.selectFrom('app_user').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!row) return undefined;
  const memberships = await loadMemberships(db, [userId]);
  return toUser(row, memberships.get(userId) ?? []);
}

export function userUpsertedData(user: User): UserUpsert {
  return {
    userId: user.id,
    displayName: user.displayName,
    email: user.email,
    phone: user.phone,
    memberships: user.memberships,
    externalId: user.externalId,
  };
}

/** Escapes `%`, `_` and `\` for a LIKE pattern, whose default escape character in PostgreSQL is `\`. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

export interface UserSearch {
  /** Words that must all appear in the folded name; the whole text may also match part of the e-mail address. */
  q?: string | undefined;
  /** Only members of these units. */
  unitIds?: string[] | undefined;
  includeDisabled: boolean;
  limit: number;
}

/**
 * Finds people by name ignoring case and tone marks: "nguyen hoa" finds
 * "Nguyễn Thị Hòa" and "Nguyễn Thị Hoà". Ordered by folded name, then id.
 */
export async function searchUsers(db: Db, search: UserSearch): Promise<User[]> {
  let select = db.selectFrom('app_user').selectAll().orderBy('name_search').orderBy('id').limit(search.limit);
  if (!search.includeDisabled) select = select.where('disabled_at', 'is', null);

  const words = search.q === undefined ? [] : foldForSearch(search.q).split(' ').filter((word) => word.length > 0);
  if (words.length > 0) {
    const emailPattern = `%${escapeLike(normalizeName(search.q ?? '').toLowerCase())}%`;
    // NOTE: `like '%…%'` cannot use the btree index on name_search, so this scans app_user;
    // enough for one province's directory, a pg_trgm index would be the next step.
    select = select.where((eb) =>
      eb.or([
        eb.and(words.map((word) => eb('name_search', 'like', `%${escapeLike(word)}%`))),
        eb(sql<string>`lower(email)`, 'like', emailPattern),
      ]),
    );
  }

  if (search.unitIds !== undefined) {
    if (search.unitIds.length === 0) return [];
    const unitIds = search.unitIds;
    select = select.where('id', 'in', (eb) =>
      eb.selectFrom('membership').select('membership.user_id').where('membership.unit_id', 'in', unitIds),
    );
  }

  const rows = await select.execute();
  const memberships = await loadMemberships(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toUser(row, memberships.get(row.id) ?? []));
}

// Events

/** Writes `vn.hop.directory.unit.upserted.v1` for a unit changed by `functionName`, keyed by the unit id. */
export async function emitUnitUpserted(trx: Transaction<Database>, row: UnitRow, functionName: string, now: Date): Promise<void> {
  const event = newEvent('vn.hop.directory.unit.upserted.v1', unitUpsertedData(row), {
    source: eventSource(functionName),
    subject: row.id,
    time: now,
  });
  await appendToOutbox(trx, event, row.id);
}

export async function emitUnitDisabled(trx: Transaction<Database>, unitId: string, functionName: string, now: Date): Promise<void> {
  const event = newEvent('vn.hop.directory.unit.disabled.v1', { unitId }, { source: eventSource(functionName), subject: unitId, time: now });
  await appendToOutbox(trx, event, unitId);
}

/** Writes `vn.hop.directory.user.upserted.v1` for a person changed by `functionName`, keyed by the user id. */
export async function emitUserUpserted(trx: Transaction<Database>, user: User, functionName: string, now: Date): Promise<void> {
  const event = newEvent('vn.hop.directory.user.upserted.v1', userUpsertedData(user), {
    source: eventSource(functionName),
    subject: user.id,
    time: now,
  });
  await appendToOutbox(trx, event, user.id);
}

export async function emitUserDisabled(trx: Transaction<Database>, userId: string, functionName: string, now: Date): Promise<void> {
  const event = newEvent('vn.hop.directory.user.disabled.v1', { userId }, { source: eventSource(functionName), subject: userId, time: now });
  await appendToOutbox(trx, event, userId);
}

/** Unique indexes of the directory and the error for each. */
const uniqueViolations: Record<string, ErrorCode> = {
  unit_code_key: 'UNIT_CODE_TAKEN',
  app_user_email_idx: 'USER_EMAIL_TAKEN',
  app_user_external_id_key: 'USER_EXTERNAL_ID_TAKEN',
};

/**
 * Turns a PostgreSQL unique violation (SQLSTATE 23505) on a directory index
 * into its HopError. The checks in `upsertUnit` and `upsertUser` run under
 * `lockDirectory`, so this only fires when a writer skipped the lock.
 */
export function uniqueViolationError(error: unknown): HopError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  if (code !== '23505' || typeof constraint !== 'string') return undefined;
  const hopCode = uniqueViolations[constraint];
  return hopCode === undefined ? undefined : new HopError(hopCode, { cause: error, details: { constraint } });
}

/** Runs `work` in a transaction that holds the directory lock, with unique violations turned into HopErrors. */
export async function inDirectoryTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(async (trx) => {
      await lockDirectory(trx);
      return work(trx);
    });
  } catch (error) {
    throw uniqueViolationError(error) ?? error;
  }
}
