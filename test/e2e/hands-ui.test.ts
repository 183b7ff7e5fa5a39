/**
 * Raised hands and the connection cap in real browsers, with Janus in the
 * media rig's namespace. A participant raises their hand on the join page,
 * reloads the page and finds it still raised; the chair sees it on the live
 * board, lowers it, and the participant's page says so. The chair then sets
 * the meeting's cap to 1 on the meeting page; the next participant is refused
 * with the Vietnamese message, and the chair's board lists the refusal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createLocalAccount } from '../../gateway/auth/accounts.ts';
import { launchBrowserInNetns } from '../support/browser.ts';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { createTestDatabase, waitFor } from '../support/services.ts';

/** The join page's test hooks this test reads (web/join.js, window.hop). */
type JoinHooks = { hop?: { state: string; hand: { raised: boolean; position: number | null } } };

async function missingServices(): Promise<string | undefined> {
  const rigReason = await mediaRigUnavailableReason();
  if (rigReason) return rigReason;
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  return undefined;
}

const unavailable = await missingServices();
if (unavailable && process.env.CI === 'true') throw new Error(`raised-hand browser test cannot run under CI: ${unavailable}`);

const password = 'mật khẩu đủ dài 2026';

describe('raised hands and the cap in the browser', { skip: unavailable ?? false, timeout: 240_000 }, () => {
  let rig: MediaRig;
  let hop: TestPlatform;
  let dropDatabase: (() => Promise<void>) | undefined;
  let browser: Browser;
  let meeting: { id: string; participants: { id: string; name: string; joinPath: string }[] };
  let participantPage: Page;
  let chairBoard: Page;
  /** Uncaught errors of the page scripts; checked after the last step. */
  const pageErrors: string[] = [];

  /** Opens a page in its own browser context, so each person has their own cookies and session storage. */
  async function openPage(name: string): Promise<Page> {
    const context = await browser.newContext({ locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    return page;
  }

  /** Signs the chair in through the login page and lands on `target`. */
  async function openAsChair(target: string): Promise<Page> {
    const page = await openPage('chair');
    await page.goto(`${rig.browserGatewayUrl}/login.html?next=${encodeURIComponent(target)}`);
    await page.fill('input[name=username]', 'chutri.hands');
    await page.fill('input[name=password]', password);
    await page.click('#login-submit');
    await page.waitForURL(`${rig.browserGatewayUrl}${target}`);
    return page;
  }

  const joined = (page: Page) => page.waitForFunction(() => (window as unknown as JoinHooks).hop?.state === 'joined', undefined, { timeout: 30_000 });

  before(async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = database.drop;
    rig = await createMediaRig({ serverName: 'janus-hands' });
    hop = await startTestPlatform({ DATABASE_URL: database.url, JANUS_URL: `janus-hands=${rig.janusUrlForServer}`, HOP_MEDIA: 'auto' });
    await rig.connectGateway(hop.platform.port);

    const db = hop.platform.database.db;
    const unitId = (await hop.request('POST', '/api/v1/units', { kind: 'district', name: 'UBND thị xã Hương Trà' })).body.id as string;
    const { userId } = await createLocalAccount(db, { username: 'chutri.hands', displayName: 'Phan Văn Hùng', password, systemRole: 'member' });
    await db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: 'Chủ tịch' }).execute();

    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        title: 'Họp trực tuyến các xã, phường thị xã Hương Trà',
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        participants: [
          { name: 'Phan Văn Hùng', userId, role: 'chair' },
          { name: 'Đại biểu xã Hương Toàn', role: 'participant' },
          { name: 'Đại biểu phường Hương Vân', role: 'participant' },
        ],
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meeting = created.body;
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${meeting.id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });
    browser = await launchBrowserInNetns(rig.browserNetns);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await hop?.stop();
    await rig?.teardown();
    await dropDatabase?.();
  });

  it('raised hand survives a reload and the chair lowers it', async () => {
    participantPage = await openPage('participant');
    await participantPage.goto(`${rig.browserGatewayUrl}${meeting.participants[1]!.joinPath}`);
    await joined(participantPage);
    assert.equal(await participantPage.textContent('#hand'), 'Giơ tay');

    await participantPage.click('#hand');
    await participantPage.locator('#hand-status', { hasText: 'Bạn đang giơ tay, thứ 1' }).waitFor();
    assert.equal(await participantPage.textContent('#hand'), 'Hạ tay');
    assert.equal(await participantPage.getAttribute('#hand', 'aria-pressed'), 'true');

    // A reload joins again from scratch, as a fresh join after a dropped connection does; the hand comes back from the server.
    await participantPage.reload();
    await joined(participantPage);
    await participantPage.locator('#hand', { hasText: 'Hạ tay' }).waitFor();
    assert.deepEqual(await participantPage.evaluate(() => (window as unknown as JoinHooks).hop?.hand), { raised: true, position: 1 });

    chairBoard = await openAsChair(`/attendance.html?meeting=${meeting.id}`);
    const raised = chairBoard.locator('#hands li', { hasText: 'Đại biểu xã Hương Toàn' });
    await raised.waitFor();
    assert.match((await raised.textContent()) ?? '', /giơ tay lúc \d{2}:\d{2}/);
    await raised.locator('button.lower-hand', { hasText: 'Hạ tay' }).click();
    await chairBoard.locator('#hands-empty', { hasText: 'Chưa có ai giơ tay.' }).waitFor({ state: 'visible' });

    await participantPage.locator('#notice', { hasText: 'Chủ trì hoặc thư ký cuộc họp đã hạ tay của bạn.' }).waitFor({ timeout: 15_000 });
    assert.equal(await participantPage.textContent('#hand'), 'Giơ tay');
    assert.equal(await participantPage.isHidden('#hand-status'), true);
  });

  it('join above the cap set by the chair is refused and shown', async () => {
    const detail = await openAsChair(`/meeting.html?id=${meeting.id}`);
    await detail.locator('#media-panel .media-connected', { hasText: 'Đang kết nối: 1 / tối đa 200 điểm cầu' }).waitFor();
    await detail.fill('#media-max-connections', '1');
    await detail.click('#media-save');
    await detail.locator('#media-status', { hasText: 'Đã lưu.' }).waitFor();
    await detail.locator('#media-panel .media-connected', { hasText: 'Đang kết nối: 1 / tối đa 1 điểm cầu' }).waitFor();

    const refusedPage = await openPage('refused participant');
    await refusedPage.goto(`${rig.browserGatewayUrl}${meeting.participants[2]!.joinPath}`);
    await refusedPage.locator('#notice', { hasText: 'Cuộc họp đã đủ số điểm cầu kết nối tối đa' }).waitFor();
    assert.equal(await refusedPage.getAttribute('body', 'data-state'), 'error');

    const refusal = chairBoard.locator('#refused-joins li', { hasText: 'Đại biểu phường Hương Vân' });
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /cuộc họp đã đủ 1 điểm cầu kết nối \(1 lần\)/);
    assert.deepEqual(pageErrors, []);
  });
});
