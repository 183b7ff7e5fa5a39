/**
 * Invitations, change notices, cancellations and reminders through the whole
 * gateway on real PostgreSQL: a meeting change travels through the outbox,
 * the bus and meeting-notify to one `vn.hop.notification.requested.v1` per
 * participant, and reminders through reminder-plan and reminder-dispatch.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import ICAL from 'ical.js';
import { sql } from 'kysely';
import type { NotificationRequested } from '../lib/contract/notifications.ts';
import { newEvent } from '../lib/contract/events.ts';
import { fanOutNotification } from '../lib/domain/notifications/deliveries.ts';
import { dispatchDueReminders } from '../lib/domain/reminders.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase, waitFor } from '../test/support/services.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
if (!adminUrl && process.env.CI === 'true') throw new Error('TEST_DATABASE_URL is required under CI');

interface Notice extends NotificationRequested {
  eventId: string;
}

describe('meeting notifications', { skip: adminUrl ? false : 'TEST_DATABASE_URL is not set' }, () => {
  let hop: TestPlatform;
  let drop: (() => Promise<void>) | undefined;
  let englishUserId: string;

  before(async () => {
    const database = await createTestDatabase(adminUrl!);
    drop = database.drop;
    hop = await startTestPlatform({ DATABASE_URL: database.url, PUBLIC_BASE_URL: 'https://hop.example.gov.vn/' });

    englishUserId = randomUUID();
    await hop.platform.database.db
      .insertInto('app_user')
      .values({
        id: englishUserId,
        display_name: 'Lê Minh Khôi',
        name_search: 'le minh khoi',
        email: 'khoi@example.gov.vn',
        phone: null,
        external_id: null,
        updated_at: new Date(),
        time_zone: 'Asia/Tokyo',
        language: 'en',
      } as never)
      .execute();
  });

  after(async () => {
    await hop?.stop();
    await drop?.();
  });

  /** Notification events of a meeting in the outbox, oldest first. */
  async function notices(meetingId: string, kind?: string): Promise<Notice[]> {
    const rows = await hop.platform.database.db
      .selectFrom('outbox')
      .select(['payload', 'event_id'])
      .where('topic', '=', 'hop.notifications.v1')
      .where('message_key', '=', meetingId)
      .orderBy('id')
      .execute();
    return rows
      .map((row) => ({ ...(typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload).data, eventId: row.event_id }) as Notice)
      .filter((notice) => kind === undefined || notice.kind === kind);
  }

  async function waitForNotices(meetingId: string, kind: string, count: number): Promise<Notice[]> {
    return waitFor(
      `${count} ${kind} notices`,
      async () => {
        const found = await notices(meetingId, kind);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs: 15_000 },
    );
  }

  async function createMeeting(overrides: Record<string, unknown> = {}) {
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        startsAt: new Date(Date.now() + 3 * 24 * 3_600_000).toISOString(),
        endsAt: new Date(Date.now() + 3 * 24 * 3_600_000 + 3_600_000).toISOString(),
        agenda: [{ title: 'Báo cáo tiến độ chuyển đổi số', presenter: 'Trần Văn Bình', plannedMinutes: 30 }],
        participants: [
          { name: 'Nguyễn Thị Hòa', email: 'hoa@example.gov.vn', role: 'chair' },
          { name: 'Lê Minh Khôi', userId: englishUserId },
          { name: 'Phạm Thu Hà', phone: '+84 912 345 678', role: 'guest' },
        ],
        ...overrides,
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: string; participants: { id: string; name: string; inviteKey: string; joinPath: string }[] };
  }

  it('invites every participant once', async () => {
    const meeting = await createMeeting();
    const invitations = await waitForNotices(meeting.id, 'scheduled', 3);
    assert.equal(invitations.length, 3);
    assert.deepEqual(invitations.map((notice) => notice.recipient.name).sort(), ['Lê Minh Khôi', 'Nguyễn Thị Hòa', 'Phạm Thu Hà']);

    const hoa = invitations.find((notice) => notice.recipient.name === 'Nguyễn Thị Hòa')!;
    assert.match(hoa.subject, /^Giấy mời họp: /);
    assert.equal(hoa.recipient.language, 'vi');
    assert.equal(hoa.recipient.email, 'hoa@example.gov.vn');
    assert.match(hoa.text, /Báo cáo tiến độ chuyển đổi số/);
    assert.equal(hoa.text, hoa.text.normalize('NFC'));

    const khoi = invitations.find((notice) => notice.recipient.name === 'Lê Minh Khôi')!;
    assert.equal(khoi.recipient.language, 'en');
    assert.equal(khoi.recipient.email, 'khoi@example.gov.vn', 'the directory e-mail is used');
    assert.equal(khoi.recipient.userId, englishUserId);
    assert.doesNotMatch(khoi.subject, /Giấy mời/);

    const calendar = new ICAL.Component(ICAL.parse(hoa.ics!));
    assert.equal(calendar.getFirstPropertyValue('method'), 'REQUEST');
    const event = calendar.getFirstSubcomponent('vevent')!;
    assert.equal(event.getFirstPropertyValue('sequence'), 0);
    assert.equal(event.getFirstPropertyValue('uid'), `${meeting.id}@hop`);
    assert.equal(event.getFirstPropertyValue('organizer'), 'mailto:hoa@example.gov.vn', 'the chair organises');
  });

  it('join links in notices work', async () => {
    const meeting = await createMeeting();
    const invitations = await waitForNotices(meeting.id, 'scheduled', 3);
    for (const participant of meeting.participants) {
      const notice = invitations.find((candidate) => candidate.recipient.participantId === participant.id)!;
      const link = new URL(/https:\/\/hop\.example\.gov\.vn\/join\.html\?[^\s"<]+/.exec(notice.text)![0].replaceAll('&amp;', '&'));
      assert.equal(link.searchParams.get('m'), meeting.id);
      assert.equal(link.searchParams.get('k'), participant.inviteKey, `${participant.name}: the notice carries the key from the create response`);
      const join = await hop.requestAs(null, 'POST', `/api/v1/meetings/${meeting.id}/join`, { inviteKey: link.searchParams.get('k') });
      // Media is off in this test platform, and the guest is early: a valid key gets one of these, a wrong one NOT_INVITED.
      assert.ok(['MEDIA_OFF', 'OUTSIDE_GUEST_WINDOW'].includes(join.body.error?.code), `${participant.name}: ${JSON.stringify(join.body)}`);
    }
  });

  it('a change notifies with a higher sequence', async () => {
    const meeting = await createMeeting();
    await waitForNotices(meeting.id, 'scheduled', 3);
    const startsAt = new Date(Date.now() + 4 * 24 * 3_600_000);
    const updated = await hop.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));

    const changes = await waitForNotices(meeting.id, 'updated', 3);
    const hoa = changes.find((notice) => notice.recipient.name === 'Nguyễn Thị Hòa')!;
    assert.match(hoa.subject, /^Thay đổi lịch họp: /);
    assert.match(hoa.text, /Thời gian/);
    const event = new ICAL.Component(ICAL.parse(hoa.ics!)).getFirstSubcomponent('vevent')!;
    assert.equal(event.getFirstPropertyValue('sequence'), 1);
    assert.equal((event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString(), startsAt.toISOString().replace(/\.\d{3}Z$/, '.000Z'));
  });

  it('an added participant gets an invitation', async () => {
    const meeting = await createMeeting();
    await waitForNotices(meeting.id, 'scheduled', 3);
    const updated = await hop.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
      addParticipants: [{ name: 'Đỗ Quang Vinh', email: 'vinh@example.gov.vn' }],
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const invitations = await waitForNotices(meeting.id, 'scheduled', 4);
    assert.equal(invitations.at(-1)!.recipient.name, 'Đỗ Quang Vinh');
    assert.equal((await notices(meeting.id, 'updated')).length, 0, 'the others are not told about a participant change alone');
  });

  /** Waits until meeting-notify has handled the `meeting.updated` event of the meeting's latest change. */
  async function waitForUpdateHandled(meetingId: string): Promise<void> {
    const event = await hop.platform.database.db
      .selectFrom('outbox')
      .select('event_id')
      .where('topic', '=', 'hop.meetings.v1')
      .where('message_key', '=', meetingId)
      .where(sql<boolean>`payload->>'type' = 'vn.hop.meeting.updated.v1'`)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    await waitFor('meeting-notify handled meeting.updated', async () => {
      const row = await hop.platform.database.db
        .selectFrom('processed_event')
        .select('event_id')
        .where('consumer', '=', 'meeting-notify')
        .where('event_id', '=', event.event_id)
        .executeTakeFirst();
      return row ? true : undefined;
    });
  }

  it('a removed participant gets METHOD:CANCEL', async () => {
    const meeting = await createMeeting();
    await waitForNotices(meeting.id, 'scheduled', 3);
    const guest = meeting.participants.find((participant) => participant.name === 'Phạm Thu Hà')!;
    const khoi = meeting.participants.find((participant) => participant.name === 'Lê Minh Khôi')!;
    const updated = await hop.request('PATCH', `/api/v1/meetings/${meeting.id}`, { removeParticipantIds: [guest.id, khoi.id] });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.sequence, 1);

    // No waiting: the update transaction wrote them.
    const removed = await notices(meeting.id, 'removed');
    assert.deepEqual(removed.map((notice) => notice.recipient.participantId).sort(), [guest.id, khoi.id].sort());

    const ha = removed.find((notice) => notice.recipient.participantId === guest.id)!;
    assert.match(ha.subject, /^Thôi tham dự cuộc họp: /);
    assert.equal(ha.text.split('\n')[0], 'Kính gửi: Phạm Thu Hà');
    assert.match(ha.text, /Quý vị không còn trong thành phần tham dự cuộc họp sau và không cần tham dự cuộc họp này\./);
    assert.equal(ha.text, ha.text.normalize('NFC'));
    assert.doesNotMatch(ha.text, /join\.html/, 'a removed key opens nothing, so the notice has no join link');
    assert.doesNotMatch(ha.text, /Báo cáo tiến độ/, 'the agenda is no longer theirs');
    const calendar = new ICAL.Component(ICAL.parse(ha.ics!));
    assert.equal(calendar.getFirstPropertyValue('method'), 'CANCEL');
    const event = calendar.getFirstSubcomponent('vevent')!;
    assert.equal(event.getFirstPropertyValue('uid'), `${meeting.id}@hop`);
    assert.equal(event.getFirstPropertyValue('sequence'), 1, 'above the invitation\'s 0');
    assert.equal(event.getFirstPropertyValue('status'), 'CANCELLED');

    const english = removed.find((notice) => notice.recipient.participantId === khoi.id)!;
    assert.match(english.subject, /^Removed from meeting: /);
    assert.match(english.text, /no longer need to attend/);
    const attendee = new ICAL.Component(ICAL.parse(english.ics!)).getFirstSubcomponent('vevent')!.getFirstProperty('attendee');
    assert.equal(attendee?.getFirstValue(), 'mailto:khoi@example.gov.vn');

    await waitForUpdateHandled(meeting.id);
    assert.equal((await notices(meeting.id, 'updated')).length, 0, 'the others are not told about a participant change alone');
    assert.equal((await notices(meeting.id, 'removed')).length, 2);
  });

  it('removing from a draft sends nothing', async () => {
    const meeting = await createMeeting({ status: 'draft' });
    const guest = meeting.participants.find((participant) => participant.name === 'Phạm Thu Hà')!;
    const updated = await hop.request('PATCH', `/api/v1/meetings/${meeting.id}`, { removeParticipantIds: [guest.id] });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal((await notices(meeting.id)).length, 0);
  });

  it('a removed participant gets no reminders', async () => {
    const meeting = await createMeeting();
    const reminders = await waitFor('reminders planned', async () => {
      const rows = await hop.platform.database.db.selectFrom('reminder').selectAll().where('meeting_id', '=', meeting.id).orderBy('due_at').execute();
      return rows.length === 2 ? rows : undefined;
    });
    const guest = meeting.participants.find((participant) => participant.name === 'Phạm Thu Hà')!;
    const hoa = meeting.participants.find((participant) => participant.name === 'Nguyễn Thị Hòa')!;

    // Reminder deliveries waiting for a retry (next attempt in a day, so the worker leaves them alone).
    const endpointId = randomUUID();
    await hop.platform.database.db
      .insertInto('webhook_endpoint')
      .values({ id: endpointId, name: 'Cổng nhắc lịch', url: 'https://eoffice.example.gov.vn/hop', secret: `whsec_${'A'.repeat(43)}=`, event_kinds: JSON.stringify(['reminder']), enabled: false, created_by: null })
      .execute();
    await hop.platform.database.db.insertInto('notification_target').values({ key: `webhook:${endpointId}`, next_sequence: 3 }).execute();
    const tomorrow = new Date(Date.now() + 24 * 3_600_000);
    const pending = (participantId: string, kind: string, sequence: number) => ({
      id: randomUUID(),
      notification_id: randomUUID(),
      event_id: randomUUID(),
      meeting_id: meeting.id,
      kind,
      channel: 'webhook' as const,
      endpoint_id: endpointId,
      email_address: null,
      target_key: `webhook:${endpointId}`,
      sequence,
      payload: JSON.stringify({ type: `notification.${kind}`, timestamp: new Date().toISOString(), data: { kind, recipient: { participantId } } }),
      next_attempt_at: tomorrow,
    });
    const guestReminder = pending(guest.id, 'reminder', 1);
    const hoaReminder = pending(hoa.id, 'reminder', 2);
    const guestInvitation = pending(guest.id, 'scheduled', 3);
    await hop.platform.database.db.insertInto('notification_delivery').values([guestReminder, hoaReminder, guestInvitation] as never).execute();

    const updated = await hop.request('PATCH', `/api/v1/meetings/${meeting.id}`, { removeParticipantIds: [guest.id] });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const left = await hop.platform.database.db.selectFrom('notification_delivery').select('id').where('endpoint_id', '=', endpointId).execute();
    assert.deepEqual(left.map((row) => row.id).sort(), [hoaReminder.id, guestInvitation.id].sort(), 'only the removed person\'s pending reminder is dropped');

    // The next reminder falls due: it goes to the two who stay.
    const result = await dispatchDueReminders(hop.platform.database.db, () => new Date(reminders[0]!.due_at), { source: '/hop/functions/reminder-dispatch' });
    assert.ok(result.emitted >= 1);
    hop.platform.relay?.wake();
    const sent = await waitForNotices(meeting.id, 'reminder', 2);
    assert.deepEqual(sent.map((notice) => notice.recipient.name).sort(), ['Lê Minh Khôi', 'Nguyễn Thị Hòa']);
  });

  it('fan-out drops a removed participant\'s reminder', async () => {
    const meeting = await createMeeting();
    const guest = meeting.participants.find((participant) => participant.name === 'Phạm Thu Hà')!;
    const hoa = meeting.participants.find((participant) => participant.name === 'Nguyễn Thị Hòa')!;
    const endpointId = randomUUID();
    await hop.platform.database.db
      .insertInto('webhook_endpoint')
      .values({ id: endpointId, name: 'Cổng nhắc lịch', url: 'https://eoffice.example.gov.vn/hop', secret: `whsec_${'A'.repeat(43)}=`, event_kinds: JSON.stringify(['reminder']), created_by: null })
      .execute();
    // A reminder rendered before the removal, handed to notification-fanout after it.
    const reminder = (participantId: string, name: string) =>
      newEvent(
        'vn.hop.notification.requested.v1',
        {
          notificationId: randomUUID(),
          kind: 'reminder',
          meetingId: meeting.id,
          occurrenceId: null,
          recipient: { participantId, userId: null, name, email: null, phone: null, language: 'vi' },
          subject: 'Nhắc lịch họp',
          text: 'Cuộc họp bắt đầu sau 30 phút.',
          html: '<p>Cuộc họp bắt đầu sau 30 phút.</p>',
          ics: null,
        },
        { source: '/test', subject: meeting.id },
      );
    try {
      const updated = await hop.request('PATCH', `/api/v1/meetings/${meeting.id}`, { removeParticipantIds: [guest.id] });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      // A day ahead, so the delivery worker does not pick the deliveries up during the test.
      const later = new Date(Date.now() + 24 * 3_600_000);
      const dropped = await hop.platform.database.db.transaction().execute((trx) => fanOutNotification(trx, reminder(guest.id, guest.name), { emailEnabled: false, now: later }));
      assert.equal(dropped.created.length, 0);
      const kept = await hop.platform.database.db.transaction().execute((trx) => fanOutNotification(trx, reminder(hoa.id, hoa.name), { emailEnabled: false, now: later }));
      assert.equal(kept.webhooks, 1);
    } finally {
      await hop.platform.database.db.updateTable('webhook_endpoint').set({ enabled: false }).where('id', '=', endpointId).execute();
    }
  });

  it('cancelling sends METHOD:CANCEL', async () => {
    const meeting = await createMeeting();
    await waitForNotices(meeting.id, 'scheduled', 3);
    const cancelled = await hop.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { reason: 'Trùng lịch tiếp công dân' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));

    const notices = await waitForNotices(meeting.id, 'cancelled', 3);
    const hoa = notices.find((notice) => notice.recipient.name === 'Nguyễn Thị Hòa')!;
    assert.match(hoa.subject, /^Hủy cuộc họp: /);
    assert.match(hoa.text, /Trùng lịch tiếp công dân/);
    assert.equal(new ICAL.Component(ICAL.parse(hoa.ics!)).getFirstPropertyValue('method'), 'CANCEL');
    await waitFor('pending reminders removed', async () => {
      const pending = await hop.platform.database.db.selectFrom('reminder').select('id').where('meeting_id', '=', meeting.id).where('status', '=', 'pending').execute();
      return pending.length === 0 ? true : undefined;
    });
  });

  it('a due reminder notifies everyone', async () => {
    const meeting = await createMeeting();
    const reminders = await waitFor('reminders planned', async () => {
      const rows = await hop.platform.database.db.selectFrom('reminder').selectAll().where('meeting_id', '=', meeting.id).orderBy('due_at').execute();
      return rows.length === 2 ? rows : undefined;
    });
    assert.deepEqual(
      reminders.map((row) => row.offset_minutes),
      [1440, 30],
    );

    const dueAt = new Date(reminders[0]!.due_at);
    // Earlier tests' meetings share the database, so their one-day reminders may fall due too.
    const result = await dispatchDueReminders(hop.platform.database.db, () => dueAt, { source: '/hop/functions/reminder-dispatch' });
    assert.ok(result.emitted >= 1);
    const mine = await hop.platform.database.db.selectFrom('reminder').select(['offset_minutes', 'status']).where('meeting_id', '=', meeting.id).orderBy('due_at').execute();
    assert.deepEqual(mine, [{ offset_minutes: 1440, status: 'sent' }, { offset_minutes: 30, status: 'pending' }]);
    hop.platform.relay?.wake();

    const sent = await waitForNotices(meeting.id, 'reminder', 3);
    const hoa = sent.find((notice) => notice.recipient.name === 'Nguyễn Thị Hòa')!;
    assert.match(hoa.subject, /^Nhắc lịch họp: /);
    assert.equal(hoa.ics, null);
    assert.ok(hoa.occurrenceId, 'a reminder names its occurrence');
  });

  it('reminder settings re-plan the meeting', async () => {
    const meeting = await createMeeting();
    await waitFor('reminders planned', async () => {
      const rows = await hop.platform.database.db.selectFrom('reminder').select('id').where('meeting_id', '=', meeting.id).execute();
      return rows.length === 2 ? true : undefined;
    });
    const set = await hop.request('PUT', `/api/v1/meetings/${meeting.id}/reminders`, { offsetsMinutes: [15, 120] });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.effectiveOffsetsMinutes, [120, 15]);
    assert.deepEqual(
      set.body.pending.map((row: { offsetMinutes: number }) => row.offsetMinutes),
      [120, 15],
    );

    const invalid = await hop.request('PUT', `/api/v1/meetings/${meeting.id}/reminders`, { offsetsMinutes: [1] });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'VALIDATION_FAILED');
    const stranger = await hop.requestAs(null, 'PUT', `/api/v1/meetings/${meeting.id}/reminders`, { offsetsMinutes: [60] });
    assert.equal(stranger.status, 401);
  });

  it('unit reminder settings apply to its meetings', async () => {
    const unit = await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Tư pháp' });
    assert.equal(unit.status, 201, JSON.stringify(unit.body));
    const set = await hop.request('PUT', `/api/v1/units/${unit.body.id}/reminders`, { offsetsMinutes: [90] });
    assert.equal(set.status, 200, JSON.stringify(set.body));

    const meeting = await createMeeting({ unitId: unit.body.id });
    const planned = await waitFor('reminders planned', async () => {
      const rows = await hop.platform.database.db.selectFrom('reminder').select('offset_minutes').where('meeting_id', '=', meeting.id).execute();
      return rows.length > 0 ? rows : undefined;
    });
    assert.deepEqual(planned.map((row) => row.offset_minutes), [90]);

    assert.equal((await hop.requestAs(null, 'PUT', `/api/v1/units/${unit.body.id}/reminders`, { offsetsMinutes: [60] })).status, 401);
    const unknown = await hop.request('PUT', '/api/v1/units/00000000-0000-4000-8000-000000000000/reminders', { offsetsMinutes: [60] });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'UNIT_NOT_FOUND');
  });

  it('invitations commit with the meeting', async () => {
    const meeting = await createMeeting();
    // No waiting: the create transaction wrote them.
    assert.equal((await notices(meeting.id, 'scheduled')).length, 3);
  });

  it('a redelivered event writes nothing twice', async () => {
    const meeting = await createMeeting();
    assert.equal((await hop.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {})).status, 200);
    await waitForNotices(meeting.id, 'cancelled', 3);
    const cancelled = await hop.platform.database.db
      .selectFrom('outbox')
      .select(['payload'])
      .where('topic', '=', 'hop.meetings.v1')
      .where('message_key', '=', meeting.id)
      .where(sql<boolean>`payload->>'type' = 'vn.hop.meeting.cancelled.v1'`)
      .executeTakeFirstOrThrow();
    const event = typeof cancelled.payload === 'string' ? JSON.parse(cancelled.payload) : cancelled.payload;
    const response = await hop.platform.invoker.invoke('meeting-notify', { method: 'POST', path: '/', query: {}, headers: {}, body: event, params: {}, principal: { kind: 'anonymous' } });
    assert.equal(response.status, 200, JSON.stringify(response));
    assert.equal((await notices(meeting.id, 'cancelled')).length, 3);
  });
});
