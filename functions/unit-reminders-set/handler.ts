import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { requireAllowed } from '../../lib/domain/meeting-access.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { planReminders, reminderSettingsRequestSchema } from '../../lib/domain/reminders.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'unit-reminders-set';

/** Meetings re-planned in the same request; later ones pick the setting up on their next change. */
const REPLAN_LIMIT = 500;

/**
 * PUT /api/v1/units/:id/reminders: sets the unit's default reminder offsets
 * (minutes before each occurrence) for its meetings without their own; `null`
 * returns to hop's default of one day and 30 minutes. Admins and organisers of
 * the unit may change it. The unit's upcoming meetings without their own
 * offsets are re-planned in the same transaction, at most REPLAN_LIMIT of them.
 */
export const handler = httpFunction({
  name,
  body: reminderSettingsRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const unitId = params.id;
    if (!isUuid(unitId)) throw new HopError('UNIT_NOT_FOUND', { details: { unitId } });
    requireAllowed(principal, 'meeting.create', { unitId });
    const now = deps.now();

    const replanned = await deps.db.transaction().execute(async (trx) => {
      const unit = await trx.selectFrom('unit').select(['id', 'disabled_at']).where('id', '=', unitId).executeTakeFirst();
      if (!unit) throw new HopError('UNIT_NOT_FOUND', { details: { unitId } });
      if (unit.disabled_at !== null) throw new HopError('UNIT_DISABLED', { details: { unitIds: [unitId] } });

      const before = await trx.selectFrom('unit_reminder_setting').select('offsets_minutes').where('unit_id', '=', unitId).executeTakeFirst();
      if (body.offsetsMinutes === null) {
        await trx.deleteFrom('unit_reminder_setting').where('unit_id', '=', unitId).execute();
      } else {
        const offsets = JSON.stringify(body.offsetsMinutes);
        let updatedBy: string | null = null;
        if (principal.kind === 'user') updatedBy = principal.userId;
        if (principal.kind === 'api-key') updatedBy = `api-key:${principal.keyId}`;
        await trx
          .insertInto('unit_reminder_setting')
          .values({ unit_id: unitId, offsets_minutes: offsets, updated_by: updatedBy, updated_at: now })
          .onConflict((oc) => oc.column('unit_id').doUpdateSet({ offsets_minutes: offsets, updated_by: updatedBy, updated_at: now }))
          .execute();
      }
      await recordAudit(trx, {
        principal,
        action: 'unit.reminders-updated',
        entityType: 'unit',
        entityId: unitId,
        before: { reminderOffsets: before?.offsets_minutes ?? null },
        after: { reminderOffsets: body.offsetsMinutes },
        ...requestMetadata(headers),
        at: now,
      });

      const meetings = await trx
        .selectFrom('meeting')
        .select('id')
        .where('unit_id', '=', unitId)
        .where('reminder_offsets', 'is', null)
        .where('status', 'in', ['scheduled', 'in_progress'])
        .where('last_ends_at', '>', now)
        .orderBy('starts_at')
        .limit(REPLAN_LIMIT)
        .execute();
      for (const meeting of meetings) await planReminders(trx, meeting.id, now);
      return meetings.length;
    });

    deps.log.info({ fn: name, unitId, offsets: body.offsetsMinutes, replanned }, 'unit reminders set');
    return { body: { unitId, offsetsMinutes: body.offsetsMinutes, replannedMeetings: replanned } };
  },
});
