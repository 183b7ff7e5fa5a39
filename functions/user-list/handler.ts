import { z } from 'zod';
import { listUsersQuerySchema } from '../../lib/contract/directory.ts';
import { loadUnit, searchUsers, unitAndDescendantIds } from '../../lib/domain/directory.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/users?q=&unitId=: finds active people (`includeDisabled=true`
 * adds disabled ones). `q` matches every word in the name ignoring case and
 * tone marks, or part of the e-mail address; `unitId` keeps members of that
 * unit, and of the units below it with `includeSubunits=true`. Returns
 * `{ users }`, at most `limit` (1-500, default 50), ordered by name.
 */
export const handler = httpFunction({
  name: 'user-list',
  body: z.unknown(),
  handle: async ({ query }, deps) => {
    const filter = parseOrThrow(listUsersQuerySchema, query);

    let unitIds: string[] | undefined;
    if (filter.unitId !== undefined) {
      if (!(await loadUnit(deps.db, filter.unitId))) throw new HopError('UNIT_NOT_FOUND', { details: { unitId: filter.unitId } });
      unitIds = filter.includeSubunits ? await unitAndDescendantIds(deps.db, filter.unitId) : [filter.unitId];
    }

    const users = await searchUsers(deps.db, {
      q: filter.q,
      unitIds,
      includeDisabled: filter.includeDisabled,
      limit: filter.limit,
    });
    return { body: { users } };
  },
});
