import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

/**
 * Sends one webhook POST to an address that the target check already approved.
 * The connection goes to `address` whatever the host name resolves to now
 * (the host name still sets the Host header and the TLS server name), so a DNS
 * answer that changed after the check is never used. Redirects are not
 * followed: a 3xx is returned like any other status.
 */
export interface WebhookHttpRequest {
  url: URL;
  /** The checked IP address to connect to. */
  address: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface WebhookHttpResponse {
  statusCode: number;
  retryAfter: string | null;
}

/** Largest response body read before the connection is closed; hop ignores the body. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function postWebhook(request: WebhookHttpRequest): Promise<WebhookHttpResponse> {
  const { url, address, timeoutMs } = request;
  const transport = url.protocol === 'https:' ? https : http;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;

  return new Promise<WebhookHttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, response?: WebhookHttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(response!);
    };

    const outgoing = transport.request({
      method: 'POST',
      // An IP address as host makes Node connect without a DNS lookup.
      host: address,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      path: `${url.pathname}${url.search}`,
      headers: { ...request.headers, host: url.host, 'content-length': String(Buffer.byteLength(request.body)) },
      // One connection per request, so a pooled socket opened for another address is never reused.
      agent: false,
      // TLS checks the certificate against the URL's host name, not the address (SNI is never an IP address).
      ...(url.protocol === 'https:' ? { servername: isIP(hostname) === 0 ? hostname : '' } : {}),
    });

    const timer = setTimeout(() => outgoing.destroy(new Error(`request timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => outgoing.destroy(new Error('request aborted: the delivery worker is stopping'));
    request.signal?.addEventListener('abort', onAbort, { once: true });

    outgoing.on('response', (response) => {
      const retryAfter = response.headers['retry-after'];
      finish(null, { statusCode: response.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) response.destroy();
      });
      response.on('error', () => {});
    });
    outgoing.on('error', (error) => finish(error));
    outgoing.end(request.body);
  });
}
