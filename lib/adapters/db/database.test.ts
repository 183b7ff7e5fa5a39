import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { requireService, createTestDatabase } from '../../../test/support/services.ts';
import { migrateToLatest, openDatabase, type DatabaseConfig } from './database.ts';

const expectedTables = ['api_key', 'app_user', 'attendance_check_in', 'attendance_check_in_attempt', 'attendance_connection', 'attendance_interval', 'attendance_mark', 'attendance_version', 'audit_record', 'calendar_feed_token', 'document', 'document_read', 'document_upload', 'document_version', 'hand_raise', 'holiday', 'local_account', 'media_join_refusal', 'media_server', 'media_session', 'meeting', 'meeting_change', 'meeting_invited_unit', 'meeting_occurrence', 'meeting_room', 'membership', 'notification_delivery', 'notification_target', 'outbox', 'participant', 'processed_event', 'reminder', 'room', 'unit', 'unit_reminder_setting', 'web_session', 'webhook_allowed_target', 'webhook_endpoint'];

async function tablesOf(config: DatabaseConfig): Promise<string[]> {
  const handle = await openDatabase(config);
  try {
    const result = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_name not like 'hop_migration%' and table_name not like 'bus_%'
      order by table_name`.execute(handle.db);
    return result.rows.map((row) => row.table_name);
  } finally {
    await handle.close();
  }
}

async function migrateTwice(config: DatabaseConfig): Promise<void> {
  for (let run = 0; run < 2; run++) {
    const handle = await openDatabase(config);
    try {
      const result = await migrateToLatest(handle.db);
      const applied = (result.results ?? []).filter((item) => item.status === 'Success').length;
      if (run === 0) assert.ok(applied > 0, 'first run applies the migrations');
      else assert.equal(applied, 0, 'second run finds nothing to apply');
    } finally {
      await handle.close();
    }
  }
}

describe('migrations', () => {
  test('PGlite on disk, applied once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hop-db-'));
    try {
      const config: DatabaseConfig = { kind: 'pglite', dataDir: path.join(dir, 'db') };
      await migrateTwice(config);
      assert.deepEqual(await tablesOf(config), expectedTables);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL, applied once', async (t) => {
    const adminUrl = requireService(t, 'postgres');
    if (!adminUrl) return;
    const database = await createTestDatabase(adminUrl);
    try {
      const config: DatabaseConfig = { kind: 'postgres', url: database.url };
      await migrateTwice(config);
      assert.deepEqual(await tablesOf(config), expectedTables);
    } finally {
      await database.drop();
    }
  });

  test('PGlite transactions do not interleave', async () => {
    const handle = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      await sql`create table counter (n integer not null)`.execute(handle.db);
      await sql`insert into counter values (0)`.execute(handle.db);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          handle.db.transaction().execute(async (trx) => {
            const row = await sql<{ n: number }>`select n from counter`.execute(trx);
            await new Promise((resolve) => setTimeout(resolve, 1));
            await sql`update counter set n = ${row.rows[0]!.n + 1}`.execute(trx);
          }),
        ),
      );
      const final = await sql<{ n: number }>`select n from counter`.execute(handle.db);
      assert.equal(final.rows[0]!.n, 20);
    } finally {
      await handle.close();
    }
  });
});
