/**
 * Meeting documents:
 * - a 200 MiB upload through presigned multipart: a gateway (a child process,
 *   so the benchmark's own buffers are not counted) hands out the part links
 *   and confirms; the parts go straight to the S3-compatible server. Its peak
 *   RSS after a 20 MiB and after a 200 MiB upload must not grow with the size.
 * - a 100-page PDF processed (download, SHA-256, page count, thumbnail,
 *   text) in under 5 s;
 * - a 20-page DOCX converted to PDF by LibreOffice in under 15 s.
 * The PDF and DOCX are written by LibreOffice from generated HTML.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey } from '../gateway/auth/api-keys.ts';
import { convertToPdf } from '../lib/adapters/documents/libreoffice.ts';
import { S3Storage } from '../lib/adapters/storage/s3-storage.ts';
import { documentTypes } from '../lib/contract/documents.ts';
import { processDocumentVersion } from '../lib/domain/document-processing.ts';
import { foldForSearch } from '../lib/domain/text-search.ts';
import { log } from '../lib/log.ts';
import { makeDocx, makePdf } from '../test/support/documents.ts';
import { waitFor } from '../test/support/services.ts';
import { benchDatabase, ms, type BenchResult } from './support.ts';

const MIB = 1024 * 1024;
const PDF_TARGET_MS = 5_000;
const DOCX_TARGET_MS = 15_000;
/** Peak RSS growth from the 20 MiB to the 200 MiB upload that still counts as "does not grow with size". */
const RSS_GROWTH_LIMIT_MIB = 16;

/** The S3_* settings: from the environment, else from the running S3Proxy (scripts/services/s3proxy.sh status). */
function s3Settings(): Record<string, string> {
  const names = ['S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];
  if (process.env.S3_ENDPOINT) return Object.fromEntries(names.map((name) => [name, process.env[name] ?? '']));
  const status = execFileSync('bash', ['scripts/services/s3proxy.sh', 'status'], { encoding: 'utf8' });
  const settings: Record<string, string> = {};
  for (const match of status.matchAll(/^export (S3_[A-Z_]+)=(.*)$/gm)) settings[match[1]!] = match[2]!;
  if (!settings.S3_ENDPOINT) throw new Error('no S3 server: set S3_ENDPOINT or start S3Proxy with scripts/services/s3proxy.sh start');
  return settings;
}

/** Reads a process's current and peak resident set size from /proc, in MiB. */
async function rssOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export async function documentsBench(): Promise<BenchResult> {
  const s3 = s3Settings();
  const database = await benchDatabase(4);
  const storage = new S3Storage({
    endpoint: s3.S3_ENDPOINT!,
    region: s3.S3_REGION || 'us-east-1',
    bucket: s3.S3_BUCKET || 'hop-test',
    accessKeyId: s3.S3_ACCESS_KEY_ID!,
    secretAccessKey: s3.S3_SECRET_ACCESS_KEY!,
  });
  await storage.ensureBucket();
  const rows: BenchResult['rows'] = [];
  const notes: string[] = [];
  try {
    rows.push(...(await uploadMemory(database.url, database.handle.db, s3, notes)));
    rows.push(...(await processingTimes(database.handle.db, storage)));
  } finally {
    for (const object of await storage.list('documents/')) await storage.delete(object.key);
    storage.close();
    await database.drop();
  }
  return { name: 'Meeting documents', rows, notes };
}

async function uploadMemory(databaseUrl: string, db: Parameters<typeof createApiKey>[0], s3: Record<string, string>, notes: string[]): Promise<BenchResult['rows']> {
  const adminId = randomUUID();
  await db
    .insertInto('app_user')
    .values({ id: adminId, display_name: 'Quản trị đo hiệu năng', name_search: 'quan tri do hieu nang', email: null, phone: null, system_role: 'admin', external_id: null, disabled_at: null, updated_at: new Date() })
    .execute();
  const { token } = await createApiKey(db, { name: 'bench', scopes: ['meetings:write', 'meetings:read', 'documents:write', 'documents:read'], createdBy: adminId });

  const dataDir = await mkdtemp(path.join(tmpdir(), 'hop-bench-docs-'));
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const gateway: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    env: {
      ...process.env,
      ...s3,
      PORT: String(port),
      HOST: '127.0.0.1',
      HOP_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      HOP_MEDIA: 'off',
      HOP_CRON: 'off',
      // Only the upload path is measured: no bus delivery, so document-process does not run in this process.
      HOP_BRIDGE: 'off',
      HOP_MIN_NOTICE_WORKING_DAYS: '0',
      HOP_WRITE_RATE_PER_MINUTE: '100000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, urlPath: string, body?: unknown) => {
    const response = await fetch(`${base}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as any;
    if (!response.ok) throw new Error(`${method} ${urlPath}: HTTP ${response.status} ${JSON.stringify(json)}`);
    return json;
  };

  try {
    await waitFor('the benchmark gateway', async () => ((await fetch(`${base}/readyz`).catch(() => null))?.ok ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
    const start = new Date(Date.now() + 86_400_000);
    const meeting = await call('POST', '/api/v1/meetings', {
      title: 'Đo hiệu năng tải tài liệu',
      startsAt: start.toISOString(),
      endsAt: new Date(start.getTime() + 3_600_000).toISOString(),
      participants: [{ name: 'Nguyễn Văn A', role: 'chair' }],
    });

    // A warm-up upload loads the code paths before the first sample.
    await uploadThrough(call, meeting.id, 'khởi động.pdf', 1 * MIB);
    const idle = await rssOf(gateway.pid!);
    const small = await uploadThrough(call, meeting.id, 'tài liệu 20 MB.pdf', 20 * MIB);
    const afterSmall = await rssOf(gateway.pid!);
    const large = await uploadThrough(call, meeting.id, 'tài liệu 200 MB.pdf', 200 * MIB);
    const afterLarge = await rssOf(gateway.pid!);

    const growth = afterLarge.peak - afterSmall.peak;
    notes.push(
      `Upload: the 200 MiB file went to S3Proxy in ${large.parts} parts of 8 MiB (${(200 / (large.ms / 1000)).toFixed(0)} MiB/s from this process); ` +
        `the 20 MiB one in ${small.parts}. Gateway RSS is read from /proc/<pid>/status (VmRSS now, VmHWM peak).`,
    );
    return [
      { metric: 'gateway RSS before uploads (after warm-up)', value: `${idle.rss.toFixed(1)} MiB` },
      { metric: 'gateway peak RSS after 20 MiB upload', value: `${afterSmall.peak.toFixed(1)} MiB` },
      { metric: 'gateway peak RSS after 200 MiB upload', value: `${afterLarge.peak.toFixed(1)} MiB` },
      { metric: 'peak RSS growth from 20 MiB to 200 MiB', value: `${growth.toFixed(1)} MiB`, target: `< ${RSS_GROWTH_LIMIT_MIB} MiB`, met: growth < RSS_GROWTH_LIMIT_MIB },
      { metric: '200 MiB upload: start + parts + confirm', value: ms(large.ms) },
    ];
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Uploads `size` generated bytes as a browser does: start, PUT each part to its presigned link, confirm. */
async function uploadThrough(call: (method: string, urlPath: string, body?: unknown) => Promise<any>, meetingId: string, fileName: string, size: number): Promise<{ ms: number; parts: number }> {
  const started = performance.now();
  const upload = await call('POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName, sizeBytes: size });
  const chunk = Buffer.alloc(upload.partSize, 0x25);
  for (const part of upload.parts as { partNumber: number; url: string }[]) {
    const length = Math.min(upload.partSize, size - (part.partNumber - 1) * upload.partSize);
    const response = await fetch(part.url, { method: 'PUT', body: new Uint8Array(chunk.buffer, chunk.byteOffset, length) });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`part ${part.partNumber}: HTTP ${response.status}`);
  }
  await call('POST', `/api/v1/meetings/${meetingId}/uploads/${upload.uploadId}/confirm`, {});
  return { ms: performance.now() - started, parts: upload.partCount };
}

async function processingTimes(db: Parameters<typeof createApiKey>[0], storage: S3Storage): Promise<BenchResult['rows']> {
  const meetingId = randomUUID();
  const start = new Date(Date.now() + 86_400_000);
  await db
    .insertInto('meeting')
    .values({ id: meetingId, title: 'Đo xử lý tài liệu', description: null, starts_at: start, ends_at: new Date(start.getTime() + 3_600_000), time_zone: 'Asia/Ho_Chi_Minh', status: 'scheduled', cancel_reason: null, updated_at: new Date(), last_ends_at: new Date(start.getTime() + 3_600_000) })
    .execute();

  const pdf = await makePdf(100);
  const versionId = await storedVersion(db, storage, meetingId, 'Báo cáo 100 trang.pdf', pdf);
  const t0 = performance.now();
  const outcome = await processDocumentVersion({ db, storage, log, now: () => new Date() }, randomUUID(), versionId);
  const pdfMs = performance.now() - t0;
  const row = await db.selectFrom('document_version').select(['page_count', 'text_content']).where('id', '=', versionId).executeTakeFirstOrThrow();
  if (outcome.status !== 'ready' || row.page_count !== 100) throw new Error(`the 100-page PDF was not processed: ${JSON.stringify(outcome)}, ${row.page_count} pages`);

  const docx = await makeDocx(20);
  const dir = await mkdtemp(path.join(tmpdir(), 'hop-bench-docx-'));
  let docxMs: number;
  let docxPages: number;
  try {
    const input = path.join(dir, 'Tờ trình 20 trang.docx');
    await writeFile(input, docx);
    const t1 = performance.now();
    const converted = await convertToPdf(input, dir, { timeoutMs: 120_000 });
    docxMs = performance.now() - t1;
    docxPages = Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [converted], { encoding: 'utf8' }))?.[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const docxVersion = await storedVersion(db, storage, meetingId, 'Tờ trình 20 trang.docx', docx);
  const t2 = performance.now();
  await processDocumentVersion({ db, storage, log, now: () => new Date() }, randomUUID(), docxVersion);
  const docxAllMs = performance.now() - t2;

  return [
    { metric: `100-page PDF (${(pdf.length / MIB).toFixed(1)} MiB) processed: hash, pages, thumbnail, ${row.text_content?.length ?? 0} characters of text`, value: ms(pdfMs), target: `< ${PDF_TARGET_MS / 1000} s`, met: pdfMs < PDF_TARGET_MS },
    { metric: `20-page DOCX converted to PDF (${docxPages} pages) by LibreOffice`, value: ms(docxMs), target: `< ${DOCX_TARGET_MS / 1000} s`, met: docxMs < DOCX_TARGET_MS },
    { metric: '20-page DOCX fully processed (conversion, pages, thumbnail, text, uploads)', value: ms(docxAllMs) },
  ];
}

async function storedVersion(db: Parameters<typeof createApiKey>[0], storage: S3Storage, meetingId: string, fileName: string, bytes: Buffer): Promise<string> {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1) as keyof typeof documentTypes;
  const documentId = randomUUID();
  const versionId = randomUUID();
  const objectKey = `documents/${meetingId}/originals/${versionId}`;
  await storage.put(objectKey, bytes, { contentType: documentTypes[extension].mime });
  await db
    .insertInto('document')
    .values({ id: documentId, meeting_id: meetingId, occurrence_id: null, agenda_index: null, title: fileName, title_search: foldForSearch(fileName), kind: 'document', visibility: 'in_advance', created_by: 'bench', updated_at: new Date() })
    .execute();
  await db
    .insertInto('document_version')
    .values({ id: versionId, document_id: documentId, meeting_id: meetingId, version: 1, file_name: fileName, claimed_type: documentTypes[extension].mime, size_bytes: bytes.length, object_key: objectKey, note: null, uploaded_by: 'bench', status: 'processing' })
    .execute();
  return versionId;
}
