/**
 * Raised hands over HTTP on the embedded platform. Participants raise and
 * lower their own hand with the invitation key or signed in, and the state
 * outlives a reconnect. The chair and the secretary see the hands in order on
 * the live board (server-sent events) and lower them. Refused joins reach the
 * same board.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordRefusal, recordSessionWithinCaps } from '../lib/domain/media-capacity.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createLocalAccount } from './auth/accounts.ts';

const password = 'mật khẩu đủ dài 2026';

/** Reads server-sent events from a fetch response body and yields each `board` event's data. */
async function* boards(body: ReadableStream<Uint8Array>): AsyncGenerator<any> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.split('\n').includes('event: board')) continue;
      const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
      yield JSON.parse(data);
    }
  }
}

describe('raised hands over HTTP', () => {
  let hop: TestPlatform;
  let unitId: string;
  let meetingId: string;
  /** Chair, secretary, signed-in participant, two participants with invitation keys only. */
  let participants: { id: string; name: string; inviteKey: string; userId: string | null }[];
  const sessions: Record<string, Record<string, string>> = {};
  let ip = 10;

  async function person(username: string, displayName: string) {
    const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole: 'member' });
    await hop.platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: null }).execute();
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.4.${ip++}` });
    assert.equal(response.status, 200);
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
    sessions[username] = { cookie, 'x-csrf-token': response.body.csrfToken as string };
    return userId;
  }
  const as = (username: string, method: string, path: string, body?: unknown) => hop.requestAs(null, method, path, body, sessions[username]);
  const byKey = (index: number, raised?: boolean) =>
    hop.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hand`, { inviteKey: participants[index]!.inviteKey, ...(raised === undefined ? {} : { raised }) });
  const board = async (username = 'chutri') => (await as(username, 'GET', `/api/v1/meetings/${meetingId}/attendance`)).body;

  before(async () => {
    hop = await startTestPlatform();
    unitId = (await hop.request('POST', '/api/v1/units', { kind: 'district', name: 'UBND huyện Quảng Điền' })).body.id;
    const chair = await person('chutri', 'Phan Văn Hùng');
    const secretary = await person('thuky', 'Lê Thị Mai');
    const member = await person('thamdu', 'Trần Quốc Bảo');

    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 55 * 60_000).toISOString(),
        participants: [
          { name: 'Phan Văn Hùng', userId: chair, role: 'chair' },
          { name: 'Lê Thị Mai', userId: secretary, role: 'secretary' },
          { name: 'Trần Quốc Bảo', userId: member, role: 'participant' },
          { name: 'Đại biểu xã Quảng An', role: 'participant' },
          { name: 'Đại biểu xã Quảng Thành', role: 'participant' },
        ],
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meetingId = created.body.id;
    participants = created.body.participants;
  });

  after(async () => {
    await hop.stop();
  });

  test('hands keep the order they went up in', async () => {
    const first = await byKey(3, true);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.raised, true);
    assert.equal(first.body.position, 1);

    const second = await as('thamdu', 'POST', `/api/v1/meetings/${meetingId}/hand`, { raised: true });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.participantId, participants[2]!.id, 'without a key the signed-in participant raises');
    assert.equal(second.body.position, 2);

    const third = await byKey(4, true);
    assert.equal(third.body.position, 3);

    const again = await byKey(3, true);
    assert.equal(again.body.position, 1, 'raising again keeps the place');
    assert.equal(again.body.raisedAt, first.body.raisedAt);

    const hands = (await board()).raisedHands;
    assert.deepEqual(hands.map((hand: { participantId: string }) => hand.participantId), [participants[3]!.id, participants[2]!.id, participants[4]!.id]);
    assert.equal(hands[0].name, 'Đại biểu xã Quảng An');
  });

  test('hand state survives a reconnect', async () => {
    // A reloaded or reconnected join page sends no `raised` and reads the hand as it was.
    const read = await byKey(4);
    assert.equal(read.status, 200);
    assert.equal(read.body.raised, true);
    assert.equal(read.body.position, 3);
    assert.equal(read.body.loweredBy, null);

    const events = await hop.platform.database.db.selectFrom('outbox').select('headers').where('message_key', '=', meetingId).execute();
    assert.equal(events.filter((row) => row.headers['ce-type'] === 'vn.hop.meeting.hand-raised.v1').length, 3, 'one event per hand that went up');
  });

  test('chair lowers a hand, audited', async () => {
    const lowered = await as('chutri', 'POST', `/api/v1/meetings/${meetingId}/hands/${participants[3]!.id}/lower`, {});
    assert.equal(lowered.status, 200, JSON.stringify(lowered.body));
    assert.equal(lowered.body.raised, false);
    assert.equal(lowered.body.loweredBy, 'moderator');

    const seen = await byKey(3);
    assert.equal(seen.body.raised, false, 'the participant\'s page sees it lowered');
    assert.equal(seen.body.loweredBy, 'moderator');
    assert.equal(seen.body.position, null);
    assert.equal((await byKey(4)).body.position, 2, 'the others move up');

    const twice = await as('thuky', 'POST', `/api/v1/meetings/${meetingId}/hands/${participants[3]!.id}/lower`);
    assert.equal(twice.status, 200, 'lowering a lowered hand is no error');

    const audit = await hop.platform.database.db.selectFrom('audit_record').selectAll().where('action', '=', 'hand.lowered').execute();
    assert.equal(audit.length, 1, 'only the change is audited');
    assert.equal(audit[0]!.entity_type, 'hand-raise');
    assert.equal((audit[0]!.after as { raised: boolean }).raised, false);

    const events = await hop.platform.database.db.selectFrom('outbox').select(['headers', 'payload']).where('message_key', '=', meetingId).execute();
    const loweredEvents = events.filter((row) => row.headers['ce-type'] === 'vn.hop.meeting.hand-lowered.v1');
    assert.equal(loweredEvents.length, 1);
    assert.equal((loweredEvents[0]!.payload as { data: { loweredBy: string } }).data.loweredBy, 'moderator');
  });

  test('participant lowers their own hand', async () => {
    const lowered = await as('thamdu', 'POST', `/api/v1/meetings/${meetingId}/hand`, { raised: false });
    assert.equal(lowered.status, 200);
    assert.equal(lowered.body.raised, false);
    assert.equal(lowered.body.loweredBy, 'participant');
    assert.deepEqual((await board()).raisedHands.map((hand: { participantId: string }) => hand.participantId), [participants[4]!.id]);

    const raisedAgain = await byKey(3, true);
    assert.equal(raisedAgain.body.position, 2, 'a hand raised again goes to the end');
  });

  test('only the chair and the secretary lower hands', async () => {
    const participant = await as('thamdu', 'POST', `/api/v1/meetings/${meetingId}/hands/${participants[4]!.id}/lower`, {});
    assert.equal(participant.status, 403);
    assert.equal(participant.body.error.code, 'PERMISSION_DENIED');
    const anonymous = await hop.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hands/${participants[4]!.id}/lower`, {});
    assert.equal(anonymous.status, 401);
    const apiKey = await hop.request('POST', `/api/v1/meetings/${meetingId}/hands/${participants[4]!.id}/lower`, {});
    assert.equal(apiKey.status, 403, 'API keys do not moderate');
    const unknown = await as('chutri', 'POST', `/api/v1/meetings/${meetingId}/hands/00000000-0000-4000-8000-000000000000/lower`, {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'PARTICIPANT_NOT_FOUND');

    assert.equal((await board()).raisedHands.length, 2, 'no hand went down');
    const own = await as('thamdu', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.equal(own.body.raisedHands, undefined, 'a participant\'s own view lists no hands');
    assert.equal(own.body.refusedJoins, undefined, 'nor refused joins');
  });

  test('wrong key, bad body and closed meeting rejected', async () => {
    const wrongKey = await hop.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hand`, { inviteKey: 'x'.repeat(32), raised: true });
    assert.equal(wrongKey.status, 403);
    assert.equal(wrongKey.body.error.code, 'NOT_INVITED');
    const noKey = await hop.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hand`, { raised: true });
    assert.equal(noKey.status, 401);
    const badBody = await byKey(3, 'yes' as unknown as boolean);
    assert.equal(badBody.status, 400);
    assert.equal(badBody.body.error.code, 'VALIDATION_FAILED');

    const other = await hop.request('POST', '/api/v1/meetings', meetingRequest({ unitId }));
    assert.equal(other.status, 201);
    assert.equal((await hop.request('POST', `/api/v1/meetings/${other.body.id}/cancel`, {})).status, 200);
    const cancelled = await hop.requestAs(null, 'POST', `/api/v1/meetings/${other.body.id}/hand`, { inviteKey: other.body.participants[1].inviteKey, raised: true });
    assert.equal(cancelled.status, 409);
    assert.equal(cancelled.body.error.code, 'MEETING_CANCELLED');
    assert.equal(cancelled.body.error.message, 'Cuộc họp đã hủy.');
  });

  test('raising outside the hand window rejected', async () => {
    const later = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        startsAt: new Date(Date.now() + 9 * 24 * 3600_000).toISOString(),
        endsAt: new Date(Date.now() + 9 * 24 * 3600_000 + 3600_000).toISOString(),
        participants: [{ name: 'Trần Quốc Bảo', userId: participants[2]!.userId, role: 'participant' }],
      }),
    );
    assert.equal(later.status, 201, JSON.stringify(later.body));
    const early = await as('thamdu', 'POST', `/api/v1/meetings/${later.body.id}/hand`, { raised: true });
    assert.equal(early.status, 409, JSON.stringify(early.body));
    assert.equal(early.body.error.code, 'HAND_RAISE_OUTSIDE_MEETING');
    assert.equal(early.body.error.message, 'Chỉ giơ tay phát biểu được từ 30 phút trước giờ họp đến khi cuộc họp kết thúc.');
    assert.equal(Date.parse(early.body.error.details.opensAt), Date.parse(later.body.startsAt) - 30 * 60_000);

    const read = await as('thamdu', 'POST', `/api/v1/meetings/${later.body.id}/hand`, {});
    assert.equal(read.status, 200, 'reading the hand needs no window');
    assert.equal(read.body.raised, false);
  });

  test('hand raised before the window is ignored', async () => {
    const occurrenceId = (await board()).occurrence.id as string;
    const db = hop.platform.database.db;
    // A hand stored before the window opened, as the API accepted before raising was limited to the window.
    await db
      .insertInto('hand_raise')
      .values({ occurrence_id: occurrenceId, participant_id: participants[1]!.id, meeting_id: meetingId, raised_at: new Date(Date.now() - 9 * 24 * 3600_000) })
      .onConflict((oc) => oc.columns(['occurrence_id', 'participant_id']).doUpdateSet({ raised_at: new Date(Date.now() - 9 * 24 * 3600_000), lowered_at: null }))
      .execute();
    const before = (await board()).raisedHands.map((hand: { participantId: string }) => hand.participantId);
    assert.ok(!before.includes(participants[1]!.id), 'the stale hand is not on the board');

    const raised = await as('thuky', 'POST', `/api/v1/meetings/${meetingId}/hand`, { raised: true });
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    assert.equal(raised.body.raised, true);
    assert.ok(Date.now() - Date.parse(raised.body.raisedAt) < 60_000, 'raising again takes the time of now');
    assert.equal(raised.body.position, before.length + 1, 'and the place at the end');
    assert.equal((await as('thuky', 'POST', `/api/v1/meetings/${meetingId}/hand`, { raised: false })).body.raised, false);
  });

  test('cancelled meeting shows no raised hands', async () => {
    const other = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 55 * 60_000).toISOString(),
        participants: [
          { name: 'Phan Văn Hùng', userId: participants[0]!.userId, role: 'chair' },
          { name: 'Đại biểu xã Quảng Lợi', role: 'participant' },
        ],
      }),
    );
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const key = other.body.participants[1].inviteKey as string;
    const raised = await hop.requestAs(null, 'POST', `/api/v1/meetings/${other.body.id}/hand`, { inviteKey: key, raised: true });
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    assert.equal((await as('chutri', 'GET', `/api/v1/meetings/${other.body.id}/attendance`)).body.raisedHands.length, 1);

    assert.equal((await hop.request('POST', `/api/v1/meetings/${other.body.id}/cancel`, {})).status, 200);
    const cancelledBoard = await as('chutri', 'GET', `/api/v1/meetings/${other.body.id}/attendance`);
    assert.equal(cancelledBoard.status, 200, JSON.stringify(cancelledBoard.body));
    assert.deepEqual(cancelledBoard.body.raisedHands, []);
    const state = await hop.requestAs(null, 'POST', `/api/v1/meetings/${other.body.id}/hand`, { inviteKey: key });
    assert.equal(state.body.raised, false, 'the join page reads the hand as down');
  });

  test('live board shows hands and refused joins', async () => {
    const controller = new AbortController();
    const response = await fetch(`${hop.baseUrl}/api/v1/meetings/${meetingId}/attendance/stream`, { headers: sessions.thuky, signal: controller.signal });
    assert.equal(response.status, 200);
    const stream = boards(response.body!);
    try {
      const initial = (await stream.next()).value;
      assert.equal(initial.raisedHands.length, 2);

      await as('thamdu', 'POST', `/api/v1/meetings/${meetingId}/hand`, { raised: true });
      const withHand = (await stream.next()).value;
      assert.deepEqual(withHand.raisedHands.map((hand: { name: string }) => hand.name), ['Đại biểu xã Quảng Thành', 'Đại biểu xã Quảng An', 'Trần Quốc Bảo']);

      await recordRefusal(
        hop.platform.database.db,
        { code: 'MEETING_FULL', reason: 'meeting-full', limit: 4, connected: 4 },
        { meetingId, participantId: participants[4]!.id, participantName: participants[4]!.name, janusServer: 'embedded' },
        '/test',
        new Date(),
      );
      const withRefusal = (await stream.next()).value;
      assert.equal(withRefusal.refusedJoins.length, 1);
      assert.equal(withRefusal.refusedJoins[0].participantName, 'Đại biểu xã Quảng Thành');
      assert.equal(withRefusal.refusedJoins[0].reason, 'meeting-full');
      assert.equal(withRefusal.refusedJoins[0].limit, 4);
    } finally {
      controller.abort();
    }
  });

  test('refusal marked once the participant got in', async () => {
    const db = hop.platform.database.db;
    const refused = participants[3]!;
    await recordRefusal(
      db,
      { code: 'MEDIA_SERVER_FULL', reason: 'server-full', limit: 1, connected: 1 },
      { meetingId, participantId: refused.id, participantName: refused.name, janusServer: 'embedded' },
      '/test',
      new Date(Date.now() - 1000),
    );
    const waiting = (await board()).refusedJoins.find((refusal: { participantId: string; reason: string }) => refusal.participantId === refused.id && refusal.reason === 'server-full');
    assert.equal(waiting.joinedAt, null);

    const session = { janusServer: 'embedded', sessionId: '771', meetingId, participantId: refused.id, tokenHash: 'a'.repeat(64) };
    assert.equal(await recordSessionWithinCaps(db, session, { meetingMax: 10, serverMax: 10 }, new Date()), null);
    const joined = (await board()).refusedJoins.find((refusal: { participantId: string; reason: string }) => refusal.participantId === refused.id && refusal.reason === 'server-full');
    assert.notEqual(joined.joinedAt, null, JSON.stringify(joined));
    assert.ok(Date.parse(joined.joinedAt) >= Date.parse(joined.lastRefusedAt), 'the join is after the latest refusal');
    await db.updateTable('media_session').set({ closed_at: new Date() }).where('session_id', '=', '771').execute();
  });
});
