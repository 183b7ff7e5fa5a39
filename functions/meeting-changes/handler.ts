import { z } from 'zod';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { isUuid, toIso } from '../../lib/domain/meetings.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/changes: the change history after scheduling,
 * oldest first: who changed what, when, the fields before and after, and the
 * sequence each change produced. `actor.name` is the person's display name or
 * the API key's name, and null for hop's own functions, the e-office system
 * and people or keys that have since been deleted.
 */
export const handler = httpFunction({
  name: 'meeting-changes',
  body: z.unknown(),
  handle: async ({ params, principal }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.read');
    const rows = await deps.db.selectFrom('meeting_change').selectAll().where('meeting_id', '=', meetingId).orderBy('id').limit(1000).execute();
    const names = await actorNames(deps.db, rows);
    return {
      body: {
        changes: rows.map((row) => ({
          id: String(row.id),
          kind: row.kind,
          sequence: row.sequence,
          occurrenceId: row.occurrence_id,
          actor: { kind: row.actor_kind, id: row.actor_id, name: names.get(`${row.actor_kind}:${row.actor_id}`) ?? null },
          changedAt: toIso(row.changed_at),
          before: row.before,
          after: row.after,
        })),
      },
    };
  },
});

/** Looks up the names of the people and API keys among the actors, keyed by "kind:id". */
async function actorNames(db: Dependencies['db'], rows: readonly { actor_kind: string; actor_id: string }[]): Promise<Map<string, string>> {
  const idsOf = (kind: string) => [...new Set(rows.filter((row) => row.actor_kind === kind && isUuid(row.actor_id)).map((row) => row.actor_id))];
  const userIds = idsOf('user');
  const keyIds = idsOf('api-key');
  const names = new Map<string, string>();
  if (userIds.length > 0) {
    const users = await db.selectFrom('app_user').select(['id', 'display_name']).where('id', 'in', userIds).execute();
    for (const user of users) names.set(`user:${user.id}`, user.display_name);
  }
  if (keyIds.length > 0) {
    const keys = await db.selectFrom('api_key').select(['id', 'name']).where('id', 'in', keyIds).execute();
    for (const key of keys) names.set(`api-key:${key.id}`, key.name);
  }
  return names;
}
