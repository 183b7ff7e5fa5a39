import { z } from 'zod';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { toIso } from '../../lib/domain/meetings.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/changes: the change history after scheduling,
 * oldest first: who changed what, when, the fields before and after, and the
 * sequence each change produced.
 */
export const handler = httpFunction({
  name: 'meeting-changes',
  body: z.unknown(),
  handle: async ({ params, principal }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.read');
    const rows = await deps.db.selectFrom('meeting_change').selectAll().where('meeting_id', '=', meetingId).orderBy('id').limit(1000).execute();
    return {
      body: {
        changes: rows.map((row) => ({
          id: String(row.id),
          kind: row.kind,
          sequence: row.sequence,
          occurrenceId: row.occurrence_id,
          actor: { kind: row.actor_kind, id: row.actor_id },
          changedAt: toIso(row.changed_at),
          before: row.before,
          after: row.after,
        })),
      },
    };
  },
});
