import { postponeMeetingRequestSchema } from '../../lib/contract/meeting.ts';
import { changeMeeting } from '../../lib/domain/meeting-changes.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-postpone';

/**
 * POST /api/v1/meetings/:id/postpone: postpones (hoãn) a scheduled meeting.
 * Without times it waits in status `postponed` until a PATCH gives new times;
 * with `startsAt` and `endsAt` it moves there and stays scheduled. Either way
 * the sequence goes up and `meeting.postponed` is emitted; the video room stays.
 */
export const handler = httpFunction({
  name,
  body: postponeMeetingRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    const result = await changeMeeting(
      deps,
      principal,
      meetingId,
      { startsAt: body.startsAt, endsAt: body.endsAt, urgent: body.urgent, onPeopleConflict: body.onPeopleConflict },
      { kind: 'postpone', postponeReason: body.reason ?? null, functionName: name, headers },
    );
    return { body: { ...result.meeting, warnings: result.warnings } };
  },
});
