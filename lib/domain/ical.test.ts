import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ICAL from 'ical.js';
import { buildCalendar, meetingUid, prepareCalendar, type IcalEventInput } from './ical.ts';

type IcalComponent = InstanceType<typeof ICAL.Component>;

const now = new Date('2026-12-01T02:00:00Z');

function baseEvent(overrides: Partial<IcalEventInput> = {}): IcalEventInput {
  return {
    uid: meetingUid('7f8e2a40-3b9c-4d1e-9f60-5a2b1c3d4e5f'),
    sequence: 0,
    title: 'Họp giao ban tuần Sở Thông tin và Truyền thông',
    startsAt: '2026-12-07T07:30:00Z',
    endsAt: '2026-12-07T09:00:00Z',
    timeZone: 'Asia/Ho_Chi_Minh',
    ...overrides,
  };
}

function parse(ics: string): IcalComponent {
  return new ICAL.Component(ICAL.parse(ics));
}

function vevents(calendar: IcalComponent): IcalComponent[] {
  return calendar.getAllSubcomponents('vevent');
}

/** Expands a series (the VEVENT without RECURRENCE-ID) with its overrides, as a calendar client does. */
function occurrenceStarts(calendar: IcalComponent, limit = 50): string[] {
  const components = vevents(calendar);
  const master = new ICAL.Event(components.find((component) => !component.hasProperty('recurrence-id'))!);
  for (const component of components) {
    if (component.hasProperty('recurrence-id')) master.relateException(new ICAL.Event(component));
  }
  const iterator = master.iterator();
  const starts: string[] = [];
  for (let next = iterator.next(); next && starts.length < limit; next = iterator.next()) {
    starts.push(master.getOccurrenceDetails(next).startDate.toJSDate().toISOString());
  }
  return starts;
}

describe('buildCalendar', () => {
  test('header, UID and SEQUENCE', () => {
    const ics = buildCalendar({ method: 'REQUEST', events: [baseEvent({ sequence: 3 })], now });
    const calendar = parse(ics);
    assert.equal(calendar.getFirstPropertyValue('method'), 'REQUEST');
    assert.equal(calendar.getFirstPropertyValue('version'), '2.0');
    assert.match(String(calendar.getFirstPropertyValue('prodid')), /hop/);
    const [event] = vevents(calendar);
    assert.equal(event!.getFirstPropertyValue('uid'), '7f8e2a40-3b9c-4d1e-9f60-5a2b1c3d4e5f@hop');
    assert.equal(event!.getFirstPropertyValue('sequence'), 3);
    assert.equal(event!.getFirstPropertyValue('status'), 'CONFIRMED');
    assert.equal(String(event!.getFirstPropertyValue('dtstamp')), '2026-12-01T02:00:00Z');
    assert.ok(ics.endsWith('END:VCALENDAR\r\n'));
    assert.ok(!/[^\r]\n/.test(ics), 'every line ends with CRLF');
  });

  test('no METHOD when not given', () => {
    const calendar = parse(buildCalendar({ events: [baseEvent()], now }));
    assert.equal(calendar.getFirstPropertyValue('method'), null);
  });

  test('DTSTART with TZID and VTIMEZONE', () => {
    const ics = buildCalendar({ method: 'REQUEST', events: [baseEvent()], now });
    assert.match(ics, /\r\nDTSTART;TZID=Asia\/Ho_Chi_Minh:20261207T143000\r\n/);
    assert.match(ics, /\r\nDTEND;TZID=Asia\/Ho_Chi_Minh:20261207T160000\r\n/);
    const calendar = parse(ics);
    const zones = calendar.getAllSubcomponents('vtimezone');
    assert.deepEqual(
      zones.map((zone) => zone.getFirstPropertyValue('tzid')),
      ['Asia/Ho_Chi_Minh'],
    );
    const observances = zones[0]!.getAllSubcomponents();
    assert.equal(observances.length, 1);
    assert.equal(observances[0]!.getFirstPropertyValue('tzoffsetto')!.toString(), '+07:00');
    const event = new ICAL.Event(vevents(calendar)[0]!);
    assert.equal(event.startDate.toJSDate().toISOString(), '2026-12-07T07:30:00.000Z');
    assert.equal(event.endDate.toJSDate().toISOString(), '2026-12-07T09:00:00.000Z');
  });

  test('zone with daylight saving time', () => {
    // A weekly 09:00 meeting in New York spans the switch to EDT on 14/03/2027.
    const ics = buildCalendar({
      events: [
        baseEvent({
          startsAt: '2027-03-01T14:00:00Z',
          endsAt: '2027-03-01T15:00:00Z',
          timeZone: 'America/New_York',
          recurrenceRule: 'FREQ=WEEKLY;COUNT=4',
        }),
      ],
      now,
    });
    assert.match(ics, /DTSTART;TZID=America\/New_York:20270301T090000/);
    assert.match(ics, /BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400/);
    assert.deepEqual(occurrenceStarts(parse(ics)), [
      '2027-03-01T14:00:00.000Z',
      '2027-03-08T14:00:00.000Z',
      '2027-03-15T13:00:00.000Z',
      '2027-03-22T13:00:00.000Z',
    ]);
  });

  test('instants survive another reader zone', () => {
    // One instant written in Vietnam time and in Berlin time parses to the same UTC instant.
    const calendar = parse(buildCalendar({ events: [baseEvent(), baseEvent({ uid: 'berlin@hop', timeZone: 'Europe/Berlin' })], now }));
    const [vietnam, berlin] = vevents(calendar).map((component) => new ICAL.Event(component));
    assert.equal(berlin!.startDate.toString(), '2026-12-07T08:30:00');
    assert.equal(vietnam!.startDate.toString(), '2026-12-07T14:30:00');
    assert.equal(berlin!.startDate.toJSDate().getTime(), vietnam!.startDate.toJSDate().getTime());
    assert.equal(berlin!.startDate.convertToZone(ICAL.Timezone.utcTimezone).toString(), '2026-12-07T07:30:00Z');
  });

  test('series with EXDATE and moved occurrence', () => {
    const uid = meetingUid('series-1');
    const ics = buildCalendar({
      method: 'REQUEST',
      now,
      events: [
        baseEvent({
          uid,
          sequence: 1,
          recurrenceRule: 'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5',
          exceptionDates: ['2026-12-14T07:30:00Z'],
        }),
        // The occurrence of Monday 21/12 14:30 moved to Tuesday 22/12 15:00.
        baseEvent({
          uid,
          sequence: 1,
          recurrenceId: '2026-12-21T07:30:00Z',
          startsAt: '2026-12-22T08:00:00Z',
          endsAt: '2026-12-22T09:30:00Z',
        }),
      ],
    });
    assert.match(ics, /\r\nRRULE:FREQ=WEEKLY;COUNT=5;BYDAY=MO\r\n/);
    assert.match(ics, /\r\nEXDATE;TZID=Asia\/Ho_Chi_Minh:20261214T143000\r\n/);
    assert.match(ics, /\r\nRECURRENCE-ID;TZID=Asia\/Ho_Chi_Minh:20261221T143000\r\n/);
    assert.deepEqual(occurrenceStarts(parse(ics)), [
      '2026-12-07T07:30:00.000Z',
      '2026-12-22T08:00:00.000Z',
      '2026-12-28T07:30:00.000Z',
      '2027-01-04T07:30:00.000Z',
    ]);
  });

  test('floating UNTIL written in UTC', () => {
    const ics = buildCalendar({ events: [baseEvent({ recurrenceRule: 'FREQ=WEEKLY;UNTIL=20261221T143000' })], now });
    assert.match(ics, /RRULE:FREQ=WEEKLY;UNTIL=20261221T073000Z/);
    assert.equal(occurrenceStarts(parse(ics)).length, 3);
    const dateUntil = buildCalendar({ events: [baseEvent({ recurrenceRule: 'FREQ=DAILY;UNTIL=20261209' })], now });
    assert.match(dateUntil, /UNTIL=20261209T165959Z/);
    assert.equal(occurrenceStarts(parse(dateUntil)).length, 3);
  });

  test('CANCEL sets STATUS CANCELLED', () => {
    const ics = buildCalendar({ method: 'CANCEL', events: [baseEvent({ sequence: 4, status: 'CONFIRMED' })], now });
    const calendar = parse(ics);
    assert.equal(calendar.getFirstPropertyValue('method'), 'CANCEL');
    const [event] = vevents(calendar);
    assert.equal(event!.getFirstPropertyValue('status'), 'CANCELLED');
    assert.equal(event!.getFirstPropertyValue('sequence'), 4);
  });

  test('organizer and attendees', () => {
    const ics = buildCalendar({
      method: 'REQUEST',
      now,
      events: [
        baseEvent({
          organizer: { name: 'Văn phòng Sở', email: 'vanphong@stttt.example.gov.vn' },
          attendees: [
            { name: 'Nguyễn Thị Hòa', email: 'hoa@example.gov.vn', role: 'chair' },
            { name: 'Trần Văn Bình', email: 'binh@example.gov.vn' },
            { name: 'Lê Thị Thư', email: null, role: 'secretary' },
            { name: 'Phạm Khách, "Công ty A"', email: 'khach@example.com', role: 'guest' },
          ],
        }),
      ],
    });
    const [event] = vevents(parse(ics));
    const organizer = event!.getFirstProperty('organizer')!;
    assert.equal(organizer.getFirstValue(), 'mailto:vanphong@stttt.example.gov.vn');
    assert.equal(organizer.getParameter('cn'), 'Văn phòng Sở');
    const attendees = event!.getAllProperties('attendee').map((property) => ({
      value: property.getFirstValue(),
      cn: property.getParameter('cn'),
      role: property.getParameter('role'),
    }));
    assert.deepEqual(attendees, [
      { value: 'mailto:hoa@example.gov.vn', cn: 'Nguyễn Thị Hòa', role: 'CHAIR' },
      { value: 'mailto:binh@example.gov.vn', cn: 'Trần Văn Bình', role: 'REQ-PARTICIPANT' },
      { value: 'mailto:khach@example.com', cn: 'Phạm Khách, "Công ty A"', role: 'OPT-PARTICIPANT' },
    ]);
  });

  test('Vietnamese text round-trip in NFC', () => {
    const title = 'Họp bàn phương án ứng phó bão số 9; lũ lụt, sạt lở đất ở huyện A Lưới\\Phong Điền';
    const description = 'Nội dung:\n1. Báo cáo tình hình thiệt hại, di dời dân\n2. Phân công trực 24/24; chuẩn bị vật tư';
    const ics = buildCalendar({
      events: [baseEvent({ title: title.normalize('NFD'), description, location: 'Phòng họp trực tuyến, Trung tâm Giám sát, điều hành đô thị thông minh' })],
      now,
    });
    const [event] = vevents(parse(ics));
    const summary = String(event!.getFirstPropertyValue('summary'));
    assert.equal(summary, title.normalize('NFC'));
    assert.equal(summary, summary.normalize('NFC'));
    assert.equal(event!.getFirstPropertyValue('description'), description);
    assert.equal(event!.getFirstPropertyValue('location'), 'Phòng họp trực tuyến, Trung tâm Giám sát, điều hành đô thị thông minh');
    assert.match(ics.replace(/\r\n /g, ''), /\r\nSUMMARY:Họp bàn phương án ứng phó bão số 9\\; lũ lụt\\, sạt lở đất ở huyện A Lưới\\\\Phong Điền\r\n/);
  });

  test('folding keeps UTF-8 whole', () => {
    const title = 'Hội nghị trực tuyến tổng kết công tác chuyển đổi số năm 2026 và triển khai nhiệm vụ năm 2027 của Ủy ban nhân dân tỉnh Thừa Thiên Huế với các sở, ban, ngành';
    const ics = buildCalendar({ events: [baseEvent({ title, description: title.repeat(3) })], now });
    const bytes = Buffer.from(ics, 'utf8');
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let start = 0;
    let continuationLines = 0;
    for (let index = 0; index < bytes.length - 1; index += 1) {
      if (bytes[index] !== 0x0d || bytes[index + 1] !== 0x0a) continue;
      const line = bytes.subarray(start, index);
      assert.ok(line.length <= 75, `line of ${line.length} octets: ${line.toString('utf8')}`);
      assert.doesNotThrow(() => decoder.decode(line), 'a folded line holds whole UTF-8 sequences');
      if (line[0] === 0x20) continuationLines += 1;
      start = index + 2;
    }
    assert.ok(continuationLines >= 5, `expected folded lines, found ${continuationLines}`);
    const [event] = vevents(parse(ics));
    assert.equal(event!.getFirstPropertyValue('summary'), title);
  });

  test('template copies carry their own lines', () => {
    const template = prepareCalendar({ method: 'REQUEST', events: [baseEvent({ description: 'không dùng', attendees: [{ name: 'Bỏ qua', email: 'bo@example.gov.vn' }] })], now });
    const description = 'Đường dẫn tham gia trực tuyến: https://hop.example.gov.vn/join.html?m=7f8e2a40&k=' + 'x'.repeat(120);
    const first = template.render([{ description, location: 'Phòng họp số 2, trụ sở UBND tỉnh', url: 'https://hop.example.gov.vn/j/1', attendees: [{ name: 'Nguyễn Thị Hòa', email: 'hoa@example.gov.vn' }] }]);
    const second = template.render([{ attendees: [{ name: 'Trần Văn Bình', email: 'binh@example.gov.vn', role: 'chair' }] }]);

    const [one] = vevents(parse(first));
    assert.equal(one!.getFirstPropertyValue('description'), description);
    assert.equal(one!.getFirstPropertyValue('location'), 'Phòng họp số 2, trụ sở UBND tỉnh');
    assert.equal(one!.getFirstPropertyValue('url'), 'https://hop.example.gov.vn/j/1');
    assert.deepEqual(one!.getAllProperties('attendee').map((property) => property.getFirstValue()), ['mailto:hoa@example.gov.vn']);
    assert.ok(first.split('\r\n').every((line) => Buffer.byteLength(line, 'utf8') <= 75), 'personal lines are folded');

    const [two] = vevents(parse(second));
    assert.equal(two!.getFirstPropertyValue('description'), null, 'the input event\'s own description is not part of the template');
    assert.deepEqual(two!.getAllProperties('attendee').map((property) => [property.getFirstValue(), property.getParameter('role')]), [['mailto:binh@example.gov.vn', 'CHAIR']]);
    assert.equal(two!.getFirstPropertyValue('summary'), 'Họp giao ban tuần Sở Thông tin và Truyền thông');
    assert.equal(first.replace(/\r\n(DESCRIPTION|LOCATION|URL|ATTENDEE)[;:][^\r]*(\r\n [^\r]*)*/g, ''), second.replace(/\r\nATTENDEE[;:][^\r]*(\r\n [^\r]*)*/g, ''));
  });

  test('invalid input rejected', () => {
    assert.throws(() => buildCalendar({ events: [baseEvent({ timeZone: 'Asia/Hue' })] }), /unknown time zone/);
    assert.throws(() => buildCalendar({ events: [baseEvent({ startsAt: '07/12/2026 14:30' })] }), /invalid startsAt/);
    assert.throws(() => buildCalendar({ events: [baseEvent({ endsAt: '2026-12-07T07:00:00Z' })] }), /before startsAt/);
    assert.throws(() => buildCalendar({ events: [baseEvent({ recurrenceRule: 'BYDAY=MO' })] }), /recurrence rule/);
    assert.throws(() => buildCalendar({ events: [baseEvent({ sequence: -1 })] }), /sequence/);
  });

  test('meetingUid is stable', () => {
    assert.equal(meetingUid('abc'), meetingUid('abc'));
    assert.equal(meetingUid('abc'), 'abc@hop');
  });
});
