/**
 * The holiday calendar admin API through HTTP, on PostgreSQL: admins enter
 * Tết and a compensatory Saturday, members read but cannot change, invalid
 * dates are rejected, every change is audited, and `loadHolidayCalendar`
 * reads what the API stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadHolidayCalendar, noticeWorkingDays } from '../lib/domain/working-days.ts';
import { createTestDatabase } from '../test/support/services.ts';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createLocalAccount } from './auth/accounts.ts';

const password = 'mật khẩu đủ dài 2026';
const postgresUrl = process.env.TEST_DATABASE_URL;

describe(
  'holiday calendar API',
  { skip: postgresUrl || process.env.CI === 'true' ? false : 'TEST_DATABASE_URL not set; run the tests with npm test to start PostgreSQL' },
  () => {
    let hop: TestPlatform;
    let dropDatabase: () => Promise<void>;
    let ip = 10;

    async function signIn(username: string, systemRole: 'admin' | 'member'): Promise<Record<string, string>> {
      await createLocalAccount(hop.platform.database.db, { username, displayName: `Người dùng ${username}`, password, systemRole });
      const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.2.${ip++}` });
      assert.equal(response.status, 200, `sign-in of ${username}`);
      const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
      return { cookie, 'x-csrf-token': response.body.csrfToken as string };
    }

    before(async () => {
      if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set; scripts/test.sh starts PostgreSQL and sets it');
      const database = await createTestDatabase(postgresUrl);
      dropDatabase = database.drop;
      hop = await startTestPlatform({ DATABASE_URL: database.url });
    });
    after(async () => {
      await hop?.stop();
      await dropDatabase?.();
    });

    test('admin enters Tết and a working Saturday', async () => {
      const admin = await signIn('quantri.lich', 'admin');
      const tet = [
        ['2027-02-05', 'Nghỉ Tết Nguyên đán'],
        ['2027-02-08', 'Tết Nguyên đán (mùng 3)'],
        ['2027-02-09', 'Nghỉ Tết Nguyên đán'],
        ['2027-02-10', 'Nghỉ Tết Nguyên đán'],
        ['2027-02-11', 'Nghỉ Tết Nguyên đán'],
        ['2027-02-12', 'Nghỉ bù Tết Nguyên đán'],
      ];
      for (const [date, name] of tet) {
        const response = await hop.requestAs(null, 'PUT', `/api/v1/holidays/${date}`, { name }, admin);
        assert.equal(response.status, 201, `PUT ${date}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.kind, 'holiday');
      }
      const saturday = await hop.requestAs(
        null,
        'PUT',
        '/api/v1/holidays/2027-01-30',
        { kind: 'working_day', name: 'Làm bù cho ngày 12/02/2027', note: 'Theo thông báo của Bộ Nội vụ' },
        admin,
      );
      assert.equal(saturday.status, 201);
      assert.equal(saturday.body.kind, 'working_day');
      assert.equal(saturday.body.note, 'Theo thông báo của Bộ Nội vụ');

      const list = await hop.request('GET', '/api/v1/holidays?year=2027');
      assert.equal(list.status, 200);
      assert.equal(list.body.year, 2027);
      assert.deepEqual(
        list.body.holidays.map((holiday: { date: string }) => holiday.date),
        ['2027-01-30', '2027-02-05', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11', '2027-02-12'],
      );

      const calendar = await loadHolidayCalendar(hop.platform.database.db, '2027-01-01', '2027-02-28');
      assert.equal(calendar.isWorkingDay('2027-01-30'), true);
      assert.equal(calendar.isWorkingDay('2027-02-10'), false);
      assert.equal(calendar.holidayName('2027-02-08'), 'Tết Nguyên đán (mùng 3)');
      const notice = noticeWorkingDays(calendar, new Date('2027-02-01T09:00:00+07:00'), new Date('2027-02-15T08:00:00+07:00'), 'Asia/Ho_Chi_Minh');
      assert.equal(notice, 3);
    });

    test('upsert replaces an entry', async () => {
      const first = await hop.request('PUT', '/api/v1/holidays/2027-09-02', { name: 'Quốc khánh' });
      assert.equal(first.status, 201);
      const second = await hop.request('PUT', '/api/v1/holidays/2027-09-02', { name: '  Quốc   khánh 2/9 ', note: 'Nghỉ 2 ngày' });
      assert.equal(second.status, 200);
      assert.equal(second.body.name, 'Quốc khánh 2/9');
      assert.equal(second.body.note, 'Nghỉ 2 ngày');
      assert.equal(second.body.createdAt, first.body.createdAt);
    });

    test('names stored in NFC', async () => {
      const decomposed = 'Giỗ Tổ Hùng Vương'.normalize('NFD');
      const response = await hop.request('PUT', '/api/v1/holidays/2027-04-16', { name: decomposed });
      assert.equal(response.status, 201);
      assert.equal(response.body.name, 'Giỗ Tổ Hùng Vương'.normalize('NFC'));
    });

    test('delete and delete again', async () => {
      await hop.request('PUT', '/api/v1/holidays/2027-05-01', { name: 'Quốc tế Lao động' });
      const removed = await hop.request('DELETE', '/api/v1/holidays/2027-05-01');
      assert.equal(removed.status, 200);
      assert.equal(removed.body.name, 'Quốc tế Lao động');
      const again = await hop.request('DELETE', '/api/v1/holidays/2027-05-01');
      assert.equal(again.status, 404);
      assert.equal(again.body.error.code, 'HOLIDAY_NOT_FOUND');
    });

    test('changes are audited', async () => {
      const audit = await hop.request('GET', '/api/v1/audit?entityType=holiday&entityId=2027-05-01');
      assert.equal(audit.status, 200);
      assert.deepEqual(
        audit.body.records.map((record: { action: string }) => record.action),
        ['holiday.deleted', 'holiday.created'],
      );
      assert.equal(audit.body.records[0].before.name, 'Quốc tế Lao động');
      assert.equal(audit.body.records[0].after, null);
      const updated = await hop.request('GET', '/api/v1/audit?entityType=holiday&entityId=2027-09-02&action=holiday.updated');
      assert.equal(updated.body.records.length, 1);
      assert.equal(updated.body.records[0].before.name, 'Quốc khánh');
      assert.equal(updated.body.records[0].after.name, 'Quốc khánh 2/9');
    });

    test('member reads but cannot change', async () => {
      const member = await signIn('chuyenvien.lich', 'member');
      const put = await hop.requestAs(null, 'PUT', '/api/v1/holidays/2027-12-24', { name: 'Không được phép' }, member);
      assert.equal(put.status, 403);
      assert.equal(put.body.error.code, 'PERMISSION_DENIED');
      const remove = await hop.requestAs(null, 'DELETE', '/api/v1/holidays/2027-02-08', undefined, member);
      assert.equal(remove.status, 403);
      const list = await hop.requestAs(null, 'GET', '/api/v1/holidays?year=2027', undefined, member);
      assert.equal(list.status, 200);
      assert.ok(list.body.holidays.length > 0);
    });

    test('anonymous caller gets 401', async () => {
      const put = await hop.requestAs(null, 'PUT', '/api/v1/holidays/2027-12-24', { name: 'Ẩn danh' });
      assert.equal(put.status, 401);
      const list = await hop.requestAs(null, 'GET', '/api/v1/holidays?year=2027');
      assert.equal(list.status, 401);
    });

    test('bad dates get 400', async () => {
      for (const date of ['2027-02-30', '2027-13-01', '27-02-08', '2027-2-8', 'tet', '2027-02-08T00:00:00Z']) {
        const response = await hop.request('PUT', `/api/v1/holidays/${encodeURIComponent(date)}`, { name: 'Ngày sai' });
        assert.equal(response.status, 400, date);
        assert.equal(response.body.error.code, 'VALIDATION_FAILED', date);
        assert.equal(response.body.error.details[0].path, 'date', date);
      }
      const remove = await hop.request('DELETE', '/api/v1/holidays/2027-02-29');
      assert.equal(remove.status, 400);
    });

    test('bad bodies get 400', async () => {
      const cases: [string, unknown][] = [
        ['no name', {}],
        ['blank name', { name: '   ' }],
        ['two-line name', { name: 'Tết\nNguyên đán' }],
        ['unknown kind', { name: 'Tết', kind: 'day_off' }],
        ['unknown field', { name: 'Tết', colour: 'red' }],
      ];
      for (const [label, body] of cases) {
        const response = await hop.request('PUT', '/api/v1/holidays/2027-02-15', body);
        assert.equal(response.status, 400, label);
        assert.equal(response.body.error.code, 'VALIDATION_FAILED', label);
      }
    });

    test('working day on a weekday rejected', async () => {
      const response = await hop.request('PUT', '/api/v1/holidays/2027-02-15', { kind: 'working_day', name: 'Làm bù' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'WORKING_DAY_NOT_WEEKEND');
    });

    test('bad year gets 400', async () => {
      for (const query of ['year=abc', 'year=2027.5', 'year=10000', 'month=2']) {
        const response = await hop.request('GET', `/api/v1/holidays?${query}`);
        assert.equal(response.status, 400, query);
        assert.equal(response.body.error.code, 'VALIDATION_FAILED', query);
      }
    });
  },
);
