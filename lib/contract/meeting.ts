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
export const text = (max: number, { multiline = false } = {}) =>
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

export const meetingModeSchema = z.enum(['in_person', 'online', 'hybrid']);
export type MeetingMode = z.infer<typeof meetingModeSchema>;

/** One item of the agenda (chương trình họp): what is discussed, who presents it, and for how long. */
export const agendaItemSchema = z
  .object({
    title: text(500),
    presenter: z.preprocess((value) => (value === '' ? null : value), text(200).nullable().default(null)),
    plannedMinutes: z.number().int().min(1).max(7 * 24 * 60),
  })
  .strict();

export const agendaSchema = z.array(agendaItemSchema).max(100);

/** Optional multi-line text where an empty string means none. */
const optionalText = (max: number) => z.preprocess((value) => (value === '' ? null : value), text(max, { multiline: true }).nullable().default(null));

/**
 * Choice for participants who already have another meeting at the time.
 * `warn` schedules and lists the clashes in `warnings`. `reject` returns 409
 * PEOPLE_CONFLICT with the list and changes nothing, so a client can ask the
 * organiser and send the request again with `warn`.
 */
export const peopleConflictPolicySchema = z.enum(['warn', 'reject']);

const conflictOptions = {
  onPeopleConflict: peopleConflictPolicySchema.default('warn'),
};

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
    /** `draft` saves without inviting anyone, emitting events or checking the notice rule; publish it later. */
    status: z.enum(['draft', 'scheduled']).default('scheduled'),
    agenda: agendaSchema.default([]),
    mode: meetingModeSchema.default('online'),
    /** The physical meeting room, for `in_person` and `hybrid` meetings. */
    meetingRoomId: z.uuid().nullable().default(null),
    preparation: optionalText(5000),
    /** An urgent meeting (họp đột xuất) is exempt from the minimum notice of working days. */
    urgent: z.boolean().default(false),
    /** RFC 5545 RRULE value, such as `FREQ=WEEKLY;BYDAY=MO`; the start and end give the first occurrence. */
    recurrenceRule: z.string().max(500).nullable().default(null),
    ...conflictOptions,
  })
  .strict();

export type CreateMeetingRequest = z.infer<typeof createMeetingRequestSchema>;

export const meetingStatusSchema = z.enum(['draft', 'scheduled', 'in_progress', 'postponed', 'cancelled', 'ended']);
export type MeetingStatus = z.infer<typeof meetingStatusSchema>;

export const roomStatusSchema = z.enum(['pending', 'ready', 'destroyed', 'failed']);

export const participantSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  role: participantRoleSchema,
  userId: z.uuid().nullable(),
  /** The unit whose invitation as a whole added this person, or null when invited by name. */
  invitedUnitId: z.uuid().nullable(),
});

export const occurrenceStatusSchema = z.enum(['scheduled', 'cancelled', 'moved']);

/** One occurrence (phiên họp) of a meeting; a single meeting has exactly one. */
export const occurrenceSchema = z.object({
  id: z.uuid(),
  /** The start the recurrence rule gives it (iCalendar RECURRENCE-ID); stays when the occurrence is moved. */
  recurrenceId: z.iso.datetime({ offset: true }),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  status: occurrenceStatusSchema,
});

export const meetingPlaceSchema = z.object({
  meetingRoomId: z.uuid(),
  name: z.string(),
  location: z.string().nullable(),
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
  agenda: z.array(z.object({ title: z.string(), presenter: z.string().nullable(), plannedMinutes: z.number().int() })),
  mode: meetingModeSchema,
  place: meetingPlaceSchema.nullable(),
  preparation: z.string().nullable(),
  urgent: z.boolean(),
  /** iCalendar SEQUENCE: 0 when scheduled, +1 on each change after that. */
  sequence: z.number().int().nonnegative(),
  recurrenceRule: z.string().nullable(),
  /** When the rule has no end or runs past 200 occurrences or 2 years, the number of occurrences kept; else null. */
  recurrenceCountCap: z.number().int().nullable(),
  cancelReason: z.string().nullable(),
  postponeReason: z.string().nullable(),
  /** Minutes before each occurrence set for this meeting; null means the unit's or hop's default. */
  reminderOffsetsMinutes: z.array(z.number().int()).nullable(),
  invitedUnitIds: z.array(z.uuid()),
  occurrences: z.array(occurrenceSchema),
});

export type Meeting = z.infer<typeof meetingSchema>;

/** A warning of a successful scheduling request: the clashes it accepted, or a capped recurrence. */
export const schedulingWarningSchema = z.object({
  code: z.enum(['PEOPLE_CONFLICT', 'RECURRENCE_CAPPED']),
  message: z.string(),
  message_en: z.string(),
  details: z.unknown(),
});

/** A created meeting also returns each participant's invitation link, once. */
export const createdMeetingSchema = meetingSchema.extend({
  participants: z.array(participantSchema.extend({ inviteKey: z.string(), joinPath: z.string() })),
  warnings: z.array(schedulingWarningSchema),
});

/**
 * PATCH /api/v1/meetings/:id. Absent fields stay as they are. Participants are
 * added and removed, never replaced, so the invitation keys of the others keep
 * working; the keys of added people are returned once.
 */
export const updateMeetingRequestSchema = z
  .object({
    title: text(300).optional(),
    description: z.preprocess((value) => (value === '' ? null : value), text(5000, { multiline: true }).nullable()).optional(),
    startsAt: meetingInstant.optional(),
    endsAt: meetingInstant.optional(),
    timeZone: z.string().max(64).optional(),
    agenda: agendaSchema.optional(),
    mode: meetingModeSchema.optional(),
    meetingRoomId: z.uuid().nullable().optional(),
    preparation: z.preprocess((value) => (value === '' ? null : value), text(5000, { multiline: true }).nullable()).optional(),
    urgent: z.boolean().optional(),
    recurrenceRule: z.string().max(500).nullable().optional(),
    addParticipants: z.array(participantInputSchema).max(1000).default([]),
    removeParticipantIds: z.array(z.uuid()).max(1000).default([]),
    inviteUnitIds: z.array(z.uuid()).max(50).default([]),
    ...conflictOptions,
  })
  .strict();

export type UpdateMeetingRequest = z.infer<typeof updateMeetingRequestSchema>;

/** A changed meeting with the invitation keys of people added by this change, once. */
export const updatedMeetingSchema = meetingSchema.extend({
  addedParticipants: z.array(participantSchema.extend({ inviteKey: z.string(), joinPath: z.string() })),
  warnings: z.array(schedulingWarningSchema),
});

/**
 * POST /api/v1/meetings/:id/postpone (hoãn). Without times the meeting waits
 * for a new date in status `postponed`; with both it moves there and stays
 * scheduled.
 */
export const postponeMeetingRequestSchema = z
  .object({
    reason: text(1000, { multiline: true }).optional(),
    startsAt: meetingInstant.optional(),
    endsAt: meetingInstant.optional(),
    urgent: z.boolean().optional(),
    ...conflictOptions,
  })
  .strict()
  .refine((value) => (value.startsAt === undefined) === (value.endsAt === undefined), {
    message: 'give both startsAt and endsAt, or neither',
    path: ['endsAt'],
  });

/** POST /api/v1/meetings/:id/schedule: publishes a draft; the body may mark it urgent. */
export const scheduleMeetingRequestSchema = z
  .object({ urgent: z.boolean().optional(), ...conflictOptions })
  .strict();

/** PATCH /api/v1/meetings/:id/occurrences/:occurrenceId: moves one occurrence of a series. */
export const moveOccurrenceRequestSchema = z
  .object({
    startsAt: meetingInstant,
    endsAt: meetingInstant,
    urgent: z.boolean().optional(),
    ...conflictOptions,
  })
  .strict();

export const cancelOccurrenceRequestSchema = z.object({ reason: text(1000, { multiline: true }).optional() }).strict();

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
  /** Bitrate caps of the room: the publisher's total and each simulcast layer, in bits per second. */
  media: z.object({
    bitrate: z.number().int(),
    layers: z.object({ high: z.number().int(), medium: z.number().int(), low: z.number().int() }),
  }),
  meeting: z.object({ title: z.string(), startsAt: z.string(), endsAt: z.string(), timeZone: z.string() }),
});

export type JoinDetails = z.infer<typeof joinDetailsSchema>;
