import { z } from 'zod';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { attendanceCsv, attendanceXlsx } from '../../lib/domain/attendance/export.ts';
import { loadMeetingAttendance, resolveOccurrence } from '../../lib/domain/attendance/meeting-attendance.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { BASE64_BODY_HEADER, parseOrThrow, httpFunction } from '../../lib/runtime/function.ts';

const name = 'attendance-report';

const querySchema = z.object({
  format: z.enum(['json', 'csv', 'xlsx']).default('json'),
  occurrenceId: z.string().optional(),
});

/**
 * GET /api/v1/meetings/:id/attendance/report?format=json|csv|xlsx: the
 * attendance report of one occurrence for those allowed `attendance.read-all`.
 * Every download (each format, the printable page reads JSON) leaves an
 * `attendance.report-downloaded` audit record.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async ({ params, query, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'attendance.read-all');
    const { format, occurrenceId } = parseOrThrow(querySchema, query);
    const now = deps.now();
    const occurrence = await resolveOccurrence(deps.db, meetingId, occurrenceId, now);
    const report = await loadMeetingAttendance(deps.db, meetingId, occurrence, now);

    await deps.db.transaction().execute((trx) =>
      recordAudit(trx, {
        principal,
        action: 'attendance.report-downloaded',
        entityType: 'attendance-report',
        entityId: occurrence.id,
        before: null,
        after: { meetingId, occurrenceId: occurrence.id, format, rows: report.rows.length },
        ...requestMetadata(headers),
        at: now,
      }),
    );

    // The date in the file name is the meeting's own day, in Vietnam time (en-CA formats as YYYY-MM-DD).
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(occurrence.starts_at));
    const file = `diem-danh-${occurrence.id.slice(0, 8)}-${day}`;
    if (format === 'csv') {
      return {
        body: attendanceCsv(report),
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${file}.csv"` },
      };
    }
    if (format === 'xlsx') {
      const bytes = await attendanceXlsx(report);
      return {
        body: bytes.toString('base64'),
        headers: {
          'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          'content-disposition': `attachment; filename="${file}.xlsx"`,
          [BASE64_BODY_HEADER]: 'base64',
        },
      };
    }
    return { body: report };
  },
});
