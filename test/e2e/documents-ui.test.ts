/**
 * The meeting documents panel (web/documents.js) in headless Chromium on
 * loopback (no media), once on the embedded local store and once on the
 * S3-compatible test server, where the browser PUTs parts across origins.
 * An organiser uploads a PDF and a Vietnamese DOCX through the meeting page
 * and downloads them again; a three-part upload is cut off after its first
 * part and resumes without sending that part again; a renamed executable
 * shows its rejection reason; an observer sees the list without the upload
 * form, and a member of another unit gets "not found".
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page, type Request } from 'playwright-core';
import { createLocalAccount } from '../../gateway/auth/accounts.ts';
import { DEFAULT_PART_BYTES } from '../../lib/domain/document-uploads.ts';
import { browserUnavailableReason, CHROMIUM_PATH } from '../support/browser.ts';
import { makeDocx, makePdf } from '../support/documents.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';

const unavailable = await browserUnavailableReason();
if (unavailable && process.env.CI === 'true') throw new Error(`documents browser test cannot run under CI: ${unavailable}`);
const s3Endpoint = process.env.S3_ENDPOINT;
if (!s3Endpoint && process.env.CI === 'true') throw new Error('S3_ENDPOINT is required under CI');

const password = 'mật khẩu đủ dài 2026';
/** Names as people type them on Vietnamese keyboards; the page sends them in NFC. */
const pdfName = 'Tờ trình dự toán ngân sách.pdf';
const docxName = 'Báo cáo kinh tế – xã hội.docx';
const largeName = 'Số liệu thống kê điểm cầu.txt';
const executableName = 'Giấy mời họp.pdf';
/** Upload parts of the large file: two full parts of the server's part size and a short third one. */
const LARGE_PARTS = 3;

const files = { dir: '', pdf: '', docx: '', large: '', executable: '' };

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** UTF-8 Vietnamese text of exactly `size` bytes in lines, which the server detects as text/plain. */
function largeText(size: number): Buffer {
  const line = Buffer.from('Điểm cầu xã Hồng Vân: đường truyền ổn định, 24 người tham dự trực tuyến.\n', 'utf8');
  const text = Buffer.alloc(size, 0x20);
  for (let offset = 0; offset + line.length <= size; offset += line.length) line.copy(text, offset);
  text[size - 1] = 0x0a;
  return text;
}

before(async () => {
  files.dir = await mkdtemp(path.join(tmpdir(), 'hop-documents-ui-'));
  files.pdf = path.join(files.dir, pdfName);
  files.docx = path.join(files.dir, docxName);
  files.large = path.join(files.dir, largeName);
  files.executable = path.join(files.dir, executableName);
  await writeFile(files.pdf, await makePdf(3, 'Tờ trình dự toán ngân sách năm 2027'));
  await writeFile(files.docx, await makeDocx(2, 'Báo cáo tình hình kinh tế – xã hội'));
  await writeFile(files.large, largeText((LARGE_PARTS - 1) * DEFAULT_PART_BYTES + 1024 * 1024));
  // The start of the Node.js binary: an ELF executable behind a .pdf name.
  await writeFile(files.executable, (await readFile(process.execPath)).subarray(0, 256 * 1024));
});

after(async () => {
  if (files.dir) await rm(files.dir, { recursive: true, force: true });
});

/** Throws unless the S3 server answers a browser's CORS preflight for a part PUT from the gateway's origin. */
async function requireCors(endpoint: string, bucket: string, origin: string): Promise<void> {
  const response = await fetch(`${endpoint}/${bucket}/documents/cors-check?partNumber=1&uploadId=check`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'PUT' },
  });
  await response.arrayBuffer();
  if (!response.headers.get('access-control-allow-origin')) {
    throw new Error(
      `${endpoint} answered the CORS preflight with HTTP ${response.status} and no Access-Control-Allow-Origin, so browsers cannot upload parts to it. ` +
        'S3Proxy reads s3proxy.cors-allow-all at start: restart it with scripts/services/s3proxy.sh stop and start.',
    );
  }
}

interface StorageCase {
  name: string;
  env: Record<string, string | undefined>;
  skip: string | false;
}

const storages: StorageCase[] = [
  { name: 'local store', env: {}, skip: unavailable ?? false },
  {
    name: 'S3 store',
    env: {
      S3_ENDPOINT: s3Endpoint,
      S3_REGION: process.env.S3_REGION,
      S3_BUCKET: process.env.S3_BUCKET || 'hop-test',
      S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
    },
    skip: unavailable ?? (s3Endpoint ? false : 'S3_ENDPOINT is not set'),
  },
];

for (const storage of storages) {
  describe(`documents panel on the ${storage.name}`, { skip: storage.skip, timeout: 300_000 }, () => {
    let hop: TestPlatform;
    let browser: Browser;
    let meetingId = '';
    let organiserPage: Page;
    /** Uncaught errors of the page scripts; checked in the last step. */
    const pageErrors: string[] = [];

    async function account(username: string, displayName: string, unitId: string): Promise<string> {
      const db = hop.platform.database.db;
      const systemRole = username.startsWith('tochuc') ? 'organiser' : 'member';
      const { userId } = await createLocalAccount(db, { username, displayName, password, systemRole });
      await db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: 'chuyên viên' }).execute();
      return userId;
    }

    /** Signs in through the login page and lands on the meeting's detail page. */
    async function openMeetingAs(username: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      page.on('pageerror', (error) => pageErrors.push(`${username}: ${error.message}`));
      const target = `/meeting.html?id=${meetingId}`;
      await page.goto(`${hop.baseUrl}/login.html?next=${encodeURIComponent(target)}`);
      await page.fill('input[name=username]', username);
      await page.fill('input[name=password]', password);
      await page.click('#login-submit');
      await page.waitForURL(`${hop.baseUrl}${target}`);
      return page;
    }

    /** The upload form for a new document: the panel's last child (each document has its own for versions). */
    const newDocumentForm = (page: Page): Locator => page.locator('#documents > form.doc-upload');
    const documentItem = (page: Page, title: string): Locator => page.locator('#documents li.doc', { has: page.locator('.doc-title strong', { hasText: title }) });

    /**
     * Records, from now on, every value the progress bar of the new-document
     * form takes into `window.__uploadProgress` and every text of its status
     * line into `window.__uploadStatuses`. The bar's value property does not
     * show in mutations, so a frame callback samples it as well.
     */
    async function recordUploadState(page: Page): Promise<void> {
      // Source text, because tsx would wrap the named functions of a test function in a helper the page lacks.
      await page.evaluate(`(() => {
        const form = document.querySelector('#documents > form.doc-upload');
        const progress = form.querySelector('progress');
        const status = form.querySelector('p[role=status]');
        const values = [];
        // The text left by an earlier upload does not count.
        const statuses = [status.textContent];
        window.__uploadProgress = values;
        window.__uploadStatuses = statuses;
        const sample = () => {
          if (values.at(-1) !== progress.value) values.push(progress.value);
          if (statuses.at(-1) !== status.textContent) statuses.push(status.textContent);
          if (window.__uploadProgress === values) requestAnimationFrame(sample);
        };
        sample();
        new MutationObserver(sample).observe(form, { subtree: true, childList: true, characterData: true, attributes: true });
      })()`);
    }

    const recordedProgress = (page: Page): Promise<number[]> => page.evaluate('[...window.__uploadProgress]');

    /** Waits until the status line of the new-document form has shown `text` since the upload started. */
    async function waitForStatus(page: Page, text: string, timeout = 60_000): Promise<void> {
      await page.waitForFunction(`window.__uploadStatuses.slice(1).includes(${JSON.stringify(text)})`, undefined, { timeout });
    }

    async function chooseAndUpload(page: Page, file: string): Promise<void> {
      const form = newDocumentForm(page);
      await recordUploadState(page);
      await form.locator('input[type=file]').setInputFiles(file);
      await form.locator('button[type=submit]').click();
    }

    async function waitForUploaded(page: Page): Promise<void> {
      await waitForStatus(page, 'Đã tải lên. Hệ thống đang kiểm tra và xử lý tệp.');
      assert.equal(await newDocumentForm(page).locator('p[role=alert]').textContent(), '', 'no upload error');
    }

    /** Waits until the latest version of the document titled `title` is processed and shows its action buttons. */
    async function waitForReady(page: Page, title: string): Promise<Locator> {
      const item = documentItem(page, title);
      await item.locator('.doc-version .doc-actions button', { hasText: 'Tải xuống' }).first().waitFor({ timeout: 90_000 });
      return item;
    }

    /** Clicks "Tải xuống" of the document and returns the SHA-256 of the file the browser saved. */
    async function downloadedHash(page: Page, item: Locator): Promise<string> {
      const [download] = await Promise.all([page.waitForEvent('download'), item.locator('.doc-version > .doc-actions button', { hasText: 'Tải xuống' }).first().click()]);
      const failure = await download.failure();
      assert.equal(failure, null, `download of ${download.suggestedFilename()} failed`);
      return sha256(await readFile((await download.path())!));
    }

    before(async () => {
      hop = await startTestPlatform({ ...storage.env, HOP_DOCUMENT_MAX_BYTES: String(40 * 1024 * 1024) });
      if (storage.env.S3_ENDPOINT) await requireCors(storage.env.S3_ENDPOINT, storage.env.S3_BUCKET!, hop.baseUrl);
      const unitId = (await hop.request('POST', '/api/v1/units', { kind: 'district', name: 'UBND huyện A Lưới' })).body.id as string;
      const otherUnitId = (await hop.request('POST', '/api/v1/units', { kind: 'commune', name: 'UBND xã Hồng Vân' })).body.id as string;
      await account('tochuc.aluoi', 'Trần Thị Mai', unitId);
      const chairId = await account('chutri.aluoi', 'Nguyễn Văn Hùng', unitId);
      const observerId = await account('duthinh.aluoi', 'Phạm Văn Dự', unitId);
      await account('canbo.hongvan', 'Hồ Văn Khiêm', otherUnitId);

      const start = new Date(Date.now() + 2 * 24 * 3_600_000);
      const created = await hop.request(
        'POST',
        '/api/v1/meetings',
        meetingRequest({
          unitId,
          title: 'Họp thông qua dự toán ngân sách huyện A Lưới',
          startsAt: start.toISOString(),
          endsAt: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
          agenda: [{ title: 'Dự toán ngân sách năm 2027', plannedMinutes: 60 }],
          participants: [
            { name: 'Nguyễn Văn Hùng', userId: chairId, role: 'chair' },
            { name: 'Phạm Văn Dự', userId: observerId, role: 'observer' },
          ],
        }),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      meetingId = created.body.id;

      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });

    after(async () => {
      await browser?.close();
      if (!hop) return;
      if (hop.platform.storage.kind === 's3' && meetingId) {
        for (const object of await hop.platform.storage.list(`documents/${meetingId}/`)) await hop.platform.storage.delete(object.key);
      }
      await hop.stop();
    });

    it('organiser uploads a PDF and a DOCX', async () => {
      organiserPage = await openMeetingAs('tochuc.aluoi');
      const page = organiserPage;
      await page.locator('#documents p.muted', { hasText: 'Chưa có tài liệu nào.' }).waitFor();

      for (const file of [files.pdf, files.docx]) {
        await chooseAndUpload(page, file);
        await waitForUploaded(page);
        // The bar may still be full from the upload before, and the new upload empties it first.
        const values = await recordedProgress(page);
        assert.ok(values.includes(0), `progress of ${path.basename(file)} starts empty: ${values.join(', ')}`);
        assert.equal(values.at(-1), 1, `progress of ${path.basename(file)} ends full: ${values.join(', ')}`);
      }

      const pdf = await waitForReady(page, 'Tờ trình dự toán ngân sách');
      const docx = await waitForReady(page, 'Báo cáo kinh tế – xã hội');
      assert.match(await pdf.locator('.doc-version').first().textContent() ?? '', /Phiên bản 1 · Trần Thị Mai · .* · 3 trang/);
      assert.match(await docx.locator('.doc-version').first().textContent() ?? '', /Phiên bản 1 · Trần Thị Mai · .* · 2 trang/);
      assert.equal(await pdf.locator('.doc-version .badge').count(), 0, 'no processing or rejected badge on the PDF');
      assert.equal(await docx.locator('.doc-version .badge').count(), 0, 'no processing or rejected badge on the DOCX');
      assert.equal(await pdf.locator('img.doc-thumb').count(), 1, 'the PDF has a thumbnail');
      assert.equal(await docx.locator('img.doc-thumb').count(), 1, 'the DOCX has a thumbnail of its PDF view');
    });

    it('downloads equal the uploaded files', async () => {
      const page = organiserPage;
      const pdf = documentItem(page, 'Tờ trình dự toán ngân sách');
      const docx = documentItem(page, 'Báo cáo kinh tế – xã hội');
      assert.equal(await downloadedHash(page, pdf), sha256(await readFile(files.pdf)), 'PDF downloaded unchanged');
      assert.equal(await downloadedHash(page, docx), sha256(await readFile(files.docx)), 'DOCX downloaded unchanged');
    });

    it('DOCX opens as PDF view', async () => {
      const page = organiserPage;
      const docx = documentItem(page, 'Báo cáo kinh tế – xã hội');
      const view = docx.locator('.doc-version > .doc-actions button', { hasText: 'Xem' });
      assert.equal(await view.count(), 1, 'the DOCX offers its PDF view');
      const [popup] = await Promise.all([page.waitForEvent('popup'), view.click()]);
      await popup.waitForURL((url) => url.href !== 'about:blank');
      const response = await popup.request.get(popup.url());
      assert.equal(response.status(), 200);
      assert.equal(response.headers()['content-type'], 'application/pdf');
      const body = await response.body();
      assert.equal(body.subarray(0, 5).toString('latin1'), '%PDF-', 'the view is a PDF');
      await popup.close();
    });

    it('upload resumes after a dropped connection', async () => {
      const page = organiserPage;
      const isPartUrl = (url: URL) => /[?&](part|partNumber)=\d+/.test(url.search);
      const isPartPut = (request: Request) => request.method() === 'PUT' && isPartUrl(new URL(request.url()));
      const partNumberOf = (request: Request) => Number(/[?&](?:part|partNumber)=(\d+)/.exec(request.url())![1]);
      const attempts = new Map<number, number>();
      const stored = new Map<number, number>();
      let firstStored!: () => void;
      const firstPartStored = new Promise<void>((resolve) => (firstStored = resolve));
      page.on('request', (request) => {
        if (isPartPut(request)) attempts.set(partNumberOf(request), (attempts.get(partNumberOf(request)) ?? 0) + 1);
      });
      page.on('requestfinished', async (request) => {
        if (!isPartPut(request)) return;
        const response = await request.response();
        if (response?.status() !== 200) return;
        stored.set(partNumberOf(request), (stored.get(partNumberOf(request)) ?? 0) + 1);
        if (partNumberOf(request) === 1) firstStored();
      });

      // Part 1 goes through. The others wait until it is stored and are then cut off as if the network had
      // dropped, until a retry of the page has been cut off as well.
      let connected = true;
      const cutOff = new Map<number, number>();
      let retryCutOff!: () => void;
      const retriedWhileOffline = new Promise<void>((resolve) => (retryCutOff = resolve));
      await page.route(isPartUrl, async (route) => {
        const request = route.request();
        const partNumber = partNumberOf(request);
        if (request.method() !== 'PUT' || partNumber === 1) return route.continue();
        if (connected && cutOff.size === 0) {
          await firstPartStored;
          connected = false;
        }
        if (connected) return route.continue();
        cutOff.set(partNumber, (cutOff.get(partNumber) ?? 0) + 1);
        if (cutOff.get(partNumber)! >= 2) retryCutOff();
        return route.abort('internetdisconnected');
      });

      await chooseAndUpload(page, files.large);
      await waitForStatus(page, 'Mất kết nối. Đang thử tải tiếp…');
      await retriedWhileOffline;
      connected = true;

      await waitForUploaded(page);
      await page.unroute(isPartUrl);
      assert.equal(attempts.get(1), 1, `part 1 was sent once: ${JSON.stringify([...attempts])}`);
      assert.deepEqual(
        [...stored.entries()].sort(([a], [b]) => a - b),
        Array.from({ length: LARGE_PARTS }, (_, index) => [index + 1, 1]),
        'each part was stored exactly once',
      );
      const values = await recordedProgress(page);
      assert.ok(
        values.some((value) => value > 0 && value < 1),
        `the progress bar moved through values between empty and full: ${values.join(', ')}`,
      );

      const item = await waitForReady(page, 'Số liệu thống kê điểm cầu');
      assert.equal(await downloadedHash(page, item), sha256(await readFile(files.large)), 'resumed file downloaded unchanged');
    });

    it('renamed executable shows the rejection', async () => {
      const page = organiserPage;
      await chooseAndUpload(page, files.executable);
      await waitForUploaded(page);
      const item = documentItem(page, 'Giấy mời họp');
      await item.locator('.doc-version .badge', { hasText: 'Bị từ chối' }).waitFor({ timeout: 90_000 });
      assert.equal(
        await item.locator('.doc-version .error').textContent(),
        'Nội dung tệp thuộc loại không được phép (ví dụ tệp chương trình chạy được). Tệp đã bị từ chối.',
      );
      assert.equal(await item.locator('.doc-actions').count(), 0, 'a rejected version offers no download');
    });

    it('observer reads without the upload form', async () => {
      const page = await openMeetingAs('duthinh.aluoi');
      await waitForReady(page, 'Tờ trình dự toán ngân sách');
      await waitForReady(page, 'Báo cáo kinh tế – xã hội');
      assert.equal(await documentItem(page, 'Giấy mời họp').count(), 0, 'the rejected document is hidden from readers');
      assert.equal(await page.locator('#documents form.doc-upload').count(), 0, 'no upload form for an observer');
      assert.equal(await page.locator('#documents details summary', { hasText: 'Tải phiên bản mới' }).count(), 0, 'no new version form for an observer');
      await page.context().close();
    });

    it('member of another unit gets not found', async () => {
      const page = await openMeetingAs('canbo.hongvan');
      await page.locator('#detail-alert', { hasText: 'Không tìm thấy cuộc họp.' }).waitFor();
      assert.equal(await page.isHidden('#detail'), true, 'the meeting details stay hidden');
      assert.equal(await page.locator('#documents li.doc').count(), 0, 'no documents listed');
      await page.context().close();
      assert.deepEqual(pageErrors, [], 'no uncaught errors in the page scripts');
    });
  });
}
