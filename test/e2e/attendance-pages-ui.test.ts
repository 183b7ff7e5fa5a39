/**
 * The attendance pages that need no media, in headless Chromium on loopback:
 * QR check-in of a second code scanned into the same tab, the admin page's
 * meeting rooms with their kiosk links and kiosk keys, the kiosk page running
 * on a kiosk key with nobody signed in and its room list, the unit report in
 * an English browser (dd/mm/yyyy dates, decimal comma, permitted units only,
 * both CSV tables), and the links to the board from the calendar and the
 * meeting page of an in-person meeting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createLocalAccount } from '../../gateway/auth/accounts.ts';
import { CHECK_IN_STEP_MS, issueCheckInCode } from '../../lib/domain/attendance/check-in-code.ts';
import { browserUnavailableReason, CHROMIUM_PATH } from '../support/browser.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';

const unavailable = await browserUnavailableReason();
if (unavailable && process.env.CI === 'true') throw new Error(`attendance pages browser test cannot run under CI: ${unavailable}`);

const password = 'mật khẩu đủ dài 2026';
const ZONE = 'Asia/Ho_Chi_Minh';
const title = 'Họp triển khai công tác cải cách hành chính quý III';

function localDate(instant: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}

/** "07/12/2026" from "2026-12-07". */
function dayFirst(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

describe('attendance pages in the browser', { skip: unavailable ?? false, timeout: 240_000 }, () => {
  let hop: TestPlatform;
  let browser: Browser;
  let unitId = '';
  let roomId = '';
  let emptyRoomId = '';
  let meetingId = '';
  let occurrenceId = '';
  let startsAt = 0;
  let kioskUrl = '';
  /** Uncaught errors of the page scripts; checked in the last step. */
  const pageErrors: string[] = [];

  async function newContext(locale = 'vi-VN'): Promise<BrowserContext> {
    return browser.newContext({ viewport: { width: 1280, height: 900 }, locale, timezoneId: ZONE });
  }

  async function openPage(context: BrowserContext, name: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    return page;
  }

  /** Signs `username` in through the login page in a new context and lands on `target`. */
  async function signIn(username: string, target: string, locale = 'vi-VN'): Promise<Page> {
    const page = await openPage(await newContext(locale), username);
    await page.goto(`${hop.baseUrl}/login.html?next=${encodeURIComponent(target)}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('#login-submit');
    await page.waitForURL((url) => url.pathname === new URL(target, hop.baseUrl).pathname);
    return page;
  }

  async function person(username: string, displayName: string, systemRole: 'admin' | 'organiser' | 'member', unit: string | null): Promise<string> {
    const db = hop.platform.database.db;
    const { userId } = await createLocalAccount(db, { username, displayName, password, systemRole });
    if (unit) await db.insertInto('membership').values({ user_id: userId, unit_id: unit, position: null }).execute();
    return userId;
  }

  before(async () => {
    hop = await startTestPlatform();
    unitId = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ' })).body.id;
    const otherUnit = (await hop.request('POST', '/api/v1/units', { kind: 'commune', name: 'UBND xã Tân Lập' })).body.id;
    await person('quantri', 'Nguyễn Thị Hòa', 'admin', null);
    await person('tochuc', 'Võ Thị Lan', 'organiser', unitId);
    await person('hai.nv', 'Nguyễn Văn Hải', 'organiser', otherUnit);
    const secretary = await person('thuky', 'Trần Thị Bích', 'member', unitId);
    const member = await person('thamdu', 'Trần Quốc Bảo', 'member', unitId);
    const absentee = await person('vangmat', 'Hoàng Thị Thu', 'member', unitId);

    const room = await hop.request('POST', '/api/v1/meeting-rooms', { name: 'Phòng họp số 1', unitId, location: 'Tầng 2, 22 Tôn Đức Thắng', capacity: 30 });
    assert.equal(room.status, 201, JSON.stringify(room.body));
    roomId = room.body.id;
    emptyRoomId = (await hop.request('POST', '/api/v1/meeting-rooms', { name: 'Hội trường tầng 3', unitId })).body.id;

    startsAt = Date.now() - 10 * 60_000;
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        title,
        mode: 'in_person',
        meetingRoomId: roomId,
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(Date.now() + 50 * 60_000).toISOString(),
        participants: [
          { name: 'Trần Thị Bích', userId: secretary, role: 'secretary' },
          { name: 'Trần Quốc Bảo', userId: member, role: 'participant' },
          { name: 'Hoàng Thị Thu', userId: absentee, role: 'participant' },
          { name: 'Lê Văn Cường', email: 'cuong@example.gov.vn', role: 'participant' },
          { name: 'Phạm Thị Dung', email: 'dung@example.gov.vn', role: 'guest' },
        ],
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meetingId = created.body.id;
    occurrenceId = (await hop.platform.database.db.selectFrom('meeting_occurrence').select('id').where('meeting_id', '=', meetingId).executeTakeFirstOrThrow()).id;
    const delegated = await hop.request('PUT', `/api/v1/meetings/${meetingId}/attendance/${created.body.participants[3].id}`, { status: 'delegated', delegateName: 'Ngô Thị Hạnh' });
    assert.equal(delegated.status, 200, JSON.stringify(delegated.body));

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await hop?.stop();
  });

  it('check-in page sends a newly scanned code', async () => {
    const secret = hop.platform.joinTokenSecret;
    const first = issueCheckInCode(roomId, occurrenceId, new Date(), secret).code;
    const page = await signIn('thamdu', `/checkin.html#${first}`);
    await page.locator('#result', { hasText: 'Đã ghi nhận bạn có mặt tại cuộc họp' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the spent code leaves the address');

    // A second scan into the same tab changes only the fragment; the page must send it too.
    const second = issueCheckInCode(roomId, occurrenceId, new Date(Date.now() - CHECK_IN_STEP_MS), secret).code;
    await page.evaluate((code) => {
      location.hash = code;
    }, second);
    await page.locator('#result', { hasText: 'Bạn đã điểm danh lúc' }).waitFor();
    assert.match(await page.textContent('#result') ?? '', new RegExp(title));
    await page.context().close();
  });

  it('admin page lists rooms and issues a kiosk key', async () => {
    const page = await signIn('quantri', '/admin.html');
    const room = page.locator(`#rooms li[data-room-id="${roomId}"]`);
    await room.waitFor();
    assert.match(await room.textContent() ?? '', /Phòng họp số 1/);
    assert.equal(await room.locator('code').textContent(), `${hop.baseUrl}/kiosk.html?room=${roomId}`);
    assert.equal(await room.locator('a.kiosk-link').getAttribute('href'), `/kiosk.html?room=${roomId}`);

    await room.getByRole('button', { name: 'Cấp khóa kiosk' }).click();
    const issued = room.locator('.created input');
    await issued.waitFor();
    kioskUrl = await issued.inputValue();
    assert.match(kioskUrl, new RegExp(`/kiosk\\.html\\?room=${roomId}#key=hop_[0-9a-f]{8}_`));
    const key = page.locator('#api-keys li', { hasText: 'Kiosk – Phòng họp số 1' });
    await key.waitFor();
    assert.match(await key.textContent() ?? '', /Kiosk của phòng họp Phòng họp số 1/);

    await page.fill('#room-form input[name=name]', 'Phòng họp trực tuyến số 5');
    await page.selectOption('#room-unit', unitId);
    await page.fill('#room-form input[name=capacity]', '12');
    await page.click('#room-form button[type=submit]');
    await page.locator('#rooms li', { hasText: 'Phòng họp trực tuyến số 5' }).waitFor();
    assert.match(await page.locator('#rooms li', { hasText: 'Phòng họp trực tuyến số 5' }).textContent() ?? '', /12 chỗ/);
    await page.context().close();
  });

  it('kiosk runs on its key without sign-in', async () => {
    const context = await newContext();
    const page = await openPage(context, 'kiosk');
    await page.goto(kioskUrl);
    await page.locator('#qr svg').waitFor();
    assert.equal(new URL(page.url()).pathname, '/kiosk.html', 'the kiosk is not sent to the sign-in page');
    assert.equal(new URL(page.url()).hash, '', 'the key leaves the address bar');
    assert.equal(await page.textContent('#room'), 'Phòng họp số 1');
    assert.equal(await page.textContent('#meeting'), title);
    // Present as the board counts: Bảo by QR and Cường by delegation, of 5 invited.
    assert.equal(await page.textContent('#count'), '2/5');
    assert.equal(await page.textContent('#count-room'), '1');
    assert.equal(await page.textContent('#count-online'), '0');

    await page.reload();
    await page.locator('#qr svg').waitFor();
    assert.equal(await page.textContent('#room'), 'Phòng họp số 1');

    // Without ?room= a screen with one room's key goes to that room.
    await page.goto(`${hop.baseUrl}/kiosk.html`);
    await page.waitForURL(`${hop.baseUrl}/kiosk.html?room=${roomId}`);
    await page.locator('#qr svg').waitFor();
    await context.close();
  });

  it('kiosk asks for a key instead of sign-in', async () => {
    const page = await openPage(await newContext(), 'anonymous kiosk');
    await page.goto(`${hop.baseUrl}/kiosk.html?room=${emptyRoomId}`);
    await page.locator('#key-panel').waitFor();
    assert.equal(new URL(page.url()).pathname, '/kiosk.html');
    assert.match(await page.textContent('#key-panel') ?? '', /chưa có khóa kiosk/);
    await page.fill('#key-input', 'không phải khóa');
    await page.click('#key-form button[type=submit]');
    await page.locator('#error', { hasText: 'Khóa kiosk phải có dạng' }).waitFor();
    await page.context().close();
  });

  it('kiosk without room lists meeting rooms', async () => {
    const page = await signIn('tochuc', '/kiosk.html');
    const rooms = page.locator('#rooms li a');
    await rooms.first().waitFor();
    assert.deepEqual(await rooms.allTextContents(), ['Hội trường tầng 3', 'Phòng họp số 1', 'Phòng họp trực tuyến số 5']);
    assert.equal(await page.textContent('#picker h2'), 'Chọn phòng họp');

    await page.click('#rooms a:has-text("Hội trường tầng 3")');
    await page.waitForURL(`${hop.baseUrl}/kiosk.html?room=${emptyRoomId}`);
    await page.locator('#error', { hasText: 'Hiện không có cuộc họp nào tại phòng này.' }).waitFor();
    assert.equal(await page.textContent('#room'), 'Hội trường tầng 3', 'an empty room still shows its name');
    assert.equal(await page.locator('#counts').isVisible(), false);
    await page.context().close();
  });

  it('unit report in an English browser', async () => {
    const page = await signIn('tochuc', '/attendance-report.html', 'en-US');
    await page.waitForFunction(() => (document.getElementById('unit') as HTMLSelectElement).options.length > 0);
    // Tân Lập is another unit's: its report would be refused, so it is not offered.
    assert.deepEqual(await page.locator('#unit option').allTextContents(), ['Sở Nội vụ']);
    assert.equal(await page.inputValue('#to'), dayFirst(localDate(Date.now())));
    assert.match(await page.inputValue('#from'), /^\d{2}\/\d{2}\/\d{4}$/);
    const margin = await page.locator('main').evaluate((main) => getComputedStyle(main).paddingLeft);
    assert.notEqual(margin, '0px', 'the page has margins');

    await page.fill('#from', '31/02/2026');
    await page.click('#show');
    await page.locator('#error', { hasText: 'ngày/tháng/năm' }).waitFor();

    await page.fill('#from', dayFirst(localDate(startsAt)));
    await page.click('#show');
    await page.locator('#by-unit tr').nth(1).waitFor();
    const unitRow = page.locator('#by-unit tr', { hasText: 'Sở Nội vụ' });
    // Three people of Sở Nội vụ were invited and Bảo came: one in three.
    assert.deepEqual(await unitRow.locator('td').allTextContents(), ['Sở Nội vụ', '3', '1', '33,3']);
    assert.equal(await page.locator('#chart rect').count(), 1);
    assert.equal(await page.locator('#chart .bar-value').textContent(), '40%');
    assert.equal(await page.locator('#chart .bar-date').textContent(), dayFirst(localDate(startsAt)).slice(0, 5));

    const unitsCsv = await page.getAttribute('#csv-units', 'href');
    const peopleCsv = await page.getAttribute('#csv-people', 'href');
    assert.match(unitsCsv ?? '', /table=units/);
    assert.match(peopleCsv ?? '', /table=people/);
    const download = await page.evaluate(async (href) => {
      const bytes = new Uint8Array(await (await fetch(href!)).arrayBuffer());
      return { head: [...bytes.subarray(0, 3)], text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) };
    }, unitsCsv);
    assert.deepEqual(download.head, [0xef, 0xbb, 0xbf], 'the CSV starts with the UTF-8 byte order mark');
    assert.match(download.text, /^\uFEFFĐơn vị,Số lượt được mời,Số lượt có mặt,Tỷ lệ tham dự \(%\)\r\n/);
    assert.match(download.text, /\r\nSở Nội vụ,3,1,"33,3"\r\n/);

    await page.click('#language');
    assert.deepEqual(await unitRow.locator('td').allTextContents(), ['Sở Nội vụ', '3', '1', '33.3']);
    await page.click('#language');
    await page.context().close();
  });

  it('calendar and meeting page link the board', async () => {
    const date = localDate(startsAt);
    const page = await signIn('thuky', `/calendar.html?view=day&date=${date}`);
    const link = page.locator(`.cal-item[data-meeting-id="${meetingId}"] a.cal-attendance`).first();
    await link.waitFor();
    assert.equal(await link.textContent(), 'Điểm danh');
    assert.equal(await link.getAttribute('href'), `/attendance.html?meeting=${meetingId}`);

    await page.goto(`${hop.baseUrl}/meeting.html?id=${meetingId}`);
    const board = page.locator('#attendance-board');
    await board.waitFor();
    assert.equal(await board.textContent(), 'Điểm danh');
    await board.click();
    await page.waitForURL(`${hop.baseUrl}/attendance.html?meeting=${meetingId}`);
    await page.context().close();
  });

  it('pages ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
