/**
 * Scheduling over HTTP against real PostgreSQL: drafts, changes with their
 * sequence and history, recurring series with moved and cancelled
 * occurrences, meeting rooms, clashes, the minimum notice, the calendar query
 * in several time zones, the iCalendar feed and the permission denials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalAccount } from './auth/accounts.ts';
import { errorCatalog } from '../lib/errors.ts';
import { createTestDatabase } from '../test/support/services.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';

const password = 'mật khẩu đủ dài 2026';

interface Session {
  userId: string;
  headers: Record<string, string>;
}

describe('meeting scheduling', () => {
  let hop: TestPlatform | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let unitA: string;
  let unitB: string;
  let organiserA: Session;
  let organiserB: Session;
  let chair: Session;
  let member: Session;
  let outsiderB: Session;
  let ip = 20;

  const api = () => hop!;
  const as = (session: Session, method: string, path: string, body?: unknown) => api().requestAs(null, method, path, body, session.headers);

  async function signIn(username: string, displayName: string, systemRole: 'organiser' | 'member', unitId: string): Promise<Session> {
    const { userId } = await createLocalAccount(api().platform.database.db, { username, displayName, password, systemRole });
    await api().platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: null }).execute();
    const response = await api().requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.2.${ip++}` });
    assert.equal(response.status, 200, `sign-in of ${username}`);
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
    return { userId, headers: { cookie, 'x-csrf-token': response.body.csrfToken } };
  }

  /** Builds a meeting request at fixed local times in Hà Nội on `date`, far enough ahead for the notice rule. */
  function at(date: string, start: string, end: string, overrides: Record<string, unknown> = {}) {
    return meetingRequest({ startsAt: `${date}T${start}:00+07:00`, endsAt: `${date}T${end}:00+07:00`, ...overrides });
  }

  async function outboxTypes(meetingId: string): Promise<string[]> {
    const rows = await api().platform.database.db.selectFrom('outbox').select('payload').where('message_key', '=', meetingId).where('topic', '=', 'hop.meetings.v1').orderBy('id').execute();
    return rows.map((row) => (row.payload as { type: string }).type);
  }

  async function lastEvent(meetingId: string, type: string): Promise<any> {
    const rows = await api().platform.database.db.selectFrom('outbox').select('payload').where('message_key', '=', meetingId).orderBy('id', 'desc').execute();
    return (rows.map((row) => row.payload as { type: string; data: unknown }).find((payload) => payload.type === type) as { data: unknown } | undefined)?.data;
  }

  before(async () => {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) {
      if (process.env.CI === 'true') throw new Error('TEST_DATABASE_URL is not set; scripts/test.sh starts postgres and sets it');
      return;
    }
    const database = await createTestDatabase(adminUrl);
    dropDatabase = database.drop;
    hop = await startTestPlatform({ DATABASE_URL: database.url, HOP_MIN_NOTICE_WORKING_DAYS: '3' });
    unitA = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ' })).body.id;
    unitB = (await hop.request('POST', '/api/v1/units', { kind: 'district', name: 'UBND huyện A Lưới' })).body.id;
    organiserA = await signIn('tochuc.snv', 'Lê Thị Thu', 'organiser', unitA);
    organiserB = await signIn('tochuc.aluoi', 'Hồ Văn Phúc', 'organiser', unitB);
    chair = await signIn('giamdoc.snv', 'Nguyễn Văn Chủ', 'member', unitA);
    member = await signIn('chuyenvien.snv', 'Trần Thị Tham', 'member', unitA);
    outsiderB = await signIn('canbo.aluoi', 'Kăn Lự', 'member', unitB);
  });

  after(async () => {
    await hop?.stop();
    await dropDatabase?.();
  });

  test('draft emits nothing until scheduled', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-03-10', '08:00', '10:00', { status: 'draft', unitId: unitA }));
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'draft');
    assert.equal(created.body.occurrences.length, 1);
    assert.deepEqual(await outboxTypes(created.body.id), []);

    const edited = await api().request('PATCH', `/api/v1/meetings/${created.body.id}`, { title: 'Họp triển khai kế hoạch cải cách hành chính' });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.sequence, 0, 'edits of a draft do not count');

    const scheduled = await api().request('POST', `/api/v1/meetings/${created.body.id}/schedule`, {});
    assert.equal(scheduled.status, 200);
    assert.equal(scheduled.body.status, 'scheduled');
    assert.equal(scheduled.body.sequence, 0);
    assert.deepEqual(await outboxTypes(created.body.id), ['vn.hop.meeting.scheduled.v1']);
    const data = await lastEvent(created.body.id, 'vn.hop.meeting.scheduled.v1');
    assert.equal(data.title, 'Họp triển khai kế hoạch cải cách hành chính');
    assert.equal(data.chair, 'Nguyễn Thị Hòa');
    assert.equal(data.occurrences.length, 1);
    assert.equal(data.occurrences[0].occurrenceId, created.body.occurrences[0].id);
  });

  test('draft hidden from participants', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const draft = await as(organiserA, 'POST', '/api/v1/meetings', at('2027-03-11', '08:00', '09:00', {
      status: 'draft',
      unitId: unitA,
      participants: [{ name: 'Nguyễn Văn Chủ', userId: chair.userId, role: 'chair' }, { name: 'Trần Thị Tham', userId: member.userId }],
    }));
    assert.equal(draft.status, 201);
    assert.equal((await as(member, 'GET', `/api/v1/meetings/${draft.body.id}`)).status, 404);
    assert.equal((await as(chair, 'GET', `/api/v1/meetings/${draft.body.id}`)).status, 200);
    const listed = await as(member, 'GET', '/api/v1/meetings');
    assert.ok(!listed.body.meetings.some((item: { id: string }) => item.id === draft.body.id));
  });

  test('update bumps sequence and writes history', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-03-15', '08:00', '10:00', { unitId: unitA }));
    assert.equal(created.status, 201);
    const id = created.body.id;
    const occurrenceId = created.body.occurrences[0].id;

    const agenda = [
      { title: 'Báo cáo kết quả quý I', presenter: 'Văn phòng Sở', plannedMinutes: 30 },
      { title: 'Thảo luận', plannedMinutes: 60 },
    ];
    const first = await api().request('PATCH', `/api/v1/meetings/${id}`, { agenda, preparation: 'Đọc trước dự thảo báo cáo.' });
    assert.equal(first.status, 200);
    assert.equal(first.body.sequence, 1);
    assert.deepEqual(first.body.agenda, [agenda[0], { ...agenda[1], presenter: null }]);

    const second = await api().request('PATCH', `/api/v1/meetings/${id}`, { startsAt: '2027-03-16T14:00:00+07:00', endsAt: '2027-03-16T16:00:00+07:00' });
    assert.equal(second.status, 200);
    assert.equal(second.body.sequence, 2);
    assert.equal(second.body.occurrences[0].id, occurrenceId, 'the occurrence keeps its id');
    assert.equal(second.body.occurrences[0].startsAt, '2027-03-16T07:00:00.000Z');

    const unchanged = await api().request('PATCH', `/api/v1/meetings/${id}`, { startsAt: '2027-03-16T14:00:00+07:00' });
    assert.equal(unchanged.body.sequence, 2, 'a PATCH that changes nothing keeps the sequence');

    const history = await api().request('GET', `/api/v1/meetings/${id}/changes`);
    assert.equal(history.status, 200);
    assert.deepEqual(history.body.changes.map((change: { kind: string; sequence: number }) => [change.kind, change.sequence]), [['updated', 1], ['updated', 2]]);
    assert.equal(history.body.changes[1].before.startsAt, '2027-03-15T01:00:00.000Z');
    assert.equal(history.body.changes[1].after.startsAt, '2027-03-16T07:00:00.000Z');
    assert.equal(history.body.changes[0].actor.kind, 'api-key');

    assert.deepEqual(await outboxTypes(id), ['vn.hop.meeting.scheduled.v1', 'vn.hop.meeting.updated.v1', 'vn.hop.meeting.updated.v1']);
    const updated = await lastEvent(id, 'vn.hop.meeting.updated.v1');
    assert.deepEqual(updated.changedFields, ['times']);
    assert.equal(updated.sequence, 2);
    assert.equal(updated.previous.startsAt, '2027-03-15T01:00:00.000Z');
    const audits = await api().platform.database.db.selectFrom('audit_record').select('action').where('entity_id', '=', id).orderBy('id').execute();
    assert.deepEqual(audits.map((row) => row.action), ['meeting.created', 'meeting.updated', 'meeting.updated']);

    // The history names who changed the meeting: the API key by its name, a person by their display name.
    const byPerson = await as(organiserA, 'PATCH', `/api/v1/meetings/${id}`, { title: 'Họp sơ kết quý I Sở Nội vụ' });
    assert.equal(byPerson.status, 200, JSON.stringify(byPerson.body));
    const named = await as(organiserA, 'GET', `/api/v1/meetings/${id}/changes`);
    assert.deepEqual(named.body.changes[0].actor, { kind: 'api-key', id: named.body.changes[0].actor.id, name: 'test admin' });
    assert.deepEqual(named.body.changes[2].actor, { kind: 'user', id: organiserA.userId, name: 'Lê Thị Thu' });
  });

  test('participants added and removed', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-03-17', '08:00', '09:00', { unitId: unitA }));
    const guestId = created.body.participants[1].id;
    const changed = await api().request('PATCH', `/api/v1/meetings/${created.body.id}`, {
      removeParticipantIds: [guestId],
      addParticipants: [{ name: 'Khách mời VNPT', email: 'khach@example.vn', role: 'guest' }],
      inviteUnitIds: [unitB],
    });
    assert.equal(changed.status, 200);
    const names = changed.body.participants.map((participant: { name: string }) => participant.name);
    assert.ok(!names.includes('Trần Văn Bình'));
    assert.ok(names.includes('Khách mời VNPT'));
    assert.ok(names.includes('Kăn Lự'), 'members of the invited unit are added');
    assert.ok(changed.body.addedParticipants.every((participant: { inviteKey: string }) => participant.inviteKey.length > 20));
    assert.deepEqual(changed.body.invitedUnitIds, [unitB]);
    const event = await lastEvent(created.body.id, 'vn.hop.meeting.updated.v1');
    assert.deepEqual(event.changedFields, ['participants']);
    assert.deepEqual(event.removedParticipantIds, [guestId]);
  });

  describe('bad input', () => {
    const cases: { name: string; body: () => Record<string, unknown>; status: number; code: string }[] = [
      { name: 'end before start', body: () => at('2027-04-01', '10:00', '09:00'), status: 400, code: 'END_BEFORE_START' },
      {
        name: 'agenda longer than meeting',
        body: () => at('2027-04-01', '08:00', '09:00', { agenda: [{ title: 'Báo cáo', plannedMinutes: 45 }, { title: 'Thảo luận', plannedMinutes: 30 }] }),
        status: 400,
        code: 'AGENDA_TOO_LONG',
      },
      { name: 'hourly rule', body: () => at('2027-04-01', '08:00', '09:00', { recurrenceRule: 'FREQ=HOURLY;COUNT=3' }), status: 400, code: 'RECURRENCE_INVALID' },
      { name: 'twice a day', body: () => at('2027-04-01', '08:00', '09:00', { recurrenceRule: 'FREQ=DAILY;BYHOUR=8,14' }), status: 400, code: 'RECURRENCE_INVALID' },
      { name: 'rule not parsable', body: () => at('2027-04-01', '08:00', '09:00', { recurrenceRule: 'EVERY MONDAY' }), status: 400, code: 'RECURRENCE_INVALID' },
      { name: 'start not in rule', body: () => at('2027-04-01', '08:00', '09:00', { recurrenceRule: 'FREQ=WEEKLY;BYDAY=MO' }), status: 400, code: 'RECURRENCE_INVALID' },
      { name: 'room for online meeting', body: () => at('2027-04-01', '08:00', '09:00', { meetingRoomId: '00000000-0000-4000-8000-000000000000' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unknown room', body: () => at('2027-04-01', '08:00', '09:00', { mode: 'in_person', meetingRoomId: '00000000-0000-4000-8000-000000000000' }), status: 400, code: 'MEETING_ROOM_UNAVAILABLE' },
    ];
    for (const item of cases) {
      test(item.name, async (t) => {
        if (!hop) return t.skip('no PostgreSQL');
        const response = await api().request('POST', '/api/v1/meetings', item.body());
        assert.equal(response.status, item.status);
        assert.equal(response.body.error.code, item.code);
        assert.equal(response.body.error.message, errorCatalog[item.code as keyof typeof errorCatalog].vi);
      });
    }

    test('agenda message in Vietnamese', async (t) => {
      if (!hop) return t.skip('no PostgreSQL');
      const response = await api().request('POST', '/api/v1/meetings', at('2027-04-01', '08:00', '09:00', { agenda: [{ title: 'Báo cáo', plannedMinutes: 90 }] }));
      assert.match(response.body.error.message, /chương trình họp dài hơn thời gian cuộc họp/);
      assert.deepEqual(response.body.error.details, { plannedMinutes: 90, meetingMinutes: 60 });
    });

    test('end before start on PATCH', async (t) => {
      if (!hop) return t.skip('no PostgreSQL');
      const created = await api().request('POST', '/api/v1/meetings', at('2027-04-02', '08:00', '09:00'));
      const response = await api().request('PATCH', `/api/v1/meetings/${created.body.id}`, { endsAt: '2027-04-02T07:00:00+07:00' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'END_BEFORE_START');
    });
  });

  describe('meeting rooms', () => {
    let roomId: string;

    test('admin creates, organiser lists', async (t) => {
      if (!hop) return t.skip('no PostgreSQL');
      const created = await api().request('POST', '/api/v1/meeting-rooms', { name: 'Phòng họp tầng 2', location: '22 Tôn Đức Thắng, Huế', capacity: 3, equipment: 'Màn hình LED, 2 camera' });
      assert.equal(created.status, 201);
      roomId = created.body.id;
      const denied = await as(organiserA, 'POST', '/api/v1/meeting-rooms', { name: 'Phòng khác' });
      assert.equal(denied.status, 403);
      const listed = await as(organiserA, 'GET', '/api/v1/meeting-rooms');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.meetingRooms.some((room: { id: string }) => room.id === roomId));
      assert.equal((await as(member, 'GET', '/api/v1/meeting-rooms')).status, 403);
    });

    test('room over capacity', async (t) => {
      if (!hop) return t.skip('no PostgreSQL');
      const participants = ['An', 'Bình', 'Chi', 'Dũng'].map((name) => ({ name }));
      const response = await api().request('POST', '/api/v1/meetings', at('2027-04-05', '08:00', '09:00', { mode: 'in_person', meetingRoomId: roomId, participants }));
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'MEETING_ROOM_OVER_CAPACITY');
      assert.deepEqual(response.body.error.details, { meetingRoomId: roomId, participantCount: 4, capacity: 3 });
    });

    test('room clash hides other units', async (t) => {
      if (!hop) return t.skip('no PostgreSQL');
      const booked = await as(organiserA, 'POST', '/api/v1/meetings', at('2027-04-06', '08:00', '10:00', { unitId: unitA, mode: 'hybrid', meetingRoomId: roomId, title: 'Họp kín Sở Nội vụ' }));
      assert.equal(booked.status, 201);
      assert.equal(booked.body.place.name, 'Phòng họp tầng 2');

      const fromB = await as(organiserB, 'POST', '/api/v1/meetings', at('2027-04-06', '09:00', '11:00', { unitId: unitB, mode: 'in_person', meetingRoomId: roomId }));
      assert.equal(fromB.status, 409);
      assert.equal(fromB.body.error.code, 'MEETING_ROOM_CONFLICT');
      assert.equal(fromB.body.error.details.conflicts[0].meeting, null, 'another unit sees only busy');
      assert.equal(fromB.body.error.details.conflicts[0].busy, true);
      assert.ok(!JSON.stringify(fromB.body).includes('Họp kín'), 'the title does not leak');

      const fromAdmin = await api().request('POST', '/api/v1/meetings', at('2027-04-06', '09:30', '10:30', { mode: 'in_person', meetingRoomId: roomId }));
      assert.equal(fromAdmin.status, 409);
      assert.deepEqual(fromAdmin.body.error.details.conflicts[0].meeting, { id: booked.body.id, title: 'Họp kín Sở Nội vụ' });
      assert.equal(fromAdmin.body.error.details.conflicts[0].startsAt, '2027-04-06T01:00:00.000Z');

      const adjacent = await api().request('POST', '/api/v1/meetings', at('2027-04-06', '10:00', '11:00', { mode: 'in_person', meetingRoomId: roomId }));
      assert.equal(adjacent.status, 201, 'back-to-back bookings do not clash');

      await api().request('POST', `/api/v1/meetings/${booked.body.id}/cancel`, {});
      const afterCancel = await as(organiserB, 'POST', '/api/v1/meetings', at('2027-04-06', '08:00', '09:00', { unitId: unitB, mode: 'in_person', meetingRoomId: roomId }));
      assert.equal(afterCancel.status, 201, 'a cancelled meeting frees the room');
    });

    test('disabled room cannot be booked', async (t) => {
      if (!hop) return t.skip('no PostgreSQL');
      const room = await api().request('POST', '/api/v1/meeting-rooms', { name: 'Phòng họp cũ', capacity: 10 });
      assert.equal((await api().request('POST', `/api/v1/meeting-rooms/${room.body.id}/disable`, {})).body.disabledAt !== null, true);
      const response = await api().request('POST', '/api/v1/meetings', at('2027-04-07', '08:00', '09:00', { mode: 'in_person', meetingRoomId: room.body.id }));
      assert.equal(response.body.error.code, 'MEETING_ROOM_UNAVAILABLE');
    });
  });

  test('people clash warns or rejects', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const people = [{ name: 'Nguyễn Văn Chủ', userId: chair.userId, role: 'chair' }];
    const first = await api().request('POST', '/api/v1/meetings', at('2027-04-08', '08:00', '10:00', { unitId: unitA, participants: people, title: 'Họp giao ban' }));
    assert.equal(first.status, 201);
    assert.deepEqual(first.body.warnings, []);

    const rejected = await api().request('POST', '/api/v1/meetings', at('2027-04-08', '09:00', '11:00', { unitId: unitA, participants: people, onPeopleConflict: 'reject' }));
    assert.equal(rejected.status, 409);
    assert.equal(rejected.body.error.code, 'PEOPLE_CONFLICT');
    assert.equal(rejected.body.error.details.conflicts[0].userId, chair.userId);
    assert.equal(rejected.body.error.details.conflicts[0].meeting.title, 'Họp giao ban');

    const warned = await api().request('POST', '/api/v1/meetings', at('2027-04-08', '09:00', '11:00', { unitId: unitA, participants: people }));
    assert.equal(warned.status, 201);
    assert.equal(warned.body.warnings[0].code, 'PEOPLE_CONFLICT');
    assert.equal(warned.body.warnings[0].details.conflicts[0].name, 'Nguyễn Văn Chủ');

    const movedAway = await api().request('PATCH', `/api/v1/meetings/${warned.body.id}`, { startsAt: '2027-04-08T13:00:00+07:00', endsAt: '2027-04-08T14:00:00+07:00', onPeopleConflict: 'reject' });
    assert.equal(movedAway.status, 200);
    assert.deepEqual(movedAway.body.warnings, []);
  });

  test('notice too short unless urgent', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const soon = meetingRequest({ startsAt: new Date(Date.now() + 2 * 3600_000).toISOString(), endsAt: new Date(Date.now() + 3 * 3600_000).toISOString() });
    const rejected = await api().request('POST', '/api/v1/meetings', soon);
    assert.equal(rejected.status, 409);
    assert.equal(rejected.body.error.code, 'NOTICE_TOO_SHORT');
    assert.equal(rejected.body.error.details.requiredWorkingDays, 3);
    assert.ok(rejected.body.error.details.workingDays < 3);
    assert.match(rejected.body.error.message, /3 ngày làm việc/);

    const urgent = await api().request('POST', '/api/v1/meetings', { ...soon, urgent: true });
    assert.equal(urgent.status, 201);
    assert.equal(urgent.body.urgent, true);

    const draft = await api().request('POST', '/api/v1/meetings', { ...soon, status: 'draft' });
    assert.equal(draft.status, 201, 'a draft is not checked');
    const publish = await api().request('POST', `/api/v1/meetings/${draft.body.id}/schedule`, {});
    assert.equal(publish.status, 409);
    assert.equal(publish.body.error.code, 'NOTICE_TOO_SHORT');
    const publishUrgent = await api().request('POST', `/api/v1/meetings/${draft.body.id}/schedule`, { urgent: true });
    assert.equal(publishUrgent.status, 200);
    assert.equal(publishUrgent.body.urgent, true);
  });

  test('series with moved and cancelled occurrence', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-05-03', '08:00', '09:30', { unitId: unitA, recurrenceRule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=5', title: 'Giao ban đầu tuần' }));
    assert.equal(created.status, 201);
    assert.equal(created.body.recurrenceRule, 'FREQ=WEEKLY;BYDAY=MO;COUNT=5');
    assert.equal(created.body.recurrenceCountCap, null);
    const occurrences = created.body.occurrences;
    assert.deepEqual(occurrences.map((occurrence: { startsAt: string }) => occurrence.startsAt), [
      '2027-05-03T01:00:00.000Z',
      '2027-05-10T01:00:00.000Z',
      '2027-05-17T01:00:00.000Z',
      '2027-05-24T01:00:00.000Z',
      '2027-05-31T01:00:00.000Z',
    ]);
    const id = created.body.id;

    const moved = await api().request('PATCH', `/api/v1/meetings/${id}/occurrences/${occurrences[1].id}`, { startsAt: '2027-05-11T14:00:00+07:00', endsAt: '2027-05-11T15:30:00+07:00' });
    assert.equal(moved.status, 200);
    const cancelled = await api().request('POST', `/api/v1/meetings/${id}/occurrences/${occurrences[2].id}/cancel`, { reason: 'Trùng lịch tiếp dân' });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.sequence, 2);
    const byId = new Map(cancelled.body.occurrences.map((occurrence: { id: string }) => [occurrence.id, occurrence]));
    assert.deepEqual(byId.get(occurrences[1].id), { id: occurrences[1].id, recurrenceId: '2027-05-10T01:00:00.000Z', startsAt: '2027-05-11T07:00:00.000Z', endsAt: '2027-05-11T08:30:00.000Z', status: 'moved' });
    assert.equal((byId.get(occurrences[2].id) as { status: string }).status, 'cancelled');
    assert.equal(cancelled.body.status, 'scheduled');

    const week = await api().request('GET', `/api/v1/calendar?view=week&date=2027-05-12&unit=${unitA}`);
    assert.equal(week.status, 200);
    const item = week.body.items.find((entry: { occurrenceId: string }) => entry.occurrenceId === occurrences[1].id);
    assert.equal(item.localStart, '2027-05-11T14:00');
    assert.deepEqual(item.dates, ['2027-05-11']);
    const cancelledWeek = await api().request('GET', `/api/v1/calendar?view=week&date=2027-05-17&unit=${unitA}`);
    assert.equal(cancelledWeek.body.items.find((entry: { occurrenceId: string }) => entry.occurrenceId === occurrences[2].id).status, 'cancelled');

    const history = await api().request('GET', `/api/v1/meetings/${id}/changes`);
    assert.deepEqual(history.body.changes.map((change: { kind: string; occurrenceId: string }) => [change.kind, change.occurrenceId]), [
      ['occurrence.moved', occurrences[1].id],
      ['occurrence.cancelled', occurrences[2].id],
    ]);
    const event = await lastEvent(id, 'vn.hop.meeting.occurrence.changed.v1');
    assert.equal(event.change, 'cancelled');
    assert.equal(event.reason, 'Trùng lịch tiếp dân');

    const single = await api().request('POST', '/api/v1/meetings', at('2027-05-04', '08:00', '09:00'));
    const notSeries = await api().request('POST', `/api/v1/meetings/${single.body.id}/occurrences/${single.body.occurrences[0].id}/cancel`, {});
    assert.equal(notSeries.status, 409);
    assert.equal(notSeries.body.error.code, 'MEETING_NOT_RECURRING');
  });

  test('series times change moves later occurrences', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-06-01', '08:00', '09:00', { recurrenceRule: 'FREQ=DAILY;COUNT=3' }));
    const ids = created.body.occurrences.map((occurrence: { id: string }) => occurrence.id);
    await api().request('POST', `/api/v1/meetings/${created.body.id}/occurrences/${ids[1]}/cancel`, {});
    const changed = await api().request('PATCH', `/api/v1/meetings/${created.body.id}`, { startsAt: '2027-06-01T13:30:00+07:00', endsAt: '2027-06-01T14:30:00+07:00' });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body.occurrences.map((occurrence: { id: string }) => occurrence.id), ids, 'the occurrences keep their ids');
    assert.deepEqual(changed.body.occurrences.map((occurrence: { startsAt: string; status: string }) => [occurrence.startsAt, occurrence.status]), [
      ['2027-06-01T06:30:00.000Z', 'scheduled'],
      ['2027-06-02T06:30:00.000Z', 'cancelled'],
      ['2027-06-03T06:30:00.000Z', 'scheduled'],
    ]);
  });

  test('unbounded rule capped', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const daily = await api().request('POST', '/api/v1/meetings', at('2027-07-01', '08:00', '09:00', { recurrenceRule: 'RRULE:FREQ=DAILY' }));
    assert.equal(daily.status, 201);
    assert.equal(daily.body.occurrences.length, 200);
    assert.equal(daily.body.recurrenceCountCap, 200);
    assert.equal(daily.body.warnings[0].code, 'RECURRENCE_CAPPED');

    const weekly = await api().request('POST', '/api/v1/meetings', at('2027-07-02', '08:00', '09:00', { recurrenceRule: 'FREQ=WEEKLY' }));
    assert.equal(weekly.body.occurrences.length, 105, 'two years of Fridays');
    assert.equal(weekly.body.recurrenceCountCap, 105);
    assert.ok(weekly.body.occurrences.at(-1).startsAt < '2029-07-02T01:00:00.000Z');
  });

  test('monthly rule on the 31st', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const skipping = await api().request('POST', '/api/v1/meetings', at('2027-01-31', '08:00', '09:00', { recurrenceRule: 'FREQ=MONTHLY;COUNT=4' }));
    assert.deepEqual(skipping.body.occurrences.map((occurrence: { startsAt: string }) => occurrence.startsAt.slice(0, 10)), ['2027-01-31', '2027-03-31', '2027-05-31', '2027-07-31']);
    const lastDay = await api().request('POST', '/api/v1/meetings', at('2027-01-31', '14:00', '15:00', { recurrenceRule: 'FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3' }));
    assert.deepEqual(lastDay.body.occurrences.map((occurrence: { startsAt: string }) => occurrence.startsAt.slice(0, 10)), ['2027-01-31', '2027-02-28', '2027-03-31']);
  });

  test('meeting across midnight on both days', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', meetingRequest({ startsAt: '2027-08-10T22:00:00+07:00', endsAt: '2027-08-11T01:00:00+07:00', unitId: unitA, participants: [{ name: 'Trần Thị Tham', userId: member.userId }] }));
    assert.equal(created.status, 201);
    for (const date of ['2027-08-10', '2027-08-11']) {
      const day = await as(member, 'GET', `/api/v1/calendar?view=day&date=${date}`);
      assert.equal(day.status, 200);
      const item = day.body.items.find((entry: { meeting: { id: string } | null }) => entry.meeting?.id === created.body.id);
      assert.ok(item, `on ${date}`);
      assert.deepEqual(item.dates, [date]);
    }
    const week = await as(member, 'GET', '/api/v1/calendar?view=week&date=2027-08-10');
    assert.deepEqual(week.body.items.find((entry: { meeting: { id: string } | null }) => entry.meeting?.id === created.body.id).dates, ['2027-08-10', '2027-08-11']);
    assert.equal(week.body.fromDate, '2027-08-09', 'weeks start on Monday');
    const next = await as(member, 'GET', '/api/v1/calendar?view=day&date=2027-08-12');
    assert.ok(!next.body.items.some((entry: { meeting: { id: string } | null }) => entry.meeting?.id === created.body.id));
  });

  test('calendar in participant time zone', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-09-06', '08:00', '09:00', { unitId: unitA, participants: [{ name: 'Trần Thị Tham', userId: member.userId }] }));
    const paris = await as(member, 'GET', '/api/v1/calendar?view=day&date=2027-09-06&timeZone=Europe/Paris');
    const item = paris.body.items.find((entry: { meeting: { id: string } | null }) => entry.meeting?.id === created.body.id);
    assert.equal(item.localStart, '2027-09-06T03:00', 'CEST is UTC+2 in September');
    const losAngeles = await as(member, 'GET', '/api/v1/calendar?view=day&date=2027-09-05&timeZone=America/Los_Angeles');
    const west = losAngeles.body.items.find((entry: { meeting: { id: string } | null }) => entry.meeting?.id === created.body.id);
    assert.equal(west.localStart, '2027-09-05T18:00', 'the previous evening in California');
    assert.equal(west.meeting.timeZone, 'Asia/Ho_Chi_Minh');
    const month = await as(member, 'GET', '/api/v1/calendar?view=month&date=2027-09-20');
    assert.equal(month.body.from, '2027-08-31T17:00:00.000Z');
    assert.equal(month.body.toDate, '2027-09-30');
  });

  test('calendar shows others only as busy', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await as(organiserB, 'POST', '/api/v1/meetings', at('2027-10-04', '08:00', '09:00', { unitId: unitB, title: 'Họp riêng huyện A Lưới', participants: [{ name: 'Trần Thị Tham', userId: member.userId }, { name: 'Kăn Lự', userId: outsiderB.userId }] }));
    assert.equal(created.status, 201);
    const byOrganiser = await as(organiserA, 'GET', `/api/v1/calendar?view=day&date=2027-10-04&user=${outsiderB.userId}`);
    assert.equal(byOrganiser.status, 200);
    assert.equal(byOrganiser.body.items.length, 1);
    assert.equal(byOrganiser.body.items[0].meeting, null);
    assert.ok(!JSON.stringify(byOrganiser.body).includes('Họp riêng'));
    const byMember = await as(chair, 'GET', `/api/v1/calendar?view=day&date=2027-10-04&user=${outsiderB.userId}`);
    assert.deepEqual(byMember.body.items, [], 'a member sees nothing of meetings they cannot read');
    const invited = await as(member, 'GET', '/api/v1/calendar?view=day&date=2027-10-04');
    assert.equal(invited.body.items[0].meeting.title, 'Họp riêng huyện A Lưới');
  });

  test('postpone and reschedule', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2027-11-02', '08:00', '09:00'));
    const id = created.body.id;
    const postponed = await api().request('POST', `/api/v1/meetings/${id}/postpone`, { reason: 'Chờ ý kiến của UBND tỉnh' });
    assert.equal(postponed.status, 200);
    assert.equal(postponed.body.status, 'postponed');
    assert.equal(postponed.body.postponeReason, 'Chờ ý kiến của UBND tỉnh');
    assert.equal(postponed.body.sequence, 1);
    const event = await lastEvent(id, 'vn.hop.meeting.postponed.v1');
    assert.equal(event.rescheduled, false);
    assert.equal(event.reason, 'Chờ ý kiến của UBND tỉnh');

    const rescheduled = await api().request('PATCH', `/api/v1/meetings/${id}`, { startsAt: '2027-11-09T08:00:00+07:00', endsAt: '2027-11-09T09:00:00+07:00' });
    assert.equal(rescheduled.body.status, 'scheduled');
    assert.equal(rescheduled.body.sequence, 2);
    assert.equal(rescheduled.body.postponeReason, null);

    const moved = await api().request('POST', `/api/v1/meetings/${id}/postpone`, { startsAt: '2027-11-16T08:00:00+07:00', endsAt: '2027-11-16T09:00:00+07:00', reason: 'Bão' });
    assert.equal(moved.body.status, 'scheduled');
    assert.equal(moved.body.startsAt, '2027-11-16T01:00:00.000Z');
    assert.equal((await lastEvent(id, 'vn.hop.meeting.postponed.v1')).rescheduled, true);

    const half = await api().request('POST', `/api/v1/meetings/${id}/postpone`, { startsAt: '2027-11-16T08:00:00+07:00' });
    assert.equal(half.status, 400);
  });

  test('start and end', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const later = await api().request('POST', '/api/v1/meetings', at('2027-11-20', '08:00', '09:00'));
    const early = await api().request('POST', `/api/v1/meetings/${later.body.id}/start`, {});
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'MEETING_STATUS_CONFLICT');

    const now = Date.now();
    const running = await api().request('POST', '/api/v1/meetings', meetingRequest({ urgent: true, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 3600_000).toISOString() }));
    const started = await api().request('POST', `/api/v1/meetings/${running.body.id}/start`);
    assert.equal(started.status, 200);
    assert.equal(started.body.status, 'in_progress');
    const ended = await api().request('POST', `/api/v1/meetings/${running.body.id}/end`);
    assert.equal(ended.body.status, 'ended');
    assert.deepEqual(await outboxTypes(running.body.id), ['vn.hop.meeting.scheduled.v1', 'vn.hop.meeting.started.v1', 'vn.hop.meeting.ended.v1']);
    const history = await api().request('GET', `/api/v1/meetings/${running.body.id}/changes`);
    assert.deepEqual(history.body.changes.map((change: { kind: string }) => change.kind), ['started', 'ended']);
    const edit = await api().request('PATCH', `/api/v1/meetings/${running.body.id}`, { title: 'Sửa sau khi họp' });
    assert.equal(edit.body.error.code, 'MEETING_ENDED');
  });

  test('permission denials', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await as(organiserA, 'POST', '/api/v1/meetings', at('2027-12-01', '08:00', '09:00', {
      unitId: unitA,
      participants: [{ name: 'Nguyễn Văn Chủ', userId: chair.userId, role: 'chair' }, { name: 'Trần Thị Tham', userId: member.userId }],
    }));
    assert.equal(created.status, 201);
    const id = created.body.id;
    const occurrence = created.body.occurrences[0].id;
    const writes: [string, string, unknown][] = [
      ['PATCH', `/api/v1/meetings/${id}`, { title: 'Đổi tên' }],
      ['POST', `/api/v1/meetings/${id}/postpone`, {}],
      ['POST', `/api/v1/meetings/${id}/start`, {}],
      ['POST', `/api/v1/meetings/${id}/end`, {}],
      ['PATCH', `/api/v1/meetings/${id}/occurrences/${occurrence}`, { startsAt: '2027-12-02T08:00:00+07:00', endsAt: '2027-12-02T09:00:00+07:00' }],
      ['POST', `/api/v1/meetings/${id}/occurrences/${occurrence}/cancel`, {}],
    ];
    for (const [method, path, body] of writes) {
      const asParticipant = await as(member, method, path, body);
      assert.equal(asParticipant.status, 403, `${method} ${path} as participant`);
      const asOtherUnit = await as(outsiderB, method, path, body);
      assert.equal(asOtherUnit.status, 404, `${method} ${path} as another unit`);
      const asOtherOrganiser = await as(organiserB, method, path, body);
      assert.equal(asOtherOrganiser.status, 404, `${method} ${path} as organiser of another unit`);
    }
    assert.equal((await as(outsiderB, 'GET', `/api/v1/meetings/${id}/changes`)).status, 404);
    const byChair = await as(chair, 'PATCH', `/api/v1/meetings/${id}`, { preparation: 'Chuẩn bị số liệu quý IV' });
    assert.equal(byChair.status, 200);
    assert.equal(byChair.body.sequence, 1);
  });

  test('calendar feed token and rotation', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const first = await as(member, 'POST', '/api/v1/calendar/feed-token', {});
    assert.equal(first.status, 201);
    const feed = await api().requestAs(null, 'GET', first.body.feedPath);
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get('content-type') ?? '', /^text\/calendar/);
    assert.match(feed.body, /BEGIN:VCALENDAR/);
    assert.match(feed.body, /METHOD:PUBLISH/);
    assert.match(feed.body.replace(/\r\n /g, ''), /Họp riêng huyện A Lưới/);

    const second = await as(member, 'POST', '/api/v1/calendar/feed-token', {});
    assert.notEqual(second.body.token, first.body.token);
    assert.equal((await api().requestAs(null, 'GET', first.body.feedPath)).status, 404, 'the old link stops working');
    assert.equal((await api().requestAs(null, 'GET', second.body.feedPath)).status, 200);
    assert.equal((await api().requestAs(null, 'GET', '/api/v1/calendar/feed/not-a-token.ics')).status, 404);
    assert.equal((await api().requestAs(null, 'POST', '/api/v1/calendar/feed-token', {})).status, 401);
  });

  test('feed carries series exceptions', async (t) => {
    if (!hop) return t.skip('no PostgreSQL');
    const created = await api().request('POST', '/api/v1/meetings', at('2028-01-03', '08:00', '09:00', {
      recurrenceRule: 'FREQ=WEEKLY',
      participants: [{ name: 'Trần Thị Tham', userId: member.userId }],
      title: 'Giao ban tuần 2028',
    }));
    const [, second, third] = created.body.occurrences;
    await api().request('PATCH', `/api/v1/meetings/${created.body.id}/occurrences/${second.id}`, { startsAt: '2028-01-11T08:00:00+07:00', endsAt: '2028-01-11T09:00:00+07:00' });
    await api().request('POST', `/api/v1/meetings/${created.body.id}/occurrences/${third.id}/cancel`, {});
    const token = (await as(member, 'POST', '/api/v1/calendar/feed-token', {})).body.feedPath;
    const text = (await api().requestAs(null, 'GET', token)).body.replace(/\r\n /g, '') as string;
    const series = text.split('BEGIN:VEVENT').filter((event) => event.includes(`UID:${created.body.id}@hop`));
    assert.equal(series.length, 2, 'the series and one override');
    assert.match(series[0]!, /RRULE:FREQ=WEEKLY;COUNT=\d+/);
    assert.match(series[0]!, /EXDATE;TZID=Asia\/Ho_Chi_Minh:20280117T080000/);
    assert.match(series[1]!, /RECURRENCE-ID;TZID=Asia\/Ho_Chi_Minh:20280110T080000/);
    assert.match(series[1]!, /DTSTART;TZID=Asia\/Ho_Chi_Minh:20280111T080000/);
  });
});
