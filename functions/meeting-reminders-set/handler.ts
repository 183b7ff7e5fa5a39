import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { planReminders, reminderOffsetsFor, reminderSettingsRequestSchema } from '../../lib/domain/reminders.ts';
import { toIso } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-reminders-set';

/**
 * PUT /api/v1/meetings/:id/reminders: sets when this meeting's participants
 * are reminded, in minutes before each occurrence (`null` returns to the
 * unit's setting or hop's default of one day and 30 minutes). The meeting's
 * pending reminders are re-planned in the same transaction.
 */
export const handler = httpFunction({
  name,
  body: reminderSettingsRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    const now = deps.now();

    const result = await deps.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('meeting').select(['reminder_offsets', 'unit_id']).where('id', '=', meetingId).forUpdate().executeTakeFirst();
      if (!current) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
      await trx
        .updateTable('meeting')
        .set({ reminder_offsets: body.offsetsMinutes === null ? null : JSON.stringify(body.offsetsMinutes), updated_at: now })
        .where('id', '=', meetingId)
        .execute();
      const plan = await planReminders(trx, meetingId, now);
      await recordAudit(trx, {
        principal,
        action: 'meeting.reminders-updated',
        entityType: 'meeting',
        entityId: meetingId,
        before: { reminderOffsets: current.reminder_offsets },
        after: { reminderOffsets: body.offsetsMinutes },
        ...requestMetadata(headers),
        at: now,
      });
      const effective = await reminderOffsetsFor(trx, { reminder_offsets: body.offsetsMinutes, unit_id: current.unit_id });
      const pending = await trx
        .selectFrom('reminder')
        .select(['occurrence_id', 'offset_minutes', 'due_at'])
        .where('meeting_id', '=', meetingId)
        .where('status', '=', 'pending')
        .orderBy('due_at')
        .limit(50)
        .execute();
      return { plan, effective, pending };
    });

    deps.log.info({ fn: name, meetingId, offsets: body.offsetsMinutes, ...result.plan }, 'meeting reminders set');
    return {
      body: {
        meetingId,
        offsetsMinutes: body.offsetsMinutes,
        effectiveOffsetsMinutes: result.effective,
        pending: result.pending.map((row) => ({ occurrenceId: row.occurrence_id, offsetMinutes: row.offset_minutes, dueAt: toIso(row.due_at) })),
      },
    };
  },
});
