/**
 * Captures the scheduling screens as PNG files in docs/screenshots/ for the
 * user guide:
 *
 *   npm run screenshots
 *
 * It starts the gateway on a free loopback port with the embedded defaults
 * (PGlite, the embedded bus, local files, media off) in a temporary data
 * folder. It seeds units, people, meeting rooms and a week of meetings around
 * today. Then it photographs the pages with Debian's Chromium
 * (/usr/bin/chromium) through playwright-core. Nothing leaves 127.0.0.1.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { browserUnavailableReason, CHROMIUM_PATH } from '../test/support/browser.ts';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { SEED_PASSWORD, seedScheduling, type SchedulingSeed } from '../test/support/scheduling-seed.ts';

const ZONE = 'Asia/Ho_Chi_Minh';
const outputDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');

function localDate(instant: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}

function addDays(date: string, days: number): string {
  const value = new Date(`${date}T00:00:00Z`);
  value.setUTCDate(value.getUTCDate() + days);
  return value.toISOString().slice(0, 10);
}

/** "07/12/2026" from "2026-12-07": dates as people in Việt Nam type them into the form. */
function dayFirst(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

/** Returns the instant of a wall-clock time in Hà Nội, which has no daylight saving (UTC+07:00). */
function at(date: string, time: string): string {
  return new Date(`${date}T${time}:00+07:00`).toISOString();
}

async function call(hop: TestPlatform, method: string, urlPath: string, body?: unknown): Promise<any> {
  const response = await hop.request(method, urlPath, body);
  if (response.status >= 300) throw new Error(`${method} ${urlPath} failed with HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Books a week of meetings around today on the organiser's calendar, in each status the calendar shows. */
async function seedMeetings(hop: TestPlatform, seed: SchedulingSeed): Promise<{ weeklyId: string; monday: string }> {
  const today = localDate(Date.now());
  const weekday = new Date(`${today}T00:00:00Z`).getUTCDay();
  const monday = addDays(today, weekday === 0 ? -6 : 1 - weekday);
  const organiser = { name: seed.organiser.displayName, userId: seed.organiser.userId, role: 'secretary' };
  const chair = { name: 'Nguyễn Văn Hùng', userId: seed.people.chair, role: 'chair' };
  const member = { name: 'Phạm Đức Thắng', userId: seed.people.member, role: 'participant' };
  const base = { unitId: seed.units.department, timeZone: ZONE, onPeopleConflict: 'warn' };

  const weekly = await call(hop, 'POST', '/api/v1/meetings', {
    ...base,
    title: 'Giao ban tuần Sở Thông tin và Truyền thông',
    description: 'Đánh giá kết quả tuần, triển khai nhiệm vụ tuần tới.',
    startsAt: at(monday, '08:00'),
    endsAt: at(monday, '10:00'),
    mode: 'hybrid',
    meetingRoomId: seed.rooms.large,
    recurrenceRule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=12',
    agenda: [
      { title: 'Báo cáo kết quả công tác tuần', presenter: 'Lê Thị Thu Hà', plannedMinutes: 30 },
      { title: 'Tiến độ chuyển đổi số cấp xã', presenter: 'Phạm Đức Thắng', plannedMinutes: 45 },
      { title: 'Kết luận của Giám đốc Sở', presenter: 'Nguyễn Văn Hùng', plannedMinutes: 15 },
    ],
    participants: [chair, organiser, member, { name: 'Đoàn Minh Quân', email: 'quan.dm@vnpt.example.vn', role: 'guest' }],
    invitedUnitIds: [seed.units.office],
  });

  await call(hop, 'POST', '/api/v1/meetings', {
    ...base,
    title: 'Trực ban phòng, chống bão số 9',
    startsAt: at(addDays(monday, 1), '22:00'),
    endsAt: at(addDays(monday, 2), '01:00'),
    mode: 'online',
    urgent: true,
    participants: [chair, organiser, { name: 'Hồ Văn Khiêm', userId: seed.people.communeMember, role: 'participant' }],
  });

  const now = Date.now();
  const running = await call(hop, 'POST', '/api/v1/meetings', {
    ...base,
    title: 'Họp trực tuyến với UBND xã Hồng Vân',
    startsAt: new Date(Math.floor((now - 30 * 60_000) / 900_000) * 900_000).toISOString(),
    endsAt: new Date(Math.floor((now + 90 * 60_000) / 900_000) * 900_000).toISOString(),
    mode: 'online',
    participants: [chair, organiser, { name: 'Hồ Văn Khiêm', userId: seed.people.communeMember, role: 'participant' }],
  });
  await call(hop, 'POST', `/api/v1/meetings/${running.id}/start`, {});

  const postponed = await call(hop, 'POST', '/api/v1/meetings', {
    ...base,
    title: 'Thẩm định dự án hạ tầng số',
    startsAt: at(addDays(monday, 3), '14:00'),
    endsAt: at(addDays(monday, 3), '16:00'),
    mode: 'in_person',
    meetingRoomId: seed.rooms.large,
    participants: [chair, organiser],
  });
  await call(hop, 'POST', `/api/v1/meetings/${postponed.id}/postpone`, { reason: 'Chờ ý kiến của Sở Kế hoạch và Đầu tư' });

  const cancelled = await call(hop, 'POST', '/api/v1/meetings', {
    ...base,
    title: 'Tập huấn an toàn thông tin',
    startsAt: at(addDays(monday, 4), '08:00'),
    endsAt: at(addDays(monday, 4), '11:00'),
    mode: 'online',
    participants: [organiser, member],
  });
  await call(hop, 'POST', `/api/v1/meetings/${cancelled.id}/cancel`, { reason: 'Giảng viên bận đột xuất' });

  await call(hop, 'POST', '/api/v1/meetings', {
    ...base,
    status: 'draft',
    title: 'Chuẩn bị hội nghị tổng kết năm',
    startsAt: at(addDays(monday, 4), '14:00'),
    endsAt: at(addDays(monday, 4), '16:30'),
    mode: 'in_person',
    meetingRoomId: seed.rooms.large,
    participants: [organiser, chair],
  });

  // A history for the detail page, made by the organiser so that it shows her name: one Monday moved, one cancelled.
  const login = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username: seed.organiser.username, password: SEED_PASSWORD });
  if (login.status !== 200) throw new Error(`sign-in of ${seed.organiser.username} failed with HTTP ${login.status}: ${JSON.stringify(login.body)}`);
  const session = { cookie: /^(hop_session=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!, 'x-csrf-token': login.body.csrfToken as string };
  const asOrganiser = async (method: string, urlPath: string, body: unknown) => {
    const response = await hop.requestAs(null, method, urlPath, body, session);
    if (response.status >= 300) throw new Error(`${method} ${urlPath} failed with HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  };
  const series = await call(hop, 'GET', `/api/v1/meetings/${weekly.id}`);
  const third = series.occurrences[2];
  await asOrganiser('PATCH', `/api/v1/meetings/${weekly.id}/occurrences/${third.id}`, {
    startsAt: new Date(Date.parse(third.startsAt) + 86_400_000).toISOString(),
    endsAt: new Date(Date.parse(third.endsAt) + 86_400_000).toISOString(),
    onPeopleConflict: 'warn',
  });
  await asOrganiser('POST', `/api/v1/meetings/${weekly.id}/occurrences/${series.occurrences[4].id}/cancel`, { reason: 'Nghỉ lễ' });
  return { weeklyId: weekly.id as string, monday };
}

async function capture(page: Page, name: string, fullPage = false): Promise<void> {
  const file = path.join(outputDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
}

async function main(): Promise<void> {
  const unavailable = await browserUnavailableReason();
  if (unavailable) throw new Error(`cannot take screenshots: ${unavailable}`);
  await mkdir(outputDir, { recursive: true });

  const hop = await startTestPlatform();
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--font-render-hinting=none', '--lang=vi-VN'],
  });
  try {
    const seed = await seedScheduling(hop);
    const { weeklyId, monday } = await seedMeetings(hop, seed);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'vi-VN', timezoneId: ZONE, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    await page.goto(`${hop.baseUrl}/calendar.html`);
    await page.waitForURL(/\/login\.html/);
    await page.fill('input[name=username]', seed.organiser.username);
    await page.fill('input[name=password]', SEED_PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(/\/calendar\.html/);

    for (const view of ['week', 'month', 'day'] as const) {
      const date = view === 'day' ? addDays(monday, 1) : localDate(Date.now());
      await page.goto(`${hop.baseUrl}/calendar.html?view=${view}&date=${date}`);
      await page.locator(`#calendar.view-${view} .cal-item`).first().waitFor();
      await capture(page, `calendar-${view}`, true);
    }

    await page.goto(`${hop.baseUrl}/meeting-form.html?date=${addDays(monday, 7)}`);
    await page.waitForFunction(() => (document.getElementById('unit') as HTMLSelectElement).options.length > 0);
    await page.fill('#title', 'Họp chuyên đề chuyển đổi số cấp xã');
    await page.fill('#description', 'Rà soát tiến độ triển khai nền tảng số tại 10 xã biên giới.');
    await page.fill('#start-time', '08:30');
    await page.fill('#end-time', '10:30');
    await page.dispatchEvent('#end-time', 'change');
    await page.check('input[name=mode][value=hybrid]');
    await page.waitForFunction(() => (document.getElementById('room') as HTMLSelectElement).options.length > 1);
    await page.selectOption('#room', seed.rooms.large);
    for (const [title, presenter, minutes] of [
      ['Báo cáo tiến độ của các xã', 'Hồ Văn Khiêm', '40'],
      ['Khó khăn về đường truyền và thiết bị', 'Phạm Đức Thắng', '30'],
      ['Kết luận', 'Nguyễn Văn Hùng', '15'],
    ] as const) {
      await page.click('#agenda-add');
      const row = page.locator('#agenda .agenda-row').last();
      await row.locator('[name=agenda-title]').fill(title);
      await row.locator('[name=agenda-presenter]').fill(presenter);
      await row.locator('[name=agenda-minutes]').fill(minutes);
    }
    for (const [query, name, role] of [
      ['nguyen van hung', 'Nguyễn Văn Hùng', 'chair'],
      ['le thi thu ha', 'Lê Thị Thu Hà', 'secretary'],
      ['pham duc thang', 'Phạm Đức Thắng', 'participant'],
    ] as const) {
      await page.fill('#person-search', query);
      await page.locator('#people-results li', { hasText: name }).locator('button.add-person').click();
      await page.locator('#selected-people li', { hasText: name }).locator('select[name=role]').selectOption(role);
    }
    await page.locator('#unit-tree-box summary').click();
    await page.locator(`#unit-tree input[data-unit-id="${seed.units.commune}"]`).check();
    await page.selectOption('#recurrence-kind', 'MONTHLY');
    await page.check('input[name=recurrence-end][value=count]');
    await page.fill('#count', '6');
    await page.locator('#recurrence-preview li').nth(5).waitFor();
    await page.fill('#person-search', '');
    await page.locator('#people-results li').first().waitFor({ state: 'detached' });
    await capture(page, 'meeting-form', true);

    // The same room at an overlapping time: the clash with the weekly meeting. Dates are typed day first.
    await page.fill('#start-date', dayFirst(monday));
    await page.dispatchEvent('#start-date', 'change');
    await page.fill('#start-time', '09:00');
    await page.fill('#end-time', '11:00');
    await page.dispatchEvent('#end-time', 'change');
    await page.selectOption('#recurrence-kind', 'none');
    await page.click('#save-schedule');
    await page.locator('#error-meetingRoomId .clash-list li').first().waitFor();
    await page.locator('#form-alert').scrollIntoViewIfNeeded();
    await capture(page, 'room-clash');

    await page.goto(`${hop.baseUrl}/meeting.html?id=${weeklyId}`);
    await page.locator('#history li[data-kind]').first().waitFor();
    await capture(page, 'meeting-detail', true);

    await page.locator('#action-postpone').click();
    await page.fill('#dialog-reason', 'Lãnh đạo Sở đi công tác đột xuất');
    await page.fill('#dialog-start-date', dayFirst(addDays(monday, 8)));
    await page.fill('#dialog-start-time', '14:00');
    await page.fill('#dialog-end-date', dayFirst(addDays(monday, 8)));
    await page.fill('#dialog-end-time', '16:00');
    await page.locator('#dialog-reason').focus();
    await capture(page, 'postpone-dialog');
  } finally {
    await browser.close();
    await hop.stop();
  }
}

await main();
