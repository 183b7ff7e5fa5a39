import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
// @ts-expect-error The join page's modules are plain browser JavaScript without type declarations.
import { PROBE, PROBE_PATH, probeDownloadKbps, throughputKbps } from './link-probe.js';

/** Pacing of the test server: a burst first, as a token bucket shaper allows, then chunks at a fixed rate. */
const BURST_BYTES = 16 * 1024;
const CHUNK_BYTES = 4 * 1024;
const CHUNK_INTERVAL_MS = 100;
/** 4 KiB every 100 ms. */
const PACED_KBPS = (CHUNK_BYTES * 8) / CHUNK_INTERVAL_MS;

describe('link probe', () => {
  let server: Server;
  let baseUrl: string;

  before(async () => {
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== PROBE_PATH) {
        response.writeHead(404).end();
        return;
      }
      const mode = url.searchParams.get('mode');
      if (mode === 'limited') {
        response.writeHead(429, { 'retry-after': '60' }).end('{}');
        return;
      }
      const bytes = Number(url.searchParams.get('bytes'));
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (mode === 'fast') {
        response.end(Buffer.alloc(bytes));
        return;
      }
      let sent = BURST_BYTES;
      response.write(Buffer.alloc(BURST_BYTES));
      const timer = setInterval(() => {
        const size = Math.min(CHUNK_BYTES, bytes - sent);
        if (size <= 0 || response.destroyed) {
          clearInterval(timer);
          response.end();
          return;
        }
        response.write(Buffer.alloc(size));
        sent += size;
      }, CHUNK_INTERVAL_MS);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('measures a paced link without its burst', async () => {
    const started = performance.now();
    const kbps = await probeDownloadKbps({ baseUrl });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < PROBE.maxMs + 500, `the probe took ${Math.round(elapsed)} ms`);
    // The whole download including the burst would measure about 16 KiB more per second.
    assert.ok(Math.abs(kbps - PACED_KBPS) < PACED_KBPS * 0.15, `measured ${kbps} kbit/s, paced at ${PACED_KBPS}`);
  });

  it('counts a short download whole', async () => {
    const kbps = await probeDownloadKbps({ baseUrl, fetch: (url: string, init: RequestInit) => fetch(`${url}&mode=fast`, init) });
    assert.ok(kbps > 10_000, `measured ${kbps} kbit/s on loopback`);
  });

  it('returns null when rejected', async () => {
    const kbps = await probeDownloadKbps({ baseUrl, fetch: (url: string, init: RequestInit) => fetch(`${url}&mode=limited`, init) });
    assert.equal(kbps, null);
  });

  it('returns null when unreachable', async () => {
    const kbps = await probeDownloadKbps({ baseUrl: 'http://127.0.0.1:1' });
    assert.equal(kbps, null);
  });

  it('computes throughput from chunks', () => {
    assert.equal(throughputKbps([]), null);
    assert.equal(throughputKbps([{ at: 100, bytes: 12_500 }]), 1000, 'one chunk: 100 kbit in 100 ms');
    const chunks = [
      { at: 10, bytes: 16_000 },
      { at: 300, bytes: 20_000 },
      { at: 1000, bytes: 30_000 },
    ];
    // The window starts at the chunk at or before 10 + 250 ms: the first one.
    assert.equal(throughputKbps(chunks, 250), ((30_000 - 16_000) * 8) / 990);
    assert.equal(throughputKbps(chunks, 100), ((30_000 - 16_000) * 8) / 990);
    assert.equal(throughputKbps(chunks, 300), ((30_000 - 20_000) * 8) / 700);
  });
});
