import { z } from 'zod';

/** Raised hands (giơ tay): HTTP bodies and events. Times are ISO 8601 with offset, in UTC. */
const instant = z.iso.datetime({ offset: true });

/**
 * Body of `POST /api/v1/meetings/:id/hand`, sent by the join page for its own
 * participant. With `raised` the hand is raised or lowered; without it the
 * state is only returned.
 */
export const handRequestSchema = z
  .object({
    /** The invitation key of the join link; without it, the signed-in participant. */
    inviteKey: z.string().min(16).max(200).optional(),
    raised: z.boolean().optional(),
  })
  .strict();

/** Body of `POST /api/v1/meetings/:id/hands/:participantId/lower`. */
export const lowerHandRequestSchema = z
  .object({
    /** The occurrence; the current one when omitted. */
    occurrenceId: z.uuid().optional(),
  })
  .strict();

/** One participant's hand in one occurrence. */
export const handStateSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  raised: z.boolean(),
  /** When the hand went up; null when it was never raised in this occurrence. */
  raisedAt: instant.nullable(),
  /** Place among the raised hands, from 1, while raised; else null. */
  position: z.number().int().positive().nullable(),
  loweredAt: instant.nullable(),
  /** `moderator` when the chair or the secretary lowered it, `participant` when they did; null while raised. */
  loweredBy: z.enum(['participant', 'moderator']).nullable(),
});

export type HandState = z.infer<typeof handStateSchema>;

/** A participant raised their hand to speak. */
export const handRaisedDataSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  participantName: z.string(),
  raisedAt: instant,
});

/** A raised hand went down: lowered by the participant, or by the chair or secretary (`moderator`). */
export const handLoweredDataSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  raisedAt: instant,
  loweredAt: instant,
  loweredBy: z.enum(['participant', 'moderator']),
});
