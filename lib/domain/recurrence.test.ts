import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HopError } from '../errors.ts';
import { calendarRange, datesCovered } from './calendar.ts';
import { expandRecurrence, MAX_OCCURRENCES, normaliseRecurrenceRule } from './recurrence.ts';

const hanoi = 'Asia/Ho_Chi_Minh';
const starts = (expansion: { occurrences: { startsAt: Date }[] }) => expansion.occurrences.map((occurrence) => occurrence.startsAt.toISOString());

test('weekday kept in local time', () => {
  // 06:00 on a Monday in Hà Nội is 23:00 on Sunday in UTC.
  const expansion = expandRecurrence('FREQ=WEEKLY;BYDAY=MO;COUNT=3', new Date('2027-03-01T06:00:00+07:00'), new Date('2027-03-01T07:00:00+07:00'), hanoi);
  assert.deepEqual(starts(expansion), ['2027-02-28T23:00:00.000Z', '2027-03-07T23:00:00.000Z', '2027-03-14T23:00:00.000Z']);
  assert.equal(expansion.countCap, null);
});

test('daylight saving keeps local time', () => {
  const expansion = expandRecurrence('FREQ=DAILY;COUNT=3', new Date('2027-03-27T09:00:00+01:00'), new Date('2027-03-27T10:00:00+01:00'), 'Europe/Paris');
  assert.deepEqual(starts(expansion), ['2027-03-27T08:00:00.000Z', '2027-03-28T07:00:00.000Z', '2027-03-29T07:00:00.000Z']);
  assert.equal(expansion.occurrences[1]!.endsAt.toISOString(), '2027-03-28T08:00:00.000Z');
});

test('UNTIL includes its last day', () => {
  const expansion = expandRecurrence('FREQ=WEEKLY;UNTIL=20270329T010000Z', new Date('2027-03-01T08:00:00+07:00'), new Date('2027-03-01T09:00:00+07:00'), hanoi);
  assert.equal(expansion.occurrences.length, 5);
  assert.equal(expansion.countCap, null);
});

test('caps at count and two years', () => {
  const daily = expandRecurrence('FREQ=DAILY', new Date('2027-01-01T08:00:00+07:00'), new Date('2027-01-01T09:00:00+07:00'), hanoi);
  assert.equal(daily.occurrences.length, MAX_OCCURRENCES);
  assert.equal(daily.countCap, MAX_OCCURRENCES);
  const monthly = expandRecurrence('FREQ=MONTHLY;COUNT=100', new Date('2027-01-15T08:00:00+07:00'), new Date('2027-01-15T09:00:00+07:00'), hanoi);
  assert.equal(monthly.occurrences.length, 24);
  assert.equal(monthly.countCap, 24);
  assert.equal(starts(monthly).at(-1), '2028-12-15T01:00:00.000Z');
});

test('monthly on the 31st', () => {
  const expansion = expandRecurrence('FREQ=MONTHLY;COUNT=3', new Date('2027-01-31T08:00:00+07:00'), new Date('2027-01-31T09:00:00+07:00'), hanoi);
  assert.deepEqual(starts(expansion), ['2027-01-31T01:00:00.000Z', '2027-03-31T01:00:00.000Z', '2027-05-31T01:00:00.000Z']);
});

test('rejects invalid rules', () => {
  for (const rule of ['', 'FREQ=SECONDLY', 'FREQ=MINUTELY;COUNT=2', 'FREQ=DAILY;BYMINUTE=0,30', 'DTSTART=20270101T000000Z;FREQ=DAILY', 'FREQ=DAILY\nFREQ=WEEKLY', 'FOO=BAR']) {
    assert.throws(() => normaliseRecurrenceRule(rule), (error: unknown) => error instanceof HopError && error.code === 'RECURRENCE_INVALID', rule);
  }
  assert.equal(normaliseRecurrenceRule(' rrule:freq=weekly;byday=mo '), 'FREQ=WEEKLY;BYDAY=MO');
});

test('calendar ranges in a time zone', () => {
  const week = calendarRange('week', '2027-08-15', hanoi);
  assert.equal(week.fromDate, '2027-08-09');
  assert.equal(week.toDate, '2027-08-15');
  assert.equal(week.from.toISOString(), '2027-08-08T17:00:00.000Z');
  const december = calendarRange('month', '2027-12-31', hanoi);
  assert.equal(december.toDate, '2027-12-31');
  assert.equal(december.to.toISOString(), '2027-12-31T17:00:00.000Z');
  const midnight = datesCovered(new Date('2027-08-10T15:00:00Z'), new Date('2027-08-10T17:00:00Z'), hanoi, week);
  assert.deepEqual(midnight, ['2027-08-10'], 'ending exactly at midnight stays on one day');
});
