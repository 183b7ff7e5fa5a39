/**
 * Attendance over a period for one unit's meetings: rate per participating
 * unit and per person, meetings missed, and the rate of each occurrence for the
 * chart. Only occurrences that have started count.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/db/schema.ts';
import { loadMeetingAttendance } from './meeting-attendance.ts';

export interface UnitReport {
  unitId: string;
  from: string;
  to: string;
  occurrences: { meetingId: string; occurrenceId: string; title: string; startsAt: string; invited: number; present: number; rate: number }[];
  byUnit: { unit: string; invited: number; present: number; rate: number }[];
  byPerson: { key: string; name: string; unit: string | null; invited: number; present: number; missed: number; rate: number }[];
  /** True when more than `maxOccurrences` occurrences fell in the period and only the first were counted. */
  truncated: boolean;
}

const presentStatuses = new Set(['present_in_person', 'present_online', 'late', 'delegated']);
const rate = (present: number, invited: number) => (invited === 0 ? 0 : Math.round((present / invited) * 1000) / 10);

export async function buildUnitReport(db: Kysely<Database>, unitId: string, from: Date, to: Date, now: Date, maxOccurrences = 500): Promise<UnitReport> {
  const occurrences = await db
    .selectFrom('meeting_occurrence')
    .innerJoin('meeting', 'meeting.id', 'meeting_occurrence.meeting_id')
    .select(['meeting.id as meetingId', 'meeting.title', 'meeting_occurrence.id', 'meeting_occurrence.starts_at', 'meeting_occurrence.ends_at'])
    .where('meeting.unit_id', '=', unitId)
    .where('meeting.status', 'not in', ['cancelled', 'draft'])
    .where('meeting_occurrence.status', '!=', 'cancelled')
    .where('meeting_occurrence.starts_at', '>=', from)
    .where('meeting_occurrence.starts_at', '<', to)
    .where('meeting_occurrence.starts_at', '<=', now)
    .orderBy('meeting_occurrence.starts_at')
    .limit(maxOccurrences + 1)
    .execute();

  const units = new Map<string, { invited: number; present: number }>();
  const people = new Map<string, { name: string; unit: string | null; invited: number; present: number; missed: number }>();
  const perOccurrence: UnitReport['occurrences'] = [];

  for (const occurrence of occurrences.slice(0, maxOccurrences)) {
    const attendance = await loadMeetingAttendance(db, occurrence.meetingId, occurrence, now);
    perOccurrence.push({
      meetingId: occurrence.meetingId,
      occurrenceId: occurrence.id,
      title: occurrence.title,
      startsAt: new Date(occurrence.starts_at).toISOString(),
      invited: attendance.summary.invited,
      present: attendance.summary.present,
      rate: attendance.summary.rate,
    });
    for (const row of attendance.rows) {
      const present = presentStatuses.has(row.status);
      const unitName = row.unit ?? 'Chưa rõ đơn vị';
      const unit = units.get(unitName) ?? { invited: 0, present: 0 };
      unit.invited += 1;
      unit.present += present ? 1 : 0;
      units.set(unitName, unit);

      // People without an account are told apart by name only.
      const key = row.userId ?? `name:${row.name}`;
      const person = people.get(key) ?? { name: row.name, unit: row.unit, invited: 0, present: 0, missed: 0 };
      person.invited += 1;
      person.present += present ? 1 : 0;
      person.missed += present ? 0 : 1;
      people.set(key, person);
    }
  }

  return {
    unitId,
    from: from.toISOString(),
    to: to.toISOString(),
    occurrences: perOccurrence,
    byUnit: [...units.entries()]
      .map(([unit, counts]) => ({ unit, ...counts, rate: rate(counts.present, counts.invited) }))
      .sort((a, b) => a.unit.localeCompare(b.unit, 'vi')),
    byPerson: [...people.entries()]
      .map(([key, counts]) => ({ key, ...counts, rate: rate(counts.present, counts.invited) }))
      .sort((a, b) => a.name.localeCompare(b.name, 'vi')),
    truncated: occurrences.length > maxOccurrences,
  };
}

export type UnitReportTable = 'people' | 'units';

/**
 * Returns one table of the report as CSV: UTF-8 with a BOM, CRLF line ends
 * and Vietnamese headers. `people` is the table by person, `units` the table
 * by participating unit. Rates are written with a decimal comma ("16,7"), as
 * Vietnamese text writes them.
 * NOTE: a spreadsheet set to a decimal point reads such a rate as text.
 */
export function unitReportCsv(report: UnitReport, table: UnitReportTable = 'people'): string {
  const field = (value: string | number | null) => {
    const text = value === null ? '' : String(value);
    const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const decimalComma = (value: number) => String(value).replace('.', ',');
  const lines =
    table === 'units'
      ? [
          ['Đơn vị', 'Số lượt được mời', 'Số lượt có mặt', 'Tỷ lệ tham dự (%)'].join(','),
          ...report.byUnit.map((u) => [u.unit, u.invited, u.present, decimalComma(u.rate)].map(field).join(',')),
        ]
      : [
          ['Họ và tên', 'Đơn vị', 'Số buổi được mời', 'Số buổi có mặt', 'Số buổi vắng', 'Tỷ lệ tham dự (%)'].join(','),
          ...report.byPerson.map((p) => [p.name, p.unit, p.invited, p.present, p.missed, decimalComma(p.rate)].map(field).join(',')),
        ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
