import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase, type DatabaseConfig } from '../adapters/db/database.ts';
import { topics } from '../contract/topics.ts';
import { createTestDatabase, requireService } from '../../test/support/services.ts';
import { listAuditRecords, recordAudit, redactSecrets } from './audit.ts';

describe('redactSecrets', () => {
  test('drops secrets at any depth', () => {
    const redacted = redactSecrets({
      title: 'Họp giao ban',
      invite_key_hash: 'a'.repeat(64),
      participants: [{ name: 'Nguyễn Thị Hòa', inviteKeyHash: 'b'.repeat(64), inviteKey: 'k' }],
      account: { password_hash: 'scrypt$…', password: 'mật khẩu', csrfToken: 'c' },
      apiKey: { prefix: 'abcd1234', secret_hash: 'd', secret: 'e', token: 'hop_abcd1234_x' },
      room: { roomId: 1234, secret: 'room secret', pin: '123456', 'room-pin': '654321' },
    });
    assert.deepEqual(redacted, {
      title: 'Họp giao ban',
      participants: [{ name: 'Nguyễn Thị Hòa' }],
      account: {},
      apiKey: { prefix: 'abcd1234' },
      room: { roomId: 1234 },
    });
  });

  test('keeps ordinary fields', () => {
    const snapshot = { id: '1', name: 'Sở Tư pháp', code: 'STP', pinned: true, secretary: 'Lê Thị Thư' };
    assert.deepEqual(redactSecrets(snapshot), snapshot);
  });
});

async function checkAuditTable(config: DatabaseConfig): Promise<void> {
  const handle = await openDatabase(config);
  try {
    await migrateToLatest(handle.db);
    const entityId = randomUUID();
    const record = await handle.db.transaction().execute((trx) =>
      recordAudit(trx, {
        actor: { kind: 'system', id: 'meeting-end' },
        action: 'meeting.ended',
        entityType: 'meeting',
        entityId,
        before: { status: 'scheduled', room: { pin: '123456' } },
        after: { status: 'ended' },
        ip: '10.0.0.7',
        requestId: 'req-1',
      }),
    );
    assert.deepEqual(record.before, { status: 'scheduled', room: {} });
    assert.equal(record.actor.kind, 'system');

    const outbox = await handle.db.selectFrom('outbox').selectAll().where('message_key', '=', entityId).execute();
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]!.topic, topics.audit);
    const payload = (typeof outbox[0]!.payload === 'string' ? JSON.parse(outbox[0]!.payload) : outbox[0]!.payload) as {
      type: string;
      data: { auditId: string; before: unknown; ip: string };
    };
    assert.equal(payload.type, 'vn.hop.audit.recorded.v1');
    assert.equal(payload.data.auditId, record.id);
    assert.deepEqual(payload.data.before, { status: 'scheduled', room: {} });
    assert.equal(payload.data.ip, '10.0.0.7');

    await assert.rejects(sql`update audit_record set action = 'meeting.cancelled'`.execute(handle.db), /append-only: UPDATE/);
    await assert.rejects(sql`delete from audit_record`.execute(handle.db), /append-only: DELETE/);
    await assert.rejects(sql`truncate audit_record`.execute(handle.db), /append-only: TRUNCATE/);

    const page = await listAuditRecords(handle.db, { entityId, limit: 10 });
    assert.deepEqual(
      page.records.map((item) => item.id),
      [record.id],
    );
  } finally {
    await handle.close();
  }
}

describe('audit_record', () => {
  test('append-only on PGlite', async () => {
    await checkAuditTable({ kind: 'pglite', dataDir: null });
  });

  test('append-only on PostgreSQL', async (t) => {
    const adminUrl = requireService(t, 'postgres');
    if (!adminUrl) return;
    const database = await createTestDatabase(adminUrl);
    try {
      await checkAuditTable({ kind: 'postgres', url: database.url });
    } finally {
      await database.drop();
    }
  });
});
