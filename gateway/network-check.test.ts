import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { GUIDE_PATH, MAX_TRANSFER_BYTES, NETWORK_CHECK_PATH, mountNetworkCheck } from './network-check.ts';

function checkApp(options: { transfersPerMinute?: number; pingsPerMinute?: number } = {}) {
  const app = new Hono();
  mountNetworkCheck(app, {
    clientIp: (c) => c.req.header('x-test-ip') ?? '198.51.100.1',
    guideFile: new URL('../docs/bang-thong-toi-thieu.md', import.meta.url).pathname,
    ...options,
  });
  return app;
}

describe('network check endpoints', () => {
  it('ping answers without caching', async () => {
    const response = await checkApp().request(`${NETWORK_CHECK_PATH}/ping`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(typeof (await response.json()).serverTime, 'number');
  });

  it('download returns the requested bytes', async () => {
    const response = await checkApp().request(`${NETWORK_CHECK_PATH}/download?bytes=1000`);
    assert.equal(response.status, 200);
    assert.equal((await response.arrayBuffer()).byteLength, 1000);
  });

  it('download rejects sizes out of range', async () => {
    for (const bytes of ['0', String(MAX_TRANSFER_BYTES + 1), 'many']) {
      const response = await checkApp().request(`${NETWORK_CHECK_PATH}/download?bytes=${bytes}`);
      assert.equal(response.status, 400, `bytes=${bytes}`);
      assert.equal((await response.json()).error.code, 'VALIDATION_FAILED');
    }
  });

  it('upload counts the bytes and caps them', async () => {
    const app = checkApp();
    const ok = await app.request(`${NETWORK_CHECK_PATH}/upload`, { method: 'POST', body: new Uint8Array(4096) });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).bytes, 4096);
    const tooLarge = await app.request(`${NETWORK_CHECK_PATH}/upload`, { method: 'POST', body: new Uint8Array(MAX_TRANSFER_BYTES + 1) });
    assert.equal(tooLarge.status, 413);
    assert.equal((await tooLarge.json()).error.code, 'BODY_TOO_LARGE');
  });

  it('transfers are rate-limited per address', async () => {
    const app = checkApp({ transfersPerMinute: 2 });
    const download = (ip: string) => app.request(`${NETWORK_CHECK_PATH}/download?bytes=10`, { headers: { 'x-test-ip': ip } });
    assert.equal((await download('198.51.100.7')).status, 200);
    assert.equal((await download('198.51.100.7')).status, 200);
    const limited = await download('198.51.100.7');
    assert.equal(limited.status, 429);
    assert.equal((await limited.json()).error.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await download('198.51.100.8')).status, 200, 'another address has its own bucket');
  });

  it('serves the Vietnamese bandwidth guide', async () => {
    const response = await checkApp().request(GUIDE_PATH);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Băng thông tối thiểu/);
  });
});
