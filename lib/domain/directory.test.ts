import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../adapters/db/database.ts';
import { HopError } from '../errors.ts';
import {
  buildUnitTree,
  disableUnit,
  inDirectoryTransaction,
  listUnits,
  loadUser,
  searchUsers,
  unitAndDescendantIds,
  uniqueViolationError,
  upsertUnit,
  upsertUser,
  type UnitUpsert,
  type UserUpsert,
  type WriteOptions,
} from './directory.ts';

const adminOptions = (): WriteOptions => ({ now: new Date(), missingUnit: 'REFERENCED_UNIT_NOT_FOUND', rejectDisabledUnits: true });
const syncOptions = (): WriteOptions => ({ now: new Date(), missingUnit: 'DIRECTORY_UNIT_PENDING', rejectDisabledUnits: false });

function unit(overrides: Partial<UnitUpsert> = {}): UnitUpsert {
  return { unitId: randomUUID(), parentId: null, kind: 'department', code: null, name: 'Sở Nội vụ', ...overrides };
}

function user(overrides: Partial<UserUpsert> = {}): UserUpsert {
  return { userId: randomUUID(), displayName: 'Nguyễn Thị Hòa', email: null, phone: null, memberships: [], externalId: null, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<HopError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HopError, `expected a HopError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to be rejected');
}

describe('directory rules on PGlite', () => {
  let database: DatabaseHandle;

  before(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    await migrateToLatest(database.db);
  });
  after(async () => {
    await database.close();
  });

  const write = <T>(work: Parameters<typeof inDirectoryTransaction<T>>[1]) => inDirectoryTransaction(database.db, work);

  test('unit name stored normalised and folded', async () => {
    const row = await write((trx) => upsertUnit(trx, unit({ name: '  Sở  Thông tin và Truyền thông '.normalize('NFD') }), adminOptions()));
    assert.equal(row.name, 'Sở Thông tin và Truyền thông');
    assert.equal(row.name, row.name.normalize('NFC'));
    assert.equal(row.name_search, 'so thong tin va truyen thong');
  });

  test('unit under itself is a cycle', async () => {
    const id = randomUUID();
    await write((trx) => upsertUnit(trx, unit({ unitId: id }), adminOptions()));
    const error = await rejection(write((trx) => upsertUnit(trx, unit({ unitId: id, parentId: id }), adminOptions())));
    assert.equal(error.code, 'UNIT_PARENT_CYCLE');
  });

  test('unit under its grandchild is a cycle', async () => {
    const root = await write((trx) => upsertUnit(trx, unit({ kind: 'province', name: 'UBND tỉnh' }), adminOptions()));
    const child = await write((trx) => upsertUnit(trx, unit({ parentId: root.id }), adminOptions()));
    const grandchild = await write((trx) => upsertUnit(trx, unit({ parentId: child.id, kind: 'office', name: 'Văn phòng Sở' }), adminOptions()));

    const error = await rejection(
      write((trx) => upsertUnit(trx, unit({ unitId: root.id, parentId: grandchild.id, kind: 'province', name: 'UBND tỉnh' }), adminOptions())),
    );
    assert.equal(error.code, 'UNIT_PARENT_CYCLE');

    const stored = await database.db.selectFrom('unit').select('parent_id').where('id', '=', root.id).executeTakeFirstOrThrow();
    assert.equal(stored.parent_id, null);
  });

  test('unit moved to a sibling subtree', async () => {
    const root = await write((trx) => upsertUnit(trx, unit({ kind: 'province' }), adminOptions()));
    const left = await write((trx) => upsertUnit(trx, unit({ parentId: root.id }), adminOptions()));
    const right = await write((trx) => upsertUnit(trx, unit({ parentId: root.id }), adminOptions()));
    const moved = await write((trx) => upsertUnit(trx, unit({ unitId: left.id, parentId: right.id }), adminOptions()));
    assert.equal(moved.parent_id, right.id);
    assert.deepEqual((await unitAndDescendantIds(database.db, right.id)).sort(), [left.id, right.id].sort());
  });

  test('missing parent uses the caller code', async () => {
    const parentId = randomUUID();
    const forPeople = await rejection(write((trx) => upsertUnit(trx, unit({ parentId }), adminOptions())));
    assert.equal(forPeople.code, 'REFERENCED_UNIT_NOT_FOUND');
    assert.deepEqual(forPeople.details, { unitIds: [parentId] });

    const forEvents = await rejection(write((trx) => upsertUnit(trx, unit({ parentId }), syncOptions())));
    assert.equal(forEvents.code, 'DIRECTORY_UNIT_PENDING');
    assert.equal(forEvents.retryable, true);
  });

  test('duplicate unit code rejected', async () => {
    await write((trx) => upsertUnit(trx, unit({ code: 'SNV-01' }), adminOptions()));
    const error = await rejection(write((trx) => upsertUnit(trx, unit({ code: 'SNV-01' }), adminOptions())));
    assert.equal(error.code, 'UNIT_CODE_TAKEN');
  });

  test('disabled parent: admin rejects, sync accepts', async () => {
    const parent = await write((trx) => upsertUnit(trx, unit(), adminOptions()));
    await write((trx) => disableUnit(trx, parent.id, new Date()));

    const error = await rejection(write((trx) => upsertUnit(trx, unit({ parentId: parent.id }), adminOptions())));
    assert.equal(error.code, 'UNIT_DISABLED');

    const child = await write((trx) => upsertUnit(trx, unit({ parentId: parent.id }), syncOptions()));
    assert.equal(child.parent_id, parent.id);
  });

  test('upsert re-enables a disabled unit', async () => {
    const row = await write((trx) => upsertUnit(trx, unit(), syncOptions()));
    const disabled = await write((trx) => disableUnit(trx, row.id, new Date()));
    assert.equal(disabled?.changed, true);
    const again = await write((trx) => disableUnit(trx, row.id, new Date()));
    assert.equal(again?.changed, false);

    const upserted = await write((trx) => upsertUnit(trx, unit({ unitId: row.id }), syncOptions()));
    assert.equal(upserted.disabled_at, null);
  });

  test('user memberships replaced', async () => {
    const first = await write((trx) => upsertUnit(trx, unit({ name: 'Phòng Tổ chức' }), adminOptions()));
    const second = await write((trx) => upsertUnit(trx, unit({ name: 'Phòng Hành chính' }), adminOptions()));
    const input = user({ memberships: [{ unitId: first.id, position: 'Trưởng phòng' }] });
    await write((trx) => upsertUser(trx, input, adminOptions()));

    await write((trx) =>
      upsertUser(trx, { ...input, memberships: [{ unitId: second.id, position: null }, { unitId: first.id, position: '  Phó   trưởng phòng ' }] }, adminOptions()),
    );
    const stored = await loadUser(database.db, input.userId);
    assert.deepEqual(stored?.memberships, [
      { unitId: second.id, position: null },
      { unitId: first.id, position: 'Phó trưởng phòng' },
    ]);

    await write((trx) => upsertUser(trx, { ...input, memberships: [] }, adminOptions()));
    assert.deepEqual((await loadUser(database.db, input.userId))?.memberships, []);
  });

  test('user with unknown unit rejected', async () => {
    const unitId = randomUUID();
    const input = user({ memberships: [{ unitId, position: null }] });
    const error = await rejection(write((trx) => upsertUser(trx, input, syncOptions())));
    assert.equal(error.code, 'DIRECTORY_UNIT_PENDING');
    assert.deepEqual(error.details, { unitIds: [unitId] });
    assert.equal(await loadUser(database.db, input.userId), undefined, 'nothing is stored');
  });

  test('duplicate e-mail ignoring case', async () => {
    const first = user({ email: 'Hoa.NT@Tinh.gov.vn' });
    await write((trx) => upsertUser(trx, first, adminOptions()));
    assert.equal((await loadUser(database.db, first.userId))?.email, 'hoa.nt@tinh.gov.vn');

    const error = await rejection(write((trx) => upsertUser(trx, user({ email: 'hoa.nt@tinh.gov.vn' }), adminOptions())));
    assert.equal(error.code, 'USER_EMAIL_TAKEN');

    const same = await write((trx) => upsertUser(trx, { ...first, displayName: 'Nguyễn Thị Hoà' }, adminOptions()));
    assert.equal(same.email, 'hoa.nt@tinh.gov.vn', 'a person keeps their own address');
  });

  test('duplicate external id rejected', async () => {
    await write((trx) => upsertUser(trx, user({ externalId: 'eoffice:1001' }), adminOptions()));
    const error = await rejection(write((trx) => upsertUser(trx, user({ externalId: 'eoffice:1001' }), adminOptions())));
    assert.equal(error.code, 'USER_EXTERNAL_ID_TAKEN');
  });

  test('unique violation mapped to code', async () => {
    await database.db.insertInto('unit').values({ id: randomUUID(), kind: 'other', code: 'RAW-1', name: 'A', name_search: 'a', parent_id: null, updated_at: new Date() }).execute();
    let caught: unknown;
    try {
      await database.db.insertInto('unit').values({ id: randomUUID(), kind: 'other', code: 'RAW-1', name: 'B', name_search: 'b', parent_id: null, updated_at: new Date() }).execute();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught, 'the second insert violates unit_code_key');
    assert.equal(uniqueViolationError(caught)?.code, 'UNIT_CODE_TAKEN');
    assert.equal(uniqueViolationError(new Error('other')), undefined);
  });

  describe('search', () => {
    let unitId: string;
    let subunitId: string;
    const ids: Record<string, string> = {};

    before(async () => {
      unitId = (await write((trx) => upsertUnit(trx, unit({ name: 'Sở Y tế' }), adminOptions()))).id;
      subunitId = (await write((trx) => upsertUnit(trx, unit({ parentId: unitId, kind: 'office', name: 'Phòng Nghiệp vụ' }), adminOptions()))).id;
      const people: [string, UserUpsert][] = [
        ['new placement', user({ displayName: 'Trần Thị Hòa', email: 'tth@syt.gov.vn', memberships: [{ unitId, position: null }] })],
        ['old placement', user({ displayName: 'Lê Thị Hoà', memberships: [{ unitId: subunitId, position: null }] })],
        ['decomposed', user({ displayName: 'Phạm Hòa Bình'.normalize('NFD') })],
        ['other', user({ displayName: 'Đỗ Văn Đức', email: 'duc_100%@syt.gov.vn' })],
      ];
      for (const [key, input] of people) {
        await write((trx) => upsertUser(trx, input, adminOptions()));
        ids[key] = input.userId;
      }
    });

    const names = async (q: string, extra: { unitIds?: string[] } = {}) =>
      (await searchUsers(database.db, { q, includeDisabled: false, limit: 500, ...extra }))
        .map((found) => found.id)
        .filter((id) => Object.values(ids).includes(id))
        .sort();

    const hoa = () => [ids['new placement']!, ids['old placement']!, ids['decomposed']!].sort();

    for (const q of ['hoa', 'Hòa', 'Hoà', 'HOA', 'Hòa'.normalize('NFD')]) {
      test(`"${q}" finds every Hòa`, async () => {
        assert.deepEqual(await names(q), hoa());
      });
    }

    test('every word must match', async () => {
      assert.deepEqual(await names('hoa tran'), [ids['new placement']!]);
      assert.deepEqual(await names('thi hoa'), [ids['new placement']!, ids['old placement']!].sort());
    });

    test('đ found by d', async () => {
      assert.deepEqual(await names('do van duc'), [ids['other']!]);
      assert.deepEqual(await names('Đức'), [ids['other']!]);
    });

    test('e-mail part matches', async () => {
      assert.deepEqual(await names('TTH@syt'), [ids['new placement']!]);
    });

    test('LIKE wildcards are literal', async () => {
      assert.deepEqual(await names('_100%'), [ids['other']!]);
      assert.deepEqual(await names('h%a'), [], 'a % in the query is not a wildcard');
      assert.deepEqual(await names('h_a'), [], 'an _ in the query is not a wildcard');
    });

    test('unit filter with and without subunits', async () => {
      assert.deepEqual(await names('hoa', { unitIds: [unitId] }), [ids['new placement']!]);
      const subtree = await unitAndDescendantIds(database.db, unitId);
      assert.deepEqual(await names('hoa', { unitIds: subtree }), [ids['new placement']!, ids['old placement']!].sort());
    });
  });

  test('tree nests children under parents', async () => {
    const units = await listUnits(database.db, { includeDisabled: true });
    const tree = buildUnitTree(units);
    const count = (nodes: ReturnType<typeof buildUnitTree>): number => nodes.reduce((sum, node) => sum + 1 + count(node.children), 0);
    assert.equal(count(tree), units.length, 'every unit appears once');
    for (const root of tree) {
      for (const child of root.children) assert.equal(child.parentId, root.id);
    }
  });
});
