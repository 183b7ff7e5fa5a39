/**
 * A meeting on a weak link, with real Chromium and Janus. Browser A (the
 * province hall) runs in the Janus namespace, so its link is not shaped.
 * Browser B (a commune) runs in the browser namespace behind the veth pair,
 * whose bandwidth, loss and cuts the test controls (tc tbf and iptables).
 * B's pages, API calls and signalling cross the veth too, as they share a
 * commune's access link, so B's link probes measure the shaped link.
 *
 * B's subscription to A's simulcast video must drop to the low layer on a
 * 250 kbit/s link and return to the high layer at 2 Mbit/s, with B's link
 * estimate following what the link carries. Audio-only mode
 * must stop video both ways and keep B in the room. After a 20 s cut, B must
 * reconnect by itself, and attendance must show one interval for B. The
 * limits here are generous so that a busy CI machine passes; the targets (high
 * layer within 15 s, back within 10 s) are measured by `npm run bench --
 * weak-links`, and the times are printed as diagnostics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowserInNetns } from '../support/browser.ts';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { createGroupsAtEnd, deleteGroups } from '../support/kafka-groups.ts';
import { createTestDatabase, waitFor } from '../support/services.ts';

interface LayerView {
  feedId: number;
  level: string;
  substream: number | null;
  frameHeight: number | null;
  quality: string;
  history: { at: number; level: string }[];
}

interface FeedMedia {
  feedId: number;
  stats: { audioBytes: number; videoBytes: number; audioSamples: number; concealedSamples: number; freezes: number } | null;
}

interface JoinPageHooks {
  state: string;
  link: { kbps: number | null; source: string | null };
  audioOnly: boolean;
  recovery: { iceRestarts: number; freshJoins: number; lastRecoveredAt: number | null };
  layers(): LayerView[];
  mediaStats(): Promise<FeedMedia[]>;
  remoteFeeds(): { feedId: number; tracks: string[] }[];
  setAudioOnly(on: boolean): void;
}

type HookedWindow = { hop?: JoinPageHooks };

async function missingServices(): Promise<string | undefined> {
  const rigReason = await mediaRigUnavailableReason();
  if (rigReason) return rigReason;
  if (!process.env.KAFKA_BROKERS) return 'KAFKA_BROKERS is not set';
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  return undefined;
}

const unavailable = await missingServices();
if (unavailable && process.env.CI === 'true') throw new Error(`weak-link test cannot run under CI: ${unavailable}`);

const layersOf = (page: Page) => page.evaluate(() => (window as unknown as HookedWindow).hop!.layers());
const mediaOf = (page: Page) => page.evaluate(() => (window as unknown as HookedWindow).hop!.mediaStats());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until B's subscription to A is on one of `levels`, and returns the seconds it took. */
async function waitForLevel(page: Page, levels: string[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(
    `subscription level in ${levels.join(', ')}`,
    async () => {
      const [layer] = await layersOf(page);
      return layer && levels.includes(layer.level) ? true : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  ).catch(async (error: unknown) => {
    const [layer] = await layersOf(page);
    const history = (layer?.history ?? []).map((change) => `${((change.at - started) / 1000).toFixed(1)} s ${change.level}`).join(', ');
    throw new Error(`${(error as Error).message}; level changes since the wait began: ${history}`);
  });
  return (Date.now() - started) / 1000;
}

describe('meeting on a weak link', { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let rig: MediaRig;
  let hop: TestPlatform;
  let dropDatabase: (() => Promise<void>) | undefined;
  let groups: string[] = [];
  const groupPrefix = `hop-e2e-weak-${Date.now()}-fn-`;
  let meeting: { id: string; participants: { id: string; name: string; joinPath: string }[] };
  const browsers: Browser[] = [];
  let hall: Page;
  let commune: Page;

  before(async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = database.drop;
    rig = await createMediaRig({ serverName: 'janus-weak', gatewayAcrossVeth: true });
    // Own consumer groups at the end of the topics, so the bridge does not first work through what other runs left on the shared broker.
    groups = await createGroupsAtEnd(process.env.KAFKA_BROKERS!, groupPrefix);
    hop = await startTestPlatform({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_PARTITIONS: '3',
      HOP_BRIDGE_GROUP_PREFIX: groupPrefix,
      JANUS_URL: `janus-weak=${rig.janusUrlForServer}`,
      HOP_MEDIA: 'auto',
    });
    await rig.connectGateway(hop.platform.port);

    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        title: 'Giao ban trực tuyến với các xã vùng cao',
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        participants: [
          { name: 'UBND huyện Nam Đông', role: 'chair' },
          { name: 'UBND xã Thượng Long', email: 'thuonglong@namdong.example.vn' },
        ],
      }),
    );
    assert.equal(created.status, 201);
    meeting = created.body;
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${meeting.id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });
  });

  after(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await hop?.stop();
    await rig?.teardown();
    await dropDatabase?.();
    if (groups.length > 0) await deleteGroups(process.env.KAFKA_BROKERS!, groups);
  });

  it('both join and B reaches the high layer', async (t) => {
    // The hall browser shares Janus's namespace: its media never crosses the shaped veth.
    const hallBrowser = await launchBrowserInNetns(rig.janusNetns);
    const communeBrowser = await launchBrowserInNetns(rig.browserNetns);
    browsers.push(hallBrowser, communeBrowser);
    hall = await hallBrowser.newPage();
    commune = await communeBrowser.newPage();
    await hall.goto(`${rig.browserGatewayUrl}${meeting.participants[0]!.joinPath}`);
    await commune.goto(`${rig.browserGatewayUrl}${meeting.participants[1]!.joinPath}`);
    for (const page of [hall, commune]) {
      await page.waitForFunction(() => (window as unknown as HookedWindow).hop?.state === 'joined', undefined, { timeout: 30_000 });
      await page.waitForFunction(() => (window as unknown as HookedWindow).hop!.remoteFeeds()[0]?.tracks.length === 2, undefined, { timeout: 30_000 });
    }
    const seconds = await waitForLevel(commune, ['high'], 30_000);
    await waitFor('Janus forwards substream 2', async () => ((await layersOf(commune))[0]?.substream === 2 ? true : undefined), { timeoutMs: 10_000 });
    t.diagnostic(`high layer after ${seconds.toFixed(1)} s`);
  });

  it('connection check page gives a verdict', async (t) => {
    const page = await browsers[1]!.newPage();
    try {
      await page.goto(`${rig.browserGatewayUrl}/network-check.html${new URL(meeting.participants[1]!.joinPath, 'http://x').search}`);
      await page.click('#start');
      await page.waitForFunction(() => {
        const check = (window as unknown as { hopNetworkCheck?: { result: { webrtc: unknown } | null } }).hopNetworkCheck;
        return check?.result?.webrtc != null;
      }, undefined, { timeout: 30_000 });
      const result = await page.evaluate(() => (window as unknown as { hopNetworkCheck: { result: Record<string, any> } }).hopNetworkCheck.result);
      assert.equal(result.webrtc.status, 'connected', JSON.stringify(result.webrtc));
      assert.match(result.webrtc.candidateType, /^UDP/);
      assert.ok(result.rttMs > 0, 'round-trip time measured');
      assert.ok(result.downloadKbps > 0, 'download measured');
      assert.ok(result.uploadKbps > 0, 'upload measured');
      // The link is not shaped yet.
      assert.equal(result.verdict, 'video');
      assert.match((await page.textContent('#verdict')) ?? '', /chất lượng cao/);
      assert.equal(await page.getAttribute('#guide', 'href'), '/help/bandwidth.md');
      t.diagnostic(`rtt ${result.rttMs.toFixed(1)} ms, down ${Math.round(result.downloadKbps)} kbit/s, up ${Math.round(result.uploadKbps)} kbit/s, ${result.webrtc.candidateType}`);
      const stored = await page.evaluate(() => localStorage.getItem('hop.networkCheck'));
      assert.ok(stored?.includes('"verdict":"video"'));
    } finally {
      await page.close();
    }
  });

  it('250 kbit/s drops to the low layer', async (t) => {
    await rig.shape({ rate: '250kbit', burst: '16kb', latency: '300ms' });
    const seconds = await waitForLevel(commune, ['low', 'low-t0'], 40_000);
    await waitFor('Janus forwards substream 0', async () => ((await layersOf(commune))[0]?.substream === 0 ? true : undefined), { timeoutMs: 10_000 });
    const link = await commune.evaluate(() => (window as unknown as HookedWindow).hop!.link);
    // Medium needs (300 + 50) kbit/s plus headroom, so the estimate must come from what the 250 kbit/s link carried.
    assert.notEqual(link.kbps, null, 'B has a link estimate');
    assert.ok(link.kbps! > 100, `link estimate ${link.kbps} kbit/s (${link.source}) is above what low needs`);
    assert.ok(link.kbps! < 400, `link estimate ${link.kbps} kbit/s (${link.source}) is below what medium needs`);
    const before = (await mediaOf(commune))[0]!.stats!;
    await sleep(3000);
    const later = (await mediaOf(commune))[0]!.stats!;
    assert.ok(later.audioBytes > before.audioBytes, 'audio keeps flowing on the low layer');
    t.diagnostic(`low layer after ${seconds.toFixed(1)} s, link estimate ${Math.round(link.kbps!)} kbit/s (${link.source}); ${later.audioBytes - before.audioBytes} B audio and ${later.videoBytes - before.videoBytes} B video in 3 s`);
  });

  it('2 Mbit/s returns to the high layer', async (t) => {
    await rig.shape({ rate: '2mbit', burst: '32kb', latency: '300ms' });
    const seconds = await waitForLevel(commune, ['high'], 45_000);
    const link = await commune.evaluate(() => (window as unknown as HookedWindow).hop!.link);
    assert.equal(link.source, 'probe', 'a probe measured the restored link');
    assert.notEqual(link.kbps, null, 'B has a link estimate');
    assert.ok(link.kbps! > 1200, `link estimate ${link.kbps} kbit/s is above what high needs`);
    t.diagnostic(`high layer again after ${seconds.toFixed(1)} s, link estimate ${Math.round(link.kbps!)} kbit/s`);
    await rig.unshape();
  });

  it('audio-only stops video and keeps B in the room', async () => {
    await commune.evaluate(() => (window as unknown as HookedWindow).hop!.setAudioOnly(true));
    await waitForLevel(commune, ['off'], 5000);
    assert.equal(await commune.getAttribute('#audio-only', 'aria-pressed'), 'true');
    // Let the last frames in flight arrive, then compare the byte counts.
    await sleep(2000);
    const communeBefore = (await mediaOf(commune))[0]!.stats!;
    const hallBefore = (await mediaOf(hall))[0]!.stats!;
    await sleep(3000);
    const communeAfter = (await mediaOf(commune))[0]!.stats!;
    const hallAfter = (await mediaOf(hall))[0]!.stats!;
    assert.ok(communeAfter.audioBytes > communeBefore.audioBytes, 'B still hears A');
    assert.ok(communeAfter.videoBytes - communeBefore.videoBytes < 2000, `B received ${communeAfter.videoBytes - communeBefore.videoBytes} B of video in audio-only mode`);
    assert.ok(hallAfter.audioBytes > hallBefore.audioBytes, 'A still hears B');
    assert.ok(hallAfter.videoBytes - hallBefore.videoBytes < 2000, `A received ${hallAfter.videoBytes - hallBefore.videoBytes} B of B's video`);

    const server = hop.platform.media!.server('janus-weak')!;
    const room = await hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', meeting.id).executeTakeFirstOrThrow();
    const participants = await server.listParticipants(Number(room.room_id));
    assert.equal(participants.length, 2, 'B is still a participant of the room');

    await commune.evaluate(() => (window as unknown as HookedWindow).hop!.setAudioOnly(false));
    await waitForLevel(commune, ['low-t0', 'low', 'medium', 'high'], 5000);
  });

  it('20 s cut: B rejoins, one interval', async (t) => {
    await rig.cut(true);
    await commune.waitForFunction(() => (window as unknown as HookedWindow).hop?.state === 'reconnecting', undefined, { timeout: 15_000 });
    await sleep(20_000);
    await rig.cut(false);
    const restored = Date.now();

    await commune.waitForFunction(() => (window as unknown as HookedWindow).hop?.state === 'joined', undefined, { timeout: 25_000 });
    const audioBack = async () => {
      const first = (await mediaOf(commune))[0]?.stats;
      await sleep(500);
      const second = (await mediaOf(commune))[0]?.stats;
      return first && second && second.audioBytes > first.audioBytes ? true : undefined;
    };
    await waitFor('audio from A again', audioBack, { timeoutMs: Math.max(1000, 25_000 - (Date.now() - restored)), intervalMs: 200 });
    const seconds = (Date.now() - restored) / 1000;
    const recovery = await commune.evaluate(() => (window as unknown as HookedWindow).hop!.recovery);
    t.diagnostic(`media back ${seconds.toFixed(1)} s after the link returned; ${recovery.iceRestarts} ICE restarts, ${recovery.freshJoins} fresh joins`);
    assert.ok(seconds <= 10, `reconnected after ${seconds} s`);

    const db = hop.platform.database.db;
    const communeId = meeting.participants[1]!.id;
    await waitFor(
      'B has an open attendance interval',
      async () => {
        const rows = await db.selectFrom('attendance_interval').selectAll().where('participant_id', '=', communeId).execute();
        return rows.some((row) => row.status === 'open') ? rows : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const intervals = await db.selectFrom('attendance_interval').selectAll().where('participant_id', '=', communeId).execute();
    assert.equal(intervals.length, 1, `B has ${intervals.length} attendance intervals`);
  });
});
