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
import { topics, type TopicName } from './topics.ts';

/**
 * Every event type hop emits: its topic and the zod schema of its `data`.
 * `scripts/generate-schemas.ts` turns these schemas into the published JSON
 * Schemas and the AsyncAPI document, so code and docs cannot drift apart.
 */
const meetingScheduledData = z.object({
  meetingId: z.uuid(),
  title: z.string(),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  timeZone: z.string(),
  participantCount: z.number().int().nonnegative(),
});

const meetingCancelledData = z.object({
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

export const eventTypes = {
  'vn.hop.meeting.scheduled.v1': { topic: topics.meetings, data: meetingScheduledData },
  'vn.hop.meeting.cancelled.v1': { topic: topics.meetings, data: meetingCancelledData },
  'vn.hop.meeting.ended.v1': { topic: topics.meetings, data: meetingEndedData },
  'vn.hop.room.provisioned.v1': { topic: topics.media, data: roomProvisionedData },
  'vn.hop.room.destroyed.v1': { topic: topics.media, data: roomDestroyedData },
  'vn.hop.janus.event.v1': { topic: topics.media, data: janusEventData },
  'vn.hop.directory.unit.upserted.v1': { topic: topics.directory, data: unitUpsertedData },
  'vn.hop.directory.unit.disabled.v1': { topic: topics.directory, data: unitDisabledData },
  'vn.hop.directory.user.upserted.v1': { topic: topics.directory, data: userUpsertedData },
  'vn.hop.directory.user.disabled.v1': { topic: topics.directory, data: userDisabledData },
  'vn.hop.audit.recorded.v1': { topic: topics.audit, data: auditRecordedData },
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
