import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it, type TestContext } from 'node:test';
import { InvalidObjectKeyError } from './local-storage.ts';
import { MIN_PART_BYTES, ObjectNotFoundError, UploadNotFoundError, type ObjectStorage } from './storage.ts';

/**
 * The behaviour every ObjectStorage implementation must share, as a node:test
 * suite. `open` returns the storage under test, or undefined after skipping
 * the test (requireService does that when a server is not configured). Each
 * run writes under a fresh prefix and deletes what it wrote at the end.
 */
export function describeStorageContract(name: string, open: (t: TestContext) => Promise<ObjectStorage | undefined>): void {
  describe(name, () => {
    const runPrefix = `contract-${randomUUID()}/`;
    let opened: ObjectStorage | undefined;

    async function storageFor(t: TestContext): Promise<ObjectStorage | undefined> {
      opened = await open(t);
      return opened;
    }

    after(async () => {
      if (!opened) return;
      for (const object of await opened.list(runPrefix)) await opened.delete(object.key);
    });

    it('round trip with a Vietnamese key', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const keyNfc = `${runPrefix}tài liệu/Báo cáo quý 3.pdf`;
      const keyNfd = keyNfc.normalize('NFD');
      assert.notEqual(keyNfd, keyNfc, 'the test key must differ between NFC and NFD');
      const body = Buffer.from('Báo cáo quý 3: nội dung thử nghiệm.\n');

      await storage.put(keyNfd, body, { contentType: 'application/pdf' });

      const info = await storage.head(keyNfc);
      assert.ok(info, 'head finds the object under the NFC key');
      assert.equal(info.key, keyNfc);
      assert.equal(info.size, body.length);
      assert.equal(info.contentType, 'application/pdf');
      assert.equal(info.etag, createHash('md5').update(body).digest('hex'));
      assert.ok(info.lastModified instanceof Date);

      assert.deepEqual(await readAll(await storage.get(keyNfc)), body);
      assert.deepEqual(await readAll(await storage.get(keyNfd)), body, 'get normalizes an NFD key');

      const listed = await storage.list(`${runPrefix}tài liệu/`);
      assert.deepEqual(
        listed.map((object) => object.key),
        [keyNfc],
      );
      assert.equal(listed[0]?.size, body.length);

      await storage.delete(keyNfc);
      assert.equal(await storage.head(keyNfc), null);
      assert.deepEqual(await storage.list(`${runPrefix}tài liệu/`), []);
    });

    it('put replaces an existing object', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}replace/biên bản.txt`;

      await storage.put(key, Buffer.from('bản nháp'), { contentType: 'text/plain; charset=utf-8' });
      await storage.put(key, Buffer.from('bản chính thức'), { contentType: 'text/markdown; charset=utf-8' });

      assert.equal((await readAll(await storage.get(key))).toString(), 'bản chính thức');
      assert.equal((await storage.head(key))?.contentType, 'text/markdown; charset=utf-8');
    });

    it('content type defaults to octet-stream', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}default-type/dữ liệu`;

      await storage.put(key, Buffer.from([0, 1, 2]));

      assert.equal((await storage.head(key))?.contentType, 'application/octet-stream');
    });

    it('missing object', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}missing/không có.pdf`;

      assert.equal(await storage.head(key), null);
      await assert.rejects(storage.get(key), (error: unknown) => {
        assert.ok(error instanceof ObjectNotFoundError, `expected ObjectNotFoundError, got ${String(error)}`);
        assert.equal(error.key, key);
        return true;
      });
      await storage.delete(key);
    });

    it('list matches by key prefix', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const base = `${runPrefix}list/`;
      for (const key of ['a/2.txt', 'a/1.txt', 'a/sub/3.txt', 'ab/4.txt', 'b/5.txt']) {
        await storage.put(`${base}${key}`, Buffer.from(key), { contentType: 'text/plain' });
      }

      const keysUnder = async (prefix: string) => (await storage.list(`${base}${prefix}`)).map((o) => o.key.slice(base.length));
      assert.deepEqual(await keysUnder('a/'), ['a/1.txt', 'a/2.txt', 'a/sub/3.txt']);
      assert.deepEqual(await keysUnder('a'), ['a/1.txt', 'a/2.txt', 'a/sub/3.txt', 'ab/4.txt']);
      assert.deepEqual(await keysUnder(''), ['a/1.txt', 'a/2.txt', 'a/sub/3.txt', 'ab/4.txt', 'b/5.txt']);
      assert.deepEqual(await keysUnder('c/'), []);
    });

    it('invalid keys rejected', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const invalid = ['', '/etc/passwd', '../outside', `${runPrefix}../../outside`, `${runPrefix}a//b`, `${runPrefix}nul\u0000`, `${runPrefix}line\nbreak`, `${runPrefix}back\\slash`, `${runPrefix}trailing/`];
      for (const key of invalid) {
        await assert.rejects(storage.put(key, Buffer.from('x')), InvalidObjectKeyError, `put ${JSON.stringify(key)}`);
        await assert.rejects(storage.head(key), InvalidObjectKeyError, `head ${JSON.stringify(key)}`);
        await assert.rejects(storage.signedDownloadUrl(key, { expiresIn: 60 }), InvalidObjectKeyError);
      }
    });

    it('streams 20 MB of known length', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}stream/ghi hình cuộc họp.webm`;
      const size = 20 * 1024 * 1024;
      const source = generatedBody(size);

      await storage.put(key, source.stream, { contentType: 'video/webm', contentLength: size });

      assert.equal(source.producedBytes(), size);
      assert.equal((await storage.head(key))?.size, size);
      const read = await hashStream(await storage.get(key));
      assert.equal(read.bytes, size);
      assert.equal(read.sha256, source.sha256());
    });

    it('streams 12 MB of unknown length', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      // Longer than one 8 MiB part, so S3Storage uses a multipart upload.
      const key = `${runPrefix}stream/không rõ độ dài.bin`;
      const size = 12 * 1024 * 1024 + 123;
      const source = generatedBody(size);

      await storage.put(key, source.stream, { contentType: 'application/octet-stream' });

      assert.equal((await storage.head(key))?.size, size);
      const read = await hashStream(await storage.get(key));
      assert.equal(read.bytes, size);
      assert.equal(read.sha256, source.sha256());
    });

    it('signed download URL expires', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}signed/Biên bản họp ngày 5-3.pdf`;
      const body = Buffer.from('%PDF-1.4 biên bản');
      await storage.put(key, body, { contentType: 'application/pdf' });
      const downloadName = 'Biên bản họp (đã ký).pdf';

      const url = await storage.signedDownloadUrl(key, { expiresIn: 2, downloadName });
      const response = await fetch(url);
      assert.equal(response.status, 200, await describeResponse(response));
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);
      const disposition = response.headers.get('content-disposition') ?? '';
      assert.match(disposition, /^attachment;/);
      const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
      assert.ok(encoded, `Content-Disposition has a filename* parameter: ${disposition}`);
      assert.equal(decodeURIComponent(encoded), downloadName);
      assert.match(disposition, /filename="Bien ban hop \(da ky\)\.pdf"/, 'ASCII fallback without diacritics');

      // Expiry is checked in whole seconds, so the link may live up to one second longer.
      await sleep(3_500);
      const expired = await fetch(url);
      await expired.arrayBuffer();
      assert.equal(expired.status, 403);
    });

    it('signed upload URL accepts PUT', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}upload/Tài liệu đính kèm.docx`;
      const contentType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
      const body = Buffer.from('nội dung tài liệu đính kèm '.repeat(1000));

      const url = await storage.signedUploadUrl(key, { expiresIn: 60, contentType });
      const response = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': contentType } });
      assert.equal(response.status, 200, await describeResponse(response));

      const info = await storage.head(key);
      assert.equal(info?.size, body.length);
      assert.equal(info?.contentType, contentType);
      assert.deepEqual(await readAll(await storage.get(key)), body);
    });

    it('signed upload URL rejects other content type', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}upload/sai loại.pdf`;

      const url = await storage.signedUploadUrl(key, { expiresIn: 60, contentType: 'application/pdf' });
      const response = await fetch(url, { method: 'PUT', body: '<html></html>', headers: { 'Content-Type': 'text/html' } });
      await response.arrayBuffer();
      assert.equal(response.status, 403);
      assert.equal(await storage.head(key), null);
    });

    it('signed upload URL expires', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}upload/hết hạn.txt`;

      const url = await storage.signedUploadUrl(key, { expiresIn: 1, contentType: 'text/plain' });
      await sleep(2_500);
      const response = await fetch(url, { method: 'PUT', body: 'muộn', headers: { 'Content-Type': 'text/plain' } });
      await response.arrayBuffer();
      assert.equal(response.status, 403);
      assert.equal(await storage.head(key), null);
    });

    it('presigned multipart upload completes', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}multipart/Báo cáo tổng kết năm.pdf`;
      const first = generatedBody(MIN_PART_BYTES, MIN_PART_BYTES);
      const firstBody = await readAll(first.stream);
      const lastBody = Buffer.from('phần cuối của tệp');

      const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/pdf' });
      assert.equal(await storage.head(key), null, 'no object before completion');
      assert.deepEqual(await storage.listUploadedParts(key, uploadId), []);

      // Part 2 first: browsers send parts in any order and in parallel.
      const url2 = await storage.signedUploadPartUrl(key, uploadId, 2, { expiresIn: 60 });
      const put2 = await fetch(url2, { method: 'PUT', body: lastBody });
      assert.equal(put2.status, 200, await describeResponse(put2));
      const url1 = await storage.signedUploadPartUrl(key, uploadId, 1, { expiresIn: 60 });
      const put1 = await fetch(url1, { method: 'PUT', body: new Uint8Array(firstBody) });
      assert.equal(put1.status, 200, await describeResponse(put1));

      const parts = await storage.listUploadedParts(key, uploadId);
      assert.deepEqual(
        parts.map((part) => [part.partNumber, part.size]),
        [
          [1, firstBody.length],
          [2, lastBody.length],
        ],
      );
      assert.equal(parts[0]?.etag, createHash('md5').update(firstBody).digest('hex'));

      await storage.completeMultipartUpload(key, uploadId, parts);
      const info = await storage.head(key);
      assert.equal(info?.size, firstBody.length + lastBody.length);
      assert.equal(info?.contentType, 'application/pdf');
      const read = await hashStream(await storage.get(key));
      assert.equal(read.sha256, createHash('sha256').update(firstBody).update(lastBody).digest('hex'));
      await assert.rejects(storage.listUploadedParts(key, uploadId), UploadNotFoundError, 'a completed upload is gone');
    });

    it('multipart part re-sent replaces it', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}multipart/gửi lại.txt`;
      const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/plain' });

      const url = await storage.signedUploadPartUrl(key, uploadId, 1, { expiresIn: 60 });
      assert.equal((await fetch(url, { method: 'PUT', body: 'bản đầu' })).status, 200);
      assert.equal((await fetch(url, { method: 'PUT', body: 'bản gửi lại sau khi mất kết nối' })).status, 200);

      const parts = await storage.listUploadedParts(key, uploadId);
      assert.equal(parts.length, 1);
      await storage.completeMultipartUpload(key, uploadId, parts);
      assert.equal((await readAll(await storage.get(key))).toString(), 'bản gửi lại sau khi mất kết nối');
    });

    it('multipart abort leaves nothing', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}multipart/hủy.bin`;
      const uploadId = await storage.createMultipartUpload(key);
      const url = await storage.signedUploadPartUrl(key, uploadId, 1, { expiresIn: 60 });
      assert.equal((await fetch(url, { method: 'PUT', body: 'x' })).status, 200);

      await storage.abortMultipartUpload(key, uploadId);
      await storage.abortMultipartUpload(key, uploadId);

      await assert.rejects(storage.listUploadedParts(key, uploadId), UploadNotFoundError);
      assert.equal(await storage.head(key), null);
      // S3 and the local storage answer 404 NoSuchUpload to a part sent after the abort;
      // S3Proxy 4.1 accepts it, so only the outcome is checked: no object and no upload.
      const late = await fetch(url, { method: 'PUT', body: 'y' });
      await late.arrayBuffer();
      if (storage.kind === 'local') assert.equal(late.status, 404, 'a part sent after the abort is refused');
      await assert.rejects(storage.listUploadedParts(key, uploadId), UploadNotFoundError);
      assert.equal(await storage.head(key), null);
    });

    it('multipart part link expires', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}multipart/hết hạn.bin`;
      const uploadId = await storage.createMultipartUpload(key);
      try {
        const url = await storage.signedUploadPartUrl(key, uploadId, 1, { expiresIn: 1 });
        await sleep(2_500);
        const response = await fetch(url, { method: 'PUT', body: 'muộn' });
        await response.arrayBuffer();
        assert.equal(response.status, 403);
        assert.deepEqual(await storage.listUploadedParts(key, uploadId), []);
      } finally {
        await storage.abortMultipartUpload(key, uploadId);
      }
    });

    it('unknown upload id rejected', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      const key = `${runPrefix}multipart/không có.bin`;
      const unknown = randomUUID();
      await assert.rejects(storage.listUploadedParts(key, unknown), UploadNotFoundError);
      await assert.rejects(storage.completeMultipartUpload(key, unknown, [{ partNumber: 1, etag: 'abc' }]), UploadNotFoundError);
      await storage.abortMultipartUpload(key, unknown);
      await assert.rejects(storage.signedUploadPartUrl(key, unknown, 0, { expiresIn: 60 }), RangeError);
    });

    it('ping succeeds', async (t) => {
      const storage = await storageFor(t);
      if (!storage) return;
      await storage.ping();
    });
  });
}

/** Creates a stream of `size` bytes that produces each chunk on demand and hashes what it produced with SHA-256. */
export function generatedBody(size: number, chunkBytes = 64 * 1024): {
  stream: Readable;
  producedBytes: () => number;
  sha256: () => string;
} {
  const hash = createHash('sha256');
  let produced = 0;
  let chunkIndex = 0;
  const stream = new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const length = Math.min(chunkBytes, size - produced);
      const chunk = Buffer.alloc(length);
      for (let i = 0; i < length; i += 1) chunk[i] = (chunkIndex * 31 + i * 7) & 0xff;
      chunkIndex += 1;
      produced += length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, producedBytes: () => produced, sha256: () => hash.copy().digest('hex') };
}

export async function hashStream(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    hash.update(buffer);
  }
  return { bytes, sha256: hash.digest('hex') };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function describeResponse(response: Response): Promise<string> {
  if (response.ok) return `HTTP ${response.status}`;
  return `HTTP ${response.status}: ${await response.clone().text()}`;
}
