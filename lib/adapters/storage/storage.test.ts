import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { requireService } from '../../../test/support/services.ts';
import { createStorage, storageConfigFromEnv } from './create-storage.ts';
import {
  contentDisposition,
  handleLocalStorageRequest,
  LocalStorage,
  normalizeObjectKey,
  signLocalRequest,
  verifyLocalSignature,
} from './local-storage.ts';
import { S3Storage } from './s3-storage.ts';
import { describeStorageContract, readAll } from './storage-contract.ts';

const secret = randomBytes(32).toString('base64url');

/** Starts a LocalStorage in a temp folder, served by a node:http server on 127.0.0.1 as the gateway mounts it. */
async function startLocalStorage(options: { maxUploadBytes?: number } = {}): Promise<{
  storage: LocalStorage;
  baseUrl: string;
  rootDir: string;
  stop: () => Promise<void>;
}> {
  const rootDir = await mkdtemp(path.join(tmpdir(), 'hop-storage-'));
  let storage: LocalStorage | undefined;
  const server: Server = createServer((req, res) => {
    void handleLocalStorageRequest(storage!, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  storage = new LocalStorage({ rootDir: path.join(rootDir, 'objects'), publicBaseUrl: baseUrl, signingSecret: secret, ...options });
  await storage.ensureBucket();

  return {
    storage,
    baseUrl,
    rootDir,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(rootDir, { recursive: true, force: true });
    },
  };
}

describe('LocalStorage', () => {
  let local: Awaited<ReturnType<typeof startLocalStorage>>;
  before(async () => {
    local = await startLocalStorage();
  });
  after(async () => {
    await local.stop();
  });

  describeStorageContract('contract', async () => local.storage);
});

describe('S3Storage', () => {
  let storage: S3Storage | undefined;
  after(() => storage?.close());

  describeStorageContract('contract', async (t) => {
    const endpoint = requireService(t, 's3');
    if (!endpoint) return undefined;
    if (!storage) {
      storage = new S3Storage({
        endpoint,
        region: process.env.S3_REGION || 'us-east-1',
        bucket: process.env.S3_BUCKET || 'hop-test',
        accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
        forcePathStyle: true,
        requestTimeoutMs: 30_000,
      });
      await storage.ensureBucket();
    }
    return storage;
  });

  it('ensureBucket is idempotent', async (t) => {
    const endpoint = requireService(t, 's3');
    if (!endpoint) return;
    const other = new S3Storage({
      endpoint,
      region: process.env.S3_REGION || 'us-east-1',
      bucket: `hop-test-${randomBytes(4).toString('hex')}`,
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    });
    try {
      await other.ensureBucket();
      await other.ensureBucket();
      await other.ping();
    } finally {
      other.close();
    }
  });

  it('wrong secret fails ping', async (t) => {
    const endpoint = requireService(t, 's3');
    if (!endpoint) return;
    const wrong = new S3Storage({
      endpoint,
      region: process.env.S3_REGION || 'us-east-1',
      bucket: process.env.S3_BUCKET || 'hop-test',
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: 'not-the-secret',
    });
    try {
      await assert.rejects(wrong.ping());
    } finally {
      wrong.close();
    }
  });
});

describe('local storage endpoint', () => {
  let local: Awaited<ReturnType<typeof startLocalStorage>>;
  before(async () => {
    local = await startLocalStorage({ maxUploadBytes: 1024 });
  });
  after(async () => {
    await local.stop();
  });

  it('tampered signature rejected', async () => {
    await local.storage.put('docs/kế hoạch.txt', Buffer.from('kế hoạch'), { contentType: 'text/plain; charset=utf-8' });
    const url = new URL(await local.storage.signedDownloadUrl('docs/kế hoạch.txt', { expiresIn: 60 }));
    url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));

    const response = await fetch(url);
    assert.equal(response.status, 403);
    const body = (await response.json()) as { error: { code: string; message: string; message_en: string } };
    assert.equal(body.error.code, 'STORAGE_SIGNATURE_INVALID');
    assert.ok(body.error.message.length > 0);
    assert.ok(body.error.message_en.length > 0);
  });

  it('signature of another key rejected', async () => {
    await local.storage.put('docs/a.txt', Buffer.from('a'));
    await local.storage.put('docs/b.txt', Buffer.from('b'));
    const url = new URL(await local.storage.signedDownloadUrl('docs/a.txt', { expiresIn: 60 }));
    url.pathname = url.pathname.replace('a.txt', 'b.txt');

    const response = await fetch(url);
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'STORAGE_SIGNATURE_INVALID');
  });

  it('missing signature rejected', async () => {
    const response = await fetch(`${local.baseUrl}/storage/docs/a.txt`);
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'STORAGE_SIGNATURE_INVALID');
  });

  it('expired link reports expiry', async () => {
    await local.storage.put('docs/expiring.txt', Buffer.from('x'));
    const url = await local.storage.signedDownloadUrl('docs/expiring.txt', { expiresIn: 1 });
    await sleep(2_200);

    const response = await fetch(url);
    assert.equal(response.status, 403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'STORAGE_LINK_EXPIRED');
    assert.match(body.error.message, /hết hạn/);
  });

  it('path traversal stays inside root', async () => {
    for (const rawPath of ['/storage/../../etc/passwd', '/storage/%2E%2E/%2E%2E/etc/passwd', '/storage/docs/%2E%2E%2F%2E%2E%2Fsecret', '/storage/%00']) {
      const key = '../../etc/passwd';
      const expires = Math.floor(Date.now() / 1000) + 60;
      const sig = signLocalRequest(secret, { method: 'GET', key, expires });
      const status = await rawGet(`${local.baseUrl}${rawPath}?expires=${expires}&sig=${sig}`);
      assert.ok(status === 403 || status === 404, `${rawPath} answered ${status}`);
    }
  });

  it('object not found', async () => {
    const url = await local.storage.signedDownloadUrl('docs/chưa có.pdf', { expiresIn: 60 });
    const response = await fetch(url);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'STORAGE_OBJECT_NOT_FOUND');
  });

  it('range request answers 206', async () => {
    await local.storage.put('media/clip.bin', Buffer.from('0123456789'), { contentType: 'application/octet-stream' });
    const url = await local.storage.signedDownloadUrl('media/clip.bin', { expiresIn: 60 });

    const partial = await fetch(url, { headers: { Range: 'bytes=2-5' } });
    assert.equal(partial.status, 206);
    assert.equal(partial.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await partial.text(), '2345');

    const suffix = await fetch(url, { headers: { Range: 'bytes=-3' } });
    assert.equal(suffix.status, 206);
    assert.equal(await suffix.text(), '789');

    const outside = await fetch(url, { headers: { Range: 'bytes=20-' } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), 'bytes */10');
    await outside.arrayBuffer();
  });

  it('download sets safety headers', async () => {
    await local.storage.put('docs/page.html', Buffer.from('<script>alert(1)</script>'), { contentType: 'text/html' });
    const url = await local.storage.signedDownloadUrl('docs/page.html', { expiresIn: 60 });
    const response = await fetch(url);
    await response.arrayBuffer();
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('upload over the limit answers 413', async () => {
    const url = await local.storage.signedUploadUrl('uploads/big.bin', { expiresIn: 60 });
    const response = await fetch(url, { method: 'PUT', body: Buffer.alloc(4096) });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'BODY_TOO_LARGE');
    assert.equal(await local.storage.head('uploads/big.bin'), null);
  });

  it('chunked upload over the limit stops', async () => {
    const url = await local.storage.signedUploadUrl('uploads/chunked.bin', { expiresIn: 60 });
    const status = await chunkedPut(url, [Buffer.alloc(800), Buffer.alloc(800)]);
    // The limit is found mid-body, so the client gets 413 or, if it was still sending, a reset.
    assert.ok(status === 413 || status === 'reset', `answered ${status}`);
    assert.equal(await local.storage.head('uploads/chunked.bin'), null);
    assert.deepEqual(await readdir(path.join(local.storage.rootDir, 'tmp')), [], 'the partial file is removed');
  });

  it('upload without signed type stores sent type', async () => {
    const url = await local.storage.signedUploadUrl('uploads/note.txt', { expiresIn: 60 });
    const response = await fetch(url, { method: 'PUT', body: 'ghi chú', headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    assert.equal(response.status, 200);
    assert.equal((await local.storage.head('uploads/note.txt'))?.contentType, 'text/plain; charset=utf-8');
    assert.equal((await readAll(await local.storage.get('uploads/note.txt'))).toString(), 'ghi chú');
  });

  it('other methods answer 405', async () => {
    const url = await local.storage.signedDownloadUrl('docs/a.txt', { expiresIn: 60 });
    const response = await fetch(url, { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, PUT');
    await response.arrayBuffer();
  });

  it('concurrent puts keep metadata consistent', async () => {
    const key = 'race/biên bản.txt';
    const versions = Array.from({ length: 20 }, (_, index) => ({
      body: Buffer.from(`phiên bản ${index} `.repeat(1000 + index * 50)),
      contentType: `text/x-version-${index}`,
    }));

    await Promise.all(versions.map((version) => local.storage.put(key, version.body, { contentType: version.contentType })));

    const stored = await readAll(await local.storage.get(key));
    const winner = versions.find((version) => version.body.equals(stored));
    assert.ok(winner, 'the stored bytes are one of the versions');
    const info = await local.storage.head(key);
    assert.equal(info?.contentType, winner.contentType);
    assert.equal(info?.etag, createHash('md5').update(stored).digest('hex'));
    assert.equal(info?.size, stored.length);
  });

  it('stale partial writes removed', async () => {
    const tmpDir = path.join(local.storage.rootDir, 'tmp');
    const stale = path.join(tmpDir, 'crashed.data');
    const fresh = path.join(tmpDir, 'in-progress.data');
    await writeFile(stale, 'x');
    await writeFile(fresh, 'y');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);

    const reopened = new LocalStorage({ rootDir: local.storage.rootDir, publicBaseUrl: local.baseUrl, signingSecret: secret });
    await reopened.ensureBucket();

    const remaining = await readdir(tmpDir);
    assert.ok(!remaining.includes('crashed.data'), 'the stale file is removed');
    assert.ok(remaining.includes('in-progress.data'), 'the fresh file is kept');
    await rm(fresh);
  });

  it('delete removes empty folders', async () => {
    await local.storage.put('cleanup/deep/nested/file.txt', Buffer.from('x'));
    await local.storage.delete('cleanup/deep/nested/file.txt');
    const files = await readdir(path.join(local.storage.rootDir, 'files'));
    assert.ok(!files.includes('cleanup'), `files/ still contains ${files.join(', ')}`);
  });
});

describe('storage helpers', () => {
  it('normalizeObjectKey returns NFC', () => {
    const nfd = 'tài liệu/Báo cáo quý 3.pdf'.normalize('NFD');
    assert.equal(normalizeObjectKey(nfd), 'tài liệu/Báo cáo quý 3.pdf'.normalize('NFC'));
  });

  it('contentDisposition encodes Vietnamese names', () => {
    assert.equal(
      contentDisposition('Báo cáo "quý" 3.pdf'),
      `attachment; filename="Bao cao _quy_ 3.pdf"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20%22qu%C3%BD%22%203.pdf`,
    );
    assert.equal(contentDisposition("Đề án (bản 2)'.docx").split('; ')[1], 'filename="De an (ban 2)\'.docx"');
    assert.match(contentDisposition("Đề án (bản 2)'.docx"), /filename\*=UTF-8''%C4%90%E1%BB%81%20%C3%A1n%20%28b%E1%BA%A3n%202%29%27\.docx$/);
    assert.doesNotMatch(contentDisposition('a\r\nSet-Cookie: x=1'), /[\r\n]/);
  });

  it('verifyLocalSignature checks fields', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const expires = Math.floor(now.getTime() / 1000) + 60;
    const fields = { method: 'PUT' as const, key: 'a/b.pdf', expires, contentType: 'application/pdf' };
    const signature = signLocalRequest(secret, fields);

    assert.deepEqual(verifyLocalSignature(secret, { ...fields, signature }, now), { valid: true });
    assert.deepEqual(verifyLocalSignature(secret, { ...fields, contentType: 'text/html', signature }, now), {
      valid: false,
      code: 'STORAGE_SIGNATURE_INVALID',
    });
    assert.deepEqual(verifyLocalSignature(secret, { ...fields, method: 'GET', signature }, now), {
      valid: false,
      code: 'STORAGE_SIGNATURE_INVALID',
    });
    assert.deepEqual(verifyLocalSignature('another secret of enough length....', { ...fields, signature }, now), {
      valid: false,
      code: 'STORAGE_SIGNATURE_INVALID',
    });
    assert.deepEqual(verifyLocalSignature(secret, { ...fields, signature }, new Date(now.getTime() + 61_000)), {
      valid: false,
      code: 'STORAGE_LINK_EXPIRED',
    });
  });

  it('createStorage picks from env', () => {
    const s3 = createStorage(
      storageConfigFromEnv({ S3_ENDPOINT: 'http://127.0.0.1:1', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' }),
    );
    assert.equal(s3.kind, 's3');
    (s3 as S3Storage).close();

    const local = createStorage(
      storageConfigFromEnv({ HOP_DATA_DIR: '/tmp/hop-x', PUBLIC_BASE_URL: 'http://127.0.0.1:8080', HOP_LOCAL_STORAGE_SECRET: secret }),
    );
    assert.equal(local.kind, 'local');
    assert.equal((local as LocalStorage).rootDir, '/tmp/hop-x/objects');

    assert.throws(() => storageConfigFromEnv({ S3_ENDPOINT: 'http://127.0.0.1:1' }), /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
    assert.throws(() => storageConfigFromEnv({}), /PUBLIC_BASE_URL and HOP_LOCAL_STORAGE_SECRET/);
  });
});

/** Sends a GET with the path exactly as given (fetch would resolve `..` segments). */
function rawGet(url: string): Promise<number> {
  const { host, port } = new URL(url);
  const pathAndQuery = url.slice(url.indexOf('/', 'http://'.length));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: host.split(':')[0], port, path: pathAndQuery, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** PUTs the chunks with chunked transfer encoding. Returns the status, or 'reset' if the server closed first. */
function chunkedPut(url: string, chunks: Buffer[]): Promise<number | 'reset'> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'PUT', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('reset'));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}
