import { z } from 'zod';
import { text } from './meeting.ts';

/** Attendance events and HTTP bodies. Times are ISO 8601 with offset, in UTC. */
const instant = z.iso.datetime({ offset: true });

/** A participant became present online: the start of a merged interval (devices united, short drops bridged). */
export const attendanceJoinedDataSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  joinedAt: instant,
});

/** A merged online interval closed: the grace period passed without a rejoin, or the meeting ended. */
export const attendanceLeftDataSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  joinedAt: instant,
  leftAt: instant,
  /** Length of the interval in seconds. */
  seconds: z.number().int().nonnegative(),
});

/** A participant checked in with the QR code shown in the meeting room. */
export const attendanceCheckedInDataSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  meetingRoomId: z.uuid(),
  checkedInAt: instant,
});

export const attendanceMarkStatusSchema = z.enum(['present_in_person', 'present_online', 'late', 'absent', 'delegated']);

/** The secretary marked a participant; an absence carries its reason, a delegation the delegate. */
export const attendanceMarkedDataSchema = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  participantId: z.uuid(),
  status: attendanceMarkStatusSchema,
  absenceReason: z.string().nullable(),
  delegate: z.object({ name: z.string(), position: z.string().nullable() }).nullable(),
  markedAt: instant,
});

/**
 * Optional user text checked as every other user text of hop (no control
 * characters, NFC, trimmed). A blank value counts as absent, so a form may send
 * an empty field.
 */
const optionalText = (max: number, options: { multiline?: boolean } = {}) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), text(max, options).optional());

/** Body of `PUT /api/v1/meetings/:id/attendance/:participantId`. */
export const markAttendanceRequestSchema = z
  .object({
    /** The occurrence; the current one when omitted. */
    occurrenceId: z.uuid().optional(),
    status: attendanceMarkStatusSchema,
    absenceReason: optionalText(500),
    /** The delegate's name and position; runs of spaces are stored as one, as in directory names. */
    delegateName: optionalText(200),
    delegatePosition: optionalText(200),
    note: optionalText(1000, { multiline: true }),
  })
  .strict()
  .superRefine((body, context) => {
    if (body.status === 'absent' && !body.absenceReason) {
      context.addIssue({ code: 'custom', path: ['absenceReason'], message: 'an absence needs a reason' });
    }
    if (body.status === 'delegated' && !body.delegateName) {
      context.addIssue({ code: 'custom', path: ['delegateName'], message: 'a delegation needs the delegate\'s name' });
    }
    if (body.status !== 'absent' && body.absenceReason) {
      context.addIssue({ code: 'custom', path: ['absenceReason'], message: 'only an absence has a reason' });
    }
    if (body.status !== 'delegated' && (body.delegateName || body.delegatePosition)) {
      context.addIssue({ code: 'custom', path: ['delegateName'], message: 'only a delegation has a delegate' });
    }
  });

/** Body of `POST /api/v1/attendance/check-in`: the code read from the room's QR code. */
/** A code of any length or shape reaches the signature check, which answers CHECK_IN_CODE_INVALID for a wrong one. */
export const checkInRequestSchema = z
  .object({
    code: z.string().max(300),
  })
  .strict();
