import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../adapters/db/database.ts';
import { S3Storage } from '../adapters/storage/s3-storage.ts';
import { documentTypes } from '../contract/documents.ts';
import { log } from '../log.ts';
import { buildZip, makeDocx, makePdf, makeXlsx, makeZipBombDocx } from '../../test/support/documents.ts';
import { createTestDatabase } from '../../test/support/services.ts';
import { defaultProcessingLimits, processDocumentVersion, type ProcessingLimits } from './document-processing.ts';
import { foldForSearch } from './text-search.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
const s3Endpoint = process.env.S3_ENDPOINT;
if ((!adminUrl || !s3Endpoint) && process.env.CI === 'true') throw new Error('TEST_DATABASE_URL and S3_ENDPOINT are required under CI');

describe('document processing', { skip: adminUrl && s3Endpoint ? false : 'TEST_DATABASE_URL or S3_ENDPOINT is not set' }, () => {
  let handle: DatabaseHandle;
  let drop: (() => Promise<void>) | undefined;
  let storage: S3Storage;
  let meetingId: string;

  before(async () => {
    const database = await createTestDatabase(adminUrl!);
    drop = database.drop;
    handle = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 4 });
    await migrateToLatest(handle.db);
    storage = new S3Storage({
      endpoint: s3Endpoint!,
      region: process.env.S3_REGION || 'us-east-1',
      bucket: process.env.S3_BUCKET || 'hop-test',
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    });
    await storage.ensureBucket();
    meetingId = randomUUID();
    const start = new Date(Date.now() + 3_600_000);
    await handle.db
      .insertInto('meeting')
      .values({ id: meetingId, title: 'Họp giao ban', description: null, starts_at: start, ends_at: new Date(start.getTime() + 3_600_000), time_zone: 'Asia/Ho_Chi_Minh', status: 'scheduled', cancel_reason: null, updated_at: new Date(), last_ends_at: new Date(start.getTime() + 3_600_000) })
      .execute();
  });

  after(async () => {
    for (const object of (await storage?.list(`documents/${meetingId}/`)) ?? []) await storage.delete(object.key);
    storage?.close();
    await handle?.close();
    await drop?.();
  });

  /** Stores `bytes` as an uploaded version in `processing`, as a confirm leaves it, and returns its id. */
  async function uploadedVersion(fileName: string, bytes: Buffer): Promise<{ versionId: string; objectKey: string }> {
    const extension = fileName.slice(fileName.lastIndexOf('.') + 1) as keyof typeof documentTypes;
    const documentId = randomUUID();
    const versionId = randomUUID();
    const objectKey = `documents/${meetingId}/originals/${versionId}`;
    await storage.put(objectKey, bytes, { contentType: documentTypes[extension].mime });
    await handle.db
      .insertInto('document')
      .values({ id: documentId, meeting_id: meetingId, occurrence_id: null, agenda_index: null, title: fileName, title_search: foldForSearch(fileName), kind: 'document', visibility: 'in_advance', created_by: 'tester', updated_at: new Date() })
      .execute();
    await handle.db
      .insertInto('document_version')
      .values({ id: versionId, document_id: documentId, meeting_id: meetingId, version: 1, file_name: fileName, claimed_type: documentTypes[extension].mime, size_bytes: bytes.length, object_key: objectKey, note: null, uploaded_by: 'tester', status: 'processing' })
      .execute();
    return { versionId, objectKey };
  }

  function deps(limits?: ProcessingLimits) {
    return { db: handle.db, storage, log, now: () => new Date(), ...(limits ? { limits } : {}) };
  }

  async function version(versionId: string) {
    return handle.db.selectFrom('document_version').selectAll().where('id', '=', versionId).executeTakeFirstOrThrow();
  }

  async function events(versionId: string): Promise<string[]> {
    const rows = await handle.db.selectFrom('outbox').select(['payload']).execute();
    return rows
      .map((row) => row.payload as { type: string; data: { versionId?: string } })
      .filter((payload) => payload.data.versionId === versionId)
      .map((payload) => payload.type);
  }

  it('multi-page PDF: pages, thumbnail, text', async () => {
    const pdf = await makePdf(12);
    const { versionId } = await uploadedVersion('Báo cáo quý.pdf', pdf);

    const outcome = await processDocumentVersion(deps(), randomUUID(), versionId);

    assert.deepEqual(outcome, { status: 'ready', conversion: 'not_needed' });
    const row = await version(versionId);
    assert.equal(row.status, 'ready');
    assert.equal(row.page_count, 12);
    assert.equal(row.sha256, createHash('sha256').update(pdf).digest('hex'));
    assert.equal(row.detected_type, 'application/pdf');
    assert.equal(row.pdf_key, null, 'a PDF needs no rendition');
    assert.ok(row.thumbnail_key);
    const thumbnail = await readAllBytes(await storage.get(row.thumbnail_key));
    assert.deepEqual([...thumbnail.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'the thumbnail is a PNG');
    assert.match(row.text_content ?? '', /Ủy ban nhân dân huyện A Lưới/);
    assert.match(row.text_search ?? '', /uy ban nhan dan huyen a luoi/);
    assert.deepEqual(await events(versionId), ['vn.hop.document.processed.v1']);
  });

  it('Vietnamese DOCX converted to PDF', async () => {
    const docx = await makeDocx(3);
    const { versionId } = await uploadedVersion('Tờ trình.docx', docx);

    const outcome = await processDocumentVersion(deps(), randomUUID(), versionId);

    assert.deepEqual(outcome, { status: 'ready', conversion: 'converted' });
    const row = await version(versionId);
    assert.equal(row.page_count, 3);
    assert.ok(row.pdf_key);
    const rendition = await readAllBytes(await storage.get(row.pdf_key));
    assert.equal(rendition.subarray(0, 5).toString(), '%PDF-');
    assert.equal((await storage.head(row.pdf_key))?.contentType, 'application/pdf');
    assert.match(row.text_search ?? '', /bao cao tong ket cong tac/);
  });

  it('XLSX converted to PDF', async () => {
    const { versionId } = await uploadedVersion('Kinh phí.xlsx', await makeXlsx());

    const outcome = await processDocumentVersion(deps(), randomUUID(), versionId);

    assert.deepEqual(outcome, { status: 'ready', conversion: 'converted' });
    const row = await version(versionId);
    assert.equal(row.detected_type, documentTypes.xlsx.mime);
    assert.ok((row.page_count ?? 0) >= 1);
    assert.match(row.text_content ?? '', /Phòng họp thông minh/);
  });

  it('plain text kept as text', async () => {
    const body = Buffer.from('Kết luận của chủ trì cuộc họp: giao Sở Thông tin và Truyền thông chủ trì.\n');
    const { versionId } = await uploadedVersion('kết luận.txt', body);

    assert.deepEqual(await processDocumentVersion(deps(), randomUUID(), versionId), { status: 'ready', conversion: 'not_needed' });
    const row = await version(versionId);
    assert.equal(row.text_content, body.toString());
    assert.equal(row.page_count, null);
  });

  it('renamed executable rejected', async () => {
    const executable = await readFile(process.execPath).then((bytes) => bytes.subarray(0, 256 * 1024));
    const { versionId, objectKey } = await uploadedVersion('Giấy mời.pdf', executable);

    const outcome = await processDocumentVersion(deps(), randomUUID(), versionId);

    assert.deepEqual(outcome, { status: 'rejected', code: 'DOCUMENT_TYPE_NOT_ALLOWED' });
    const row = await version(versionId);
    assert.equal(row.status, 'rejected');
    assert.equal(row.rejected_code, 'DOCUMENT_TYPE_NOT_ALLOWED');
    assert.equal(row.detected_type, 'application/x-elf');
    assert.equal(await storage.head(objectKey), null, 'the original is deleted');
    assert.deepEqual(await events(versionId), ['vn.hop.document.rejected.v1']);
  });

  it('DOCX named .pdf rejected', async () => {
    const { versionId } = await uploadedVersion('Biên bản.pdf', await makeDocx(1));
    assert.deepEqual(await processDocumentVersion(deps(), randomUUID(), versionId), { status: 'rejected', code: 'DOCUMENT_TYPE_MISMATCH' });
  });

  it('zip bomb DOCX rejected before LibreOffice', async () => {
    const bomb = makeZipBombDocx();
    assert.ok(bomb.length < 1024 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const { versionId, objectKey } = await uploadedVersion('Phụ lục.docx', bomb);

    const started = performance.now();
    const outcome = await processDocumentVersion(deps(), randomUUID(), versionId);

    assert.deepEqual(outcome, { status: 'rejected', code: 'DOCUMENT_ARCHIVE_UNSAFE' });
    assert.ok(performance.now() - started < 5_000, 'rejected without inflating the entry');
    assert.equal(await storage.head(objectKey), null);
  });

  it('truncated ZIP rejected as damaged', async () => {
    const zip = buildZip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'word/document.xml', data: Buffer.from('<w:document/>') },
    ]);
    const { versionId } = await uploadedVersion('Hỏng.docx', zip.subarray(0, zip.length - 30));
    const outcome = await processDocumentVersion(deps(), randomUUID(), versionId);
    assert.equal(outcome.status, 'rejected');
  });

  it('damaged PDF rejected', async () => {
    const { versionId } = await uploadedVersion('Hỏng.pdf', Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\n% cut short'));
    assert.deepEqual(await processDocumentVersion(deps(), randomUUID(), versionId), { status: 'rejected', code: 'DOCUMENT_DAMAGED' });
  });

  it('conversion time-out keeps the original', async () => {
    const { versionId, objectKey } = await uploadedVersion('Chậm.docx', await makeDocx(2));
    const limits = { ...defaultProcessingLimits, conversionTimeoutMs: 50 };

    const outcome = await processDocumentVersion(deps(limits), randomUUID(), versionId);

    assert.deepEqual(outcome, { status: 'ready', conversion: 'failed' });
    const row = await version(versionId);
    assert.equal(row.conversion, 'failed');
    assert.match(row.conversion_error ?? '', /timed out/);
    assert.equal(row.pdf_key, null);
    assert.ok(await storage.head(objectKey), 'the original stays downloadable');
    const leftovers = await import('node:child_process').then(({ execFileSync }) => {
      try {
        return execFileSync('pgrep', ['-f', 'hop-lo-profile-'], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    });
    assert.equal(leftovers, '', 'no LibreOffice process is left after the time-out');
  });

  it('same event twice processed once', async () => {
    const { versionId } = await uploadedVersion('Hai lần.pdf', await makePdf(1));
    const eventId = randomUUID();

    const [first, second] = await Promise.all([processDocumentVersion(deps(), eventId, versionId), processDocumentVersion(deps(), eventId, versionId)]);
    const third = await processDocumentVersion(deps(), randomUUID(), versionId);

    assert.deepEqual([first.status, second.status].sort(), ['ready', 'skipped']);
    assert.equal(third.status, 'skipped');
    assert.deepEqual(await events(versionId), ['vn.hop.document.processed.v1']);
  });
});

async function readAllBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
