/**
 * Meetings on weak links, with real Chromium and Janus in the media rig
 * (test/support/netns.ts). Browser A (the hall) runs in the Janus namespace,
 * unshaped, and publishes camera and microphone. Browser B (a commune) joins
 * from the browser namespace, whose veth pair is limited with tc tbf and loses
 * UDP packets at random through iptables `statistic`. B's pages, API calls
 * and signalling cross the shaped veth too, so the join page's link probes
 * measure the link under test.
 *
 * For each link (2 Mbit/s, 500, 250, 120 kbit/s) and loss (0, 5, 10 %) it
 * records five figures at B. The join time runs from page load, over the
 * shaped link and including the page's link probe, to the first audio bytes
 * from A. Audio is the seconds of real audio received from A per
 * minute: samples played minus concealed samples, from Chrome's inbound-rtp
 * statistics. The video layer is named by the decoded frame height, sampled
 * every second. Freezes are inbound-rtp `freezeCount`. The link estimate is
 * the join page's own, at the end of the cell. Each cell measures BENCH_CELL_SECONDS
 * (default 20 s, not a full minute, so the table runs in about 8 minutes on
 * 2 cores); audio is scaled to seconds per minute.
 *
 * It then measures the return to the high layer after 250 kbit/s becomes
 * 2 Mbit/s, a 20-second cut of the link, and the Janus CPU time and bytes sent
 * per forwarded stream with 1 and BENCH_SUBSCRIBERS watch-only subscribers.
 * No delay is added: this kernel has no netem, and the rig has no user-space
 * relay in the media path.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { launchBrowserInNetns } from '../test/support/browser.ts';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../test/support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase, waitFor } from '../test/support/services.ts';
import type { BenchResult } from './support.ts';

const CELL_SECONDS = Number(process.env.BENCH_CELL_SECONDS ?? 20);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 6);
const RATES = ['2mbit', '500kbit', '250kbit', '120kbit'];
const LOSSES = [0, 5, 10];
const AUDIO_SAMPLE_RATE = 48_000;
/**
 * Time a join may take, in milliseconds. Each page opens in a fresh browser
 * context, so it first loads about 330 kB of scripts over the shaped link:
 * about 23 s at 120 kbit/s.
 */
const JOIN_TIMEOUT_MS = 90_000;

interface Stats {
  audioBytes: number;
  videoBytes: number;
  audioSamples: number;
  concealedSamples: number;
  freezes: number;
  frameHeight: number | null;
}

interface Hooks {
  state: string;
  link: { kbps: number | null; source: string | null };
  recovery: { iceRestarts: number; freshJoins: number };
  layers(): { level: string; frameHeight: number | null; substream: number | null }[];
  mediaStats(): Promise<{ stats: Stats | null }[]>;
  capLevel(name: string): void;
}
type HookedWindow = { hop?: Hooks };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statsOf = async (page: Page): Promise<Stats | null> => (await page.evaluate(() => (window as unknown as HookedWindow).hop!.mediaStats()))[0]?.stats ?? null;

/** Names the simulcast layer a decoded frame height belongs to (720p capture: 720, 360, 180). */
function layerOf(height: number | null): string {
  if (!height) return 'none';
  if (height >= 540) return 'high';
  if (height >= 270) return 'medium';
  return 'low';
}

/** Returns "layer (share %)" for the most frequent layer among the samples, with the others after it. */
function layerSummary(samples: string[]): string {
  const counts = new Map<string, number>();
  for (const sample of samples) counts.set(sample, (counts.get(sample) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([layer, count]) => `${layer} ${Math.round((count / samples.length) * 100)} %`)
    .join(', ');
}

/** Janus's CPU time in seconds, from /proc/<pid>/stat (utime + stime, clock ticks of 1/100 s on Linux). */
async function janusCpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Bytes the browser namespace received on its veth end: what Janus sent to the browsers there. */
async function browserNsReceivedBytes(rig: MediaRig): Promise<number> {
  const result = await rig.runInBrowserNs('cat', ['/sys/class/net/veth-b/statistics/rx_bytes']);
  return Number(result.stdout.trim());
}

export async function weakLinksBench(): Promise<BenchResult> {
  const unavailable = await mediaRigUnavailableReason();
  if (unavailable) throw new Error(`weak-links needs the media rig: ${unavailable}`);
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is not set; run the benchmarks with npm run bench');

  const database = await createTestDatabase(adminUrl);
  let rig: MediaRig | undefined;
  let hop: TestPlatform | undefined;
  const browsers: Browser[] = [];
  const rows: BenchResult['rows'] = [];
  const notes: string[] = [];
  try {
    rig = await createMediaRig({ serverName: 'janus-bench', gatewayAcrossVeth: true });
    hop = await startTestPlatform({ DATABASE_URL: database.url, JANUS_URL: `janus-bench=${rig.janusUrlForServer}`, HOP_MEDIA: 'auto' });
    await rig.connectGateway(hop.platform.port);
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        title: 'Đo đường truyền yếu',
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3 * 60 * 60_000).toISOString(),
        participants: [
          { name: 'Hội trường tỉnh', role: 'chair' },
          ...Array.from({ length: SUBSCRIBERS + 1 }, (_, index) => ({ name: `UBND xã ${index + 1}`, email: `xa${index + 1}@example.gov.vn` })),
        ],
      }),
    );
    if (created.status !== 201) throw new Error(`creating the meeting failed: ${JSON.stringify(created.body)}`);
    const meeting = created.body as { id: string; participants: { joinPath: string }[] };
    await waitFor('room ready', async () => ((await hop!.request('GET', `/api/v1/meetings/${meeting.id}`)).body.roomStatus === 'ready' ? true : undefined), { timeoutMs: 30_000 });

    const hallBrowser = await launchBrowserInNetns(rig.janusNetns);
    browsers.push(hallBrowser);
    const hall = await hallBrowser.newPage();
    await hall.goto(`${rig.browserGatewayUrl}${meeting.participants[0]!.joinPath}`);
    await hall.waitForFunction(() => (window as unknown as HookedWindow).hop?.state === 'joined', undefined, { timeout: 30_000 });

    const communeBrowser = await launchBrowserInNetns(rig.browserNetns);
    browsers.push(communeBrowser);
    const communePath = meeting.participants[1]!.joinPath;

    /** Opens B's join page and returns it with the seconds until the first audio bytes from A. */
    const joinCommune = async (timeoutMs: number): Promise<{ page: Page; joinSeconds: number | null }> => {
      const page = await communeBrowser.newPage();
      const started = Date.now();
      // Page load over the shaped link counts in the join time, so the wait below covers it.
      await page.goto(`${rig!.browserGatewayUrl}${communePath}`, { waitUntil: 'commit', timeout: timeoutMs });
      try {
        await waitFor('first audio bytes', async () => ((await statsOf(page))?.audioBytes ?? 0) > 0 || undefined, { timeoutMs, intervalMs: 200 });
        return { page, joinSeconds: (Date.now() - started) / 1000 };
      } catch {
        return { page, joinSeconds: null };
      }
    };

    // The table.
    for (const rate of RATES) {
      for (const loss of LOSSES) {
        await rig.shape({ rate, burst: '16kb', latency: '300ms' });
        await rig.setLoss(loss);
        const { page, joinSeconds } = await joinCommune(JOIN_TIMEOUT_MS);
        const label = `${rate.replace('mbit', ' Mbit/s').replace('kbit', ' kbit/s')}, ${loss} % loss`;
        if (joinSeconds === null) {
          rows.push({ metric: label, value: `did not join within ${JOIN_TIMEOUT_MS / 1000} s` });
          await page.close();
          continue;
        }
        // Let the layer policy settle before measuring.
        await sleep(5000);
        const first = await statsOf(page);
        const layers: string[] = [];
        for (let second = 0; second < CELL_SECONDS; second += 1) {
          await sleep(1000);
          layers.push(layerOf((await statsOf(page))?.frameHeight ?? null));
        }
        const last = await statsOf(page);
        const link = await page.evaluate(() => (window as unknown as HookedWindow).hop!.link);
        await page.close();
        if (!first || !last) {
          rows.push({ metric: label, value: 'no statistics' });
          continue;
        }
        const audioSeconds = (last.audioSamples - first.audioSamples - (last.concealedSamples - first.concealedSamples)) / AUDIO_SAMPLE_RATE;
        const audioPerMinute = (audioSeconds / CELL_SECONDS) * 60;
        let target: string | undefined;
        let met: boolean | undefined;
        if (rate === '120kbit' && loss === 5) {
          target = 'audio ≥ 55 s/min';
          met = audioPerMinute >= 55;
        } else if (rate === '250kbit' && loss === 0) {
          target = 'low layer';
          met = layerSummary(layers).startsWith('low');
        }
        rows.push({
          metric: label,
          value: `join ${joinSeconds.toFixed(1)} s; audio ${audioPerMinute.toFixed(1)} s/min; video ${layerSummary(layers)}; ${last.freezes - first.freezes} freezes; link estimate ${link.kbps === null ? 'none' : `${Math.round(link.kbps)} kbit/s (${link.source})`}`,
          target,
          met,
        });
      }
    }
    await rig.setLoss(0);

    // Return to the high layer.
    await rig.shape({ rate: '250kbit', burst: '16kb', latency: '300ms' });
    const { page: recovering } = await joinCommune(JOIN_TIMEOUT_MS);
    await sleep(20_000);
    const before = recovering.evaluate(() => (window as unknown as HookedWindow).hop!.layers()[0]);
    await rig.shape({ rate: '2mbit', burst: '32kb', latency: '300ms' });
    const restored = Date.now();
    let recoverySeconds: number | null = null;
    try {
      await waitFor('high layer', async () => (layerOf((await statsOf(recovering))?.frameHeight ?? null) === 'high' ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
      recoverySeconds = (Date.now() - restored) / 1000;
    } catch {
      recoverySeconds = null;
    }
    rows.push({
      metric: 'back to the high layer after 250 kbit/s → 2 Mbit/s',
      value: recoverySeconds === null ? `not within 60 s (level before: ${JSON.stringify(await before)})` : `${recoverySeconds.toFixed(1)} s (decoded 720p frames)`,
      target: '≤ 15 s',
      met: recoverySeconds !== null && recoverySeconds <= 15,
    });
    await rig.unshape();

    // A 20-second cut.
    await sleep(3000);
    await rig.cut(true);
    await sleep(20_000);
    await rig.cut(false);
    const returned = Date.now();
    let reconnectSeconds: number | null = null;
    try {
      let previous = (await statsOf(recovering))?.audioBytes ?? 0;
      await waitFor(
        'audio again',
        async () => {
          const state = await recovering.evaluate(() => (window as unknown as HookedWindow).hop!.state);
          const bytes = (await statsOf(recovering))?.audioBytes ?? 0;
          const growing = bytes > previous;
          previous = bytes;
          return state === 'joined' && growing ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      reconnectSeconds = (Date.now() - returned) / 1000;
    } catch {
      reconnectSeconds = null;
    }
    const recovery = await recovering.evaluate(() => (window as unknown as HookedWindow).hop!.recovery);
    rows.push({
      metric: '20 s cut: audio back after the link returned',
      value: reconnectSeconds === null ? 'not within 60 s' : `${reconnectSeconds.toFixed(1)} s (${recovery.iceRestarts} ICE restarts, ${recovery.freshJoins} fresh joins)`,
      target: '≤ 10 s',
      met: reconnectSeconds !== null && reconnectSeconds <= 10,
    });
    await recovering.close();

    // Cost per forwarded stream: watch-only subscribers of A's simulcast, high layer, then low.
    const watchers: Page[] = [];
    const measureWindow = async (seconds: number) => {
      const cpu0 = await janusCpuSeconds(rig!.janus.pid);
      const bytes0 = await browserNsReceivedBytes(rig!);
      await sleep(seconds * 1000);
      const cpu1 = await janusCpuSeconds(rig!.janus.pid);
      const bytes1 = await browserNsReceivedBytes(rig!);
      return { cpuPercent: ((cpu1 - cpu0) / seconds) * 100, kbps: ((bytes1 - bytes0) * 8) / 1000 / seconds };
    };
    const addWatchers = async (count: number) => {
      while (watchers.length < count) {
        const page = await communeBrowser.newPage();
        await page.goto(`${rig!.browserGatewayUrl}${meeting.participants[watchers.length + 1]!.joinPath}&publish=0`);
        await page.waitForFunction(() => (window as unknown as HookedWindow).hop?.layers()[0]?.frameHeight != null, undefined, { timeout: 60_000 });
        watchers.push(page);
      }
      await sleep(8000);
    };
    const idle = await measureWindow(15);
    await addWatchers(SUBSCRIBERS);
    for (const page of watchers) await page.evaluate(() => (window as unknown as HookedWindow).hop!.capLevel('high'));
    const many = await measureWindow(15);
    const heights = await Promise.all(watchers.map(async (page) => layerOf((await statsOf(page))?.frameHeight ?? null)));
    for (const page of watchers) await page.evaluate(() => (window as unknown as HookedWindow).hop!.capLevel('low'));
    await sleep(8000);
    const manyLow = await measureWindow(15);
    const lowHeights = await Promise.all(watchers.map(async (page) => layerOf((await statsOf(page))?.frameHeight ?? null)));
    const freshJoins = await Promise.all(watchers.map((page) => page.evaluate(() => (window as unknown as HookedWindow).hop!.recovery.freshJoins)));
    const perStream = (run: { cpuPercent: number; kbps: number }) => ({
      cpuPercent: (run.cpuPercent - idle.cpuPercent) / SUBSCRIBERS,
      kbps: (run.kbps - idle.kbps) / SUBSCRIBERS,
    });
    const high = perStream(many);
    const low = perStream(manyLow);
    rows.push({ metric: `Janus CPU: no subscriber / ${SUBSCRIBERS} on the high layer / ${SUBSCRIBERS} on the low layer`, value: `${idle.cpuPercent.toFixed(1)} % / ${many.cpuPercent.toFixed(1)} % / ${manyLow.cpuPercent.toFixed(1)} % of one core` });
    rows.push({ metric: 'bytes Janus sent to the browser namespace (same three runs)', value: `${Math.round(idle.kbps)} / ${Math.round(many.kbps)} / ${Math.round(manyLow.kbps)} kbit/s` });
    rows.push({ metric: 'estimate per forwarded HD stream (720p video + audio)', value: `${high.cpuPercent.toFixed(2)} % of one core, ${Math.round(high.kbps)} kbit/s` });
    rows.push({ metric: 'estimate per forwarded low-layer stream (180p video + audio)', value: `${low.cpuPercent.toFixed(2)} % of one core, ${Math.round(low.kbps)} kbit/s` });
    notes.push(`Layers decoded by the ${SUBSCRIBERS} watch-only subscribers during the high run: ${heights.join(', ')}; during the low run: ${lowHeights.join(', ')}. Their fresh joins: ${freshJoins.join(', ')}.`);
    notes.push(`Each cell: join, 5 s to settle, then ${CELL_SECONDS} s measured; audio scaled to seconds per minute. Links are tc tbf (burst 16 kB, latency 300 ms) on both veth ends; loss drops UDP at random on arrival at each end (the commune's HTTP and signalling are shaped but lose nothing); no added delay.`);
    for (const page of watchers) await page.close();
  } finally {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await hop?.stop();
    await rig?.teardown();
    await database.drop();
  }
  return { name: 'Weak links (Chromium and Janus in the media rig)', rows, notes };
}
