import { z } from 'zod';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { buildUnitReport, unitReportCsv } from '../../lib/domain/attendance/unit-report.ts';
import { decide } from '../../lib/domain/policy.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

const name = 'attendance-unit-report';

const MAX_PERIOD_MS = 366 * 24 * 60 * 60 * 1000;

const querySchema = z.object({
  unitId: z.uuid(),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  format: z.enum(['json', 'csv']).default('json'),
  /** The table of a CSV: by person (the default) or by participating unit. */
  table: z.enum(['people', 'units']).default('people'),
});

/**
 * GET /api/v1/attendance/report?unitId=&from=&to=[&format=csv[&table=people|units]]:
 * attendance of the meetings a unit held in a period, by participating unit
 * and by person. A CSV contains one of the two tables.
 * Allowed to admins, organisers of that unit and API keys with
 * `attendance:read` (the policy's `attendance.read-all` for a meeting of the
 * unit without a meeting role); audited.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async ({ query, principal, headers }, deps) => {
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    const input = parseOrThrow(querySchema, query);
    const from = new Date(input.from);
    const to = new Date(input.to);
    if (to <= from || to.getTime() - from.getTime() > MAX_PERIOD_MS) throw new HopError('REPORT_PERIOD_INVALID', { details: { from: input.from, to: input.to } });
    const decision = decide(principal, 'attendance.read-all', { meeting: { unitId: input.unitId, meetingRole: null, startsAt: from, endsAt: to } });
    if (!decision.allow) throw new HopError('PERMISSION_DENIED', { details: { action: 'attendance.read-all', reason: decision.reason } });

    const report = await buildUnitReport(deps.db, input.unitId, from, to, deps.now());
    await deps.db.transaction().execute((trx) =>
      recordAudit(trx, {
        principal,
        action: 'attendance.report-downloaded',
        entityType: 'attendance-report',
        entityId: input.unitId,
        before: null,
        after: {
          unitId: input.unitId,
          from: input.from,
          to: input.to,
          format: input.format,
          ...(input.format === 'csv' ? { table: input.table } : {}),
          occurrences: report.occurrences.length,
        },
        ...requestMetadata(headers),
      }),
    );

    if (input.format === 'csv') {
      const fileName = `ty-le-tham-du-${input.table === 'units' ? 'theo-don-vi' : 'theo-nguoi'}-${input.from.slice(0, 10)}.csv`;
      return {
        body: unitReportCsv(report, input.table),
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${fileName}"` },
      };
    }
    return { body: report };
  },
});
