import { z } from 'zod';

/** Checks a name against the IANA time zone database that Node.js ships. */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** Gateway path of the Janus signalling proxy that browsers open with their join token. */
export const SIGNALLING_PATH = '/api/v1/media/signalling';

/** C0 control characters and DEL, except tab, line feed and carriage return. */
const controlCharacters = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const lineBreaks = /[\t\n\r]/;
const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Characters that show nothing on their own: spaces, separators and format characters such as U+200B. */
const invisibleCharacters = /[\s\p{Z}\p{Cf}]/gu;

/**
 * User text, trimmed and normalised to Unicode NFC, the form hop stores and
 * compares. It is rejected when it has control characters (line breaks are
 * allowed only when `multiline`), unpaired surrogates, or nothing visible.
 */
const text = (max: number, { multiline = false } = {}) =>
  z
    .string()
    .refine((value) => !unpairedSurrogate.test(value), 'must be valid Unicode (it contains an unpaired surrogate)')
    .refine((value) => !controlCharacters.test(value), 'must not contain control characters')
    .refine((value) => multiline || !lineBreaks.test(value), 'must be a single line')
    .transform((value) => value.normalize('NFC').trim())
    .pipe(
      z
        .string()
        .max(max)
        .refine((value) => value.replace(invisibleCharacters, '').length > 0, 'must contain visible text'),
    );

/** The earliest and latest instants hop accepts for a meeting, to catch typing mistakes in the year. */
const EARLIEST_MEETING = Date.UTC(2000, 0, 1);
const LATEST_MEETING = Date.UTC(2100, 0, 1);

const meetingInstant = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const time = Date.parse(value);
    return time >= EARLIEST_MEETING && time < LATEST_MEETING;
  }, 'must be between the years 2000 and 2099');

export const participantRoleSchema = z.enum(['chair', 'secretary', 'participant', 'observer', 'guest']);

export const participantInputSchema = z
  .object({
    name: text(200),
    email: z.email().max(320).optional(),
    phone: z
      .string()
      .regex(/^\+?[0-9][0-9 .-]*[0-9]$/, 'phone must be digits, optionally starting with + and grouped with spaces, dots or dashes')
      .refine((value) => {
        const digits = value.replace(/[^0-9]/g, '').length;
        return digits >= 6 && digits <= 20;
      }, 'phone must contain 6 to 20 digits')
      .optional(),
    role: participantRoleSchema.default('participant'),
    /** The directory person invited, so they can join signed in and see the meeting in their calendar. */
    userId: z.uuid().optional(),
  })
  .strict();

export const createMeetingRequestSchema = z
  .object({
    title: text(300),
    description: z.preprocess((value) => (value === '' ? undefined : value), text(5000, { multiline: true }).optional()),
    startsAt: meetingInstant,
    endsAt: meetingInstant,
    timeZone: z.string().max(64).default(DEFAULT_TIME_ZONE),
    /** The unit the meeting belongs to; its organisers manage it. Required unless an admin schedules. */
    unitId: z.uuid().optional(),
    participants: z.array(participantInputSchema).max(1000).default([]),
    /** Whole units invited: their active members become participants when the meeting is created. */
    invitedUnitIds: z.array(z.uuid()).max(50).default([]),
  })
  .strict();

export type CreateMeetingRequest = z.infer<typeof createMeetingRequestSchema>;

export const meetingStatusSchema = z.enum(['scheduled', 'cancelled', 'ended']);
export type MeetingStatus = z.infer<typeof meetingStatusSchema>;

export const roomStatusSchema = z.enum(['pending', 'ready', 'destroyed', 'failed']);

export const participantSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  role: participantRoleSchema,
});

export const meetingSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  timeZone: z.string(),
  status: meetingStatusSchema,
  unitId: z.uuid().nullable(),
  roomStatus: roomStatusSchema,
  createdAt: z.iso.datetime({ offset: true }),
  participants: z.array(participantSchema),
});

export type Meeting = z.infer<typeof meetingSchema>;

/** A created meeting also returns each participant's invitation link, once. */
export const createdMeetingSchema = meetingSchema.extend({
  participants: z.array(participantSchema.extend({ inviteKey: z.string(), joinPath: z.string() })),
});

export const cancelMeetingRequestSchema = z
  .object({ reason: text(1000, { multiline: true }).optional() })
  .strict();

/** A join with the invitation key, or, without one, as the signed-in participant. */
export const joinRequestSchema = z
  .object({
    inviteKey: z.string().min(16).max(200).optional(),
  })
  .strict();

/**
 * Join details: what a participant needs to enter the VideoRoom. `janus.url` is
 * the gateway's signalling path, which the browser opens with `janus.token`; the
 * room secret and PIN stay on the server.
 */
export const joinDetailsSchema = z.object({
  meetingId: z.uuid(),
  participantId: z.uuid(),
  displayName: z.string(),
  role: participantRoleSchema,
  janus: z.object({
    url: z.string(),
    server: z.string(),
    roomId: z.number().int(),
    token: z.string(),
  }),
  meeting: z.object({ title: z.string(), startsAt: z.string(), endsAt: z.string(), timeZone: z.string() }),
});

export type JoinDetails = z.infer<typeof joinDetailsSchema>;
