import { z } from 'zod';
import { listUnitsQuerySchema } from '../../lib/contract/directory.ts';
import { buildUnitTree, listUnits } from '../../lib/domain/directory.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/units: every active unit (`includeDisabled=true` adds disabled
 * ones), ordered by name ignoring case and tone marks. `format=flat` (default)
 * returns `{ units }` with `parentId`; `format=tree` returns `{ units }` as root
 * units with nested `children`.
 */
export const handler = httpFunction({
  name: 'unit-list',
  body: z.unknown(),
  handle: async ({ query }, deps) => {
    const filter = parseOrThrow(listUnitsQuerySchema, query);
    const units = await listUnits(deps.db, { includeDisabled: filter.includeDisabled });
    return { body: { units: filter.format === 'tree' ? buildUnitTree(units) : units } };
  },
});
