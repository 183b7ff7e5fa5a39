import { z } from 'zod';
import { auditActions, auditActorKinds, auditEntityTypes, listAuditRecords, type AuditRecord } from '../../lib/domain/audit.ts';
import { errorBody, HopError } from '../../lib/errors.ts';
import { parseOrThrow, type FunctionHandler } from '../../lib/runtime/function.ts';

const name = 'audit-list';

/** Page sizes: JSON pages are for screens, CSV pages for one Excel export. */
const MAX_JSON_LIMIT = 500;
const DEFAULT_JSON_LIMIT = 100;
const MAX_CSV_LIMIT = 10_000;

const auditQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  actorKind: z.enum(auditActorKinds).optional(),
  actor: z.string().trim().min(1).max(500).optional(),
  action: z.enum(auditActions).optional(),
  entityType: z.enum(auditEntityTypes).optional(),
  entityId: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().regex(/^[0-9]{1,19}$/, 'cursor is the nextCursor of the previous page').optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CSV_LIMIT).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

/** CSV columns: Vietnamese headers for the people who open the file in Excel. */
const csvColumns: { header: string; value: (record: AuditRecord) => string }[] = [
  { header: 'Mã bản ghi', value: (record) => record.id },
  { header: 'Thời điểm (giờ Việt Nam)', value: (record) => formatVietnamDateTime(new Date(record.at)) },
  { header: 'Loại người thực hiện', value: (record) => record.actor.kind },
  { header: 'Mã người thực hiện', value: (record) => record.actor.id },
  { header: 'Hành động', value: (record) => record.action },
  { header: 'Loại đối tượng', value: (record) => record.entityType },
  { header: 'Mã đối tượng', value: (record) => record.entityId },
  { header: 'Trước khi thay đổi', value: (record) => (record.before === null ? '' : JSON.stringify(record.before)) },
  { header: 'Sau khi thay đổi', value: (record) => (record.after === null ? '' : JSON.stringify(record.after)) },
  { header: 'Địa chỉ IP', value: (record) => record.ip ?? '' },
  { header: 'Mã yêu cầu', value: (record) => record.requestId ?? '' },
];

const vietnamTime = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Ho_Chi_Minh',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Formats a time as `2026-12-07 09:30:00` in Vietnam's time zone, which Excel reads as a date and time. */
function formatVietnamDateTime(time: Date): string {
  return vietnamTime.format(time);
}

/**
 * Quotes a CSV field (RFC 4180). A field that starts with `=`, `+`, `-`, `@`,
 * a tab or a carriage return gets a leading `'`, so Excel shows it as text
 * instead of running it as a formula (CSV injection).
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** Builds the CSV file: UTF-8 byte order mark (so Excel detects UTF-8), header row, CRLF line ends. */
function toCsv(records: AuditRecord[]): string {
  const lines = [csvColumns.map((column) => csvField(column.header)).join(',')];
  for (const record of records) lines.push(csvColumns.map((column) => csvField(column.value(record))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/**
 * GET /api/v1/audit: the audit log, newest first, for admins and API keys with
 * `audit:read` (checked by the gateway through `com.hop.permission`).
 * Filters: `from` (inclusive) and `to` (exclusive) ISO times, `actorKind`,
 * `actor` (actor id), `action`, `entityType`, `entityId`. Paging: `limit`
 * (JSON 1-500, default 100; CSV up to 10000, the default) and `cursor`, the
 * `nextCursor` of the previous page. `format=csv` returns a UTF-8 CSV file with
 * a byte order mark and Vietnamese headers, and the next cursor in
 * `X-Hop-Next-Cursor` when there are more records.
 */
export const handler: FunctionHandler = async (event, context) => {
  try {
    const query = parseOrThrow(auditQuerySchema, event.query);
    const limit = query.limit ?? (query.format === 'csv' ? MAX_CSV_LIMIT : DEFAULT_JSON_LIMIT);
    if (query.format === 'json' && limit > MAX_JSON_LIMIT) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'limit', message: `JSON pages hold at most ${MAX_JSON_LIMIT} records; use format=csv for more` }] });
    }
    if (query.from && query.to && new Date(query.to).getTime() <= new Date(query.from).getTime()) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'to', message: 'to must be later than from' }] });
    }

    const page = await listAuditRecords(context.deps.db, {
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      actorKind: query.actorKind,
      actorId: query.actor,
      action: query.action,
      entityType: query.entityType,
      entityId: query.entityId,
      beforeId: query.cursor,
      limit,
    });

    if (query.format === 'json') {
      context.status(200).succeed(page);
      return undefined;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="hop-audit.csv"',
    };
    if (page.nextCursor !== null) headers['x-hop-next-cursor'] = page.nextCursor;
    context.status(200).headers(headers).succeed(toCsv(page.records));
  } catch (error) {
    if (!(error instanceof HopError)) throw error;
    context.deps.log.info({ fn: name, code: error.code }, 'request rejected');
    context.status(error.status).succeed(errorBody(error.code, error.details));
  }
  return undefined;
};
