import { updateUnitRequestSchema } from '../../lib/contract/directory.ts';
import { emitUnitUpserted, inDirectoryTransaction, loadUnit, toUnit, upsertUnit } from '../../lib/domain/directory.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'unit-update';

/**
 * PATCH /api/v1/units/:id: changes the given fields of an active unit; a
 * disabled unit is rejected with UNIT_DISABLED. The change and
 * `vn.hop.directory.unit.upserted.v1` commit in one transaction.
 */
export const handler = httpFunction({
  name,
  body: updateUnitRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const unitId = params.id;
    if (!isUuid(unitId)) throw new HopError('UNIT_NOT_FOUND', { details: { unitId } });

    const now = deps.now();
    const row = await inDirectoryTransaction(deps.db, async (trx) => {
      const current = await loadUnit(trx, unitId);
      if (!current) throw new HopError('UNIT_NOT_FOUND', { details: { unitId } });
      if (current.disabled_at !== null) throw new HopError('UNIT_DISABLED', { details: { unitIds: [unitId] } });

      const updated = await upsertUnit(
        trx,
        {
          unitId: current.id,
          parentId: body.parentId === undefined ? current.parent_id : body.parentId,
          kind: body.kind ?? current.kind,
          code: body.code === undefined ? current.code : body.code,
          name: body.name ?? current.name,
        },
        { now, missingUnit: 'REFERENCED_UNIT_NOT_FOUND', rejectDisabledUnits: true },
      );
      await emitUnitUpserted(trx, updated, name, now);
      await recordAudit(trx, {
        principal,
        action: 'unit.updated',
        entityType: 'unit',
        entityId: updated.id,
        before: toUnit(current),
        after: toUnit(updated),
        ...requestMetadata(headers),
        at: now,
      });
      return updated;
    });
    deps.log.info({ fn: name, unitId }, 'unit updated');
    return { body: toUnit(row) };
  },
});
