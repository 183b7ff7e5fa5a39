import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { newEvent } from '../../contract/events.ts';
import { createTestDatabase, requireService } from '../../../test/support/services.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './database.ts';
import { appendManyToOutbox } from './outbox.ts';

function scheduledEvent(meetingId: string, title: string, traceparent?: string) {
  return newEvent(
    'vn.hop.meeting.scheduled.v1',
    { meetingId, title, startsAt: '2026-12-07T01:00:00Z', endsAt: '2026-12-07T02:00:00Z', timeZone: 'Asia/Ho_Chi_Minh', participantCount: 1 },
    { source: '/test', subject: meetingId, ...(traceparent ? { traceparent } : {}) },
  );
}

function outboxSuite(name: string, open: (t: TestContext) => Promise<{ handle: DatabaseHandle; cleanup: () => Promise<void> } | undefined>) {
  describe(`appendManyToOutbox on ${name}`, () => {
    test('rows keep order and content', async (t) => {
      const opened = await open(t);
      if (!opened) return;
      const { handle, cleanup } = opened;
      try {
        const meetingId = randomUUID();
        // Quotes, backslashes, line breaks and Vietnamese text must survive the JSON array parameter unchanged.
        const titles = Array.from({ length: 250 }, (_, index) => `Họp "số ${index}" \\ phòng A\r\nTầng ${index % 7} – ${'ư'.repeat(index % 5)}`);
        const events = titles.map((title, index) => scheduledEvent(meetingId, title, index === 3 ? '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' : undefined));
        await handle.db.transaction().execute((trx) => appendManyToOutbox(trx, events.map((event) => ({ event, key: meetingId }))));

        const rows = await handle.db.selectFrom('outbox').selectAll().where('message_key', '=', meetingId).orderBy('id').execute();
        assert.equal(rows.length, events.length);
        assert.deepEqual(rows.map((row) => row.event_id), events.map((event) => event.id), 'outbox ids follow the order of the entries');
        for (const [index, row] of rows.entries()) {
          assert.equal(row.topic, 'hop.meetings.v1');
          assert.deepEqual(row.payload, JSON.parse(JSON.stringify(events[index])));
        }
        assert.deepEqual(rows[0]!.headers, {
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'ce-type': 'vn.hop.meeting.scheduled.v1',
          'ce-id': events[0]!.id,
        });
        assert.equal((rows[3]!.headers as Record<string, string>).traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      } finally {
        await cleanup();
      }
    });

    test('invalid event writes nothing', async (t) => {
      const opened = await open(t);
      if (!opened) return;
      const { handle, cleanup } = opened;
      try {
        const meetingId = randomUUID();
        const valid = scheduledEvent(meetingId, 'Họp hợp lệ');
        const invalid = scheduledEvent(meetingId, 'Họp thiếu thời gian');
        (invalid.data as { startsAt: string }).startsAt = 'thứ Hai';
        await assert.rejects(
          handle.db.transaction().execute((trx) => appendManyToOutbox(trx, [{ event: valid, key: meetingId }, { event: invalid, key: meetingId }])),
        );
        const rows = await handle.db.selectFrom('outbox').select('id').where('message_key', '=', meetingId).execute();
        assert.equal(rows.length, 0);
      } finally {
        await cleanup();
      }
    });
  });
}

outboxSuite('PGlite', async () => {
  const handle = await openDatabase({ kind: 'pglite', dataDir: null });
  await migrateToLatest(handle.db);
  return { handle, cleanup: () => handle.close() };
});

outboxSuite('PostgreSQL', async (t) => {
  const adminUrl = requireService(t, 'postgres');
  if (!adminUrl) return undefined;
  const database = await createTestDatabase(adminUrl);
  const handle = await openDatabase({ kind: 'postgres', url: database.url });
  await migrateToLatest(handle.db);
  return {
    handle,
    cleanup: async () => {
      await handle.close();
      await database.drop();
    },
  };
});
