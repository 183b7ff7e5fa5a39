import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addDays,
  addWorkingDays,
  calendarFromRows,
  isCalendarDate,
  latestSendingDate,
  localDate,
  MIN_NOTICE_WORKING_DAYS,
  noticeWorkingDays,
  type HolidayCalendarRow,
} from './working-days.ts';

const vietnam = 'Asia/Ho_Chi_Minh';

/** An instant given as local time in Vietnam (UTC+07:00, no daylight saving time). */
function vn(localDateTime: string): Date {
  return new Date(`${localDateTime}+07:00`);
}

/**
 * A Tết week as an admin would enter it for 2027 (a test fixture, not the
 * official schedule): Friday 05/02 to Friday 12/02 off, Tết itself on the
 * weekend of 06-07/02, and Saturday 30/01 made a working day to compensate
 * for the bridge Friday 12/02.
 */
const tetRows: HolidayCalendarRow[] = [
  { date: '2027-02-05', kind: 'holiday', name: 'Nghỉ Tết Nguyên đán (29 tháng Chạp)' },
  { date: '2027-02-06', kind: 'holiday', name: 'Tết Nguyên đán (mùng 1)' },
  { date: '2027-02-07', kind: 'holiday', name: 'Tết Nguyên đán (mùng 2)' },
  { date: '2027-02-08', kind: 'holiday', name: 'Tết Nguyên đán (mùng 3)' },
  { date: '2027-02-09', kind: 'holiday', name: 'Nghỉ Tết Nguyên đán (mùng 4)' },
  { date: '2027-02-10', kind: 'holiday', name: 'Nghỉ Tết Nguyên đán (mùng 5)' },
  { date: '2027-02-11', kind: 'holiday', name: 'Nghỉ Tết Nguyên đán (mùng 6)' },
  { date: '2027-02-12', kind: 'holiday', name: 'Nghỉ bù Tết Nguyên đán (mùng 7)' },
  { date: '2027-01-30', kind: 'working_day', name: 'Làm bù cho ngày 12/02/2027' },
];

describe('calendar dates', () => {
  test('existing days only', () => {
    assert.equal(isCalendarDate('2028-02-29'), true);
    assert.equal(isCalendarDate('2027-02-29'), false);
    assert.equal(isCalendarDate('2027-13-01'), false);
    assert.equal(isCalendarDate('2027-2-1'), false);
    assert.equal(isCalendarDate('2027-02-01T00:00'), false);
  });

  test('addDays across month and year', () => {
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2027-03-01', -1), '2027-02-28');
  });

  test('localDate in Vietnam and UTC', () => {
    const instant = new Date('2026-12-06T23:30:00Z');
    assert.equal(localDate(instant, vietnam), '2026-12-07');
    assert.equal(localDate(instant, 'UTC'), '2026-12-06');
  });
});

describe('weekend rule', () => {
  const calendar = calendarFromRows([]);

  test('Saturday and Sunday off', () => {
    assert.equal(calendar.isWorkingDay('2026-12-04'), true, 'Friday');
    assert.equal(calendar.isWorkingDay('2026-12-05'), false, 'Saturday');
    assert.equal(calendar.isWorkingDay('2026-12-06'), false, 'Sunday');
    assert.equal(calendar.isWorkingDay('2026-12-07'), true, 'Monday');
    assert.equal(calendar.holidayName('2026-12-05'), null);
  });

  test('notice across a weekend', () => {
    // Sent Thursday 03/12; Friday 04/12 and Monday 07/12 lie between it and Tuesday 08/12.
    assert.equal(noticeWorkingDays(calendar, vn('2026-12-03T10:00:00'), vn('2026-12-08T08:00:00'), vietnam), 2);
    assert.equal(noticeWorkingDays(calendar, vn('2026-12-03T10:00:00'), vn('2026-12-09T08:00:00'), vietnam), 3);
  });

  test('notice counts whole days only', () => {
    // Monday evening to Friday morning: Tuesday, Wednesday and Thursday.
    assert.equal(noticeWorkingDays(calendar, vn('2026-12-07T23:59:00'), vn('2026-12-11T00:01:00'), vietnam), MIN_NOTICE_WORKING_DAYS);
  });

  test('meeting on the sending day', () => {
    assert.equal(noticeWorkingDays(calendar, vn('2026-12-07T08:00:00'), vn('2026-12-07T14:30:00'), vietnam), 0);
  });

  test('meeting the next day or earlier', () => {
    assert.equal(noticeWorkingDays(calendar, vn('2026-12-07T08:00:00'), vn('2026-12-08T14:30:00'), vietnam), 0);
    assert.equal(noticeWorkingDays(calendar, vn('2026-12-07T08:00:00'), vn('2026-12-01T14:30:00'), vietnam), 0);
  });

  test('addWorkingDays skips the weekend', () => {
    assert.equal(addWorkingDays(calendar, '2026-12-04', 1), '2026-12-07');
    assert.equal(addWorkingDays(calendar, '2026-12-07', -1), '2026-12-04');
    assert.equal(addWorkingDays(calendar, '2026-12-05', 0), '2026-12-05');
    assert.equal(addWorkingDays(calendar, '2026-12-05', 1), '2026-12-07');
    assert.equal(addWorkingDays(calendar, '2026-12-07', 10), '2026-12-21');
  });

  test('latest sending date of a Friday meeting', () => {
    assert.equal(latestSendingDate(calendar, '2026-12-11'), '2026-12-07');
    const sentLate = noticeWorkingDays(calendar, vn('2026-12-08T08:00:00'), vn('2026-12-11T08:00:00'), vietnam);
    assert.equal(sentLate, MIN_NOTICE_WORKING_DAYS - 1);
  });
});

describe('Tết entered by an admin', () => {
  const calendar = calendarFromRows(tetRows);

  test('Tết week is off', () => {
    for (const date of ['2027-02-05', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11', '2027-02-12']) {
      assert.equal(calendar.isWorkingDay(date), false, date);
    }
    assert.equal(calendar.isWorkingDay('2027-02-04'), true);
    assert.equal(calendar.isWorkingDay('2027-02-15'), true);
    assert.equal(calendar.holidayName('2027-02-08'), 'Tết Nguyên đán (mùng 3)');
  });

  test('compensatory Saturday is a working day', () => {
    assert.equal(calendar.isWorkingDay('2027-01-30'), true);
    assert.equal(calendar.holidayName('2027-01-30'), null);
    assert.equal(calendar.isWorkingDay('2027-01-31'), false, 'the Sunday after stays off');
  });

  test('notice across Tết', () => {
    // Between Monday 01/02 and Monday 15/02 only 02/02, 03/02 and 04/02 are working days.
    assert.equal(noticeWorkingDays(calendar, vn('2027-02-01T16:00:00'), vn('2027-02-15T08:00:00'), vietnam), 3);
    assert.equal(noticeWorkingDays(calendar, vn('2027-02-02T08:00:00'), vn('2027-02-15T08:00:00'), vietnam), 2);
    assert.equal(noticeWorkingDays(calendarFromRows([]), vn('2027-02-02T08:00:00'), vn('2027-02-15T08:00:00'), vietnam), 8);
  });

  test('notice counts the compensatory Saturday', () => {
    // Friday 29/01, Saturday 30/01 (working) and Monday 01/02 lie between Thursday 28/01 and Tuesday 02/02.
    assert.equal(noticeWorkingDays(calendar, vn('2027-01-28T09:00:00'), vn('2027-02-02T09:00:00'), vietnam), 3);
    assert.equal(noticeWorkingDays(calendarFromRows([]), vn('2027-01-28T09:00:00'), vn('2027-02-02T09:00:00'), vietnam), 2);
  });

  test('addWorkingDays jumps over Tết', () => {
    assert.equal(addWorkingDays(calendar, '2027-02-04', 1), '2027-02-15');
    assert.equal(addWorkingDays(calendar, '2027-02-15', -1), '2027-02-04');
    assert.equal(addWorkingDays(calendar, '2027-01-29', 1), '2027-01-30');
    assert.equal(latestSendingDate(calendar, '2027-02-15'), '2027-02-01');
  });
});

describe('time zone of the days', () => {
  const calendar = calendarFromRows([]);

  test('23:30 UTC is the next day in Vietnam', () => {
    // Sunday 06/12 23:30 UTC is Monday 07/12 06:30 in Vietnam.
    const sentAt = new Date('2026-12-06T23:30:00Z');
    const startsAt = new Date('2026-12-11T02:00:00Z');
    assert.equal(noticeWorkingDays(calendar, sentAt, startsAt, vietnam), 3, 'Tuesday to Thursday');
    assert.equal(noticeWorkingDays(calendar, sentAt, startsAt, 'UTC'), 4, 'Monday to Thursday');
  });

  test('meeting day taken in the zone too', () => {
    // Thursday 10/12 18:00 UTC is Friday 11/12 01:00 in Vietnam.
    const sentAt = vn('2026-12-07T09:00:00');
    const startsAt = new Date('2026-12-10T18:00:00Z');
    assert.equal(noticeWorkingDays(calendar, sentAt, startsAt, vietnam), 3);
    assert.equal(noticeWorkingDays(calendar, sentAt, startsAt, 'UTC'), 2);
  });
});

describe('loaded range', () => {
  const calendar = calendarFromRows(tetRows, { fromDate: '2027-01-01', toDate: '2027-02-28' });

  test('dates outside the range throw', () => {
    assert.equal(calendar.isWorkingDay('2027-02-28'), false);
    assert.throws(() => calendar.isWorkingDay('2027-03-01'), RangeError);
    assert.throws(() => calendar.holidayName('2026-12-31'), RangeError);
    assert.throws(() => addWorkingDays(calendar, '2027-02-26', 2), /outside the loaded holiday calendar/);
  });

  test('invalid dates throw', () => {
    assert.throws(() => calendar.isWorkingDay('2027-02-30'), RangeError);
    assert.throws(() => addWorkingDays(calendar, '2027-02-01', 1.5), RangeError);
  });
});
