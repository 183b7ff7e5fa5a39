import { randomUUID } from 'node:crypto';
import { createUnitRequestSchema } from '../../lib/contract/directory.ts';
import { emitUnitUpserted, inDirectoryTransaction, toUnit, upsertUnit } from '../../lib/domain/directory.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'unit-create';

/**
 * POST /api/v1/units: creates a unit under `parentId` (null for a root). The
 * unit and `vn.hop.directory.unit.upserted.v1` commit in one transaction.
 */
export const handler = httpFunction({
  name,
  body: createUnitRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    const now = deps.now();
    const unitId = randomUUID();
    const row = await inDirectoryTransaction(deps.db, async (trx) => {
      const created = await upsertUnit(
        trx,
        { unitId, parentId: body.parentId, kind: body.kind, code: body.code, name: body.name },
        { now, missingUnit: 'REFERENCED_UNIT_NOT_FOUND', rejectDisabledUnits: true },
      );
      await emitUnitUpserted(trx, created, name, now);
      await recordAudit(trx, {
        principal,
        action: 'unit.created',
        entityType: 'unit',
        entityId: unitId,
        before: null,
        after: toUnit(created),
        ...requestMetadata(headers),
        at: now,
      });
      return created;
    });
    deps.log.info({ fn: name, unitId }, 'unit created');
    return { status: 201, body: toUnit(row) };
  },
});
