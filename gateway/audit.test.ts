/**
 * The audit log through HTTP: each audited action leaves one record with its
 * actor and before/after snapshots, GET /api/v1/audit filters, pages and
 * exports CSV for admins, and refuses members (403) and anonymous callers (401).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { topics } from '../lib/contract/topics.ts';
import { createTestDatabase, waitFor } from '../test/support/services.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createLocalAccount } from './auth/accounts.ts';

const password = 'mật khẩu đủ dài 2026';
let ipCounter = 40;

interface Session {
  userId: string;
  headers: Record<string, string>;
}

async function signIn(hop: TestPlatform, username: string, systemRole: 'admin' | 'member', displayName: string): Promise<Session> {
  const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole });
  const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.0.${ipCounter++}` });
  assert.equal(response.status, 200, `sign-in of ${username}`);
  const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie, 'session cookie set');
  return { userId, headers: { cookie, 'x-csrf-token': response.body.csrfToken } };
}

async function auditOf(hop: TestPlatform, entityId: string): Promise<any[]> {
  const response = await hop.request('GET', `/api/v1/audit?entityId=${entityId}`);
  assert.equal(response.status, 200);
  return response.body.records;
}

function auditSuite(title: string, databaseEnv: () => Promise<{ env: Record<string, string>; drop: () => Promise<void> } | undefined | 'skip'>) {
  describe(title, () => {
    let hop: TestPlatform | undefined;
    let drop: (() => Promise<void>) | undefined;
    let admin: Session;
    let member: Session;
    let adminKeyId: string;

    before(async () => {
      const database = await databaseEnv();
      if (database === 'skip') return;
      drop = database?.drop;
      hop = await startTestPlatform({ ...database?.env });
      admin = await signIn(hop, 'quantri.audit', 'admin', 'Quản trị Nhật ký');
      member = await signIn(hop, 'canbo.audit', 'member', 'Đặng Thị Ánh');
      const me = await hop.request('GET', '/api/v1/auth/me');
      adminKeyId = me.body.keyId;
    });
    after(async () => {
      await hop?.stop();
      await drop?.();
    });

    test('directory changes recorded', async (t) => {
      if (!hop) return t.skip('no database');
      const created = await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Tư pháp' }, { 'x-request-id': 'req-unit-1', 'x-forwarded-for': '203.0.113.9' });
      assert.equal(created.status, 201);
      const unitId = created.body.id;
      assert.equal((await hop.request('PATCH', `/api/v1/units/${unitId}`, { name: 'Sở Tư pháp tỉnh Quảng Nam' })).status, 200);
      assert.equal((await hop.request('POST', `/api/v1/units/${unitId}/disable`, {})).status, 200);
      assert.equal((await hop.request('POST', `/api/v1/units/${unitId}/disable`, {})).status, 200);

      const records = await auditOf(hop, unitId);
      assert.deepEqual(records.map((record) => record.action), ['unit.disabled', 'unit.updated', 'unit.created']);
      const [disabled, updated, createdRecord] = records;
      assert.deepEqual(createdRecord.actor, { kind: 'api-key', id: adminKeyId });
      assert.equal(createdRecord.before, null);
      assert.equal(createdRecord.after.name, 'Sở Tư pháp');
      assert.equal(createdRecord.requestId, 'req-unit-1');
      assert.equal(createdRecord.ip, '127.0.0.1', 'the address the gateway saw, not the X-Forwarded-For a client sent without a trusted proxy');
      assert.equal(updated.before.name, 'Sở Tư pháp');
      assert.equal(updated.after.name, 'Sở Tư pháp tỉnh Quảng Nam');
      assert.equal(disabled.before.disabledAt, null);
      assert.notEqual(disabled.after.disabledAt, null);

      const user = await hop.request('POST', '/api/v1/users', { displayName: 'Võ Thị Sáu', email: 'sau@example.gov.vn', memberships: [] });
      assert.equal(user.status, 201);
      const userId = user.body.id;
      assert.equal((await hop.request('PATCH', `/api/v1/users/${userId}`, { phone: '+84 905 000 111' })).status, 200);
      assert.equal((await hop.request('POST', `/api/v1/users/${userId}/disable`, {})).status, 200);
      const userRecords = await auditOf(hop, userId);
      assert.deepEqual(userRecords.map((record) => record.action), ['user.disabled', 'user.updated', 'user.created']);
      assert.equal(userRecords[1].before.phone, null);
      assert.equal(userRecords[1].after.phone, '+84 905 000 111');
      assert.equal(userRecords[0].after.displayName, 'Võ Thị Sáu');
    });

    test('meeting changes recorded without secrets', async (t) => {
      if (!hop) return t.skip('no database');
      const created = await hop.requestAs(null, 'POST', '/api/v1/meetings', meetingRequest(), admin.headers);
      assert.equal(created.status, 201);
      const meetingId = created.body.id;
      assert.equal((await hop.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/cancel`, { reason: 'Đổi lịch họp' }, admin.headers)).status, 200);

      const records = await auditOf(hop, meetingId);
      assert.deepEqual(records.map((record) => record.action), ['meeting.cancelled', 'meeting.created']);
      assert.deepEqual(records[1].actor, { kind: 'user', id: admin.userId });
      assert.equal(records[1].after.title, 'Họp giao ban tuần Sở Thông tin và Truyền thông');
      assert.equal(records[1].after.participants.length, 2);
      const text = JSON.stringify(records);
      assert.doesNotMatch(text, /inviteKey|invite_key_hash/);
      for (const participant of created.body.participants) assert.ok(!text.includes(participant.inviteKey), 'invitation key left out');
      assert.deepEqual(records[0].before, { status: 'scheduled', cancelReason: null });
      assert.deepEqual(records[0].after, { status: 'cancelled', cancelReason: 'Đổi lịch họp' });
    });

    test('meeting end recorded as system', async (t) => {
      if (!hop) return t.skip('no database');
      const start = new Date(Date.now() - 2 * 60 * 60 * 1000);
      const created = await hop.request('POST', '/api/v1/meetings', meetingRequest({ startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 60 * 60 * 1000).toISOString() }));
      assert.equal(created.status, 201);
      const result = await hop.platform.invoker.invoke('meeting-end', { method: 'POST', path: '/', query: {}, headers: {}, body: {}, params: {}, principal: { kind: 'anonymous' } });
      assert.equal(result.status, 200);
      const records = await auditOf(hop, created.body.id);
      assert.equal(records[0].action, 'meeting.ended');
      assert.deepEqual(records[0].actor, { kind: 'system', id: 'meeting-end' });
    });

    test('e-office changes recorded', async (t) => {
      if (!hop) return t.skip('no database');
      const unitId = randomUUID();
      const event = {
        specversion: '1.0',
        id: randomUUID(),
        source: '/e-office/tinh',
        type: 'vn.hop.directory.unit.upserted.v1',
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { unitId, parentId: null, kind: 'commune', code: null, name: 'UBND xã Trà Đốc' },
      };
      await hop.platform.bus.publish(topics.directory, [
        { key: unitId, value: JSON.stringify(event), headers: { 'content-type': 'application/cloudevents+json', 'ce-type': event.type, 'ce-id': event.id } },
      ]);
      const records = await waitFor('e-office audit record', async () => {
        const found = await auditOf(hop!, unitId);
        return found.length > 0 ? found : undefined;
      });
      assert.equal(records.length, 1);
      assert.equal(records[0].action, 'unit.created');
      assert.deepEqual(records[0].actor, { kind: 'e-office', id: '/e-office/tinh' });
      assert.equal(records[0].after.name, 'UBND xã Trà Đốc');
    });

    test('API key create and revoke recorded', async (t) => {
      if (!hop) return t.skip('no database');
      const created = await hop.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'Cổng dịch vụ công', scopes: ['audit:read'] }, admin.headers);
      assert.equal(created.status, 201);
      const keyId = created.body.apiKey.id;
      assert.equal((await hop.requestAs(null, 'DELETE', `/api/v1/admin/api-keys/${keyId}`, undefined, admin.headers)).status, 200);
      assert.equal((await hop.requestAs(null, 'DELETE', `/api/v1/admin/api-keys/${keyId}`, undefined, admin.headers)).status, 200);

      const records = await auditOf(hop, keyId);
      assert.deepEqual(records.map((record) => record.action), ['api-key.revoked', 'api-key.created']);
      assert.deepEqual(records[1].actor, { kind: 'user', id: admin.userId });
      assert.equal(records[1].after.name, 'Cổng dịch vụ công');
      assert.equal(records[0].before.revokedAt, null);
      assert.notEqual(records[0].after.revokedAt, null);
      const text = JSON.stringify(records);
      assert.ok(!text.includes(created.body.token), 'token left out');
      assert.doesNotMatch(text, /secret/i);
      assert.ok(records[1].ip, 'client IP recorded by the gateway');

      const scoped = await hop.requestAs(created.body.token, 'GET', '/api/v1/audit');
      assert.equal(scoped.status, 401, 'revoked key rejected');
    });

    test('audit events reach the outbox', async (t) => {
      if (!hop) return t.skip('no database');
      const rows = await hop.platform.database.db.selectFrom('outbox').select(['message_key', 'headers']).where('topic', '=', topics.audit).execute();
      const count = await hop.request('GET', '/api/v1/audit?limit=500');
      assert.equal(rows.length, count.body.records.length);
      assert.ok(rows.every((row) => row.headers['ce-type'] === 'vn.hop.audit.recorded.v1'));
    });

    test('filters and paging', async (t) => {
      if (!hop) return t.skip('no database');
      const byAction = await hop.request('GET', '/api/v1/audit?action=unit.updated');
      assert.equal(byAction.status, 200);
      assert.ok(byAction.body.records.length >= 1);
      assert.ok(byAction.body.records.every((record: any) => record.action === 'unit.updated'));

      const byActor = await hop.request('GET', `/api/v1/audit?actorKind=user&actor=${admin.userId}`);
      assert.ok(byActor.body.records.length >= 3);
      assert.ok(byActor.body.records.every((record: any) => record.actor.id === admin.userId));

      const byType = await hop.request('GET', '/api/v1/audit?entityType=meeting');
      assert.ok(byType.body.records.every((record: any) => record.entityType === 'meeting'));

      const future = await hop.request('GET', `/api/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
      assert.deepEqual(future.body.records, []);
      const past = await hop.request('GET', `/api/v1/audit?to=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
      assert.deepEqual(past.body.records, []);

      const all = (await hop.request('GET', '/api/v1/audit?limit=500')).body.records.map((record: any) => record.id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await hop.request('GET', `/api/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.body.records.length <= 3);
        paged.push(...page.body.records.map((record: any) => record.id));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      assert.deepEqual(paged, all);

      const invalid = await hop.request('GET', '/api/v1/audit?action=meeting.deleted');
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'VALIDATION_FAILED');
      const tooMany = await hop.request('GET', '/api/v1/audit?limit=501');
      assert.equal(tooMany.status, 400);
    });

    test('CSV export for Excel', async (t) => {
      if (!hop) return t.skip('no database');
      const response = await fetch(`${hop.baseUrl}/api/v1/audit?format=csv&entityType=unit`, { headers: { authorization: `Bearer ${hop.adminToken}` } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="hop-audit.csv"/);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
      const text = bytes.subarray(3).toString('utf8');
      const lines = text.split('\r\n');
      assert.equal(
        lines[0],
        '"Mã bản ghi","Thời điểm (giờ Việt Nam)","Loại người thực hiện","Mã người thực hiện","Hành động","Loại đối tượng","Mã đối tượng","Trước khi thay đổi","Sau khi thay đổi","Địa chỉ IP","Mã yêu cầu"',
      );
      assert.ok(text.includes('Sở Tư pháp tỉnh Quảng Nam'), 'diacritics intact');
      assert.equal(text, text.normalize('NFC'));
      assert.match(lines[1]!, /^"\d+","\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}","/);
      assert.equal(lines.at(-1), '', 'ends with CRLF');
    });

    test('CSV content type', async (t) => {
      if (!hop) return t.skip('no database');
      const response = await fetch(`${hop.baseUrl}/api/v1/audit?format=csv`, { headers: { authorization: `Bearer ${hop.adminToken}` } });
      await response.arrayBuffer();
      assert.match(response.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/i);
    });

    test('member gets 403, anonymous 401', async (t) => {
      if (!hop) return t.skip('no database');
      const asMember = await hop.requestAs(null, 'GET', '/api/v1/audit', undefined, member.headers);
      assert.equal(asMember.status, 403);
      assert.equal(asMember.body.error.code, 'PERMISSION_DENIED');
      const anonymous = await hop.requestAs(null, 'GET', '/api/v1/audit');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'AUTH_REQUIRED');
    });
  });
}

auditSuite('audit log on PGlite', async () => undefined);

auditSuite('audit log on PostgreSQL', async () => {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    if (process.env.CI === 'true') throw new Error('TEST_DATABASE_URL is not set; scripts/test.sh starts postgres and sets it');
    return 'skip';
  }
  const database = await createTestDatabase(adminUrl);
  return { env: { DATABASE_URL: database.url }, drop: database.drop };
});

