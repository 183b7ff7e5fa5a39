/**
 * The main flow end to end on real servers. A meeting is created through the
 * HTTP API (PostgreSQL, Kafka), and the room-provision function creates its room
 * on Janus through the Kafka bridge. Two Chromium browsers join through the
 * gateway's join page and receive each other's audio and video. Cancelling the
 * meeting destroys the room.
 *
 * Janus and the browsers run in two network namespaces joined by a veth pair
 * (test/support/netns.ts), because Janus gathers no ICE candidates on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { readJoinToken, signJoinToken } from '../../lib/domain/join-token.ts';
import { log } from '../../lib/log.ts';
import { launchBrowserInNetns } from '../support/browser.ts';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { createTestDatabase, waitFor } from '../support/services.ts';

interface FeedStats {
  feedId: number;
  display: string;
  audioBytesReceived: number;
  videoBytesReceived: number;
}

/** The test hooks web/join.js exposes on `window.hop`. */
interface JoinPageHooks {
  state: string;
  remoteFeeds(): { feedId: number; display: string; webrtcUp: boolean; tracks: string[] }[];
  inboundStats(): Promise<FeedStats[]>;
}

type HookedWindow = Window & { hop?: JoinPageHooks };

const SAMPLE_INTERVAL_MS = 3000;

async function missingServices(): Promise<string | undefined> {
  const rigReason = await mediaRigUnavailableReason();
  if (rigReason) return rigReason;
  if (!process.env.KAFKA_BROKERS) return 'KAFKA_BROKERS is not set';
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  return undefined;
}

const unavailable = await missingServices();
if (unavailable && process.env.CI === 'true') {
  throw new Error(`end-to-end test cannot run under CI: ${unavailable}`);
}

describe('meeting to two browsers on video', { skip: unavailable ?? false, timeout: 240_000 }, () => {
  let rig: MediaRig;
  let hop: TestPlatform;
  let dropDatabase: (() => Promise<void>) | undefined;
  let meeting: { id: string; participants: { name: string; joinPath: string }[] };
  let roomId: number;
  const browsers: Browser[] = [];
  const pages: Page[] = [];
  const browserLogs: string[] = [];
  const timings: Record<string, number> = {};
  const started = performance.now();

  before(async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = database.drop;
    rig = await createMediaRig({ serverName: 'janus-rig' });
    hop = await startTestPlatform({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_PARTITIONS: '3',
      JANUS_URL: `janus-rig=${rig.janusUrlForServer}`,
      HOP_MEDIA: 'auto',
    });
    await rig.connectGateway(hop.platform.port);
    assert.equal(hop.platform.summary.bus, 'kafka');
    assert.equal(hop.platform.summary.database, 'postgres');
  });

  after(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await hop?.stop();
    await rig?.teardown();
    await dropDatabase?.();
    if (browserLogs.length > 0) log.warn({ browserLogs }, 'browser console warnings and errors');
    log.warn({ timings, totalMs: Math.round(performance.now() - started) }, 'end-to-end timings');
  });

  it('creates the meeting and its Janus room', async () => {
    const t0 = performance.now();
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        title: 'Họp trực tuyến UBND huyện A Lưới',
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        participants: [
          { name: 'Nguyễn Văn An', role: 'chair' },
          { name: 'Hồ Thị Lài', email: 'lai@aluoi.example.vn' },
        ],
      }),
    );
    assert.equal(created.status, 201);
    meeting = created.body;

    await waitFor(
      'room ready',
      async () => ((await hop.request('GET', `/api/v1/meetings/${meeting.id}`)).body.roomStatus === 'ready' ? true : undefined),
      { timeoutMs: 30_000 },
    );
    timings.roomReadyMs = Math.round(performance.now() - t0);

    const room = await hop.platform.database.db
      .selectFrom('room')
      .selectAll()
      .where('meeting_id', '=', meeting.id)
      .executeTakeFirstOrThrow();
    assert.equal(room.janus_server, 'janus-rig');
    roomId = Number(room.room_id);
    const server = hop.platform.media!.server('janus-rig')!;
    assert.equal(await server.roomExists(roomId), true, 'Janode finds the room on Janus');

    const outbox = await hop.platform.database.db
      .selectFrom('outbox')
      .select(['topic', 'published_at'])
      .where('message_key', '=', meeting.id)
      .where('topic', 'in', ['hop.meetings.v1', 'hop.media.v1'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      outbox.map((row) => row.topic),
      ['hop.meetings.v1', 'hop.media.v1'],
    );
    assert.ok(outbox[0]!.published_at, 'meeting.scheduled went through Kafka');
  });

  it('two invited browsers join', async () => {
    const t0 = performance.now();
    for (const [index, participant] of meeting.participants.entries()) {
      const browser = await launchBrowserInNetns(rig.browserNetns);
      browsers.push(browser);
      const page = await browser.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') browserLogs.push(`[${index}] ${message.text()}`);
      });
      page.on('pageerror', (error) => browserLogs.push(`[${index}] page error: ${error.message}`));
      pages.push(page);
      await page.goto(`${rig.browserGatewayUrl}${participant.joinPath}`);
    }
    for (const page of pages) {
      await page.waitForFunction(() => (window as HookedWindow).hop?.state === 'joined', undefined, { timeout: 30_000 });
      assert.equal(await page.textContent('#meeting-title'), 'Họp trực tuyến UBND huyện A Lưới');
    }
    timings.bothJoinedMs = Math.round(performance.now() - t0);
  });

  it('each receives the other audio and video', async (t) => {
    assert.equal(pages.length, 2, 'both pages must have joined');
    for (const [index, page] of pages.entries()) {
      await page.waitForFunction(
        () => (window as HookedWindow).hop!.remoteFeeds().length === 1 && (window as HookedWindow).hop!.remoteFeeds()[0]!.tracks.length === 2,
        undefined,
        { timeout: 30_000 },
      );
      const [feed] = await page.evaluate(() => (window as HookedWindow).hop!.remoteFeeds());
      assert.equal(feed?.display, meeting.participants[1 - index]!.name);
      await waitFor(
        'first media bytes',
        async () => {
          const [stats] = await page.evaluate(() => (window as HookedWindow).hop!.inboundStats());
          return stats && stats.audioBytesReceived > 0 && stats.videoBytesReceived > 0 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
    }

    const first = await Promise.all(pages.map((page) => page.evaluate(() => (window as HookedWindow).hop!.inboundStats())));
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
    const second = await Promise.all(pages.map((page) => page.evaluate(() => (window as HookedWindow).hop!.inboundStats())));
    for (const index of [0, 1]) {
      const before = first[index]![0]!;
      const later = second[index]![0]!;
      const name = meeting.participants[index]!.name;
      assert.ok(later.audioBytesReceived > before.audioBytesReceived, `${name}: audio bytes did not grow`);
      assert.ok(later.videoBytesReceived > before.videoBytesReceived, `${name}: video bytes did not grow`);
      t.diagnostic(
        `${name} received in ${SAMPLE_INTERVAL_MS} ms: audio ${later.audioBytesReceived - before.audioBytesReceived} B, video ${later.videoBytesReceived - before.videoBytesReceived} B`,
      );
    }
  });

  it('muted microphone stays muted after reload', async () => {
    const page = pages[1]!;
    await page.click('#microphone');
    assert.equal(await page.getAttribute('#microphone', 'aria-pressed'), 'true');
    await page.reload();
    await page.waitForFunction(() => (window as HookedWindow).hop?.state === 'joined', undefined, { timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById('microphone')?.getAttribute('aria-pressed') === 'true', undefined, {
      timeout: 10_000,
    });
    await page.click('#microphone');
    assert.equal(await page.getAttribute('#microphone', 'aria-pressed'), 'false');
    await pages[0]!.waitForFunction(() => (window as HookedWindow).hop!.remoteFeeds().length === 1, undefined, { timeout: 20_000 });
  });

  it('Janus events reach the media topic', async () => {
    const seen: string[] = [];
    const subscription = await hop.platform.bus.subscribe({
      groupId: `e2e-media-${meeting.id}`,
      topics: ['hop.media.v1'],
      fromBeginning: true,
      handle: async (message) => {
        const event = JSON.parse(message.value) as { type: string; data: { server?: string } };
        if (event.type === 'vn.hop.janus.event.v1' && event.data.server === 'janus-rig') seen.push(message.key ?? '');
      },
    });
    try {
      await waitFor('a Janus event from janus-rig', () => (seen.length > 0 ? true : undefined), { timeoutMs: 20_000 });
    } finally {
      await subscription.stop();
    }
    assert.match(seen[0]!, /^janus-rig:/);
  });

  it('cancelling destroys the room', async () => {
    const t0 = performance.now();
    const cancelled = await hop.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { reason: 'Thử nghiệm' });
    assert.equal(cancelled.status, 200);

    const server = hop.platform.media!.server('janus-rig')!;
    await waitFor('room destroyed on Janus', async () => ((await server.roomExists(roomId)) ? undefined : true), { timeoutMs: 30_000 });
    // room-provision destroys the room on Janus first and then updates the row, so the row is read after that.
    await waitFor('room row destroyed', async () => {
      const row = await hop.platform.database.db.selectFrom('room').select('status').where('meeting_id', '=', meeting.id).executeTakeFirstOrThrow();
      return row.status === 'destroyed' ? true : undefined;
    });
    const room = await hop.platform.database.db
      .selectFrom('room')
      .select(['status', 'secret'])
      .where('meeting_id', '=', meeting.id)
      .executeTakeFirstOrThrow();
    assert.equal(room.secret, null, 'the secret is dropped with the room');
    for (const page of pages) {
      await page.waitForFunction(() => (window as HookedWindow).hop!.state === 'ended', undefined, { timeout: 15_000 });
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Cuộc họp đã hủy.', undefined, { timeout: 5000 });
    }
    timings.roomDestroyedMs = Math.round(performance.now() - t0);

    const join = await hop.request('POST', `/api/v1/meetings/${meeting.id}/join`, {
      inviteKey: new URL(meeting.participants[0]!.joinPath, 'http://x').searchParams.get('k'),
    });
    assert.equal(join.status, 409);
    assert.equal(join.body.error.code, 'MEETING_CANCELLED');
  });

  it('join recreates a room Janus lost', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    await waitFor('second room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });
    const room = await hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', id).executeTakeFirstOrThrow();
    const server = hop.platform.media!.server('janus-rig')!;

    // What a Janus restart does to hop's non-permanent rooms.
    await server.destroyRoom(Number(room.room_id), room.secret!);
    assert.equal(await server.roomExists(Number(room.room_id)), false);

    const join = await hop.request('POST', `/api/v1/meetings/${id}/join`, { inviteKey: created.body.participants[0].inviteKey });
    assert.equal(join.status, 200);
    assert.equal(join.body.janus.roomId, Number(room.room_id));
    assert.equal(join.body.janus.secret, undefined, 'the room secret never leaves the server');
    assert.equal(await server.roomExists(Number(room.room_id)), true);
  });

  it('join provisions a room that failed while media was off', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    const id = created.body.id as string;
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });
    const before = await hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', id).executeTakeFirstOrThrow();
    const server = hop.platform.media!.server('janus-rig')!;
    await server.destroyRoom(Number(before.room_id), before.secret!);

    // The state room-provision leaves when it runs with media off.
    await hop.platform.database.db
      .updateTable('room')
      .set({ status: 'failed', janus_server: null, room_id: null, secret: null, pin: null, last_error: 'media is off: no Janus server is configured' })
      .where('meeting_id', '=', id)
      .execute();

    const join = await hop.request('POST', `/api/v1/meetings/${id}/join`, { inviteKey: created.body.participants[1].inviteKey });
    assert.equal(join.status, 200);
    const after = await hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(after.status, 'ready');
    assert.equal(join.body.janus.roomId, Number(after.room_id));
    assert.equal(await server.roomExists(Number(after.room_id)), true);
  });

  it('join tokens are signed and expired ones pruned', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    const id = created.body.id as string;
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });
    const room = await hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', id).executeTakeFirstOrThrow();
    const server = hop.platform.media!.server('janus-rig')!;
    const stale = signJoinToken(
      { meetingId: id, participantId: created.body.participants[0].id, role: 'chair', expiresAt: new Date(Date.now() - 60_000) },
      hop.platform.joinTokenSecret,
    );
    await server.allowTokens(Number(room.room_id), room.secret!, [stale, 'token-from-elsewhere']);

    const join = await hop.request('POST', `/api/v1/meetings/${id}/join`, { inviteKey: created.body.participants[1].inviteKey });
    assert.equal(join.status, 200);
    const claims = readJoinToken(join.body.janus.token, hop.platform.joinTokenSecret);
    assert.equal(claims?.meetingId, id);
    assert.equal(claims?.participantId, created.body.participants[1].id);
    assert.equal(claims?.role, 'participant');
    assert.ok(claims!.expiresAt.getTime() > Date.now());

    const allowed = await server.allowTokens(Number(room.room_id), room.secret!, ['probe-token']);
    assert.ok(allowed.includes(join.body.janus.token), 'the new token is allowed');
    assert.ok(!allowed.includes(stale), 'the expired token was removed');
    assert.ok(allowed.includes('token-from-elsewhere'), 'tokens hop did not sign are left alone');
  });
});
