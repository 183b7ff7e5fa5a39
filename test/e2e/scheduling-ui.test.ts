/**
 * The scheduling screens in headless Chromium on loopback (no media). An
 * organiser signs in and creates a weekly meeting with an agenda and a
 * physical room through the form. The test finds it in the week and month
 * views, books the room a second time to get the clash, confirms a people
 * clash, marks a short-notice meeting urgent, edits one, postpones the weekly
 * meeting and cancels one of its occurrences.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { browserUnavailableReason, CHROMIUM_PATH } from '../support/browser.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { SEED_PASSWORD, seedScheduling, type SchedulingSeed } from '../support/scheduling-seed.ts';

const unavailable = await browserUnavailableReason();
if (unavailable && process.env.CI === 'true') throw new Error(`scheduling browser test cannot run under CI: ${unavailable}`);

const ZONE = 'Asia/Ho_Chi_Minh';

function localDate(instant: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}

/** "07/12/2026" from "2026-12-07": the form's date fields read and show dates day first. */
function dayFirst(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

function addDays(date: string, days: number): string {
  const value = new Date(`${date}T00:00:00Z`);
  value.setUTCDate(value.getUTCDate() + days);
  return value.toISOString().slice(0, 10);
}

/**
 * Returns the first Monday at least 15 days from today in Hà Nội: the whole first week
 * lies ahead, with more than 3 working days of notice even over Tết.
 */
function firstMondayAhead(): string {
  let date = addDays(localDate(Date.now()), 15);
  while (new Date(`${date}T00:00:00Z`).getUTCDay() !== 1) date = addDays(date, 1);
  return date;
}

describe('scheduling screens in the browser', { skip: unavailable ?? false, timeout: 180_000 }, () => {
  let hop: TestPlatform;
  let browser: Browser;
  let page: Page;
  let seed: SchedulingSeed;
  let meetingId = '';
  /** Uncaught errors of the page scripts; checked after the last step. */
  const pageErrors: string[] = [];
  const monday = firstMondayAhead();
  const wednesday = addDays(monday, 2);
  const title = 'Giao ban tuần Sở Thông tin và Truyền thông';

  async function fillPersonSearch(query: string, expectedName: string): Promise<void> {
    await page.fill('#person-search', query);
    const result = page.locator('#people-results li', { hasText: expectedName });
    await result.waitFor();
    await result.locator('button.add-person').click();
    await page.locator('#selected-people li', { hasText: expectedName }).waitFor();
  }

  before(async () => {
    // The notice rule of Decision 45/2018/QĐ-TTg is on, as in production, for the urgent offer.
    hop = await startTestPlatform({ HOP_MIN_NOTICE_WORKING_DAYS: '3' });
    seed = await seedScheduling(hop);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: ZONE });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await hop?.stop();
  });

  it('organiser signs in to the calendar', async () => {
    await page.goto(`${hop.baseUrl}/calendar.html`);
    await page.waitForURL(/\/login\.html/);
    await page.fill('input[name=username]', seed.organiser.username);
    await page.fill('input[name=password]', SEED_PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(/\/calendar\.html/);
    await page.waitForFunction(() => document.getElementById('signed-in-as')?.textContent !== '');
    assert.equal(await page.textContent('#signed-in-as'), seed.organiser.displayName);
    await page.locator('#calendar .cal-day').first().waitFor();
    assert.equal(await page.locator('#calendar .cal-day').count(), 7, 'the week view has seven days');
    const headings = await page.locator('#calendar .cal-weekday').allTextContents();
    assert.deepEqual(headings, ['Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ nhật']);
  });

  it('creates a weekly meeting through the form', async () => {
    await page.goto(`${hop.baseUrl}/meeting-form.html`);
    await page.waitForFunction(() => (document.getElementById('unit') as HTMLSelectElement).options.length > 0);
    assert.equal(await page.locator('#unit option:checked').textContent(), 'Sở Thông tin và Truyền thông');
    await page.fill('#title', title);
    await page.fill('#description', 'Đánh giá kết quả tuần, triển khai nhiệm vụ tuần tới.');
    assert.match(await page.inputValue('#start-date'), /^\d{2}\/\d{2}\/\d{4}$/, 'the form opens with a day-first date');
    // Dates are typed day first whatever the browser's language; "7.12.2026" is rewritten as "07/12/2026".
    const [year, month, day] = monday.split('-');
    await page.fill('#start-date', `${Number(day)}.${Number(month)}.${year}`);
    await page.dispatchEvent('#start-date', 'change');
    await page.press('#start-date', 'Tab');
    assert.equal(await page.inputValue('#start-date'), dayFirst(monday));
    assert.equal(await page.inputValue('#end-date'), dayFirst(monday), 'the end date follows the start date');
    // Times are typed on the 24-hour clock; "8h" is read as 08:00.
    await page.fill('#start-time', '8h');
    await page.press('#start-time', 'Tab');
    assert.equal(await page.inputValue('#start-time'), '08:00');
    await page.fill('#end-date', dayFirst(monday));
    await page.fill('#end-time', '10:00');
    await page.dispatchEvent('#end-time', 'change');
    assert.equal(await page.textContent('#duration'), `Thứ Hai, ${dayFirst(monday)} 08:00 – 10:00 · Thời lượng: 2 giờ`);

    await page.check('input[name=mode][value=in_person]');
    await page.waitForFunction(() => (document.getElementById('room') as HTMLSelectElement).options.length > 1);
    await page.selectOption('#room', seed.rooms.large);

    await page.click('#agenda-add');
    await page.fill('#agenda .agenda-row:nth-child(1) [name=agenda-title]', 'Triển khai nhiệm vụ tuần tới');
    await page.fill('#agenda .agenda-row:nth-child(1) [name=agenda-presenter]', 'Nguyễn Văn Hùng');
    await page.fill('#agenda .agenda-row:nth-child(1) [name=agenda-minutes]', '45');
    await page.click('#agenda-add');
    await page.fill('#agenda .agenda-row:nth-child(2) [name=agenda-title]', 'Báo cáo kết quả tuần');
    await page.fill('#agenda .agenda-row:nth-child(2) [name=agenda-minutes]', '60');
    await page.click('#agenda .agenda-row:nth-child(2) .up');
    const agendaTitles = await page.locator('#agenda [name=agenda-title]').evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
    assert.deepEqual(agendaTitles, ['Báo cáo kết quả tuần', 'Triển khai nhiệm vụ tuần tới'], 'moving up reorders the agenda');
    assert.match((await page.textContent('#agenda-total')) ?? '', /105 phút \/ thời lượng cuộc họp: 120 phút/);

    // The search ignores tone marks: "nguyen van hung" finds "Nguyễn Văn Hùng".
    await fillPersonSearch('nguyen van hung', 'Nguyễn Văn Hùng');
    await page.locator('#selected-people li', { hasText: 'Nguyễn Văn Hùng' }).locator('select[name=role]').selectOption('chair');
    await fillPersonSearch('le thi thu ha', 'Lê Thị Thu Hà');
    await page.locator('#selected-people li', { hasText: 'Lê Thị Thu Hà' }).locator('select[name=role]').selectOption('secretary');
    await page.click('#add-guest');
    await page.fill('#guests .guest-row [name=guest-name]', 'Đoàn Minh Quân');
    await page.fill('#guests .guest-row [name=guest-contact]', 'quan.dm@vnpt.example.vn');

    await page.selectOption('#recurrence-kind', 'WEEKLY');
    assert.equal(await page.isChecked('#weekdays input[value=MO]'), true, 'the weekday of the start is chosen');
    await page.check('#weekdays input[value=WE]');
    await page.check('input[name=recurrence-end][value=count]');
    await page.fill('#count', '6');
    await page.locator('#recurrence-preview li').nth(5).waitFor();
    assert.equal(await page.textContent('#rrule-text'), 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6');
    const preview = await page.locator('#recurrence-preview li').allTextContents();
    assert.equal(preview.length, 6);
    assert.match(preview[0]!, new RegExp(`^Thứ Hai, ${monday.slice(8, 10)}/${monday.slice(5, 7)}/${monday.slice(0, 4)} 08:00 – 10:00$`));
    assert.match(preview[1]!, /^Thứ Tư, /);

    await page.check('input[name=reminder-mode][value=custom]');
    await page.uncheck('#reminder-picks input[value="30"]');
    await page.check('#reminder-picks input[value="60"]');

    // The calendar button opens the browser's picker, and a date picked there is shown day first.
    const endPicker = page.locator('#end-date + button.date-picker-button');
    await endPicker.click();
    assert.equal(await endPicker.isVisible(), true, 'the browser opened its picker');
    await page.keyboard.press('Escape');
    await page.locator('#end-date ~ input.date-picker-proxy').evaluate((proxy, date) => {
      (proxy as HTMLInputElement).value = date;
      proxy.dispatchEvent(new Event('change'));
    }, addDays(monday, 1));
    assert.equal(await page.inputValue('#end-date'), dayFirst(addDays(monday, 1)));
    await page.fill('#end-date', dayFirst(monday));
    await page.dispatchEvent('#end-date', 'change');

    // 31 February does not exist, so the form shows an error and sends nothing.
    await page.fill('#end-date', `31/02/${monday.slice(0, 4)}`);
    await page.press('#end-date', 'Tab');
    assert.match((await page.getAttribute('#end-date', 'class')) ?? '', /invalid/);
    await page.click('#save-schedule');
    await page.locator('#error-times', { hasText: 'Ngày không hợp lệ' }).waitFor();
    assert.match(page.url(), /meeting-form\.html/);
    await page.fill('#end-date', dayFirst(monday));
    await page.press('#end-date', 'Tab');

    await page.click('#save-schedule');
    await page.waitForURL(/\/meeting\.html\?id=/);
    meetingId = new URL(page.url()).searchParams.get('id')!;
    await page.locator('#meeting-title', { hasText: title }).waitFor();
    assert.match((await page.textContent('#saved-box')) ?? '', /Đã lưu cuộc họp/);
    assert.match((await page.textContent('#facts')) ?? '', /Phòng họp số 1/);
    assert.equal(await page.locator('#occurrences li').count(), 6);
    assert.deepEqual(await page.locator('#agenda-list li').allTextContents(), [
      'Báo cáo kết quả tuần — 60 phút',
      'Triển khai nhiệm vụ tuần tới — Nguyễn Văn Hùng — 45 phút',
    ]);

    const stored = await hop.request('GET', `/api/v1/meetings/${meetingId}`);
    assert.equal(stored.body.recurrenceRule, 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6');
    assert.equal(stored.body.status, 'scheduled');
    const roles = Object.fromEntries(stored.body.participants.map((participant: { name: string; role: string }) => [participant.name, participant.role]));
    assert.deepEqual(roles, { 'Nguyễn Văn Hùng': 'chair', 'Lê Thị Thu Hà': 'secretary', 'Đoàn Minh Quân': 'guest' });
    const reminders = await hop.platform.database.db.selectFrom('meeting').select('reminder_offsets').where('id', '=', meetingId).executeTakeFirstOrThrow();
    assert.deepEqual(reminders.reminder_offsets, [1440, 60], 'the chosen reminders are saved');
  });

  it('shows the meeting in week and month views', async () => {
    // The organiser is not invited, but scheduled it, so it is on their own calendar as well as the unit's.
    await page.goto(`${hop.baseUrl}/calendar.html?view=week&date=${monday}`);
    await page.waitForFunction(() => (document.getElementById('whose') as HTMLSelectElement).options.length > 1);
    await page.locator(`#calendar .cal-item[data-meeting-id="${meetingId}"]`).first().waitFor();
    assert.equal(await page.locator(`#calendar .cal-item[data-meeting-id="${meetingId}"]`).count(), 2);
    await page.selectOption('#whose', `unit:${seed.units.department}`);
    await page.waitForURL(new RegExp(`unit=${seed.units.department}`));
    const weekItems = page.locator(`#calendar .cal-item[data-meeting-id="${meetingId}"]`);
    await weekItems.first().waitFor();
    assert.equal(await weekItems.count(), 2, 'Monday and Wednesday of the first week');
    assert.equal(await page.locator(`.cal-day[data-date="${monday}"] .cal-item[data-meeting-id="${meetingId}"] .cal-time`).textContent(), '08:00–10:00');
    assert.equal(await page.locator(`.cal-day[data-date="${wednesday}"] .cal-item[data-meeting-id="${meetingId}"]`).count(), 1);

    await page.click('button.view[data-view="month"]');
    await page.locator('#calendar.view-month').waitFor();
    const monthCell = page.locator(`.cal-month-cell[data-date="${monday}"] .cal-item[data-meeting-id="${meetingId}"]`);
    await monthCell.waitFor();
    assert.match((await page.textContent('#range-title')) ?? '', new RegExp(`^Tháng ${monday.slice(5, 7)}/${monday.slice(0, 4)}$`));
    assert.match(new URL(page.url()).search, /view=month/);

    await page.click('#next');
    await page.waitForFunction((month) => !document.getElementById('range-title')?.textContent?.includes(month), `Tháng ${monday.slice(5, 7)}/`);
    await page.click('#today');
    await page.waitForFunction((date) => (document.getElementById('date') as HTMLInputElement).value === date, dayFirst(localDate(Date.now())));
  });

  it('second booking of the room gets the clash', async () => {
    await page.goto(`${hop.baseUrl}/meeting-form.html`);
    await page.waitForFunction(() => (document.getElementById('unit') as HTMLSelectElement).options.length > 0);
    await page.fill('#title', 'Họp chuyên đề chuyển đổi số');
    await page.fill('#start-date', dayFirst(wednesday));
    await page.dispatchEvent('#start-date', 'change');
    await page.fill('#start-time', '09:00');
    await page.fill('#end-time', '11:00');
    await page.dispatchEvent('#end-time', 'change');
    await page.check('input[name=mode][value=hybrid]');
    await page.waitForFunction(() => (document.getElementById('room') as HTMLSelectElement).options.length > 1);
    await page.selectOption('#room', seed.rooms.large);
    await fillPersonSearch('pham duc thang', 'Phạm Đức Thắng');
    await page.click('#save-schedule');

    const roomError = page.locator('#error-meetingRoomId');
    await roomError.locator('.clash-list li').first().waitFor();
    const roomText = (await roomError.textContent()) ?? '';
    assert.match(roomText, /Phòng họp đã có lịch vào thời gian này/);
    assert.match(roomText, new RegExp(title), 'the clashing meeting is named');
    assert.match((await page.textContent('#form-alert')) ?? '', /Phòng họp đã có lịch vào thời gian này/);
    assert.match(page.url(), /meeting-form\.html/, 'the form stays open');

    // English shows the API's English message.
    await page.click('#language');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await page.click('#save-schedule');
    await page.locator('#form-alert', { hasText: 'The meeting room is booked at an overlapping time' }).waitFor();
    await page.click('#language');
    await page.waitForFunction(() => document.documentElement.lang === 'vi');
  });

  it('people clash is confirmed before saving', async () => {
    await page.goto(`${hop.baseUrl}/meeting-form.html?date=${monday}`);
    await page.waitForFunction(() => (document.getElementById('unit') as HTMLSelectElement).options.length > 0);
    await page.fill('#title', 'Làm việc với Viễn thông tỉnh');
    await page.fill('#start-time', '09:00');
    await page.fill('#end-time', '11:00');
    await page.dispatchEvent('#end-time', 'change');
    await fillPersonSearch('nguyen van hung', 'Nguyễn Văn Hùng');
    await page.click('#save-schedule');

    const confirm = page.locator('#form-alert button.people-confirm');
    await confirm.waitFor();
    const alert = (await page.textContent('#form-alert')) ?? '';
    assert.match(alert, /Một số người tham dự đã có lịch họp khác trùng thời gian/);
    assert.match(alert, new RegExp(`Nguyễn Văn Hùng: .*${title}`), 'the clash names the person and the other meeting');
    const before = await hop.request('GET', '/api/v1/meetings');
    assert.ok(!JSON.stringify(before.body).includes('Làm việc với Viễn thông tỉnh'), 'nothing is saved before the confirmation');

    await confirm.click();
    await page.waitForURL(/\/meeting\.html\?id=/);
    await page.locator('#saved-box .note', { hasText: 'Một số người tham dự đã có lịch họp khác' }).waitFor();
  });

  it('short notice offers to mark urgent', async () => {
    const tomorrow = addDays(localDate(Date.now()), 1);
    await page.goto(`${hop.baseUrl}/meeting-form.html?date=${tomorrow}`);
    await page.waitForFunction(() => (document.getElementById('unit') as HTMLSelectElement).options.length > 0);
    await page.fill('#title', 'Họp khẩn ứng phó mưa lũ');
    await fillPersonSearch('ho van khiem', 'Hồ Văn Khiêm');
    await page.click('#save-schedule');

    const offer = page.locator('#form-alert button.notice-urgent');
    await offer.waitFor();
    assert.match((await page.textContent('#form-alert')) ?? '', /Giấy mời họp phải đến người tham dự trước ít nhất 3 ngày làm việc/);
    const pageText = await page.evaluate(() => document.body.innerText);
    assert.equal(pageText.split('Giấy mời họp phải đến người tham dự trước ít nhất 3 ngày làm việc').length - 1, 1, 'the notice warning is shown once');
    assert.equal(await page.isChecked('#urgent'), false);
    await offer.click();
    await page.waitForURL(/\/meeting\.html\?id=/);
    await page.locator('#meeting-badges .status-urgent').waitFor();
    assert.equal(await page.textContent('#meeting-badges .status-urgent'), 'Họp khẩn');
  });

  it('edits the title of a scheduled meeting', async () => {
    await page.click('#action-edit');
    await page.waitForURL(/\/meeting-form\.html\?id=/);
    await page.waitForFunction(() => (document.getElementById('title') as HTMLInputElement).value === 'Họp khẩn ứng phó mưa lũ');
    assert.equal(await page.isVisible('#save-changes'), true);
    assert.equal(await page.isVisible('#save-draft'), false);
    assert.equal(await page.isChecked('#urgent'), true);
    await page.locator('#selected-people li', { hasText: 'Hồ Văn Khiêm' }).waitFor();
    await page.fill('#title', 'Họp khẩn ứng phó mưa lũ tại xã Hồng Vân');
    await page.click('#save-changes');
    await page.waitForURL(/\/meeting\.html\?id=/);
    await page.locator('#meeting-title', { hasText: 'Họp khẩn ứng phó mưa lũ tại xã Hồng Vân' }).waitFor();
    const change = page.locator('#history li[data-kind="updated"]', { hasText: 'Tên cuộc họp' });
    await change.waitFor();
    assert.match((await change.locator('strong').textContent()) ?? '', new RegExp(` · ${seed.organiser.displayName} · #1$`), 'the history names who changed the meeting');
  });

  it('postpones the meeting and cancels one occurrence', async () => {
    await page.goto(`${hop.baseUrl}/meeting.html?id=${meetingId}`);
    // The move dialog shows the occurrence's date day first.
    await page.locator('#occurrences li').first().locator('.occurrence-move').click();
    assert.equal(await page.inputValue('#dialog-start-date'), dayFirst(monday));
    assert.equal(await page.inputValue('#dialog-start-time'), '08:00');
    await page.click('#dialog-close');
    await page.locator('#action-postpone').click();
    await page.fill('#dialog-reason', 'Lãnh đạo Sở đi công tác đột xuất');
    await page.click('#dialog-confirm');
    await page.locator('#meeting-badges .status-postponed').waitFor();
    assert.equal(await page.textContent('#meeting-badges .status-postponed'), 'Hoãn');
    assert.match((await page.textContent('#facts')) ?? '', /Lãnh đạo Sở đi công tác đột xuất/);
    await page.locator('#history li[data-kind="postponed"]').waitFor();

    const second = page.locator('#occurrences li').nth(1);
    const occurrenceId = await second.getAttribute('data-occurrence-id');
    await second.locator('.occurrence-cancel').click();
    await page.fill('#dialog-reason', 'Trùng lịch họp của UBND tỉnh');
    await page.click('#dialog-confirm');
    await page.locator(`#occurrences li[data-occurrence-id="${occurrenceId}"] .status-cancelled`).waitFor();
    await page.locator('#history li[data-kind="occurrence.cancelled"]').waitFor();

    await page.goto(`${hop.baseUrl}/calendar.html?view=week&date=${monday}&unit=${seed.units.department}`);
    const cancelled = page.locator(`.cal-day[data-date="${wednesday}"] .cal-item[data-meeting-id="${meetingId}"]`);
    await cancelled.waitFor();
    assert.match((await cancelled.getAttribute('class')) ?? '', /occurrence-cancelled/);
    assert.equal(await cancelled.locator('.badge').first().textContent(), 'Đã hủy');
    assert.equal(await page.locator(`.cal-day[data-date="${monday}"] .cal-item[data-meeting-id="${meetingId}"] .status-postponed`).textContent(), 'Hoãn');
  });

  it('page scripts raised no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
