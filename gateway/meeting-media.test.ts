/**
 * The meeting's cap on concurrent connections over HTTP on the embedded
 * platform: reading and setting it, who may, invalid values, the audit
 * record, and that the session recorder of the signalling proxy enforces the
 * cap that was set.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { countConnected, recordSessionWithinCaps } from '../lib/domain/media-capacity.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createLocalAccount } from './auth/accounts.ts';

const password = 'mật khẩu đủ dài 2026';

describe('meeting connection cap over HTTP', () => {
  let hop: TestPlatform;
  let unitId: string;
  let meetingId: string;
  let participants: { id: string; name: string }[];
  const sessions: Record<string, Record<string, string>> = {};
  let ip = 10;

  async function person(username: string, displayName: string, systemRole: 'organiser' | 'member') {
    const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole });
    await hop.platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: null }).execute();
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.3.${ip++}` });
    assert.equal(response.status, 200);
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
    sessions[username] = { cookie, 'x-csrf-token': response.body.csrfToken as string };
    return userId;
  }
  const as = (username: string, method: string, path: string, body?: unknown) => hop.requestAs(null, method, path, body, sessions[username]);

  before(async () => {
    hop = await startTestPlatform();
    unitId = (await hop.request('POST', '/api/v1/units', { kind: 'district', name: 'UBND huyện Phong Điền' })).body.id;
    await person('tochuc', 'Võ Thị Lan', 'organiser');
    const chair = await person('chutri', 'Phan Văn Hùng', 'member');
    const member = await person('thamdu', 'Trần Quốc Bảo', 'member');
    await person('ngoai', 'Đặng Văn Khoa', 'member');

    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 55 * 60_000).toISOString(),
        participants: [
          { name: 'Phan Văn Hùng', userId: chair, role: 'chair' },
          { name: 'Trần Quốc Bảo', userId: member, role: 'participant' },
          { name: 'Đại biểu xã Phong Hiền', role: 'participant' },
        ],
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meetingId = created.body.id;
    participants = created.body.participants;
  });

  after(async () => {
    await hop.stop();
  });

  test('defaults before any cap is set', async () => {
    const media = await as('chutri', 'GET', `/api/v1/meetings/${meetingId}/media`);
    assert.equal(media.status, 200, JSON.stringify(media.body));
    assert.equal(media.body.maxConnections, null);
    assert.equal(media.body.defaultMaxConnections, 200);
    assert.equal(media.body.effectiveMaxConnections, 200);
    assert.equal(media.body.serverMaxConnections, 300);
    assert.equal(media.body.connected, 0);
  });

  test('organiser sets the cap, audited', async () => {
    const set = await as('tochuc', 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: 2 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.maxConnections, 2);
    assert.equal(set.body.effectiveMaxConnections, 2);

    const read = await as('thamdu', 'GET', `/api/v1/meetings/${meetingId}/media`);
    assert.equal(read.body.maxConnections, 2, 'an invited participant reads it');

    const audit = await hop.platform.database.db.selectFrom('audit_record').selectAll().where('action', '=', 'meeting.media-updated').where('entity_id', '=', meetingId).execute();
    assert.equal(audit.length, 1);
    assert.deepEqual(audit[0]!.before, { maxConnections: null });
    assert.deepEqual(audit[0]!.after, { maxConnections: 2 });
    assert.equal(audit[0]!.actor_kind, 'user');
  });

  test('sessions above the set cap refused', async () => {
    const db = hop.platform.database.db;
    const server = (await db.selectFrom('room').select('janus_server').where('meeting_id', '=', meetingId).executeTakeFirstOrThrow()).janus_server ?? 'embedded';
    const limits = { meetingMax: 200, serverMax: 300 };
    const open = (participantId: string) =>
      recordSessionWithinCaps(db, { janusServer: server, sessionId: randomUUID(), meetingId, participantId, tokenHash: 'x' }, limits, new Date());

    assert.equal(await open(participants[0]!.id), null);
    assert.equal(await open(participants[1]!.id), null);
    const refused = await open(participants[2]!.id);
    assert.equal(refused?.code, 'MEETING_FULL');
    assert.equal(refused?.limit, 2);
    assert.equal(await countConnected(db, { meetingId }, new Date()), 2);

    const media = await as('chutri', 'GET', `/api/v1/meetings/${meetingId}/media`);
    assert.equal(media.body.connected, 2);

    const raised = await as('chutri', 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: 3 });
    assert.equal(raised.status, 200, 'the chair changes the cap');
    assert.equal(await open(participants[2]!.id), null, 'the raised cap admits the third');
    await db.updateTable('media_session').set({ closed_at: new Date() }).where('meeting_id', '=', meetingId).execute();
  });

  test('null returns to the default', async () => {
    const reset = await as('chutri', 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: null });
    assert.equal(reset.status, 200);
    assert.equal(reset.body.maxConnections, null);
    assert.equal(reset.body.effectiveMaxConnections, 200);
  });

  test('invalid caps rejected with the field', async () => {
    for (const body of [{ maxConnections: 0 }, { maxConnections: 10_001 }, { maxConnections: 2.5 }, { maxConnections: '50' }, {}, { maxConnections: 5, extra: true }]) {
      const response = await as('chutri', 'PUT', `/api/v1/meetings/${meetingId}/media`, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error.code, 'VALIDATION_FAILED', JSON.stringify(body));
      assert.match(response.body.error.message, /không hợp lệ/);
    }
    const zero = await as('chutri', 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: 0 });
    assert.ok(zero.body.error.details.some((detail: { path: string }) => detail.path === 'maxConnections'));
  });

  test('only those who change the meeting set it', async () => {
    const participant = await as('thamdu', 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: 5 });
    assert.equal(participant.status, 403);
    assert.equal(participant.body.error.code, 'PERMISSION_DENIED');

    const outsider = await as('ngoai', 'GET', `/api/v1/meetings/${meetingId}/media`);
    assert.equal(outsider.status, 404, 'a person not invited does not learn that the meeting exists');
    assert.equal(outsider.body.error.code, 'MEETING_NOT_FOUND');

    const anonymous = await hop.requestAs(null, 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: 5 });
    assert.equal(anonymous.status, 401);
  });

  test('cap of a cancelled meeting refused', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest({ unitId }));
    assert.equal(created.status, 201);
    const cancelled = await hop.request('POST', `/api/v1/meetings/${created.body.id}/cancel`, {});
    assert.equal(cancelled.status, 200);
    const refused = await hop.request('PUT', `/api/v1/meetings/${created.body.id}/media`, { maxConnections: 10 });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'MEETING_CANCELLED');
  });
});
