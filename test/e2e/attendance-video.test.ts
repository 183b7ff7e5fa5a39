/**
 * Online attendance from a real Janus: two Chromium browsers join a meeting
 * through the join page and the signalling proxy, one leaves, and the meeting
 * ends. The attendance function must record one join and one leave per
 * participant, identified through the proxy's session records, with durations
 * that match the time each browser spent in the room.
 *
 * With HOP_CAPTURE_ATTENDANCE_FIXTURE=<file> the test also writes the Janus
 * events it saw and the session-to-participant map to that file; the replay
 * tests in functions/attendance-track/ read such a capture.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowserInNetns } from '../support/browser.ts';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { createTestDatabase, waitFor } from '../support/services.ts';
import { createGroupsAtEnd, deleteGroups } from '../support/kafka-groups.ts';
import type { Subscription } from '../../lib/adapters/bus/bus.ts';

type HookedWindow = Window & { hop?: { state: string } };

async function missingServices(): Promise<string | undefined> {
  const rigReason = await mediaRigUnavailableReason();
  if (rigReason) return rigReason;
  if (!process.env.KAFKA_BROKERS) return 'KAFKA_BROKERS is not set';
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  return undefined;
}

const unavailable = await missingServices();
if (unavailable && process.env.CI === 'true') throw new Error(`attendance end-to-end test cannot run under CI: ${unavailable}`);

/** Seconds the second browser stays after the first one joined. */
const STAY_MS = 6000;

describe('attendance from real Janus events', { skip: unavailable ?? false, timeout: 240_000 }, () => {
  let rig: MediaRig;
  let hop: TestPlatform;
  let dropDatabase: (() => Promise<void>) | undefined;
  let subscription: Subscription | undefined;
  let meeting: { id: string; participants: { id: string; name: string; joinPath: string }[] };
  const browsers: Browser[] = [];
  const pages: Page[] = [];
  const captured: { server: string; time: string; event: Record<string, unknown> }[] = [];
  const previousGrace = process.env.HOP_ATTENDANCE_GRACE_SECONDS;
  // The broker is shared between runs, so events of earlier runs of this test are skipped.
  const startedAt = Date.now();
  const groupPrefix = `hop-e2e-attendance-${startedAt}-fn-`;
  let groups: string[] = [];

  before(async () => {
    // A short grace period, so the test sees the interval close without waiting two minutes.
    process.env.HOP_ATTENDANCE_GRACE_SECONDS = '2';
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = database.drop;
    rig = await createMediaRig({ serverName: 'janus-att' });
    groups = await createGroupsAtEnd(process.env.KAFKA_BROKERS!, groupPrefix);
    hop = await startTestPlatform({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_PARTITIONS: '3',
      HOP_BRIDGE_GROUP_PREFIX: groupPrefix,
      JANUS_URL: `janus-att=${rig.janusUrlForServer}`,
      HOP_MEDIA: 'auto',
    });
    await rig.connectGateway(hop.platform.port);
    subscription = await hop.platform.bus.subscribe({
      groupId: `e2e-attendance-capture-${Date.now()}`,
      topics: ['hop.media.v1'],
      fromBeginning: true,
      handle: async (message) => {
        const event = JSON.parse(message.value) as { type: string; time: string; data: { server: string; event: Record<string, unknown> } };
        if (event.type === 'vn.hop.janus.event.v1' && event.data.server === 'janus-att' && Date.parse(event.time) >= startedAt) captured.push({ server: event.data.server, time: event.time, event: event.data.event });
      },
    });
  });

  after(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await subscription?.stop();
    await hop?.stop();
    if (groups.length > 0) await deleteGroups(process.env.KAFKA_BROKERS!, groups);
    await rig?.teardown();
    await dropDatabase?.();
    if (previousGrace === undefined) delete process.env.HOP_ATTENDANCE_GRACE_SECONDS;
    else process.env.HOP_ATTENDANCE_GRACE_SECONDS = previousGrace;
  });

  it('records a join and a leave per browser', async (t) => {
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        title: 'Giao ban trực tuyến UBND xã Hồng Thượng',
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        participants: [
          { name: 'Nguyễn Văn An', role: 'chair' },
          // The same display name twice: attendance must tell them apart by join token.
          { name: 'Nguyễn Văn An', email: 'an2@example.gov.vn' },
        ],
      }),
    );
    assert.equal(created.status, 201);
    meeting = created.body;
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${meeting.id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });

    const joinedAt: number[] = [];
    for (const participant of meeting.participants) {
      const browser = await launchBrowserInNetns(rig.browserNetns);
      browsers.push(browser);
      const page = await browser.newPage();
      pages.push(page);
      await page.goto(`${rig.browserGatewayUrl}${participant.joinPath}`);
      await page.waitForFunction(() => (window as HookedWindow).hop?.state === 'joined', undefined, { timeout: 30_000 });
      joinedAt.push(Date.now());
    }

    const db = hop.platform.database.db;
    await waitFor(
      'two open intervals',
      async () => {
        const rows = await db.selectFrom('attendance_interval').selectAll().where('meeting_id', '=', meeting.id).where('status', '=', 'open').execute();
        return rows.length === 2 ? rows : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const sessions = await db.selectFrom('media_session').selectAll().where('meeting_id', '=', meeting.id).execute();
    assert.deepEqual(new Set(sessions.map((s) => s.participant_id)), new Set(meeting.participants.map((p) => p.id)), 'one media session per participant');

    await new Promise((resolve) => setTimeout(resolve, STAY_MS));
    const firstLeft = Date.now();
    await browsers[0]!.close();

    await waitFor(
      'first participant closed after the grace period',
      async () => {
        await hop.platform.invoker.invoke('attendance-settle', { method: 'POST', path: '/', query: {}, headers: {}, body: {}, params: {}, principal: { kind: 'anonymous' } });
        const row = await db.selectFrom('attendance_interval').selectAll().where('participant_id', '=', meeting.participants[0]!.id).executeTakeFirst();
        return row?.status === 'closed' ? row : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    const ended = await hop.request('POST', `/api/v1/meetings/${meeting.id}/end`, {});
    assert.equal(ended.status, 200);
    const secondEnded = Date.now();
    await waitFor(
      'all intervals closed at the meeting end',
      async () => {
        const open = await db.selectFrom('attendance_interval').select('status').where('meeting_id', '=', meeting.id).where('status', '!=', 'closed').execute();
        return open.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );

    const intervals = await db.selectFrom('attendance_interval').selectAll().where('meeting_id', '=', meeting.id).execute();
    assert.equal(intervals.length, 2, 'one interval per participant');
    for (const [index, participant] of meeting.participants.entries()) {
      const interval = intervals.find((row) => row.participant_id === participant.id)!;
      const seconds = (new Date(interval.ended_at!).getTime() - new Date(interval.started_at).getTime()) / 1000;
      const expected = ((index === 0 ? firstLeft : secondEnded) - joinedAt[index]!) / 1000;
      t.diagnostic(`${participant.name} #${index + 1}: ${seconds.toFixed(1)} s recorded, about ${expected.toFixed(1)} s in the room`);
      assert.ok(Math.abs(seconds - expected) < 5, `participant ${index + 1}: ${seconds} s recorded, ${expected} s expected`);
    }

    const events = await db.selectFrom('outbox').select(['headers']).where('topic', '=', 'hop.attendance.v1').where('message_key', '=', meeting.id).execute();
    const types = events.map((row) => row.headers['ce-type']);
    assert.equal(types.filter((type) => type === 'vn.hop.attendance.joined.v1').length, 2);
    assert.equal(types.filter((type) => type === 'vn.hop.attendance.left.v1').length, 2);

    const fixture = process.env.HOP_CAPTURE_ATTENDANCE_FIXTURE;
    if (fixture) {
      await waitFor('captured events', () => (captured.length > 0 ? true : undefined));
      const participantIndex = new Map(meeting.participants.map((p, index) => [p.id, index]));
      const sessionIndex = new Map(sessions.map((s) => [s.session_id, participantIndex.get(s.participant_id)]));
      // Join tokens are replaced by a placeholder naming the participant; the replay signs its own.
      for (const item of captured) {
        const data = (item.event.event as { data?: { token?: string } } | undefined)?.data;
        if (data?.token) data.token = `{{token of participant ${sessionIndex.get(String(item.event.session_id))}}}`;
      }
      await writeFile(
        fixture,
        `${JSON.stringify({ capturedAt: new Date().toISOString(), sessions: sessions.map((s) => ({ sessionId: s.session_id, participant: participantIndex.get(s.participant_id) })), events: captured }, null, 1)}\n`,
      );
      t.diagnostic(`wrote ${captured.length} Janus events to ${fixture}`);
    }
  });
});
