/**
 * Scheduling on the embedded default (PGlite, one connection): every route
 * that checks the 3-working-day notice inside its transaction must finish.
 * A check that reads through another connection than the transaction's would
 * wait for the transaction forever and hang the gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';

const DAY = 24 * 3_600_000;

describe('scheduling on PGlite with the notice rule', { timeout: 60_000 }, () => {
  let hop: TestPlatform;

  before(async () => {
    // The test platform turns the rule off by default; these routes only query holidays with it on.
    hop = await startTestPlatform({ HOP_MIN_NOTICE_WORKING_DAYS: '3', HOP_FUNCTION_TIMEOUT_MS: '10000' });
    assert.equal(hop.platform.summary.database, 'pglite');
  });

  after(async () => {
    await hop?.stop();
  });

  const at = (days: number, hours = 0) => new Date(Date.now() + days * DAY + hours * 3_600_000).toISOString();

  it('moves a meeting within 60 days', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest({ startsAt: at(20), endsAt: at(20, 1) }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const moved = await hop.request('PATCH', `/api/v1/meetings/${created.body.id}`, { startsAt: at(21), endsAt: at(21, 1) });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));

    const tooSoon = await hop.request('PATCH', `/api/v1/meetings/${created.body.id}`, { startsAt: at(1), endsAt: at(1, 1) });
    assert.equal(tooSoon.status, 409, JSON.stringify(tooSoon.body));
    assert.equal(tooSoon.body.error.code, 'NOTICE_TOO_SHORT');
  });

  it('moves one occurrence of a series', async () => {
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({ startsAt: at(20), endsAt: at(20, 1), recurrenceRule: 'FREQ=WEEKLY;COUNT=3' }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const second = created.body.occurrences[1];
    const moved = await hop.request('PATCH', `/api/v1/meetings/${created.body.id}/occurrences/${second.id}`, {
      startsAt: new Date(Date.parse(second.startsAt) + 2 * 3_600_000).toISOString(),
      endsAt: new Date(Date.parse(second.endsAt) + 2 * 3_600_000).toISOString(),
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
  });

  it('schedules a draft', async () => {
    const draft = await hop.request('POST', '/api/v1/meetings', meetingRequest({ startsAt: at(25), endsAt: at(25, 1), status: 'draft' }));
    assert.equal(draft.status, 201, JSON.stringify(draft.body));
    const scheduled = await hop.request('POST', `/api/v1/meetings/${draft.body.id}/schedule`, {});
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    assert.equal(scheduled.body.status ?? scheduled.body.meeting?.status, 'scheduled');
  });

  it('the gateway still answers afterwards', async () => {
    const ready = await fetch(`${hop.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
  });
});
