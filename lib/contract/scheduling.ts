import { z } from 'zod';
import { text } from './meeting.ts';

/** Physical meeting rooms (phòng họp) and the calendar query. */

const optionalLine = (max: number) => z.preprocess((value) => (value === '' ? null : value), text(max).nullable());

export const createMeetingRoomRequestSchema = z
  .object({
    name: text(200),
    /** The unit that owns the room; null for rooms shared by the province. */
    unitId: z.uuid().nullable().default(null),
    /** Address or place in the building, such as "Phòng 201, tầng 2, 22 Tôn Đức Thắng". */
    location: optionalLine(500).default(null),
    /** Seats; null when unknown, and then no capacity check applies. */
    capacity: z.number().int().min(1).max(100_000).nullable().default(null),
    /** Equipment, such as "màn hình LED, 2 camera, micro cổ ngỗng". */
    equipment: z.preprocess((value) => (value === '' ? null : value), text(2000, { multiline: true }).nullable()).default(null),
  })
  .strict();

export const updateMeetingRoomRequestSchema = z
  .object({
    name: text(200).optional(),
    unitId: z.uuid().nullable().optional(),
    location: optionalLine(500).optional(),
    capacity: z.number().int().min(1).max(100_000).nullable().optional(),
    equipment: z.preprocess((value) => (value === '' ? null : value), text(2000, { multiline: true }).nullable()).optional(),
  })
  .strict();

export const meetingRoomSchema = z.object({
  id: z.uuid(),
  unitId: z.uuid().nullable(),
  name: z.string(),
  location: z.string().nullable(),
  capacity: z.number().int().nullable(),
  equipment: z.string().nullable(),
  disabledAt: z.iso.datetime({ offset: true }).nullable(),
});

export type MeetingRoom = z.infer<typeof meetingRoomSchema>;

const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD');

/**
 * GET /api/v1/calendar: `view` and `date` choose the range in `timeZone`;
 * at most one of `user`, `unit` and `room` chooses whose calendar (the
 * caller's own when none is given).
 */
export const calendarQuerySchema = z
  .object({
    view: z.enum(['day', 'week', 'month']).default('week'),
    date: calendarDate,
    timeZone: z.string().max(64).optional(),
    user: z.uuid().optional(),
    unit: z.uuid().optional(),
    room: z.uuid().optional(),
  })
  .strict()
  .refine((query) => [query.user, query.unit, query.room].filter((value) => value !== undefined).length <= 1, {
    message: 'give at most one of user, unit and room',
    path: ['user'],
  });

/** One occurrence in a calendar; `meeting` is null for a busy block the caller may not read. */
export const calendarItemSchema = z.object({
  occurrenceId: z.uuid().nullable(),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  /** Local start and end in the calendar's time zone, `YYYY-MM-DDTHH:MM`. */
  localStart: z.string(),
  localEnd: z.string(),
  /** Each local date of the range the occurrence covers: a meeting across midnight is on both days. */
  dates: z.array(z.string()),
  status: z.enum(['scheduled', 'cancelled', 'moved']).nullable(),
  busy: z.literal(true),
  meeting: z
    .object({
      id: z.uuid(),
      title: z.string(),
      status: z.string(),
      unitId: z.uuid().nullable(),
      mode: z.string(),
      urgent: z.boolean(),
      timeZone: z.string(),
      place: z.object({ meetingRoomId: z.uuid(), name: z.string(), location: z.string().nullable() }).nullable(),
      recurring: z.boolean(),
    })
    .nullable(),
});

export const calendarResponseSchema = z.object({
  view: z.enum(['day', 'week', 'month']),
  timeZone: z.string(),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  fromDate: z.string(),
  toDate: z.string(),
  items: z.array(calendarItemSchema),
  /** True when more than the item limit overlapped the range and the list stops early. */
  truncated: z.boolean(),
});

/** The feed link returned once when a feed token is created or rotated. */
export const calendarFeedTokenSchema = z.object({
  token: z.string(),
  feedPath: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
