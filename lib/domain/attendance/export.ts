/**
 * The attendance report of one occurrence as CSV (UTF-8 with BOM, so Excel
 * shows the diacritics) and XLSX (Vietnamese headers, dates as Excel dates in
 * dd/mm/yyyy hh:mm). Both have the same columns and rows in the same order.
 */
import ExcelJS from 'exceljs';
import { toFloating } from '../zoned-time.ts';
import type { AttendanceRow, AttendanceStatus, CheckInMethod, MeetingAttendance } from './meeting-attendance.ts';

export const statusLabels: Record<AttendanceStatus, { vi: string; en: string }> = {
  present_in_person: { vi: 'Có mặt trực tiếp', en: 'Present in person' },
  present_online: { vi: 'Tham dự trực tuyến', en: 'Present online' },
  late: { vi: 'Đến muộn', en: 'Late' },
  absent: { vi: 'Vắng mặt có lý do', en: 'Absent (reason)' },
  delegated: { vi: 'Ủy quyền', en: 'Delegate' },
  missing: { vi: 'Vắng mặt không lý do', en: 'Absent' },
};

const roleLabels: Record<AttendanceRow['role'], string> = {
  chair: 'Chủ trì',
  secretary: 'Thư ký',
  participant: 'Người tham dự',
  observer: 'Người dự thính',
  guest: 'Khách mời',
};

const methodLabels: Record<CheckInMethod, string> = {
  online: 'Trực tuyến',
  qr: 'Mã QR tại phòng họp',
  manual: 'Thư ký điểm danh',
};

/** Names a check-in method; a mark names who made it, the chair or (by default) the secretary. */
function methodLabel(method: CheckInMethod, row: AttendanceRow): string {
  if (method === 'manual' && row.markedByRole === 'chair') return 'Chủ trì điểm danh';
  return methodLabels[method];
}

export const reportHeaders = [
  'STT',
  'Họ và tên',
  'Đơn vị',
  'Chức vụ',
  'Vai trò',
  'Trạng thái',
  'Vào lần đầu',
  'Rời lần cuối',
  'Số phút trực tuyến',
  'Hình thức điểm danh',
  'Lý do vắng / Người được ủy quyền',
] as const;

type Cell = string | number | Date | null;

/** Formats an instant as dd/mm/yyyy HH:mm on the meeting's wall clock. */
export function vietnameseDateTime(iso: string, timeZone: string): string {
  const local = toFloating(new Date(iso), timeZone);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(local.getUTCDate())}/${pad(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}

function note(row: AttendanceRow): string {
  if (row.status === 'absent') return row.absenceReason ?? '';
  if (row.delegate) return row.delegate.position ? `${row.delegate.name} (${row.delegate.position})` : row.delegate.name;
  return '';
}

/** Returns the report rows; dates are floating local Dates (the meeting's wall clock in UTC fields) or null. */
function reportRows(report: MeetingAttendance): Cell[][] {
  const zone = report.meeting.timeZone;
  const local = (iso: string | null) => (iso ? toFloating(new Date(iso), zone) : null);
  return report.rows.map((row, index) => [
    index + 1,
    row.name,
    row.unit,
    row.position,
    roleLabels[row.role],
    statusLabels[row.status].vi,
    local(row.firstJoinAt),
    local(row.lastLeaveAt),
    Math.round(row.onlineSeconds / 60),
    row.checkInMethods.map((method) => methodLabel(method, row)).join(', '),
    note(row),
  ]);
}

function csvField(cell: Cell): string {
  if (cell === null) return '';
  let text: string;
  if (cell instanceof Date) {
    const pad = (value: number) => String(value).padStart(2, '0');
    text = `${pad(cell.getUTCDate())}/${pad(cell.getUTCMonth() + 1)}/${cell.getUTCFullYear()} ${pad(cell.getUTCHours())}:${pad(cell.getUTCMinutes())}`;
  } else {
    text = String(cell);
  }
  // A leading = + - @ would make a spreadsheet run the text as a formula.
  if (typeof cell === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Returns the CSV text: a UTF-8 byte order mark, a header row, CRLF line ends (RFC 4180). */
export function attendanceCsv(report: MeetingAttendance): string {
  const lines = [reportHeaders.join(','), ...reportRows(report).map((row) => row.map(csvField).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** Returns the XLSX file: sheet "Điểm danh" with the same table as the CSV, and sheet "Thông tin" with the meeting. */
export async function attendanceXlsx(report: MeetingAttendance): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'hop';
  const sheet = workbook.addWorksheet('Điểm danh');
  sheet.addRow([...reportHeaders]);
  sheet.getRow(1).font = { bold: true };
  for (const row of reportRows(report)) sheet.addRow(row);
  for (const column of [7, 8]) sheet.getColumn(column).numFmt = 'dd/mm/yyyy hh:mm';
  const widths = [6, 28, 30, 22, 18, 22, 18, 18, 12, 24, 36];
  widths.forEach((width, index) => (sheet.getColumn(index + 1).width = width));

  const info = workbook.addWorksheet('Thông tin');
  const zone = report.meeting.timeZone;
  info.addRows([
    ['Cuộc họp', report.meeting.title],
    ['Bắt đầu', vietnameseDateTime(report.occurrence.startsAt, zone)],
    ['Kết thúc', vietnameseDateTime(report.occurrence.endsAt, zone)],
    ['Số người được mời', report.summary.invited],
    ['Có mặt', report.summary.present],
    ['Tỷ lệ tham dự (%)', report.summary.rate],
  ]);
  info.getColumn(1).width = 22;
  info.getColumn(2).width = 60;
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
