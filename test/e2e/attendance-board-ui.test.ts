/**
 * The attendance board and the connections panel in headless Chromium on
 * loopback, without media. The secretary's unsaved mark survives live
 * updates, an absence without a reason is caught next to its field, the
 * wording follows the meeting's time and the language, the printed page
 * starts with the meeting's title, time and place, a participant gets only
 * their own row, and the meeting page's cap form checks its value itself and
 * refreshes the count of connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { createLocalAccount } from '../../gateway/auth/accounts.ts';
import { browserUnavailableReason, CHROMIUM_PATH } from '../support/browser.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';

const unavailable = await browserUnavailableReason();
if (unavailable && process.env.CI === 'true') throw new Error(`attendance board browser test cannot run under CI: ${unavailable}`);

const ZONE = 'Asia/Ho_Chi_Minh';
const password = 'mật khẩu đủ dài 2026';

describe('attendance board in the browser', { skip: unavailable ?? false, timeout: 240_000 }, () => {
  let hop: TestPlatform;
  let browser: Browser;
  let board: Page;
  let meeting: { id: string; startsAt: string; endsAt: string; participants: { id: string; name: string; inviteKey: string }[] };
  let chairHeaders: Record<string, string>;
  /** Uncaught errors of the page scripts; checked after the last step. */
  const pageErrors: string[] = [];

  async function openPage(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'vi-VN', timezoneId: ZONE });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    return page;
  }

  /** Signs `username` in through the login page of a fresh browser context and lands on `target`. */
  async function signIn(username: string, target: string): Promise<Page> {
    const page = await openPage(username);
    await page.goto(`${hop.baseUrl}/login.html?next=${encodeURIComponent(target)}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('#login-submit');
    await page.waitForURL(`${hop.baseUrl}${target}`);
    return page;
  }

  const row = (page: Page, name: string): Locator => page.locator('#rows tbody tr', { hasText: name });
  /** The status, method and note cells of a row (columns 4, 8 and 9). */
  const cell = (page: Page, name: string, column: number): Locator => row(page, name).locator(`td:nth-child(${column})`);

  before(async () => {
    hop = await startTestPlatform();
    const db = hop.platform.database.db;
    const unitId = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ' })).body.id as string;
    const people: Record<string, string> = {};
    const accounts: [string, string][] = [['chutri.board', 'Lê Văn Cường'], ['thuky.board', 'Trần Thị Bích'], ['thamdu.board', 'Phạm Thị Dung']];
    for (const [username, displayName] of accounts) {
      people[username] = (await createLocalAccount(db, { username, displayName, password, systemRole: 'member' })).userId;
      await db.insertInto('membership').values({ user_id: people[username]!, unit_id: unitId, position: null }).execute();
    }
    const room = await hop.request('POST', '/api/v1/meeting-rooms', { name: 'Phòng họp số 1', location: 'Tầng 2', unitId, capacity: 30 });
    assert.equal(room.status, 201, JSON.stringify(room.body));

    // Ten minutes in, fifty to go: the board is "during the meeting".
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        title: 'Họp giao ban tháng 12 về cải cách hành chính',
        mode: 'hybrid',
        meetingRoomId: room.body.id,
        startsAt: new Date(Date.now() - 10 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 50 * 60_000).toISOString(),
        participants: [
          { name: 'Lê Văn Cường', userId: people['chutri.board'], role: 'chair' },
          { name: 'Trần Thị Bích', userId: people['thuky.board'], role: 'secretary' },
          { name: 'Phạm Thị Dung', userId: people['thamdu.board'], role: 'participant' },
          { name: 'Hoàng Văn Em', role: 'participant' },
          { name: 'Võ Thị Giang', role: 'participant' },
          { name: 'Đỗ Minh Khang', role: 'participant' },
        ],
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meeting = created.body;

    const login = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username: 'chutri.board', password }, { 'x-forwarded-for': '127.0.5.10' });
    assert.equal(login.status, 200);
    chairHeaders = { cookie: /^(hop_session=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!, 'x-csrf-token': login.body.csrfToken as string };
    // The chair is marked present by the chair: one of six present, a rate of 16,7 %.
    const marked = await hop.requestAs(null, 'PUT', `/api/v1/meetings/${meeting.id}/attendance/${meeting.participants[0]!.id}`, { status: 'present_in_person' }, chairHeaders);
    assert.equal(marked.status, 200, JSON.stringify(marked.body));

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await hop?.stop();
  });

  it('shows the wording of a running meeting', async () => {
    board = await signIn('thuky.board', `/attendance.html?meeting=${meeting.id}`);
    await board.locator('#rows tbody tr').nth(5).waitFor();
    await board.locator('#live-state', { hasText: 'Cập nhật trực tiếp' }).waitFor();

    assert.equal(await board.textContent('#sum-rate'), '16,7%');
    assert.equal(await board.textContent('#sum-missing-label'), 'Chưa có mặt');
    assert.equal(await cell(board, 'Phạm Thị Dung', 4).textContent(), 'Chưa có mặt');
    const unmarked = row(board, 'Phạm Thị Dung').locator('select');
    assert.equal(await unmarked.inputValue(), '');
    assert.equal(await unmarked.evaluate((select: HTMLSelectElement) => select.selectedOptions[0]!.textContent), '— Chọn —');
    assert.equal(await cell(board, 'Lê Văn Cường', 8).textContent(), 'Chủ trì điểm danh');

    const time = (await board.textContent('#occurrence-time')) ?? '';
    const sameDay = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(meeting.startsAt)) === new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(meeting.endsAt));
    assert.equal(time.match(/\d{2}\/\d{2}\/\d{4}/g)?.length, sameDay ? 1 : 2, `the day is written once for a meeting within one day: ${time}`);
    assert.equal(await board.textContent('#meeting-place'), 'Phòng họp số 1, Tầng 2 (kết hợp trực tuyến)');

    await board.click('#language');
    await board.locator('#live-state', { hasText: 'Live' }).waitFor();
    assert.equal(await board.textContent('#sum-rate'), '16.7%');
    assert.equal(await cell(board, 'Phạm Thị Dung', 4).textContent(), 'Not present yet');
    await board.click('#language');
    await board.locator('#live-state', { hasText: 'Cập nhật trực tiếp' }).waitFor();
  });

  it('keeps an unsaved mark across live updates', async () => {
    const dung = row(board, 'Phạm Thị Dung');
    await dung.locator('select').selectOption('absent');
    const reason = dung.locator('input').first();
    assert.equal(await reason.getAttribute('required'), '', 'the reason of an absence is marked required');
    await reason.fill('Đi công tác tại huyện');
    await dung.locator('.mark-note', { hasText: 'Chưa lưu' }).waitFor();

    // Someone raises a hand: the board is sent again.
    const raised = await hop.requestAs(null, 'POST', `/api/v1/meetings/${meeting.id}/hand`, { inviteKey: meeting.participants[3]!.inviteKey, raised: true });
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    await board.locator('#hands li', { hasText: 'Hoàng Văn Em' }).waitFor();
    // The chair marks another row meanwhile: that row follows, the edited one does not.
    const late = await hop.requestAs(null, 'PUT', `/api/v1/meetings/${meeting.id}/attendance/${meeting.participants[4]!.id}`, { status: 'late' }, chairHeaders);
    assert.equal(late.status, 200, JSON.stringify(late.body));
    await cell(board, 'Võ Thị Giang', 4).filter({ hasText: 'Đến muộn' }).waitFor();
    assert.equal(await row(board, 'Võ Thị Giang').locator('select').inputValue(), 'late');
    assert.equal(await cell(board, 'Võ Thị Giang', 8).textContent(), 'Chủ trì điểm danh');

    assert.equal(await dung.locator('select').inputValue(), 'absent');
    assert.equal(await reason.inputValue(), 'Đi công tác tại huyện');
    assert.equal(await reason.evaluate((input) => input === document.activeElement), true, 'the reason keeps the focus');

    await dung.locator('button[type=submit]').click();
    await dung.locator('.mark-note', { hasText: 'Đã lưu' }).waitFor();
    assert.equal(await cell(board, 'Phạm Thị Dung', 4).textContent(), 'Vắng mặt có lý do');
    assert.equal(await cell(board, 'Phạm Thị Dung', 9).textContent(), 'Đi công tác tại huyện');
  });

  it('names the missing absence reason', async () => {
    const khang = row(board, 'Đỗ Minh Khang');
    await khang.locator('select').selectOption('absent');
    await khang.locator('button[type=submit]').click();
    const message = khang.locator('.field-error', { hasText: 'Hãy nhập lý do vắng mặt.' });
    await message.waitFor();
    const reason = khang.locator('input').first();
    assert.equal(await reason.getAttribute('aria-invalid'), 'true');
    assert.equal(await reason.evaluate((input) => input === document.activeElement), true, 'the reason gets the focus');
    assert.equal(await board.textContent('#error'), '', 'no page-wide message');
    const stored = await hop.platform.database.db.selectFrom('attendance_mark').select('status').where('participant_id', '=', meeting.participants[5]!.id).execute();
    assert.equal(stored.length, 0, 'nothing was sent');

    await reason.fill('Ốm');
    assert.equal(await message.isHidden(), false, 'the message stays until the next attempt');
    await khang.locator('button[type=submit]').click();
    await khang.locator('.mark-note', { hasText: 'Đã lưu' }).waitFor();
    assert.equal(await khang.locator('.field-error').first().isHidden(), true);
  });

  it('prints the title, time and place first', async () => {
    await board.emulateMedia({ media: 'print' });
    try {
      for (const selector of ['#meeting-title', '#occurrence-time', '#meeting-place', '#summary', '#rows']) {
        assert.equal(await board.isVisible(selector), true, `${selector} is printed`);
      }
      for (const selector of ['#hands-section', '#language', 'th.manage', '#live-state']) {
        assert.equal(await board.isVisible(selector), false, `${selector} is not printed`);
      }
      const header = await board.locator('header').boundingBox();
      const table = await board.locator('#rows').boundingBox();
      assert.ok(header, 'the header has a box');
      assert.ok(table, 'the table has a box');
      assert.ok(header.y < table.y, 'the header comes before the table');
    } finally {
      await board.emulateMedia({ media: 'screen' });
    }
  });

  it('participant sees only their own row', async () => {
    const own = await signIn('thamdu.board', `/attendance.html?meeting=${meeting.id}`);
    await own.locator('#own-view').waitFor();
    assert.equal(await own.locator('#rows tbody tr').count(), 1);
    assert.equal(await own.isVisible('#summary'), false, 'no counts of a single row');
    assert.equal(await own.isVisible('#hands-section'), false, 'no empty hand list while hands are up');
    assert.equal(await own.isVisible('#csv'), false);
    assert.equal(await own.isVisible('#xlsx'), false);
    assert.equal(await own.isVisible('th.manage'), false);
  });

  it('page without a meeting says so', async () => {
    const page = await openPage('no meeting');
    await page.goto(`${hop.baseUrl}/attendance.html`);
    await page.locator('#no-meeting', { hasText: 'Chưa chọn cuộc họp' }).waitFor();
    assert.equal(await page.getAttribute('#no-meeting a', 'href'), '/');
    assert.equal(await page.textContent('#no-meeting a'), 'Về trang chủ');
    assert.equal(await page.textContent('#error'), '');
  });

  it('cap form checks values and refreshes', async () => {
    const detail = await signIn('thuky.board', `/meeting.html?id=${meeting.id}`);
    const connected = detail.locator('#media-panel .media-connected');
    await connected.filter({ hasText: 'Đang kết nối: 0 / tối đa 200 điểm cầu' }).waitFor();
    assert.equal(await detail.locator('#media-panel form').evaluate((form: HTMLFormElement) => form.noValidate), true, 'the browser does not show its own bubble');

    for (const value of ['0', '10001', '2.5']) {
      await detail.fill('#media-max-connections', value);
      assert.equal(await detail.textContent('#media-status'), '', 'typing clears the last message');
      await detail.click('#media-save');
      await detail.locator('#media-status', { hasText: 'Hãy nhập một số nguyên từ 1 đến 10000.' }).waitFor();
    }

    await detail.fill('#media-max-connections', '500');
    await detail.click('#media-save');
    await detail.locator('#media-status', { hasText: 'Đã lưu.' }).waitFor();
    const warning = detail.locator('#media-panel .media-above-server');
    await warning.filter({ hasText: 'lớn hơn giới hạn của máy chủ (300 điểm cầu)' }).waitFor();

    // A participant connects: the count follows without a reload, and what is typed stays.
    await detail.fill('#media-max-connections', '400');
    await hop.platform.database.db
      .insertInto('media_session')
      .values({ janus_server: 'janus-test', session_id: '4242', meeting_id: meeting.id, participant_id: meeting.participants[3]!.id, token_hash: 'b'.repeat(64), opened_at: new Date() })
      .execute();
    await connected.filter({ hasText: 'Đang kết nối: 1 / tối đa 500 điểm cầu' }).waitFor({ timeout: 25_000 });
    assert.equal(await detail.inputValue('#media-max-connections'), '400');

    assert.equal((await hop.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {})).status, 200);
    await detail.click('#media-save');
    await detail.locator('#media-status', { hasText: 'Không lưu được giới hạn kết nối. Cuộc họp đã hủy.' }).waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
