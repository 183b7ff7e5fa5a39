import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ICAL from 'ical.js';
import { prepareNotice, renderNotice, type NoticeMeeting, type NoticeRecipient } from './notification-templates.ts';

function meeting(overrides: Partial<NoticeMeeting> = {}): NoticeMeeting {
  return {
    meetingId: '7f8e2a40-3b9c-4d1e-9f60-5a2b1c3d4e5f',
    sequence: 0,
    title: 'Họp giao ban tuần Sở Thông tin và Truyền thông',
    // Monday 07/12/2026 14:30 to 16:00 in Vietnam.
    startsAt: '2026-12-07T07:30:00Z',
    endsAt: '2026-12-07T09:00:00Z',
    timeZone: 'Asia/Ho_Chi_Minh',
    mode: 'hybrid',
    place: 'Phòng họp số 2, trụ sở UBND tỉnh',
    joinUrl: 'https://hop.example.gov.vn/j/7f8e2a40?k=abc',
    agenda: [
      { title: 'Báo cáo kết quả tuần', presenter: 'Trần Văn Bình', minutes: 20 },
      { title: 'Thảo luận, kết luận', presenter: null, minutes: 70 },
    ],
    chair: 'Nguyễn Thị Hòa',
    secretary: 'Lê Thị Thư',
    preparation: 'Báo cáo số liệu tháng 11',
    urgent: false,
    ...overrides,
  };
}

function recipient(overrides: Partial<NoticeRecipient> = {}): NoticeRecipient {
  return { name: 'Phạm Văn An', email: 'an@example.gov.vn', phone: null, timeZone: 'Asia/Ho_Chi_Minh', language: 'vi', ...overrides };
}

function parseIcs(ics: string | null) {
  assert.ok(ics, 'an iCalendar file');
  const calendar = new ICAL.Component(ICAL.parse(ics));
  return { calendar, event: calendar.getFirstSubcomponent('vevent')! };
}

describe('renderNotice in Vietnamese', () => {
  test('invitation states time, place, chair, agenda', () => {
    const notice = renderNotice('scheduled', meeting(), recipient());
    assert.equal(notice.subject, 'Giấy mời họp: Họp giao ban tuần Sở Thông tin và Truyền thông – Thứ Hai, 07/12/2026 lúc 14:30');
    const lines = notice.text.split('\n');
    assert.equal(lines[0], 'Kính gửi: Phạm Văn An');
    assert.ok(lines.includes('Thời gian: từ 14:30 đến 16:00, Thứ Hai, 07/12/2026 (giờ Việt Nam)'), notice.text);
    assert.ok(lines.includes('Hình thức: Họp trực tiếp kết hợp trực tuyến'));
    assert.ok(lines.includes('Địa điểm: Phòng họp số 2, trụ sở UBND tỉnh'));
    assert.ok(lines.includes('Đường dẫn tham gia trực tuyến: https://hop.example.gov.vn/j/7f8e2a40?k=abc'));
    assert.ok(lines.includes('Chủ trì: Nguyễn Thị Hòa'));
    assert.ok(lines.includes('Thư ký: Lê Thị Thư'));
    assert.ok(lines.includes('  1. Báo cáo kết quả tuần – Trình bày: Trần Văn Bình (20 phút)'));
    assert.ok(lines.includes('  2. Thảo luận, kết luận (1 giờ 10 phút)'));
    assert.ok(lines.includes('Đề nghị chuẩn bị: Báo cáo số liệu tháng 11'));
    assert.ok(!notice.text.includes('Họp khẩn'));
    assert.ok(!notice.text.includes('HỌP KHẨN'));
  });

  test('text in NFC with correct diacritics', () => {
    const notice = renderNotice(
      'scheduled',
      meeting({ title: 'Họp bàn phương án ứng phó bão lũ'.normalize('NFD'), chair: 'Nguyễn Thị Hoà'.normalize('NFD') }),
      recipient({ name: 'Đặng Thị Lan'.normalize('NFD') }),
    );
    for (const part of [notice.subject, notice.text, notice.html]) assert.equal(part, part.normalize('NFC'));
    assert.ok(notice.subject.startsWith('Giấy mời họp: Họp bàn phương án ứng phó bão lũ'));
    assert.ok(notice.text.includes('Kính gửi: Đặng Thị Lan'));
    assert.ok(notice.text.includes('Chủ trì: Nguyễn Thị Hoà'.normalize('NFC')));
  });

  test('weekday names Thứ Hai to Chủ nhật', () => {
    const expected = ['Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ nhật'];
    expected.forEach((weekday, index) => {
      const start = new Date(Date.UTC(2026, 11, 7 + index, 7, 30));
      const notice = renderNotice('reminder', meeting({ startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 3600_000).toISOString() }), recipient());
      const day = String(7 + index).padStart(2, '0');
      assert.ok(notice.subject.endsWith(`${weekday}, ${day}/12/2026 lúc 14:30`), notice.subject);
    });
  });

  test('ics REQUEST with sequence', () => {
    const notice = renderNotice('updated', meeting({ sequence: 2, changes: ['Đổi phòng họp sang phòng số 3'] }), recipient());
    assert.ok(notice.subject.startsWith('Thay đổi lịch họp: '));
    assert.ok(notice.text.includes('Nội dung thay đổi:\n  - Đổi phòng họp sang phòng số 3'));
    const { calendar, event } = parseIcs(notice.ics);
    assert.equal(calendar.getFirstPropertyValue('method'), 'REQUEST');
    assert.equal(event.getFirstPropertyValue('sequence'), 2);
    assert.equal(event.getFirstPropertyValue('uid'), '7f8e2a40-3b9c-4d1e-9f60-5a2b1c3d4e5f@hop');
    assert.equal(event.getFirstPropertyValue('summary'), 'Họp giao ban tuần Sở Thông tin và Truyền thông');
    assert.equal(event.getFirstPropertyValue('location'), 'Phòng họp số 2, trụ sở UBND tỉnh');
    assert.equal(String(event.getFirstPropertyValue('url')), 'https://hop.example.gov.vn/j/7f8e2a40?k=abc');
    assert.equal(event.getFirstProperty('attendee')!.getFirstValue(), 'mailto:an@example.gov.vn');
    assert.match(String(event.getFirstPropertyValue('description')), /Chương trình họp:/);
  });

  test('postponed shows the new time', () => {
    const notice = renderNotice(
      'postponed',
      meeting({ sequence: 1, startsAt: '2026-12-09T01:00:00Z', endsAt: '2026-12-09T03:00:00Z' }),
      recipient(),
    );
    assert.equal(notice.subject, 'Hoãn cuộc họp: Họp giao ban tuần Sở Thông tin và Truyền thông – Thứ Tư, 09/12/2026 lúc 08:00');
    assert.ok(notice.text.includes('Thời gian mới: từ 08:00 đến 10:00, Thứ Tư, 09/12/2026 (giờ Việt Nam)'));
    const { calendar, event } = parseIcs(notice.ics);
    assert.equal(calendar.getFirstPropertyValue('method'), 'REQUEST');
    assert.equal(event.getFirstPropertyValue('sequence'), 1);
  });

  test('cancelled gives METHOD CANCEL and the reason', () => {
    const notice = renderNotice('cancelled', meeting({ sequence: 3, cancelReason: 'Bão số 9 đổ bộ, các đơn vị tập trung ứng phó' }), recipient());
    assert.ok(notice.subject.startsWith('Hủy cuộc họp: Họp giao ban tuần'));
    assert.ok(notice.text.includes('Lý do: Bão số 9 đổ bộ, các đơn vị tập trung ứng phó'));
    assert.ok(!notice.text.includes('Chương trình họp'), 'a cancellation lists no agenda');
    const { calendar, event } = parseIcs(notice.ics);
    assert.equal(calendar.getFirstPropertyValue('method'), 'CANCEL');
    assert.equal(event.getFirstPropertyValue('status'), 'CANCELLED');
    assert.equal(event.getFirstPropertyValue('sequence'), 3);
  });

  test('removed tells the person to stay away', () => {
    const notice = renderNotice('removed', meeting({ sequence: 2, cancelReason: 'Không áp dụng' }), recipient());
    assert.equal(notice.subject, 'Thôi tham dự cuộc họp: Họp giao ban tuần Sở Thông tin và Truyền thông – Thứ Hai, 07/12/2026 lúc 14:30');
    const lines = notice.text.split('\n');
    assert.equal(lines[0], 'Kính gửi: Phạm Văn An');
    assert.ok(lines.includes('Xin thông báo Quý vị không còn trong thành phần tham dự cuộc họp sau và không cần tham dự cuộc họp này.'), notice.text);
    assert.ok(lines.includes('Thời gian: từ 14:30 đến 16:00, Thứ Hai, 07/12/2026 (giờ Việt Nam)'));
    assert.ok(!notice.text.includes('Chương trình họp'), 'the agenda is no longer theirs');
    assert.ok(!notice.text.includes('Lý do'), 'a removal has no cancellation reason');
    const { calendar, event } = parseIcs(notice.ics);
    assert.equal(calendar.getFirstPropertyValue('method'), 'CANCEL');
    assert.equal(event.getFirstPropertyValue('status'), 'CANCELLED');
    assert.equal(event.getFirstPropertyValue('sequence'), 2);
    assert.equal(event.getFirstPropertyValue('uid'), '7f8e2a40-3b9c-4d1e-9f60-5a2b1c3d4e5f@hop');
    assert.equal(event.getFirstProperty('attendee')?.getFirstValue(), 'mailto:an@example.gov.vn');
  });

  test('reminder has no ics', () => {
    const notice = renderNotice('reminder', meeting(), recipient(), { reminderMinutesBefore: 30 });
    assert.equal(notice.ics, null);
    assert.ok(notice.subject.startsWith('Nhắc lịch họp: '));
    assert.ok(notice.text.includes('Cuộc họp bắt đầu sau 30 phút.'));
    const inTwoHours = renderNotice('reminder', meeting(), recipient(), { reminderMinutesBefore: 120 });
    assert.ok(inTwoHours.text.includes('Cuộc họp bắt đầu sau 2 giờ.'));
    assert.throws(() => renderNotice('reminder', meeting(), recipient(), { reminderMinutesBefore: -5 }), RangeError);
  });

  test('urgent meeting marked', () => {
    const notice = renderNotice('scheduled', meeting({ urgent: true }), recipient());
    assert.ok(notice.subject.startsWith('[Họp khẩn] Giấy mời họp: '));
    assert.ok(notice.text.startsWith('HỌP KHẨN\n'));
    assert.ok(notice.html.includes('<strong>HỌP KHẨN</strong>'));
  });

  test('place or link by mode', () => {
    const online = renderNotice('scheduled', meeting({ mode: 'online', place: null }), recipient());
    assert.ok(online.text.includes('Hình thức: Họp trực tuyến'));
    assert.ok(!online.text.includes('Địa điểm'));
    assert.ok(online.text.includes('Đường dẫn tham gia trực tuyến: https://hop.example.gov.vn/j/7f8e2a40?k=abc'));
    assert.equal(parseIcs(online.ics).event.getFirstPropertyValue('location'), 'https://hop.example.gov.vn/j/7f8e2a40?k=abc');

    const inPerson = renderNotice('scheduled', meeting({ mode: 'in_person', joinUrl: null }), recipient());
    assert.ok(inPerson.text.includes('Hình thức: Họp trực tiếp\n'));
    assert.ok(inPerson.text.includes('Địa điểm: Phòng họp số 2, trụ sở UBND tỉnh'));
    assert.ok(!inPerson.text.includes('Đường dẫn'));

    const noPlace = renderNotice('scheduled', meeting({ mode: 'in_person', place: null, joinUrl: null }), recipient());
    assert.ok(noPlace.text.includes('Địa điểm: sẽ thông báo sau'));
  });

  test('meeting across midnight', () => {
    const notice = renderNotice('scheduled', meeting({ startsAt: '2026-12-07T15:00:00Z', endsAt: '2026-12-07T18:00:00Z' }), recipient());
    assert.ok(notice.text.includes('Thời gian: từ 22:00 Thứ Hai, 07/12/2026 đến 01:00 Thứ Ba, 08/12/2026 (giờ Việt Nam)'), notice.text);
    const event = new ICAL.Event(parseIcs(notice.ics).event);
    assert.equal(event.startDate.toString(), '2026-12-07T22:00:00');
    assert.equal(event.endDate.toString(), '2026-12-08T01:00:00');
    assert.equal(event.endDate.toJSDate().toISOString(), '2026-12-07T18:00:00.000Z');
  });

  test('recurring series and one occurrence', () => {
    const series = renderNotice('scheduled', meeting({ recurrenceRule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10' }), recipient());
    assert.ok(series.text.includes('Lịch lặp lại: Hằng tuần, vào Thứ Hai, 10 lần'), series.text);
    assert.match(series.ics!, /\r\nRRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r\n/);

    const occurrence = renderNotice(
      'cancelled',
      meeting({ recurrenceRule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10', occurrenceId: 'occ-3', startsAt: '2026-12-21T07:30:00Z', endsAt: '2026-12-21T09:00:00Z', sequence: 1 }),
      recipient(),
    );
    assert.ok(!occurrence.ics!.includes('RRULE'));
    assert.match(occurrence.ics!, /\r\nRECURRENCE-ID;TZID=Asia\/Ho_Chi_Minh:20261221T143000\r\n/);
    assert.match(occurrence.ics!, /\r\nMETHOD:CANCEL\r\n/);
  });
});

describe('renderNotice for other recipients', () => {
  test('recipient in another time zone', () => {
    const notice = renderNotice('scheduled', meeting(), recipient({ timeZone: 'Europe/Paris' }));
    assert.equal(
      notice.subject,
      'Giấy mời họp: Họp giao ban tuần Sở Thông tin và Truyền thông – Thứ Hai, 07/12/2026 lúc 08:30 (giờ Europe/Paris, UTC+01:00)',
    );
    assert.ok(notice.text.includes('Thời gian: từ 08:30 đến 10:00, Thứ Hai, 07/12/2026 (giờ Europe/Paris, UTC+01:00)'), notice.text);
    // The calendar file keeps the meeting's own zone; the instant is the same.
    const event = new ICAL.Event(parseIcs(notice.ics).event);
    assert.equal(event.startDate.zone.tzid, 'Asia/Ho_Chi_Minh');
    assert.equal(event.startDate.toJSDate().toISOString(), '2026-12-07T07:30:00.000Z');
  });

  test('other zone moves the day', () => {
    // 07:30 UTC Monday is 23:30 Sunday in Los Angeles (UTC-08:00).
    const notice = renderNotice('reminder', meeting(), recipient({ timeZone: 'America/Los_Angeles' }));
    assert.ok(notice.subject.endsWith('Chủ nhật, 06/12/2026 lúc 23:30 (giờ America/Los_Angeles, UTC-08:00)'), notice.subject);
    assert.ok(notice.text.includes('từ 23:30 Chủ nhật, 06/12/2026 đến 01:00 Thứ Hai, 07/12/2026'), notice.text);
  });

  test('English variant', () => {
    const notice = renderNotice('scheduled', meeting({ urgent: true }), recipient({ name: 'John Smith', language: 'en' }));
    assert.equal(notice.subject, '[Urgent] Meeting invitation: Họp giao ban tuần Sở Thông tin và Truyền thông – Monday, 7 December 2026 at 14:30');
    const lines = notice.text.split('\n');
    assert.equal(lines[0], 'URGENT MEETING');
    assert.ok(lines.includes('Dear John Smith,'));
    assert.ok(lines.includes('Time: Monday, 7 December 2026, from 14:30 to 16:00 (Vietnam time)'), notice.text);
    assert.ok(lines.includes('Format: In person and online'));
    assert.ok(lines.includes('Chair: Nguyễn Thị Hòa'));
    assert.ok(lines.includes('  1. Báo cáo kết quả tuần – presented by Trần Văn Bình (20 minutes)'));
    assert.ok(lines.includes('Please prepare: Báo cáo số liệu tháng 11'));
    assert.ok(notice.html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
    for (const kind of ['updated', 'postponed', 'cancelled', 'reminder'] as const) {
      const subject = renderNotice(kind, meeting(), recipient({ language: 'en' })).subject;
      assert.match(subject, /^Meeting (changed|postponed|cancelled|reminder): /, kind);
    }
    const removed = renderNotice('removed', meeting(), recipient({ language: 'en' }));
    assert.match(removed.subject, /^Removed from meeting: /);
    assert.ok(removed.text.includes('You have been removed from the participants of the following meeting and no longer need to attend it.'));
  });
});

describe('prepareNotice', () => {
  test('recipients share nothing personal', () => {
    const prepared = prepareNotice('scheduled', meeting({ mode: 'online', place: null }), { language: 'vi', timeZone: 'Asia/Ho_Chi_Minh' });
    const an = prepared.render({ name: 'Phạm Văn An', email: 'an@example.gov.vn' }, 'https://hop.example.gov.vn/join.html?k=an');
    const binh = prepared.render({ name: 'Trần Văn Bình', email: null }, 'https://hop.example.gov.vn/join.html?k=binh');

    assert.equal(an.subject, binh.subject);
    assert.ok(binh.text.startsWith('Kính gửi: Trần Văn Bình\n'), binh.text);
    assert.ok(!binh.text.includes('Phạm Văn An'));
    assert.ok(!binh.text.includes('k=an'));
    assert.ok(!binh.html.includes('k=an'));
    assert.ok(binh.html.includes('<a href="https://hop.example.gov.vn/join.html?k=binh">'));

    const first = parseIcs(an.ics).event;
    const second = parseIcs(binh.ics).event;
    assert.equal(first.getFirstProperty('attendee')?.getFirstValue(), 'mailto:an@example.gov.vn');
    assert.equal(second.getAllProperties('attendee').length, 0, 'a person without e-mail has no ATTENDEE line');
    assert.equal(first.getFirstPropertyValue('location'), 'https://hop.example.gov.vn/join.html?k=an');
    assert.equal(second.getFirstPropertyValue('location'), 'https://hop.example.gov.vn/join.html?k=binh');
    assert.equal(second.getFirstPropertyValue('url'), 'https://hop.example.gov.vn/join.html?k=binh');
    assert.match(String(second.getFirstPropertyValue('description')), /Đường dẫn tham gia trực tuyến: https:\/\/hop\.example\.gov\.vn\/join\.html\?k=binh/);
  });

  test('render equals renderNotice', () => {
    const prepared = prepareNotice('updated', meeting({ changes: ['Đổi phòng họp'] }), { language: 'en', timeZone: 'Europe/Paris' });
    const person = recipient({ name: 'John Smith', language: 'en', timeZone: 'Europe/Paris' });
    const fromPrepared = prepared.render(person, 'https://hop.example.gov.vn/j/1');
    const alone = renderNotice('updated', meeting({ changes: ['Đổi phòng họp'], joinUrl: 'https://hop.example.gov.vn/j/1' }), person);
    const withoutStamp = (ics: string | null) => ics?.replace(/\r\nDTSTAMP:\d{8}T\d{6}Z/, '');
    assert.equal(fromPrepared.subject, alone.subject);
    assert.equal(fromPrepared.text, alone.text);
    assert.equal(fromPrepared.html, alone.html);
    assert.equal(withoutStamp(fromPrepared.ics), withoutStamp(alone.ics));
  });
});

describe('renderNotice escaping', () => {
  test('HTML escapes script in the title', () => {
    const notice = renderNotice(
      'scheduled',
      meeting({
        title: '<script>alert("x")</script> Họp & "bàn"',
        chair: '<b>Chủ trì</b>',
        agenda: [{ title: '<img src=x onerror=alert(1)>', presenter: "O'Brien", minutes: 5 }],
        preparation: '<iframe src="https://example.com">',
      }),
      recipient(),
    );
    assert.ok(!notice.html.includes('<script>'));
    assert.ok(!notice.html.includes('<img'));
    assert.ok(!notice.html.includes('<iframe'));
    assert.ok(!notice.html.includes('<b>Chủ trì'));
    assert.ok(notice.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Họp &amp; &quot;bàn&quot;'));
    assert.ok(notice.html.includes('O&#39;Brien'));
    assert.ok(notice.text.includes('Cuộc họp: <script>alert("x")</script> Họp & "bàn"'), 'the text part is not escaped');
  });

  test('only web links become anchors', () => {
    const notice = renderNotice('scheduled', meeting({ joinUrl: 'javascript:alert(1)' }), recipient());
    assert.ok(!notice.html.includes('href="javascript'));
    assert.ok(!notice.html.includes('<a href='));
    assert.equal(parseIcs(notice.ics).event.getFirstPropertyValue('url'), null);
    const web = renderNotice('scheduled', meeting(), recipient());
    assert.ok(web.html.includes('<a href="https://hop.example.gov.vn/j/7f8e2a40?k=abc">'));
  });

  test('subject is one line', () => {
    const notice = renderNotice('scheduled', meeting({ title: 'Họp\r\nBcc: attacker@example.com' }), recipient());
    assert.ok(!/[\r\n]/.test(notice.subject));
    assert.ok(notice.subject.startsWith('Giấy mời họp: Họp Bcc: attacker@example.com'));
  });
});
