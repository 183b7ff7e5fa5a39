import { z } from 'zod';
import { newCloudEvent, type CloudEvent, type NewEventOptions } from './cloudevent.ts';
import {
  emailSchema,
  externalIdSchema,
  membershipListSchema,
  personNameSchema,
  phoneSchema,
  unitCodeSchema,
  unitKindSchema,
  unitNameSchema,
} from './directory.ts';
import { notificationRequestedDataSchema } from './notifications.ts';
import {
  attendanceCheckedInDataSchema,
  attendanceJoinedDataSchema,
  attendanceLeftDataSchema,
  attendanceMarkedDataSchema,
} from './attendance.ts';
import { handLoweredDataSchema, handRaisedDataSchema } from './hands.ts';
import { topics, type TopicName } from './topics.ts';

/**
 * Every event type hop emits: its topic and the zod schema of its `data`.
 * `scripts/generate-schemas.ts` turns these schemas into the published JSON
 * Schemas and the AsyncAPI document, so code and docs cannot drift apart.
 */
const instant = z.iso.datetime({ offset: true });

/** One occurrence of a meeting as events carry it; `recurrenceId` is the start the rule gave it. */
const occurrenceData = z.object({
  occurrenceId: z.uuid(),
  recurrenceId: instant,
  startsAt: instant,
  endsAt: instant,
  status: z.enum(['scheduled', 'cancelled', 'moved']),
});

/**
 * Meeting details a notification or calendar needs without another lookup:
 * times in UTC with the meeting's time zone, place, agenda, chair and
 * secretary, and every occurrence (at most 200).
 */
const meetingDetails = {
  meetingId: z.uuid(),
  sequence: z.number().int().nonnegative(),
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(['draft', 'scheduled', 'in_progress', 'postponed', 'cancelled', 'ended']),
  unitId: z.uuid().nullable(),
  startsAt: instant,
  endsAt: instant,
  timeZone: z.string(),
  mode: z.enum(['in_person', 'online', 'hybrid']),
  place: z.object({ meetingRoomId: z.uuid(), name: z.string(), location: z.string().nullable() }).nullable(),
  agenda: z.array(z.object({ title: z.string(), presenter: z.string().nullable(), plannedMinutes: z.number().int() })),
  preparation: z.string().nullable(),
  chair: z.string().nullable(),
  secretary: z.string().nullable(),
  urgent: z.boolean(),
  recurrenceRule: z.string().nullable(),
  participantCount: z.number().int().nonnegative(),
  occurrences: z.array(occurrenceData),
};

/**
 * The first version carried only id, title, times and the participant count;
 * the other details are optional so that messages written before them still
 * validate.
 */
const meetingScheduledData = z.object({
  ...z.object(meetingDetails).partial().shape,
  meetingId: z.uuid(),
  title: z.string(),
  startsAt: instant,
  endsAt: instant,
  timeZone: z.string(),
  participantCount: z.number().int().nonnegative(),
});

/** Field names that changed, from `title`, `description`, `times`, `timeZone`, `agenda`, `mode`, `place`, `preparation`, `urgent`, `recurrenceRule`, `participants`. */
const meetingUpdatedData = z.object({
  ...meetingDetails,
  changedFields: z.array(z.string()).min(1),
  previous: z.object({ startsAt: instant, endsAt: instant, timeZone: z.string() }),
  addedParticipantIds: z.array(z.uuid()),
  removedParticipantIds: z.array(z.uuid()),
});

/** Postponed (hoãn): `rescheduled` is true when new times were given, else the meeting waits for a new date. */
const meetingPostponedData = z.object({
  ...meetingDetails,
  reason: z.string().nullable(),
  rescheduled: z.boolean(),
  previous: z.object({ startsAt: instant, endsAt: instant }),
});

/** One occurrence of a series moved or cancelled; the other occurrences stay. */
const meetingOccurrenceChangedData = z.object({
  ...meetingDetails,
  change: z.enum(['moved', 'cancelled']),
  occurrence: occurrenceData,
  previous: z.object({ startsAt: instant, endsAt: instant, status: z.enum(['scheduled', 'cancelled', 'moved']) }),
  reason: z.string().nullable(),
});

/** A reminder fell due: reminder-dispatch claimed it, and meeting-notify tells the participants. */
const reminderDueData = z.object({
  reminderId: z.uuid(),
  meetingId: z.uuid(),
  occurrenceId: z.uuid(),
  /** Minutes before the occurrence start the reminder was planned for. */
  offsetMinutes: z.number().int().positive(),
  dueAt: instant,
  startsAt: instant,
});

const meetingStartedData = z.object({
  meetingId: z.uuid(),
  occurrenceId: z.uuid().nullable(),
  startedAt: instant,
});

/** As with `meeting.scheduled`, the meeting details came later and are optional. */
const meetingCancelledData = z.object({
  ...z.object(meetingDetails).partial().shape,
  meetingId: z.uuid(),
  reason: z.string().nullable(),
  cancelledAt: z.iso.datetime({ offset: true }),
});

const meetingEndedData = z.object({
  meetingId: z.uuid(),
  endedAt: z.iso.datetime({ offset: true }),
});

const roomProvisionedData = z.object({
  meetingId: z.uuid(),
  janusServer: z.string(),
  roomId: z.number().int(),
});

/** A join refused because a connection cap was reached, so the chair can see it (see docs/media.md, "Capacity caps"). */
const mediaJoinRefusedData = z.object({
  meetingId: z.uuid(),
  participantId: z.uuid(),
  participantName: z.string(),
  reason: z.enum(['meeting-full', 'server-full']),
  janusServer: z.string(),
  /** The cap that was reached and the number of participants connected at the time. */
  limit: z.number().int(),
  connected: z.number().int(),
});

const roomDestroyedData = z.object({
  meetingId: z.uuid(),
  janusServer: z.string(),
  roomId: z.number().int(),
  reason: z.enum(['cancelled', 'ended']),
});

/** A Janus event-handler event, carried unchanged apart from the server id. */
const janusEventData = z.object({
  server: z.string(),
  event: z.record(z.string(), z.unknown()),
});

/**
 * Directory events: the province's e-office system publishes them, and hop's
 * admin API emits the same types for its own changes. An upsert carries the
 * whole record, and `memberships` replaces the person's unit list.
 */
const unitUpsertedData = z.object({
  unitId: z.uuid(),
  parentId: z.uuid().nullable(),
  kind: unitKindSchema,
  code: unitCodeSchema.nullable(),
  name: unitNameSchema,
});

const unitDisabledData = z.object({
  unitId: z.uuid(),
});

const userUpsertedData = z.object({
  userId: z.uuid(),
  displayName: personNameSchema,
  email: emailSchema.nullable(),
  phone: phoneSchema.nullable(),
  memberships: membershipListSchema,
  externalId: externalIdSchema.nullable(),
});

const userDisabledData = z.object({
  userId: z.uuid(),
});

/**
 * One row of the append-only audit log (`audit_record`), for the province's
 * central logging. `before` and `after` are snapshots of the entity without
 * secrets; either is null when the entity did not exist on that side.
 */
const auditRecordedData = z.object({
  auditId: z.string().regex(/^[0-9]+$/),
  at: z.iso.datetime({ offset: true }),
  actor: z.object({
    kind: z.enum(['user', 'api-key', 'system', 'e-office']),
    id: z.string().min(1).max(500),
  }),
  action: z.string().min(1).max(100),
  entityType: z.string().min(1).max(100),
  entityId: z.string().min(1).max(200),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  ip: z.string().max(100).nullable(),
  requestId: z.string().max(200).nullable(),
});

/** The document and version an event of `hop.documents.v1` is about. */
const documentVersionRef = {
  meetingId: z.uuid(),
  documentId: z.uuid(),
  versionId: z.uuid(),
  version: z.number().int().positive(),
};

/** A confirmed upload: the object exists with the declared size and waits for processing. */
const documentUploadedData = z.object({
  ...documentVersionRef,
  occurrenceId: z.uuid().nullable(),
  agendaIndex: z.number().int().nonnegative().nullable(),
  fileName: z.string().min(1).max(255),
  claimedType: z.string().min(1).max(200),
  sizeBytes: z.number().int().positive(),
  objectKey: z.string().min(1).max(1024),
  uploadedBy: z.object({ kind: z.enum(['user', 'api-key']), id: z.string().min(1).max(200) }),
});

/** A processed version: its real type, hash, pages and which renditions exist. `conversion` is `failed` when the PDF rendition could not be made. */
const documentProcessedData = z.object({
  ...documentVersionRef,
  detectedType: z.string().min(1).max(200),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().positive(),
  pageCount: z.number().int().nonnegative().nullable(),
  hasThumbnail: z.boolean(),
  hasPdf: z.boolean(),
  textChars: z.number().int().nonnegative(),
  conversion: z.enum(['not_needed', 'converted', 'failed']),
});

/** A refused version: `code` is an error catalogue code; the original object is deleted. */
const documentRejectedData = z.object({
  ...documentVersionRef,
  code: z.string().min(1).max(100),
  reason: z.string().max(1000),
});

export const eventTypes = {
  'vn.hop.meeting.scheduled.v1': { topic: topics.meetings, data: meetingScheduledData },
  'vn.hop.meeting.cancelled.v1': { topic: topics.meetings, data: meetingCancelledData },
  'vn.hop.meeting.ended.v1': { topic: topics.meetings, data: meetingEndedData },
  'vn.hop.meeting.updated.v1': { topic: topics.meetings, data: meetingUpdatedData },
  'vn.hop.meeting.postponed.v1': { topic: topics.meetings, data: meetingPostponedData },
  'vn.hop.meeting.occurrence.changed.v1': { topic: topics.meetings, data: meetingOccurrenceChangedData },
  'vn.hop.meeting.started.v1': { topic: topics.meetings, data: meetingStartedData },
  'vn.hop.meeting.hand-raised.v1': { topic: topics.meetings, data: handRaisedDataSchema },
  'vn.hop.meeting.hand-lowered.v1': { topic: topics.meetings, data: handLoweredDataSchema },
  'vn.hop.reminder.due.v1': { topic: topics.reminders, data: reminderDueData },
  'vn.hop.room.provisioned.v1': { topic: topics.media, data: roomProvisionedData },
  'vn.hop.room.destroyed.v1': { topic: topics.media, data: roomDestroyedData },
  'vn.hop.janus.event.v1': { topic: topics.media, data: janusEventData },
  'vn.hop.media.join-refused.v1': { topic: topics.media, data: mediaJoinRefusedData },
  'vn.hop.directory.unit.upserted.v1': { topic: topics.directory, data: unitUpsertedData },
  'vn.hop.directory.unit.disabled.v1': { topic: topics.directory, data: unitDisabledData },
  'vn.hop.directory.user.upserted.v1': { topic: topics.directory, data: userUpsertedData },
  'vn.hop.directory.user.disabled.v1': { topic: topics.directory, data: userDisabledData },
  'vn.hop.audit.recorded.v1': { topic: topics.audit, data: auditRecordedData },
  'vn.hop.document.uploaded.v1': { topic: topics.documents, data: documentUploadedData },
  'vn.hop.document.processed.v1': { topic: topics.documents, data: documentProcessedData },
  'vn.hop.document.rejected.v1': { topic: topics.documents, data: documentRejectedData },
  /** One rendered notification for one recipient, keyed by meeting id; notification-fanout turns it into deliveries. */
  'vn.hop.notification.requested.v1': { topic: topics.notifications, data: notificationRequestedDataSchema },
  /** Attendance, keyed by meeting id (see docs/attendance.md). */
  'vn.hop.attendance.joined.v1': { topic: topics.attendance, data: attendanceJoinedDataSchema },
  'vn.hop.attendance.left.v1': { topic: topics.attendance, data: attendanceLeftDataSchema },
  'vn.hop.attendance.checked-in.v1': { topic: topics.attendance, data: attendanceCheckedInDataSchema },
  'vn.hop.attendance.marked.v1': { topic: topics.attendance, data: attendanceMarkedDataSchema },
} as const satisfies Record<string, { topic: TopicName; data: z.ZodType }>;

export type EventType = keyof typeof eventTypes;
export type EventData<T extends EventType> = z.infer<(typeof eventTypes)[T]['data']>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventTypes, type);
}

/** Returns the CloudEvents `source` of the events a function emits. */
export function eventSource(functionName: string): string {
  return `/hop/functions/${functionName}`;
}

/** A CloudEvent whose `type` is one of hop's and whose `data` matches that type. */
export type HopEvent = { [T in EventType]: CloudEvent<EventData<T>> & { type: T } }[EventType];

/** Builds a hop event; the type parameter ties `data` to the schema of `type`. */
export function newEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  options: NewEventOptions,
): CloudEvent<EventData<T>> & { type: T } {
  return newCloudEvent(type, data, options) as CloudEvent<EventData<T>> & { type: T };
}
