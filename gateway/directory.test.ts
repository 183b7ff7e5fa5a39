import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { BusMessage, Subscription } from '../lib/adapters/bus/bus.ts';
import { topics } from '../lib/contract/topics.ts';
import { errorCatalog } from '../lib/errors.ts';
import { createApiKey } from './auth/api-keys.ts';
import { deadLetterHeaders } from './bridge.ts';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase, waitFor } from '../test/support/services.ts';

describe('directory API on the embedded default', () => {
  let hop: TestPlatform;

  before(async () => {
    hop = await startTestPlatform();
  });
  after(async () => {
    await hop.stop();
  });

  async function createUnit(body: Record<string, unknown>): Promise<{ id: string; [key: string]: unknown }> {
    const response = await hop.request('POST', '/api/v1/units', body);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body;
  }

  async function createUser(body: Record<string, unknown>): Promise<{ id: string; [key: string]: unknown }> {
    const response = await hop.request('POST', '/api/v1/users', body);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body;
  }

  async function outboxTypes(key: string): Promise<string[]> {
    const rows = await hop.platform.database.db
      .selectFrom('outbox')
      .select(['payload', 'topic'])
      .where('message_key', '=', key)
      .where('topic', '!=', 'hop.audit.v1')
      .orderBy('id')
      .execute();
    for (const row of rows) assert.equal(row.topic, 'hop.directory.v1');
    return rows.map((row) => (row.payload as { type: string }).type);
  }

  test('unit tree created and listed', async () => {
    const province = await createUnit({ kind: 'province', code: 'UBND-T', name: 'Ủy ban nhân dân tỉnh' });
    const department = await createUnit({ kind: 'department', parentId: province.id, name: '  Sở Thông tin và Truyền thông '.normalize('NFD') });
    const office = await createUnit({ kind: 'office', parentId: department.id, name: 'Văn phòng Sở' });
    assert.equal(department.name, 'Sở Thông tin và Truyền thông');
    assert.equal(department.parentId, province.id);
    assert.equal(department.code, null);
    assert.equal(department.disabledAt, null);

    const flat = await hop.request('GET', '/api/v1/units');
    assert.equal(flat.status, 200);
    const listed = flat.body.units.find((item: { id: string }) => item.id === office.id);
    assert.equal(listed.parentId, department.id);

    const tree = await hop.request('GET', '/api/v1/units?format=tree');
    assert.equal(tree.status, 200);
    const root = tree.body.units.find((item: { id: string }) => item.id === province.id);
    assert.equal(root.children[0].id, department.id);
    assert.equal(root.children[0].children[0].id, office.id);

    assert.deepEqual(await outboxTypes(department.id), ['vn.hop.directory.unit.upserted.v1']);
  });

  test('unit update and cycle', async () => {
    const parent = await createUnit({ kind: 'department', name: 'Sở Nội vụ' });
    const child = await createUnit({ kind: 'office', parentId: parent.id, name: 'Phòng Tổ chức' });

    const renamed = await hop.request('PATCH', `/api/v1/units/${child.id}`, { name: 'Phòng Tổ chức biên chế', code: 'SNV-TCBC' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'Phòng Tổ chức biên chế');
    assert.equal(renamed.body.parentId, parent.id, 'fields not given stay unchanged');

    const cycle = await hop.request('PATCH', `/api/v1/units/${parent.id}`, { parentId: child.id });
    assert.equal(cycle.status, 409);
    assert.equal(cycle.body.error.code, 'UNIT_PARENT_CYCLE');

    const self = await hop.request('PATCH', `/api/v1/units/${parent.id}`, { parentId: parent.id });
    assert.equal(self.body.error.code, 'UNIT_PARENT_CYCLE');

    const duplicateCode = await hop.request('POST', '/api/v1/units', { kind: 'office', code: 'SNV-TCBC', name: 'Phòng khác' });
    assert.equal(duplicateCode.status, 409);
    assert.equal(duplicateCode.body.error.code, 'UNIT_CODE_TAKEN');

    assert.deepEqual(await outboxTypes(child.id), ['vn.hop.directory.unit.upserted.v1', 'vn.hop.directory.unit.upserted.v1']);
  });

  test('unit disable is idempotent', async () => {
    const unit = await createUnit({ kind: 'commune', name: 'UBND xã Hòa Bắc' });
    const first = await hop.request('POST', `/api/v1/units/${unit.id}/disable`);
    assert.equal(first.status, 200);
    assert.ok(first.body.disabledAt);
    const second = await hop.request('POST', `/api/v1/units/${unit.id}/disable`);
    assert.equal(second.status, 200);
    assert.equal(second.body.disabledAt, first.body.disabledAt);
    assert.deepEqual(await outboxTypes(unit.id), ['vn.hop.directory.unit.upserted.v1', 'vn.hop.directory.unit.disabled.v1']);

    const patch = await hop.request('PATCH', `/api/v1/units/${unit.id}`, { name: 'UBND xã Hòa Bắc mới' });
    assert.equal(patch.status, 409);
    assert.equal(patch.body.error.code, 'UNIT_DISABLED');

    const member = await hop.request('POST', '/api/v1/users', { displayName: 'Hồ Văn Nam', memberships: [{ unitId: unit.id, position: null }] });
    assert.equal(member.status, 409);
    assert.equal(member.body.error.code, 'UNIT_DISABLED');

    const active = await hop.request('GET', '/api/v1/units');
    assert.equal(active.body.units.some((item: { id: string }) => item.id === unit.id), false);
    const all = await hop.request('GET', '/api/v1/units?includeDisabled=true');
    assert.equal(all.body.units.some((item: { id: string }) => item.id === unit.id), true);
  });

  test('user created, updated, disabled', async () => {
    const unit = await createUnit({ kind: 'department', name: 'Sở Tài chính' });
    const other = await createUnit({ kind: 'department', name: 'Sở Xây dựng' });
    const user = await createUser({
      displayName: 'Võ Thị Lan',
      email: 'Lan.VT@stc.gov.vn',
      phone: '+84 236 3822 111',
      memberships: [{ unitId: unit.id, position: 'Phó Giám đốc' }],
    });
    assert.equal(user.email, 'lan.vt@stc.gov.vn');
    assert.equal(user.systemRole, 'member');
    assert.deepEqual(user.memberships, [{ unitId: unit.id, position: 'Phó Giám đốc' }]);

    const moved = await hop.request('PATCH', `/api/v1/users/${user.id}`, { memberships: [{ unitId: other.id, position: null }] });
    assert.equal(moved.status, 200);
    assert.deepEqual(moved.body.memberships, [{ unitId: other.id, position: null }]);
    assert.equal(moved.body.email, 'lan.vt@stc.gov.vn', 'fields not given stay unchanged');

    const disabled = await hop.request('POST', `/api/v1/users/${user.id}/disable`);
    assert.equal(disabled.status, 200);
    assert.ok(disabled.body.disabledAt);
    const patchDisabled = await hop.request('PATCH', `/api/v1/users/${user.id}`, { displayName: 'Võ Thị Lan Anh' });
    assert.equal(patchDisabled.status, 409);
    assert.equal(patchDisabled.body.error.code, 'USER_DISABLED');

    assert.deepEqual(await outboxTypes(user.id), [
      'vn.hop.directory.user.upserted.v1',
      'vn.hop.directory.user.upserted.v1',
      'vn.hop.directory.user.disabled.v1',
    ]);
    const listed = await hop.request('GET', '/api/v1/users?q=lan');
    assert.equal(listed.body.users.some((item: { id: string }) => item.id === user.id), false, 'disabled people are left out');
    const withDisabled = await hop.request('GET', '/api/v1/users?q=lan&includeDisabled=true');
    assert.equal(withDisabled.body.users.some((item: { id: string }) => item.id === user.id), true);
  });

  test('duplicate e-mail is 409', async () => {
    await createUser({ displayName: 'Mai Anh', email: 'maianh@tinh.gov.vn' });
    const duplicate = await hop.request('POST', '/api/v1/users', { displayName: 'Mai Anh (2)', email: 'MaiAnh@tinh.gov.vn' });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'USER_EMAIL_TAKEN');
    assert.equal(duplicate.body.error.message, errorCatalog.USER_EMAIL_TAKEN.vi);
  });

  test('search ignores case and tone marks', async () => {
    const unit = await createUnit({ kind: 'department', name: 'Sở Giáo dục và Đào tạo' });
    const subunit = await createUnit({ kind: 'office', parentId: unit.id, name: 'Phòng Giáo dục Tiểu học' });
    const newPlacement = await createUser({ displayName: 'Nguyễn Thị Hòa', memberships: [{ unitId: unit.id, position: null }] });
    const oldPlacement = await createUser({ displayName: 'Nguyễn Thị Hoà', memberships: [{ unitId: subunit.id, position: null }] });
    const decomposed = await createUser({ displayName: 'Nguyễn Thị Hòa'.normalize('NFD'), memberships: [{ unitId: unit.id, position: null }] });
    const expected = [newPlacement.id, oldPlacement.id, decomposed.id].sort();

    for (const q of ['nguyen thi hoa', 'Nguyễn Thị Hòa', 'NGUYỄN THỊ HOÀ', 'Nguyễn Thị Hòa'.normalize('NFD'), 'hoa nguyen']) {
      const response = await hop.request('GET', `/api/v1/users?q=${encodeURIComponent(q)}&unitId=${unit.id}&includeSubunits=true`);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.users.map((item: { id: string }) => item.id).sort(), expected, `q=${q}`);
    }

    const ownUnitOnly = await hop.request('GET', `/api/v1/users?q=hoa&unitId=${unit.id}`);
    assert.deepEqual(ownUnitOnly.body.users.map((item: { id: string }) => item.id).sort(), [newPlacement.id, decomposed.id].sort());
    assert.equal(decomposed.displayName, 'Nguyễn Thị Hòa'.normalize('NFC'));
  });

  describe('bad input', () => {
    const missingUnit = '00000000-0000-4000-8000-000000000000';
    const cases: { name: string; method: string; path: string; body?: unknown; status: number; code: string }[] = [
      { name: 'unit without kind', method: 'POST', path: '/api/v1/units', body: { name: 'Sở' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unit of unknown kind', method: 'POST', path: '/api/v1/units', body: { kind: 'ministry', name: 'Bộ' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'invisible unit name', method: 'POST', path: '/api/v1/units', body: { kind: 'office', name: '\u200b ' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unit name with line break', method: 'POST', path: '/api/v1/units', body: { kind: 'office', name: 'Phòng\nA' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unit code with spaces', method: 'POST', path: '/api/v1/units', body: { kind: 'office', name: 'Phòng', code: 'A B' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unknown parent', method: 'POST', path: '/api/v1/units', body: { kind: 'office', name: 'Phòng', parentId: missingUnit }, status: 400, code: 'REFERENCED_UNIT_NOT_FOUND' },
      { name: 'empty unit patch', method: 'PATCH', path: `/api/v1/units/${missingUnit}`, body: {}, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'patch unknown unit', method: 'PATCH', path: `/api/v1/units/${missingUnit}`, body: { name: 'X' }, status: 404, code: 'UNIT_NOT_FOUND' },
      { name: 'unit id not a UUID', method: 'POST', path: '/api/v1/units/abc/disable', status: 404, code: 'UNIT_NOT_FOUND' },
      { name: 'disable with a body', method: 'POST', path: `/api/v1/units/${missingUnit}/disable`, body: { reason: 'x' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unit list format', method: 'GET', path: '/api/v1/units?format=graph', status: 400, code: 'VALIDATION_FAILED' },
      { name: 'user without name', method: 'POST', path: '/api/v1/users', body: { email: 'a@b.vn' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'user invalid e-mail', method: 'POST', path: '/api/v1/users', body: { displayName: 'An', email: 'not-mail' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'user phone letters', method: 'POST', path: '/api/v1/users', body: { displayName: 'An', phone: 'call me' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'user NUL in name', method: 'POST', path: '/api/v1/users', body: { displayName: 'An\u0000' }, status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'user unit listed twice',
        method: 'POST',
        path: '/api/v1/users',
        body: { displayName: 'An', memberships: [{ unitId: missingUnit, position: null }, { unitId: missingUnit, position: 'X' }] },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'user in unknown unit',
        method: 'POST',
        path: '/api/v1/users',
        body: { displayName: 'An', memberships: [{ unitId: missingUnit, position: null }] },
        status: 400,
        code: 'REFERENCED_UNIT_NOT_FOUND',
      },
      { name: 'user unknown field', method: 'POST', path: '/api/v1/users', body: { displayName: 'An', role: 'admin' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'patch unknown user', method: 'PATCH', path: `/api/v1/users/${missingUnit}`, body: { displayName: 'An' }, status: 404, code: 'USER_NOT_FOUND' },
      { name: 'disable unknown user', method: 'POST', path: `/api/v1/users/${missingUnit}/disable`, status: 404, code: 'USER_NOT_FOUND' },
      { name: 'search unknown unit', method: 'GET', path: `/api/v1/users?unitId=${missingUnit}`, status: 404, code: 'UNIT_NOT_FOUND' },
      { name: 'search unitId not a UUID', method: 'GET', path: '/api/v1/users?unitId=abc', status: 400, code: 'VALIDATION_FAILED' },
      { name: 'search limit too high', method: 'GET', path: '/api/v1/users?limit=100000', status: 400, code: 'VALIDATION_FAILED' },
      { name: 'search unknown parameter', method: 'GET', path: '/api/v1/users?role=admin', status: 400, code: 'VALIDATION_FAILED' },
    ];

    for (const item of cases) {
      test(item.name, async () => {
        const response = await hop.request(item.method, item.path, item.body);
        assert.equal(response.status, item.status, JSON.stringify(response.body));
        assert.equal(response.body.error.code, item.code);
        assert.equal(response.body.error.message, errorCatalog[item.code as keyof typeof errorCatalog].vi);
      });
    }
  });
});

/** Builds a directory CloudEvent as the e-office system would publish it. */
function eOfficeEvent(type: string, data: unknown, id: string = randomUUID()): Record<string, unknown> {
  return { specversion: '1.0', id, source: '/e-office/tinh', type, time: new Date().toISOString(), datacontenttype: 'application/json', data };
}

async function publish(hop: TestPlatform, key: string, event: Record<string, unknown>): Promise<void> {
  await hop.platform.bus.publish(topics.directory, [
    {
      key,
      value: JSON.stringify(event),
      headers: { 'content-type': 'application/cloudevents+json', 'ce-type': String(event.type), 'ce-id': String(event.id) },
    },
  ]);
}

function syncSuite(title: string, databaseEnv: () => Promise<{ env: Record<string, string>; drop: () => Promise<void> } | undefined>, skip: string | false) {
  describe(title, { skip }, () => {
    let hop: TestPlatform;
    let drop: (() => Promise<void>) | undefined;
    let deadLetters: BusMessage[] = [];
    let deadLetterSubscription: Subscription;

    before(async () => {
      const database = await databaseEnv();
      drop = database?.drop;
      hop = await startTestPlatform({ HOP_BRIDGE_MAX_ATTEMPTS: '3', ...database?.env });
      deadLetterSubscription = await hop.platform.bus.subscribe({
        groupId: `test-dlq-${randomUUID()}`,
        topics: [topics.deadLetter],
        fromBeginning: true,
        handle: async (message) => {
          deadLetters.push(message);
        },
      });
    });
    after(async () => {
      await deadLetterSubscription?.stop();
      await hop?.stop();
      await drop?.();
    });

    const db = () => hop.platform.database.db;
    const deadLetterFor = (eventId: string) =>
      waitFor(`dead letter of ${eventId}`, () =>
        deadLetters.find((message) => message.headers[deadLetterHeaders.function] === 'directory-sync' && message.value.includes(eventId)),
      );

    test('unit and user applied from the bus', async () => {
      const unitId = randomUUID();
      const userId = randomUUID();
      await publish(hop, unitId, eOfficeEvent('vn.hop.directory.unit.upserted.v1', { unitId, parentId: null, kind: 'department', code: 'SYT', name: 'Sở  Y tế'.normalize('NFD') }));
      await publish(
        hop,
        userId,
        eOfficeEvent('vn.hop.directory.user.upserted.v1', {
          userId,
          displayName: 'Nguyễn Thị Hoà',
          email: 'hoa@syt.gov.vn',
          phone: null,
          memberships: [{ unitId, position: 'Chánh Văn phòng' }],
          externalId: 'eoffice:42',
        }),
      );

      const user = await waitFor('user row', () => db().selectFrom('app_user').selectAll().where('id', '=', userId).executeTakeFirst());
      assert.equal(user.display_name, 'Nguyễn Thị Hoà');
      assert.equal(user.name_search, 'nguyen thi hoa');
      const unit = await db().selectFrom('unit').selectAll().where('id', '=', unitId).executeTakeFirstOrThrow();
      assert.equal(unit.name, 'Sở Y tế');
      assert.equal(unit.name_search, 'so y te');
      const memberships = await db().selectFrom('membership').selectAll().where('user_id', '=', userId).execute();
      assert.deepEqual(memberships.map((row) => [row.unit_id, row.position]), [[unitId, 'Chánh Văn phòng']]);

      const found = await hop.request('GET', '/api/v1/users?q=hoa');
      assert.equal(found.body.users.some((item: { id: string }) => item.id === userId), true);

      const outbox = await db().selectFrom('outbox').select('id').where('message_key', 'in', [unitId, userId]).where('topic', '=', 'hop.directory.v1').execute();
      assert.equal(outbox.length, 0, 'applied events are not emitted again');
    });

    test('repeated event id applied once', async () => {
      const userId = randomUUID();
      const eventId = randomUUID();
      const data = { userId, displayName: 'Trần Văn Bình', email: null, phone: null, memberships: [], externalId: null };
      await publish(hop, userId, eOfficeEvent('vn.hop.directory.user.upserted.v1', data, eventId));
      await waitFor('first upsert', () => db().selectFrom('app_user').select('id').where('id', '=', userId).executeTakeFirst());

      await publish(hop, userId, eOfficeEvent('vn.hop.directory.user.upserted.v1', { ...data, displayName: 'Trần Văn Bình (lặp)' }, eventId));
      // Same key, so the disable arrives after the repeat in the same partition.
      await publish(hop, userId, eOfficeEvent('vn.hop.directory.user.disabled.v1', { userId }));
      const row = await waitFor('disable after the repeat', async () => {
        const current = await db().selectFrom('app_user').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
        return current.disabled_at === null ? undefined : current;
      });
      assert.equal(row.display_name, 'Trần Văn Bình', 'the repeated event id changed nothing');
      const claims = await db().selectFrom('processed_event').select('event_id').where('consumer', '=', 'directory-sync').where('event_id', '=', eventId).execute();
      assert.equal(claims.length, 1);
    });

    test('invalid event dead-lettered', async () => {
      const eventId = randomUUID();
      await publish(hop, 'abc', eOfficeEvent('vn.hop.directory.unit.upserted.v1', { unitId: 'abc', parentId: null, kind: 'ministry', code: null, name: '' }, eventId));
      const letter = await deadLetterFor(eventId);
      assert.equal(letter.headers[deadLetterHeaders.code], 'EVENT_INVALID');
      assert.match(letter.headers[deadLetterHeaders.reason]!, /unitId/);
      assert.match(letter.headers[deadLetterHeaders.reason]!, /kind/);
      assert.equal(letter.headers[deadLetterHeaders.topic], topics.directory);
    });

    test('cycle event dead-lettered', async () => {
      const parentId = randomUUID();
      const childId = randomUUID();
      await publish(hop, parentId, eOfficeEvent('vn.hop.directory.unit.upserted.v1', { unitId: parentId, parentId: null, kind: 'district', code: null, name: 'UBND huyện Hòa Vang' }));
      await publish(hop, childId, eOfficeEvent('vn.hop.directory.unit.upserted.v1', { unitId: childId, parentId, kind: 'commune', code: null, name: 'UBND xã Hòa Bắc' }));
      await waitFor('child unit', () => db().selectFrom('unit').select('id').where('id', '=', childId).executeTakeFirst());

      const eventId = randomUUID();
      await publish(hop, parentId, eOfficeEvent('vn.hop.directory.unit.upserted.v1', { unitId: parentId, parentId: childId, kind: 'district', code: null, name: 'UBND huyện Hòa Vang' }, eventId));
      const letter = await deadLetterFor(eventId);
      assert.equal(letter.headers[deadLetterHeaders.code], 'UNIT_PARENT_CYCLE');
      const parent = await db().selectFrom('unit').select('parent_id').where('id', '=', parentId).executeTakeFirstOrThrow();
      assert.equal(parent.parent_id, null);
    });

    test('user of unknown unit retried then dead-lettered', async () => {
      const userId = randomUUID();
      const eventId = randomUUID();
      const missingUnit = randomUUID();
      await publish(
        hop,
        userId,
        eOfficeEvent(
          'vn.hop.directory.user.upserted.v1',
          { userId, displayName: 'Lê Văn Tám', email: null, phone: null, memberships: [{ unitId: missingUnit, position: null }], externalId: null },
          eventId,
        ),
      );
      const letter = await deadLetterFor(eventId);
      assert.equal(letter.headers[deadLetterHeaders.code], 'RETRIES_EXHAUSTED');
      assert.match(letter.headers[deadLetterHeaders.reason]!, /DIRECTORY_UNIT_PENDING/);
      assert.equal(letter.headers[deadLetterHeaders.attempts], '3');
      assert.equal(await db().selectFrom('app_user').select('id').where('id', '=', userId).executeTakeFirst(), undefined);
    });

    test('admin change not applied twice', async () => {
      const created = await hop.request('POST', '/api/v1/units', { kind: 'office', name: 'Phòng Hành chính' });
      const outbox = await waitFor('admin event published', async () => {
        const row = await db().selectFrom('outbox').select(['published_at', 'event_id']).where('message_key', '=', created.body.id).where('topic', '=', 'hop.directory.v1').executeTakeFirstOrThrow();
        return row.published_at ? row : undefined;
      });
      // A later e-office event on the same key shows the bridge has passed the admin event.
      const marker = randomUUID();
      await publish(hop, created.body.id, eOfficeEvent('vn.hop.directory.unit.disabled.v1', { unitId: created.body.id }, marker));
      await waitFor('marker applied', () =>
        db().selectFrom('processed_event').select('event_id').where('consumer', '=', 'directory-sync').where('event_id', '=', marker).executeTakeFirst(),
      );
      const claimed = await db().selectFrom('processed_event').select('event_id').where('event_id', '=', outbox.event_id).executeTakeFirst();
      assert.equal(claimed, undefined, 'the admin event is skipped, not claimed');
    });
  });
}

syncSuite(
  'directory sync on the embedded default',
  async () => undefined,
  false,
);

const postgresUrl = process.env.TEST_DATABASE_URL;
syncSuite(
  'directory sync on PostgreSQL',
  async () => {
    if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set; scripts/test.sh starts PostgreSQL and sets it');
    const database = await createTestDatabase(postgresUrl);
    return { env: { DATABASE_URL: database.url }, drop: database.drop };
  },
  postgresUrl || process.env.CI === 'true' ? false : 'TEST_DATABASE_URL not set; run the tests with npm test to start PostgreSQL',
);

describe('directory permissions', () => {
  let hop: TestPlatform;

  before(async () => {
    hop = await startTestPlatform();
  });
  after(async () => {
    await hop.stop();
  });

  test('anonymous caller gets 401', async () => {
    const create = await hop.requestAs(null, 'POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ' });
    assert.equal(create.status, 401);
    assert.equal(create.body.error.code, 'AUTH_REQUIRED');
    const search = await hop.requestAs(null, 'GET', '/api/v1/users?q=nguyen');
    assert.equal(search.status, 401);
  });

  test('read-only key cannot change', async () => {
    const adminId = (await hop.platform.database.db.selectFrom('app_user').select('id').where('system_role', '=', 'admin').executeTakeFirstOrThrow()).id;
    const { token } = await createApiKey(hop.platform.database.db, { name: 'reader', scopes: ['directory:read'], createdBy: adminId });
    const create = await hop.requestAs(token, 'POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ' });
    assert.equal(create.status, 403);
    assert.equal(create.body.error.code, 'PERMISSION_DENIED');
    const list = await hop.requestAs(token, 'GET', '/api/v1/units');
    assert.equal(list.status, 200);
  });

  test('garbage bearer gets 401', async () => {
    const response = await hop.requestAs('not-a-key', 'GET', '/api/v1/units');
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'API_KEY_INVALID');
  });
});

describe('system roles through the admin API', () => {
  let hop: TestPlatform;

  before(async () => {
    hop = await startTestPlatform();
  });
  after(async () => {
    await hop.stop();
  });

  test('role set at creation and changed', async () => {
    const unit = await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Xây dựng' });
    const created = await hop.request('POST', '/api/v1/users', {
      displayName: 'Đặng Thị Lan',
      memberships: [{ unitId: unit.body.id, position: 'thư ký' }],
      systemRole: 'organiser',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.systemRole, 'organiser');

    const changed = await hop.request('PATCH', `/api/v1/users/${created.body.id}`, { systemRole: 'member' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.systemRole, 'member');

    const invalid = await hop.request('PATCH', `/api/v1/users/${created.body.id}`, { systemRole: 'superuser' });
    assert.equal(invalid.status, 400);
  });
});
