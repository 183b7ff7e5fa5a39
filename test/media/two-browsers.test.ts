/**
 * Two Chromium browsers join one VideoRoom through web/join.html and receive
 * each other's audio and video.
 *
 * Janus runs in the rig's Janus namespace and both browsers in its browser
 * namespace (test/support/netns.ts). A small HTTP server in the root
 * namespace stands in for the gateway: it serves web/, the /vendor/ files of
 * web/vendor.json, a join endpoint returning fixed join details, the gateway's
 * Janus signalling proxy (bound from those details instead of the database),
 * and /janus/events for Janus's event handler. Needs root; skipped without it
 * unless CI=true.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createJanodeCluster, type JanodeMediaServer } from '../../lib/adapters/media/janode-media.ts';
import type { MediaCluster } from '../../lib/adapters/media/media.ts';
import { SIGNALLING_PATH, type JoinDetails } from '../../lib/contract/meeting.ts';
import { attachMediaSignalling, SignallingRejection } from '../../gateway/media-signalling.ts';
import { errorBody } from '../../lib/errors.ts';
import { log } from '../../lib/log.ts';
import { browserUnavailableReason, launchBrowserInNetns } from '../support/browser.ts';
import { createMediaRig, mediaRigUnavailableReason, repoRoot, type MediaRig } from '../support/netns.ts';
import { waitFor } from '../support/services.ts';

const unavailable = (await mediaRigUnavailableReason()) ?? (await browserUnavailableReason());
if (unavailable && process.env.CI === 'true') throw new Error(`media test unavailable under CI: ${unavailable}`);

/** Time between the two getStats samples, in milliseconds, over which the byte counts must grow. */
const SAMPLE_INTERVAL_MS = 3_000;

interface StubGateway {
  server: Server;
  port: number;
  /** Janus events received on /janus/events. */
  janusEvents: unknown[];
  /** Where the signalling proxy sends browsers; set once the rig is up. */
  janus: { url: string; pin: string };
  closeSignalling(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/** Starts a stand-in for the gateway that serves web/, /vendor/, the join endpoint and /janus/events. */
async function startStubGateway(joinDetailsByInviteKey: Map<string, JoinDetails>): Promise<StubGateway> {
  const webDir = join(repoRoot, 'web');
  const vendor = JSON.parse(await readFile(join(webDir, 'vendor.json'), 'utf8')) as Record<string, string>;
  const janusEvents: unknown[] = [];

  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const sendJson = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(body));
  };

  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? '/', 'http://stub');
      const joinMatch = /^\/api\/v1\/meetings\/([^/]+)\/join$/.exec(url.pathname);
      if (request.method === 'POST' && joinMatch) {
        const { inviteKey } = JSON.parse(await readBody(request)) as { inviteKey?: string };
        const details = inviteKey ? joinDetailsByInviteKey.get(inviteKey) : undefined;
        if (!details || details.meetingId !== joinMatch[1]) return sendJson(response, 403, errorBody('NOT_INVITED'));
        return sendJson(response, 200, details);
      }
      if (request.method === 'POST' && url.pathname === '/janus/events') {
        const posted = JSON.parse(await readBody(request)) as unknown;
        janusEvents.push(...(Array.isArray(posted) ? posted : [posted]));
        response.writeHead(204).end();
        return;
      }

      let file: string | undefined;
      if (url.pathname.startsWith('/vendor/')) {
        const target = vendor[url.pathname.slice('/vendor/'.length)];
        if (target) file = join(repoRoot, target);
      } else {
        const candidate = normalize(join(webDir, url.pathname));
        if (candidate.startsWith(webDir + sep)) file = candidate;
      }
      if (request.method !== 'GET' || !file) return sendJson(response, 404, errorBody('ROUTE_NOT_FOUND'));
      let content: Buffer;
      try {
        content = await readFile(file);
      } catch {
        return sendJson(response, 404, errorBody('ROUTE_NOT_FOUND'));
      }
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(content);
    } catch (error) {
      sendJson(response, 500, { error: { code: 'STUB_FAILED', message: String(error), message_en: String(error) } });
    }
  });
  const janus = { url: '', pin: '' };
  const signalling = attachMediaSignalling(server, {
    log: log.child({ module: 'signalling' }),
    bind: async (token) => {
      const details = [...joinDetailsByInviteKey.values()].find((candidate) => candidate.janus.token === token);
      if (!details) throw new SignallingRejection('JOIN_TOKEN_INVALID');
      return {
        meetingId: details.meetingId,
        participantId: details.participantId,
        token: details.janus.token,
        displayName: details.displayName,
        roomId: details.janus.roomId,
        pin: janus.pin,
        server: details.janus.server,
        target: { url: janus.url },
      };
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, janusEvents, janus, closeSignalling: () => signalling.close() };
}

interface FeedStats {
  feedId: number;
  display: string;
  audioBytesReceived: number;
  videoBytesReceived: number;
}

interface HopHooks {
  state: string;
  feedId: number | undefined;
  remoteFeeds(): { feedId: number; display: string; webrtcUp: boolean; tracks: string[] }[];
  inboundStats(): Promise<FeedStats[]>;
}

declare global {
  interface Window {
    hop: HopHooks;
  }
}

function inboundStats(page: Page): Promise<FeedStats[]> {
  return page.evaluate(() => window.hop.inboundStats());
}

describe('two browsers in one room', { skip: unavailable ?? false, timeout: 180_000 }, () => {
  let rig: MediaRig;
  let gateway: StubGateway;
  let cluster: MediaCluster;
  let server: JanodeMediaServer;
  const browsers: Browser[] = [];
  const pages: Page[] = [];
  const browserLogs: string[] = [];

  const meetingId = randomUUID();
  const room = {
    roomId: randomInt(1, 2 ** 31),
    description: 'Họp thử hai trình duyệt',
    secret: randomBytes(16).toString('hex'),
    pin: String(randomInt(100000, 999999)),
    publishers: 6,
    bitrate: 256_000,
  };
  const people = [
    { name: 'Nguyễn Văn An', role: 'chair' as const, inviteKey: randomBytes(18).toString('base64url'), token: randomBytes(12).toString('hex') },
    { name: 'Trần Thị Bích', role: 'participant' as const, inviteKey: randomBytes(18).toString('base64url'), token: randomBytes(12).toString('hex') },
  ];

  /** Invited by the stub gateway, but with a token the room does not allow. */
  const outsider = { name: 'Lê Văn Cường', role: 'guest' as const, inviteKey: randomBytes(18).toString('base64url'), token: randomBytes(12).toString('hex') };

  before(async () => {
    const detailsByKey = new Map<string, JoinDetails>();
    gateway = await startStubGateway(detailsByKey);
    rig = await createMediaRig({ gatewayPort: gateway.port, serverName: 'janus-rig' });

    gateway.janus.url = rig.janusUrlForServer;
    gateway.janus.pin = room.pin;
    const janodeCluster = createJanodeCluster({ servers: [{ id: rig.serverName, url: rig.janusUrlForServer }] });
    cluster = janodeCluster;
    server = janodeCluster.server(rig.serverName)!;
    await server.createRoom({ ...room, allowed: people.map((person) => person.token) });

    for (const person of [...people, outsider]) {
      detailsByKey.set(person.inviteKey, {
        meetingId,
        participantId: randomUUID(),
        displayName: person.name,
        role: person.role,
        janus: { url: SIGNALLING_PATH, server: rig.serverName, roomId: room.roomId, token: person.token },
        media: { bitrate: room.bitrate, layers: { high: 160_000, medium: 64_000, low: 32_000 } },
        meeting: { title: 'Giao ban tuần', startsAt: '2026-12-07T01:00:00Z', endsAt: '2026-12-07T02:00:00Z', timeZone: 'Asia/Ho_Chi_Minh' },
      });
    }
  });

  after(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    if (server && (await server.roomExists(room.roomId).catch(() => false))) {
      await server.destroyRoom(room.roomId, room.secret).catch(() => undefined);
    }
    await cluster?.close();
    await rig?.teardown();
    await gateway?.closeSignalling();
    await new Promise((resolve) => gateway?.server.close(resolve));
    if (browserLogs.length > 0) log.warn({ browserLogs }, 'browser console warnings and errors');
  });

  it('each browser joins the room', async () => {
    for (const [index, person] of people.entries()) {
      const browser = await launchBrowserInNetns(rig.browserNetns);
      browsers.push(browser);
      const page = await browser.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') browserLogs.push(`[${index}] ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => browserLogs.push(`[${index}] page error: ${error.message}`));
      page.on('response', (response) => {
        if (response.status() >= 400) browserLogs.push(`[${index}] ${response.status()} ${response.url()}`);
      });
      pages.push(page);
      await page.goto(`${rig.browserGatewayUrl}/join.html?m=${meetingId}&k=${encodeURIComponent(person.inviteKey)}`);
    }

    for (const page of pages) {
      await page.waitForFunction(() => window.hop?.state === 'joined', undefined, { timeout: 30_000 });
      assert.equal(await page.textContent('#meeting-title'), 'Giao ban tuần');
      assert.equal(await page.textContent('#status'), 'Đã tham gia cuộc họp');
    }
  });

  it('browsers receive each other media', async (t) => {
    assert.equal(pages.length, 2, 'both pages must have joined');
    for (const [index, page] of pages.entries()) {
      await page.waitForFunction(
        () => window.hop.remoteFeeds().length === 1 && window.hop.remoteFeeds()[0]!.tracks.length === 2,
        undefined,
        { timeout: 30_000 },
      );
      const [feed] = await page.evaluate(() => window.hop.remoteFeeds());
      assert.equal(feed?.display, people[1 - index]!.name);
      assert.deepEqual([...feed!.tracks].sort(), ['audio', 'video']);
    }

    // The first sample is taken once media flows, so that the interval measures a running stream.
    for (const [index, page] of pages.entries()) {
      await waitFor(
        `first audio and video bytes at ${people[index]!.name}`,
        async () => {
          const [stats] = await inboundStats(page);
          return stats && stats.audioBytesReceived > 0 && stats.videoBytesReceived > 0 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
    }
    const first = await Promise.all(pages.map(inboundStats));
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
    const second = await Promise.all(pages.map(inboundStats));

    for (const index of [0, 1]) {
      const before = first[index]![0]!;
      const later = second[index]![0]!;
      const name = people[index]!.name;
      assert.equal(later.display, people[1 - index]!.name);
      assert.ok(later.audioBytesReceived > before.audioBytesReceived, `${name}: audio bytes did not grow (${before.audioBytesReceived} -> ${later.audioBytesReceived})`);
      assert.ok(later.videoBytesReceived > before.videoBytesReceived, `${name}: video bytes did not grow (${before.videoBytesReceived} -> ${later.videoBytesReceived})`);
      const audioGrowth = later.audioBytesReceived - before.audioBytesReceived;
      const videoGrowth = later.videoBytesReceived - before.videoBytesReceived;
      t.diagnostic(`${name} received in ${SAMPLE_INTERVAL_MS} ms: audio ${audioGrowth} bytes, video ${videoGrowth} bytes (totals ${later.audioBytesReceived} / ${later.videoBytesReceived})`);
    }
  });

  it('Janus lists two participants', async () => {
    const participants = await server.listParticipants(room.roomId);
    assert.equal(participants.length, 2);
    assert.deepEqual(participants.map((participant) => participant.display).sort(), people.map((person) => person.name).sort());
    assert.ok(participants.every((participant) => participant.publisher), 'both participants must be publishing');

    const listed = (await server.listRooms()).find((candidate) => candidate.roomId === room.roomId);
    assert.equal(listed?.participants, 2);
  });

  it('Janus events reach the gateway', async () => {
    await waitFor('Janus events on /janus/events', () => (gateway.janusEvents.length > 0 ? true : undefined), { timeoutMs: 15_000 });
    const emitters = new Set(gateway.janusEvents.map((event) => (event as { emitter?: string }).emitter));
    assert.ok(emitters.has('janus-rig'), `events came from ${[...emitters].join(', ')}`);
  });

  it('unknown invite key shows the error message', async () => {
    const page = await browsers[0]!.newPage();
    try {
      await page.goto(`${rig.browserGatewayUrl}/join.html?m=${meetingId}&k=${randomBytes(18).toString('base64url')}`);
      await page.waitForFunction(() => window.hop?.state === 'error', undefined, { timeout: 15_000 });
      assert.equal(await page.textContent('#notice'), errorBody('NOT_INVITED').error.message);
    } finally {
      await page.close();
    }
  });

  it('token outside allowed list is rejected', async () => {
    const page = await browsers[0]!.newPage();
    try {
      await page.goto(`${rig.browserGatewayUrl}/join.html?m=${meetingId}&k=${encodeURIComponent(outsider.inviteKey)}`);
      await page.waitForFunction(() => window.hop?.state === 'error', undefined, { timeout: 15_000 });
      assert.equal(await page.textContent('#notice'), 'Không được phép vào phòng họp: mã vào phòng không đúng hoặc đã hết hạn. Hãy tải lại trang.');
    } finally {
      await page.close();
    }
    assert.equal((await server.listParticipants(room.roomId)).length, 2);
  });

  it('microphone button toggles mute', async () => {
    const page = pages[0]!;
    await page.click('#microphone');
    assert.equal(await page.textContent('#microphone'), 'Bật micro');
    assert.equal(await page.getAttribute('#microphone', 'aria-pressed'), 'true');

    await page.click('#microphone');
    assert.equal(await page.textContent('#microphone'), 'Tắt micro');
    assert.equal(await page.getAttribute('#microphone', 'aria-pressed'), 'false');

    await page.click('#camera');
    assert.equal(await page.textContent('#camera'), 'Bật camera');
    await page.click('#camera');
    assert.equal(await page.textContent('#camera'), 'Tắt camera');
  });

  it('leaving removes the participant', async () => {
    await pages[1]!.click('#leave');
    await pages[1]!.waitForFunction(() => window.hop.state === 'left', undefined, { timeout: 10_000 });
    await pages[0]!.waitForFunction(() => window.hop.remoteFeeds().length === 0, undefined, { timeout: 15_000 });
    await waitFor('one participant in the room', async () => ((await server.listParticipants(room.roomId)).length === 1 ? true : undefined));
  });

  it('destroyRoom removes the room', async () => {
    await server.destroyRoom(room.roomId, room.secret);
    assert.equal(await server.roomExists(room.roomId), false);
    await pages[0]!.waitForFunction(() => window.hop.state === 'ended', undefined, { timeout: 10_000 });
  });
});
