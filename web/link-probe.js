// A short download from the gateway that measures the throughput of the
// page's link, in kbit/s. The join page runs it before joining and whenever
// a higher video level might fit (web/join-quality.js). It uses the
// connection check's download endpoint (gateway/network-check.ts), which
// sends random bytes, so compression on the way cannot inflate the rate.
//
// NOTE: it measures the path to the gateway, not to the Janus server. The two
// share the participant's access link, which is the narrow part on a weak
// line, as long as Janus runs next to the gateway (the embedded Janus, or
// servers in the same server room).

export const PROBE_PATH = '/api/v1/network-check/download';

export const PROBE = {
  /** Bytes requested: enough to keep a 2 Mbit/s link busy for the whole probe. */
  bytes: 256 * 1024,
  /** Maximum duration of a probe, in milliseconds: the download is cancelled then. */
  maxMs: 1000,
  /**
   * Start of the download left out of the rate, in milliseconds: a shaper's
   * burst allowance makes it faster than the link, TCP's slow start slower.
   */
  skipMs: 250,
};

/**
 * Returns the throughput of a download in kbit/s, or null without data.
 * `chunks` lists when each chunk arrived (`at`, ms since the request) and
 * the bytes received so far (`bytes`). The first `skipMs` after the first
 * chunk are left out when at least as long a time remains after them. A
 * shorter download counts whole, from the request.
 */
export function throughputKbps(chunks, skipMs = PROBE.skipMs) {
  if (chunks.length === 0) return null;
  const first = chunks[0];
  const last = chunks[chunks.length - 1];
  const windowStart = first.at + skipMs;
  if (last.at - windowStart >= skipMs) {
    let base = first;
    for (const chunk of chunks) {
      if (chunk.at > windowStart) break;
      base = chunk;
    }
    // Bytes × 8 per millisecond is kbit/s.
    return ((last.bytes - base.bytes) * 8) / (last.at - base.at);
  }
  return (last.bytes * 8) / Math.max(last.at, 1);
}

/**
 * Downloads up to `bytes` from the gateway for at most `maxMs` and returns
 * the throughput in kbit/s (see `throughputKbps`). Returns null when the
 * request fails, is rejected (the endpoint allows 12 transfers a minute per
 * client address) or no byte arrives in time. It catches every error.
 * `baseUrl` is empty in the browser, which resolves the path against the page.
 */
export async function probeDownloadKbps({ baseUrl = '', bytes = PROBE.bytes, maxMs = PROBE.maxMs, skipMs = PROBE.skipMs, fetch = globalThis.fetch } = {}) {
  const controller = new AbortController();
  const started = performance.now();
  const timer = setTimeout(() => controller.abort(), maxMs);
  const chunks = [];
  let received = 0;
  try {
    const response = await fetch(`${baseUrl}${PROBE_PATH}?bytes=${bytes}`, { cache: 'no-store', signal: controller.signal });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return null;
    }
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      chunks.push({ at: performance.now() - started, bytes: received });
    }
  } catch (error) {
    // The timeout cancels the download: the chunks so far are the measurement.
    if (error?.name !== 'AbortError') return null;
  } finally {
    clearTimeout(timer);
  }
  return throughputKbps(chunks, skipMs);
}
