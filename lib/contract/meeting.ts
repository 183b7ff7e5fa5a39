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

/** Trims and normalises user text to Unicode NFC, the form hop stores and compares. */
const text = (max: number) =>
  z
    .string()
    .transform((value) => value.normalize('NFC').trim())
    .pipe(z.string().min(1).max(max));

export const participantRoleSchema = z.enum(['chair', 'secretary', 'participant', 'observer', 'guest']);

export const participantInputSchema = z
  .object({
    name: text(200),
    email: z.email().max(320).optional(),
    phone: z
      .string()
      .regex(/^\+?[0-9 .-]{6,20}$/, 'phone must contain 6 to 20 digits, optionally starting with +')
      .optional(),
    role: participantRoleSchema.default('participant'),
  })
  .strict();

export const createMeetingRequestSchema = z
  .object({
    title: text(300),
    description: z
      .string()
      .max(5000)
      .transform((value) => value.normalize('NFC').trim())
      .optional(),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    timeZone: z.string().max(64).default(DEFAULT_TIME_ZONE),
    participants: z.array(participantInputSchema).min(1).max(1000),
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
  .object({ reason: z.string().max(1000).optional() })
  .strict();

export const joinRequestSchema = z
  .object({
    inviteKey: z.string().min(16).max(200),
  })
  .strict();

/** Join details: what a participant needs to enter the VideoRoom, never the room secret. */
export const joinDetailsSchema = z.object({
  meetingId: z.uuid(),
  participantId: z.uuid(),
  displayName: z.string(),
  role: participantRoleSchema,
  janus: z.object({
    url: z.string(),
    server: z.string(),
    roomId: z.number().int(),
    pin: z.string(),
    token: z.string(),
  }),
  meeting: z.object({ title: z.string(), startsAt: z.string(), endsAt: z.string(), timeZone: z.string() }),
});

export type JoinDetails = z.infer<typeof joinDetailsSchema>;
