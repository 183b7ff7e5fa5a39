import { disableRequestSchema } from '../../lib/contract/directory.ts';
import { disableUnit, emitUnitDisabled, inDirectoryTransaction, loadUnit, toUnit } from '../../lib/domain/directory.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'unit-disable';

/**
 * POST /api/v1/units/:id/disable: marks a unit disabled. Its subunits and
 * memberships are kept. Disabling a disabled unit returns it unchanged and
 * emits nothing; otherwise `vn.hop.directory.unit.disabled.v1` commits with the
 * change.
 */
export const handler = httpFunction({
  name,
  body: disableRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const unitId = params.id;
    if (!isUuid(unitId)) throw new HopError('UNIT_NOT_FOUND', { details: { unitId } });

    const now = deps.now();
    const result = await inDirectoryTransaction(deps.db, async (trx) => {
      const before = await loadUnit(trx, unitId);
      const disabled = await disableUnit(trx, unitId, now);
      if (!before || !disabled) throw new HopError('UNIT_NOT_FOUND', { details: { unitId } });
      if (disabled.changed) {
        await emitUnitDisabled(trx, disabled.row.id, name, now);
        await recordAudit(trx, {
          principal,
          action: 'unit.disabled',
          entityType: 'unit',
          entityId: disabled.row.id,
          before: toUnit(before),
          after: toUnit(disabled.row),
          ...requestMetadata(headers),
          at: now,
        });
      }
      return disabled;
    });
    if (result.changed) deps.log.info({ fn: name, unitId }, 'unit disabled');
    return { body: toUnit(result.row) };
  },
});
