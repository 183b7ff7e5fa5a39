/**
 * Endpoints of the connection check page (web/network-check.html): a small
 * round-trip probe, a download and an upload of a few hundred kilobytes, so
 * the page can measure the round-trip time and the throughput between the
 * browser and the gateway. They need no sign-in, so each client address gets
 * a token bucket: 120 pings and 12 transfers of at most 1 MiB a minute.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Context, Hono } from 'hono';
import { errorBody } from '../lib/errors.ts';
import { TokenBucketLimiter, rateLimitedResponse } from './auth/rate-limit.ts';

export const NETWORK_CHECK_PATH = '/api/v1/network-check';
/** Path of the minimum-bandwidth guide that the page links. */
export const GUIDE_PATH = '/help/bandwidth.md';
/** Largest download or upload of one request, in bytes. */
export const MAX_TRANSFER_BYTES = 1024 * 1024;
const DEFAULT_DOWNLOAD_BYTES = 256 * 1024;

export interface NetworkCheckOptions {
  clientIp(c: Context): string;
  /** The minimum-bandwidth guide for users (docs/bang-thong-toi-thieu.md), served at GUIDE_PATH. */
  guideFile: string;
  /** Requests per minute and client address; defaults 120 pings and 12 transfers. */
  pingsPerMinute?: number;
  transfersPerMinute?: number;
}

/** Adds the connection check routes under NETWORK_CHECK_PATH. */
export function mountNetworkCheck(app: Hono, options: NetworkCheckOptions): void {
  const pings = new TokenBucketLimiter({ capacity: options.pingsPerMinute ?? 120, refillPerMinute: options.pingsPerMinute ?? 120 });
  const transfers = new TokenBucketLimiter({ capacity: options.transfersPerMinute ?? 12, refillPerMinute: options.transfersPerMinute ?? 12 });
  // Random bytes, so compression on a proxy in between cannot inflate the measured throughput.
  const payload = randomBytes(MAX_TRANSFER_BYTES);

  app.get(GUIDE_PATH, async (c) => {
    c.header('content-type', 'text/markdown; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(await readFile(options.guideFile, 'utf8'));
  });

  app.get(`${NETWORK_CHECK_PATH}/ping`, (c) => {
    const decision = pings.take(options.clientIp(c));
    if (!decision.allowed) return rateLimitedResponse(c, decision.retryAfterSeconds);
    c.header('cache-control', 'no-store');
    return c.json({ serverTime: Date.now() });
  });

  app.get(`${NETWORK_CHECK_PATH}/download`, (c) => {
    const bytes = Number(c.req.query('bytes') ?? DEFAULT_DOWNLOAD_BYTES);
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_TRANSFER_BYTES) {
      return c.json(errorBody('VALIDATION_FAILED', [{ path: 'bytes', message: `an integer from 1 to ${MAX_TRANSFER_BYTES}` }]), 400);
    }
    const decision = transfers.take(options.clientIp(c));
    if (!decision.allowed) return rateLimitedResponse(c, decision.retryAfterSeconds);
    c.header('cache-control', 'no-store');
    c.header('content-type', 'application/octet-stream');
    return c.body(new Uint8Array(payload.subarray(0, bytes)));
  });

  app.post(`${NETWORK_CHECK_PATH}/upload`, async (c) => {
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > MAX_TRANSFER_BYTES) return c.json(errorBody('BODY_TOO_LARGE', { maxBytes: MAX_TRANSFER_BYTES }), 413);
    const decision = transfers.take(options.clientIp(c));
    if (!decision.allowed) return rateLimitedResponse(c, decision.retryAfterSeconds);
    const started = performance.now();
    let received = 0;
    const reader = c.req.raw.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > MAX_TRANSFER_BYTES) {
        await reader.cancel();
        return c.json(errorBody('BODY_TOO_LARGE', { maxBytes: MAX_TRANSFER_BYTES }), 413);
      }
    }
    c.header('cache-control', 'no-store');
    return c.json({ bytes: received, serverMs: Math.round(performance.now() - started) });
  });
}
