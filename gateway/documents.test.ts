/**
 * Meeting documents through HTTP, against the S3-compatible test server and the
 * real LibreOffice and poppler tools: presigned multipart upload straight to
 * the object store, resume, confirm, processing through the bus, versions,
 * read marks, visibility, signed downloads and their audit, and the bad
 * input the upload API must refuse without leaving objects or rows behind.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sweepExpiredUploads } from '../lib/domain/document-uploads.ts';
import { log } from '../lib/log.ts';
import { makeDocx, makePdf } from '../test/support/documents.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { waitFor } from '../test/support/services.ts';
import { createLocalAccount } from './auth/accounts.ts';

const s3Endpoint = process.env.S3_ENDPOINT;
if (!s3Endpoint && process.env.CI === 'true') throw new Error('S3_ENDPOINT is required under CI');
const password = 'mật khẩu đủ dài 2026';
const LINK_SECONDS = 2;

type Headers = Record<string, string>;

describe('meeting documents over HTTP', { skip: s3Endpoint ? false : 'S3_ENDPOINT is not set' }, () => {
  let hop: TestPlatform;
  let meetingId: string;
  let pastMeetingId: string;
  let unitId: string;
  const people: Record<string, { userId: string; headers: Headers }> = {};
  let ip = 10;

  async function person(username: string, displayName: string, systemRole: 'organiser' | 'member' | 'guest') {
    const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole });
    if (systemRole !== 'guest') await hop.platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: null }).execute();
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.2.${ip++}` });
    assert.equal(response.status, 200, `sign-in of ${username}`);
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
    people[username] = { userId, headers: { cookie, 'x-csrf-token': response.body.csrfToken as string } };
  }

  before(async () => {
    hop = await startTestPlatform({
      S3_ENDPOINT: s3Endpoint,
      S3_REGION: process.env.S3_REGION,
      S3_BUCKET: process.env.S3_BUCKET || 'hop-test',
      S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
      HOP_DOCUMENT_LINK_SECONDS: String(LINK_SECONDS),
      HOP_DOCUMENT_MAX_BYTES: String(30 * 1024 * 1024),
    });
    unitId = (await hop.request('POST', '/api/v1/units', { kind: 'district', name: 'UBND huyện A Lưới' })).body.id;
    await person('chutri', 'Nguyễn Thị Hòa', 'member');
    await person('thamdu', 'Trần Văn Bình', 'member');
    await person('thamdu2', 'Lê Thị Mai', 'member');
    await person('duthinh', 'Phạm Văn Dự', 'member');
    await person('ngoai', 'Hồ Văn Ngoài', 'member');
    await person('khach', 'Khách mời', 'guest');

    const participants = [
      { name: 'Nguyễn Thị Hòa', userId: people.chutri!.userId, role: 'chair' },
      { name: 'Trần Văn Bình', userId: people.thamdu!.userId, role: 'participant' },
      { name: 'Lê Thị Mai', userId: people.thamdu2!.userId, role: 'participant' },
      { name: 'Phạm Văn Dự', userId: people.duthinh!.userId, role: 'observer' },
      { name: 'Khách mời', userId: people.khach!.userId, role: 'guest' },
    ];
    const start = new Date(Date.now() + 2 * 24 * 3_600_000);
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        startsAt: start.toISOString(),
        endsAt: new Date(start.getTime() + 3_600_000).toISOString(),
        agenda: [{ title: 'Báo cáo kinh tế – xã hội', plannedMinutes: 30 }, { title: 'Phòng chống bão lũ', plannedMinutes: 20 }],
        participants,
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meetingId = created.body.id;
    const pastStart = new Date(Date.now() - 10 * 60_000);
    const running = await hop.request('POST', '/api/v1/meetings', meetingRequest({ unitId, startsAt: pastStart.toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), participants }));
    assert.equal(running.status, 201, JSON.stringify(running.body));
    pastMeetingId = running.body.id;
  });

  after(async () => {
    if (!hop) return;
    for (const object of await hop.platform.storage.list(`documents/`)) {
      if (object.key.includes(meetingId) || object.key.includes(pastMeetingId)) await hop.platform.storage.delete(object.key);
    }
    await hop.stop();
  });

  const api = (who: string, method: string, path: string, body?: unknown) => hop.requestAs(null, method, path, body, people[who]!.headers);

  async function putParts(upload: any, bytes: Buffer, only?: number[]): Promise<void> {
    for (const part of upload.parts as { partNumber: number; url: string }[]) {
      if (only && !only.includes(part.partNumber)) continue;
      const start = (part.partNumber - 1) * upload.partSize;
      const response = await fetch(part.url, { method: 'PUT', body: new Uint8Array(bytes.subarray(start, start + upload.partSize)) });
      await response.arrayBuffer();
      assert.equal(response.status, 200, `part ${part.partNumber}`);
    }
  }

  async function upload(who: string, fileName: string, bytes: Buffer, extra: Record<string, unknown> = {}, meeting = meetingId) {
    const started = await api(who, 'POST', `/api/v1/meetings/${meeting}/uploads`, { fileName, sizeBytes: bytes.length, ...extra });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await putParts(started.body, bytes);
    const confirmed = await api(who, 'POST', `/api/v1/meetings/${meeting}/uploads/${started.body.uploadId}/confirm`, {});
    assert.equal(confirmed.status, 201, JSON.stringify(confirmed.body));
    return confirmed.body as { documentId: string; versionId: string; version: number };
  }

  async function listAs(who: string, query = '', meeting = meetingId): Promise<any[]> {
    const response = await api(who, 'GET', `/api/v1/meetings/${meeting}/documents${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.documents;
  }

  async function processed(who: string, documentId: string, version: number, meeting = meetingId): Promise<any> {
    return waitFor(
      `version ${version} of ${documentId} processed`,
      async () => {
        const document = (await listAs(who, '', meeting)).find((item) => item.id === documentId);
        const found = document?.versions.find((item: any) => item.version === version);
        return found && found.status !== 'processing' ? { document, version: found } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  async function pendingUploadRows(): Promise<number> {
    const rows = await hop.platform.database.db.selectFrom('document_upload').select('id').where('meeting_id', '=', meetingId).where('status', '=', 'pending').execute();
    return rows.length;
  }

  it('DOCX upload processed and searchable', async () => {
    const docx = await makeDocx(2);
    const done = await upload('thamdu', 'Báo cáo tổng kết.docx', docx, { agendaIndex: 0, kind: 'report', note: 'Bản gửi trước cuộc họp' });

    const { document, version } = await processed('thamdu', done.documentId, 1);
    assert.equal(version.status, 'ready');
    assert.equal(version.conversion, 'converted');
    assert.equal(version.hasPdf, true);
    assert.equal(version.pageCount, 2);
    assert.equal(version.sizeBytes, docx.length);
    assert.equal(version.uploadedBy.name, 'Trần Văn Bình');
    assert.equal(document.agendaTitle, 'Báo cáo kinh tế – xã hội');
    assert.equal(document.kind, 'report');
    const thumbnail = await fetch(version.thumbnailUrl);
    assert.equal(thumbnail.status, 200);
    assert.deepEqual([...new Uint8Array(await thumbnail.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    for (const query of ['A Lưới', 'a luoi', 'tổng kết', 'TONG KET']) {
      const found = await listAs('chutri', `?q=${encodeURIComponent(query)}`);
      assert.deepEqual(found.map((item) => item.id), [done.documentId], `search ${query}`);
    }
    assert.deepEqual(await listAs('chutri', `?q=${encodeURIComponent('không có chữ này')}`), []);

    const types = (await hop.platform.database.db.selectFrom('outbox').select('payload').execute()).map((row) => (row.payload as { type: string; data: { documentId?: string } })).filter((p) => p.data.documentId === done.documentId).map((p) => p.type);
    assert.deepEqual(types, ['vn.hop.document.uploaded.v1', 'vn.hop.document.processed.v1']);
  });

  it('PDF rendition and original download', async () => {
    const done = await upload('thamdu', 'Tờ trình dự án.docx', await makeDocx(1));
    await processed('thamdu', done.documentId, 1);

    const pdf = await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download?variant=pdf&disposition=inline`);
    assert.equal(pdf.status, 200, JSON.stringify(pdf.body));
    assert.equal(pdf.body.fileName, 'Tờ trình dự án.pdf');
    const pdfBytes = Buffer.from(await (await fetch(pdf.body.url)).arrayBuffer());
    assert.equal(pdfBytes.subarray(0, 5).toString(), '%PDF-');

    const original = await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download`);
    assert.equal(original.status, 200);
    const response = await fetch(original.body.url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-disposition') ?? '', /filename\*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh/);
    await response.arrayBuffer();

    const audit = await hop.request('GET', `/api/v1/audit?entityId=${done.documentId}&action=document.downloaded`);
    assert.equal(audit.status, 200);
    assert.equal(audit.body.records.length, 2);
    assert.equal(audit.body.records[0].actor.id, people.thamdu2!.userId);
  });

  it('new version and read marks', async () => {
    const first = await upload('thamdu', 'Kế hoạch.pdf', await makePdf(1));
    await processed('thamdu', first.documentId, 1);
    const readerView = async () => (await listAs('thamdu2')).find((item) => item.id === first.documentId);
    assert.equal((await readerView()).changedSinceRead, true, 'never opened');

    assert.equal((await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents/${first.documentId}/download`)).status, 200);
    assert.equal((await readerView()).changedSinceRead, false);

    const second = await upload('chutri', 'Kế hoạch (sửa).pdf', await makePdf(2), { documentId: first.documentId, note: 'Sửa theo ý kiến chủ trì' });
    assert.equal(second.documentId, first.documentId);
    assert.equal(second.version, 2);
    const { document } = await processed('thamdu2', first.documentId, 2);
    assert.deepEqual(document.versions.map((v: any) => v.version), [2, 1]);
    assert.equal(document.latest.version, 2);
    assert.equal(document.latest.note, 'Sửa theo ý kiến chủ trì');
    assert.equal(document.latest.uploadedBy.name, 'Nguyễn Thị Hòa');
    assert.equal(document.changedSinceRead, true, 'a new version since the last read');
    assert.equal(document.lastReadVersion, 1);

    const old = await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents/${first.documentId}/download?version=1`);
    assert.equal(old.status, 200, 'older versions stay readable');
    assert.equal(old.body.version, 1);
    assert.equal((await readerView()).changedSinceRead, true, 'opening an old version does not mark the new one read');
  });

  it('upload resumes after a dropped connection', async () => {
    const bytes = randomBytes(12 * 1024 * 1024);
    const fileName = 'Ghi chép.txt'.replace('.txt', '.pdf');
    const body = { fileName, sizeBytes: bytes.length, lastModified: 1_767_000_000_000 };
    const started = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, body);
    assert.equal(started.status, 201);
    assert.equal(started.body.partCount, 2);
    await putParts(started.body, bytes, [1]);

    const resumed = await api('thamdu', 'GET', `/api/v1/meetings/${meetingId}/uploads/${started.body.uploadId}`);
    assert.equal(resumed.status, 200);
    assert.deepEqual(resumed.body.uploadedParts, [{ partNumber: 1, size: started.body.partSize }]);
    assert.deepEqual(resumed.body.parts.map((p: any) => p.partNumber), [2]);
    const again = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, body);
    assert.equal(again.body.uploadId, started.body.uploadId, 'starting the same file again resumes it');
    assert.deepEqual(again.body.parts.map((p: any) => p.partNumber), [2]);

    const early = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads/${started.body.uploadId}/confirm`, {});
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'UPLOAD_INCOMPLETE');
    assert.deepEqual(early.body.error.details.missingParts, [2]);

    await putParts(resumed.body, bytes);
    const confirmed = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads/${started.body.uploadId}/confirm`, {});
    assert.equal(confirmed.status, 201);
    const { version } = await processed('thamdu', confirmed.body.documentId, 1);
    assert.equal(version.status, 'rejected', 'random bytes named .pdf are refused');
    assert.equal(version.rejection.code, 'DOCUMENT_TYPE_NOT_ALLOWED');
    assert.match(version.rejection.message, /bị từ chối/);
  });

  it('renamed executable refused and removed', async () => {
    const executable = Buffer.from(await import('node:fs/promises').then((fs) => fs.readFile(process.execPath))).subarray(0, 512 * 1024);
    const done = await upload('thamdu', 'Giấy mời họp.pdf', executable);
    const { version } = await processed('thamdu', done.documentId, 1);
    assert.equal(version.status, 'rejected');
    assert.equal(version.rejection.code, 'DOCUMENT_TYPE_NOT_ALLOWED');

    const row = await hop.platform.database.db.selectFrom('document_version').select('object_key').where('id', '=', done.versionId).executeTakeFirstOrThrow();
    assert.equal(await hop.platform.storage.head(row.object_key), null, 'no orphan object');
    assert.equal((await listAs('thamdu2')).some((item) => item.id === done.documentId), false, 'others do not see a refused upload');
    const download = await api('thamdu', 'GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download`);
    assert.equal(download.status, 404, 'no version left to download');
  });

  it('bad file names and sizes refused', async () => {
    const before = await pendingUploadRows();
    const cases: [string, number, string][] = [
      ['../../etc/passwd.pdf', 100, 'FILE_NAME_INVALID'],
      ['thư mục/tài liệu.pdf', 100, 'FILE_NAME_INVALID'],
      ['thư mục\\tài liệu.pdf', 100, 'FILE_NAME_INVALID'],
      ['tài liệu\u0007.pdf', 100, 'FILE_NAME_INVALID'],
      ['báo cáo\u202Efdp.exe', 100, 'FILE_NAME_INVALID'],
      [`${'Báo cáo tổng kết năm '.repeat(15).slice(0, 300)}.pdf`, 100, 'FILE_NAME_INVALID'],
      ['chương trình.exe', 100, 'FILE_TYPE_NOT_ALLOWED'],
      ['không có phần mở rộng', 100, 'FILE_TYPE_NOT_ALLOWED'],
      ['rỗng.pdf', 0, 'FILE_EMPTY'],
      ['quá lớn.pdf', 31 * 1024 * 1024, 'FILE_TOO_LARGE'],
    ];
    for (const [fileName, sizeBytes, code] of cases) {
      const response = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName, sizeBytes });
      assert.equal(response.body.error?.code, code, `${JSON.stringify(fileName)}: ${JSON.stringify(response.body)}`);
      assert.ok(response.status >= 400 && response.status < 500);
    }
    assert.equal(await pendingUploadRows(), before, 'no upload rows for refused requests');

    const agenda = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName: 'a.pdf', sizeBytes: 10, agendaIndex: 5 });
    assert.equal(agenda.body.error.code, 'AGENDA_ITEM_NOT_FOUND');
    const occurrence = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName: 'a.pdf', sizeBytes: 10, occurrenceId: randomUUID() });
    assert.equal(occurrence.body.error.code, 'OCCURRENCE_NOT_FOUND');
  });

  it('same file twice at once makes one version', async () => {
    const pdf = await makePdf(1, 'Biên bản họp lần hai');
    const body = { fileName: 'Biên bản.pdf', sizeBytes: pdf.length, lastModified: 1_767_100_000_000 };
    const [a, b] = await Promise.all([api('thamdu2', 'POST', `/api/v1/meetings/${meetingId}/uploads`, body), api('thamdu2', 'POST', `/api/v1/meetings/${meetingId}/uploads`, body)]);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.body.uploadId, b.body.uploadId);
    await putParts(a.body, pdf);

    const path = `/api/v1/meetings/${meetingId}/uploads/${a.body.uploadId}/confirm`;
    const [first, second] = await Promise.all([api('thamdu2', 'POST', path, {}), api('thamdu2', 'POST', path, {})]);
    assert.deepEqual([first.status, second.status].sort(), [200, 201]);
    assert.equal(first.body.versionId, second.body.versionId);
    const versions = await hop.platform.database.db.selectFrom('document_version').select('id').where('document_id', '=', first.body.documentId).execute();
    assert.equal(versions.length, 1);
  });

  it('confirm of an unknown upload refused', async () => {
    const never = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads/${randomUUID()}/confirm`, {});
    assert.equal(never.status, 404);
    assert.equal(never.body.error.code, 'UPLOAD_NOT_FOUND');
    const garbage = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads/không-phải-id/confirm`, {});
    assert.equal(garbage.body.error.code, 'UPLOAD_NOT_FOUND');

    const started = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName: 'riêng.pdf', sizeBytes: 1000 });
    const other = await api('thamdu2', 'POST', `/api/v1/meetings/${meetingId}/uploads/${started.body.uploadId}/confirm`, {});
    assert.equal(other.status, 404, "someone else's upload");
    assert.equal(other.body.error.code, 'UPLOAD_NOT_FOUND');
  });

  it('expired uploads swept', async () => {
    const started = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName: 'bỏ dở.pdf', sizeBytes: 2000 });
    await putParts(started.body, randomBytes(2000));
    const row = await hop.platform.database.db.selectFrom('document_upload').selectAll().where('id', '=', started.body.uploadId).executeTakeFirstOrThrow();

    const swept = await sweepExpiredUploads({ db: hop.platform.database.db, storage: hop.platform.storage, log }, new Date(Date.now() + 25 * 3_600_000));

    assert.ok(swept.aborted >= 1);
    assert.equal(await hop.platform.database.db.selectFrom('document_upload').select('id').where('id', '=', row.id).executeTakeFirst(), undefined);
    await assert.rejects(hop.platform.storage.listUploadedParts(row.object_key, row.storage_upload_id));
    const late = await api('thamdu', 'POST', `/api/v1/meetings/${meetingId}/uploads/${row.id}/confirm`, {});
    assert.equal(late.body.error.code, 'UPLOAD_NOT_FOUND');
  });

  it('download link expires', async () => {
    const done = await upload('thamdu', 'Hết hạn.pdf', await makePdf(1));
    await processed('thamdu', done.documentId, 1);
    const link = await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download`);
    assert.equal(link.status, 200);
    await new Promise((resolve) => setTimeout(resolve, (LINK_SECONDS + 2) * 1000));
    const expired = await fetch(link.body.url);
    await expired.arrayBuffer();
    assert.equal(expired.status, 403);
  });

  it('who may list, upload and download', async () => {
    const done = await upload('chutri', 'Chương trình họp.pdf', await makePdf(1));
    await processed('chutri', done.documentId, 1);
    const download = (who: string) => api(who, 'GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download`);

    assert.equal((await download('duthinh')).status, 200, 'observers read');
    assert.equal((await api('duthinh', 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName: 'a.pdf', sizeBytes: 10 })).status, 403, 'observers do not upload');
    assert.equal((await download('khach')).status, 403, 'guests do not read documents');
    assert.equal((await download('ngoai')).status, 404, 'people not invited do not see the meeting');
    assert.equal((await api('ngoai', 'GET', `/api/v1/meetings/${meetingId}/documents`)).status, 404);
    assert.equal((await hop.requestAs(null, 'GET', `/api/v1/meetings/${meetingId}/documents`)).status, 401);
    assert.equal((await hop.request('GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download`)).status, 200, 'admin API key');
  });

  it('meeting-only documents wait for the start', async () => {
    const future = await upload('chutri', 'Dự thảo kết luận.pdf', await makePdf(1), { visibility: 'meeting_only' });
    await processed('chutri', future.documentId, 1);
    assert.equal((await listAs('thamdu')).some((item) => item.id === future.documentId), false, 'hidden before the start');
    assert.equal((await api('thamdu', 'GET', `/api/v1/meetings/${meetingId}/documents/${future.documentId}/download`)).status, 404);
    const seenByChair = (await listAs('chutri')).find((item) => item.id === future.documentId);
    assert.ok(seenByChair, 'the chair sees it');
    assert.ok(new Date(seenByChair.visibleFrom) > new Date());

    const running = await upload('chutri', 'Tài liệu tại cuộc họp.pdf', await makePdf(1), { visibility: 'meeting_only' }, pastMeetingId);
    await processed('chutri', running.documentId, 1, pastMeetingId);
    assert.ok((await listAs('thamdu', '', pastMeetingId)).some((item) => item.id === running.documentId), 'visible once the meeting started');
  });

  it('removed participant loses access', async () => {
    const done = await upload('chutri', 'Tài liệu mật.pdf', await makePdf(1));
    await processed('chutri', done.documentId, 1);
    assert.equal((await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents`)).status, 200);

    const meeting = await hop.request('GET', `/api/v1/meetings/${meetingId}`);
    const participantId = meeting.body.participants.find((p: any) => p.userId === people.thamdu2!.userId).id;
    const removed = await hop.request('PATCH', `/api/v1/meetings/${meetingId}`, { removeParticipantIds: [participantId] });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));

    assert.equal((await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents`)).status, 404);
    assert.equal((await api('thamdu2', 'GET', `/api/v1/meetings/${meetingId}/documents/${done.documentId}/download`)).status, 404);
  });
});
