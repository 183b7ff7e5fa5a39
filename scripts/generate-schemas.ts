/**
 * Writes the published contract from the zod schemas, so docs and code cannot
 * drift apart:
 * - docs/schemas/events/<type>.json: JSON Schema of each event type's `data`
 * - docs/schemas/cloudevent.json: the envelope
 * - docs/schemas/http/<name>.json: HTTP request and response bodies
 * - docs/asyncapi.yaml: AsyncAPI 3.0 document of the topics and messages
 * - docs/openapi.yaml: OpenAPI 3.1 document of the HTTP API
 * - docs/errors.md: the error catalogue
 * - docs/permissions.md: the permission matrix, evaluated from lib/domain/policy.ts
 * Run with `npm run schemas`; `--check` exits 1 when a file is out of date.
 */
import { checkInRequestSchema, markAttendanceRequestSchema } from '../lib/contract/attendance.ts';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { z } from 'zod';
import { cloudEventEnvelopeSchema } from '../lib/contract/cloudevent.ts';
import { eventTypes } from '../lib/contract/events.ts';
import {
  cancelMeetingRequestSchema,
  cancelOccurrenceRequestSchema,
  createdMeetingSchema,
  createMeetingRequestSchema,
  joinDetailsSchema,
  joinRequestSchema,
  meetingSchema,
  moveOccurrenceRequestSchema,
  postponeMeetingRequestSchema,
  scheduleMeetingRequestSchema,
  updatedMeetingSchema,
  updateMeetingRequestSchema,
} from '../lib/contract/meeting.ts';
import {
  calendarFeedTokenSchema,
  calendarResponseSchema,
  createMeetingRoomRequestSchema,
  meetingRoomSchema,
  updateMeetingRoomRequestSchema,
} from '../lib/contract/scheduling.ts';
import { topics } from '../lib/contract/topics.ts';
import { startUploadRequestSchema, uploadResponseSchema } from '../lib/contract/documents.ts';
import {
  createUnitRequestSchema,
  createUserRequestSchema,
  updateUnitRequestSchema,
  updateUserRequestSchema,
} from '../lib/contract/directory.ts';
import { holidayListSchema, holidaySchema, upsertHolidayRequestSchema } from '../lib/contract/holidays.ts';
import { handRequestSchema, handStateSchema, lowerHandRequestSchema } from '../lib/contract/hands.ts';
import { meetingMediaRequestSchema, meetingMediaSchema } from '../lib/contract/media-settings.ts';
import {
  allowedTargetSchema,
  createAllowedTargetRequestSchema,
  createWebhookEndpointRequestSchema,
  notificationDeliverySchema,
  updateWebhookEndpointRequestSchema,
  webhookEndpointSchema,
  webhookEndpointWithSecretSchema,
  webhookPayloadSchema,
} from '../lib/contract/notifications.ts';
import { errorCatalog, type ErrorCode } from '../lib/errors.ts';
import { actions, decide, type Action } from '../lib/domain/policy.ts';
import { MATRIX_NOW, policySubjects } from '../lib/domain/policy-subjects.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
}

const httpSchemas: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  'create-meeting-request': { schema: createMeetingRequestSchema, io: 'input' },
  'created-meeting-response': { schema: createdMeetingSchema, io: 'output' },
  meeting: { schema: meetingSchema, io: 'output' },
  'cancel-meeting-request': { schema: cancelMeetingRequestSchema, io: 'input' },
  'join-request': { schema: joinRequestSchema, io: 'input' },
  'join-details-response': { schema: joinDetailsSchema, io: 'output' },
  'create-unit-request': { schema: createUnitRequestSchema, io: 'input' },
  'update-unit-request': { schema: updateUnitRequestSchema, io: 'input' },
  'create-user-request': { schema: createUserRequestSchema, io: 'input' },
  'update-user-request': { schema: updateUserRequestSchema, io: 'input' },
  'upsert-holiday-request': { schema: upsertHolidayRequestSchema, io: 'input' },
  holiday: { schema: holidaySchema, io: 'output' },
  'holiday-list-response': { schema: holidayListSchema, io: 'output' },
};

Object.assign(httpSchemas, {
  'create-webhook-endpoint-request': { schema: createWebhookEndpointRequestSchema, io: 'input' },
  'update-webhook-endpoint-request': { schema: updateWebhookEndpointRequestSchema, io: 'input' },
  'webhook-endpoint': { schema: webhookEndpointSchema, io: 'output' },
  'webhook-endpoint-with-secret': { schema: webhookEndpointWithSecretSchema, io: 'output' },
  'create-webhook-allowed-target-request': { schema: createAllowedTargetRequestSchema, io: 'input' },
  'webhook-allowed-target': { schema: allowedTargetSchema, io: 'output' },
  'notification-delivery': { schema: notificationDeliverySchema, io: 'output' },
  /** The body hop POSTs to webhook endpoints (docs/notifications.md). */
  'webhook-payload': { schema: webhookPayloadSchema, io: 'output' },
} satisfies typeof httpSchemas);

Object.assign(httpSchemas, {
  'update-meeting-request': { schema: updateMeetingRequestSchema, io: 'input' },
  'updated-meeting-response': { schema: updatedMeetingSchema, io: 'output' },
  'postpone-meeting-request': { schema: postponeMeetingRequestSchema, io: 'input' },
  'schedule-meeting-request': { schema: scheduleMeetingRequestSchema, io: 'input' },
  'move-occurrence-request': { schema: moveOccurrenceRequestSchema, io: 'input' },
  'cancel-occurrence-request': { schema: cancelOccurrenceRequestSchema, io: 'input' },
  'create-meeting-room-request': { schema: createMeetingRoomRequestSchema, io: 'input' },
  'update-meeting-room-request': { schema: updateMeetingRoomRequestSchema, io: 'input' },
  'meeting-room': { schema: meetingRoomSchema, io: 'output' },
  'calendar-response': { schema: calendarResponseSchema, io: 'output' },
  'calendar-feed-token-response': { schema: calendarFeedTokenSchema, io: 'output' },
} satisfies typeof httpSchemas);

Object.assign(httpSchemas, {
  'mark-attendance-request': { schema: markAttendanceRequestSchema, io: 'input' },
  'check-in-request': { schema: checkInRequestSchema, io: 'input' },
} satisfies typeof httpSchemas);

Object.assign(httpSchemas, {
  'meeting-media-request': { schema: meetingMediaRequestSchema, io: 'input' },
  'meeting-media': { schema: meetingMediaSchema, io: 'output' },
  'hand-request': { schema: handRequestSchema, io: 'input' },
  'lower-hand-request': { schema: lowerHandRequestSchema, io: 'input' },
  'hand-state': { schema: handStateSchema, io: 'output' },
} satisfies typeof httpSchemas);

const topicKeys: Record<string, string> = {
  [topics.meetings]: 'meeting id',
  [topics.attendance]: 'meeting id',
  [topics.documents]: 'meeting id',
  [topics.notifications]: 'meeting id',
  [topics.media]: 'meeting id for room events; `<janus server>:<session id>` for Janus events',
  [topics.directory]: 'unit id or user id',
  [topics.audit]: 'entity id',
  [topics.deadLetter]: 'the key of the original message',
};

function asyncApi(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const [type, definition] of Object.entries(eventTypes)) {
    const messageName = type.replaceAll('.', '_');
    messages[messageName] = {
      name: type,
      contentType: 'application/cloudevents+json',
      payload: {
        allOf: [
          { $ref: './schemas/cloudevent.json' },
          { type: 'object', properties: { type: { const: type }, data: { $ref: `./schemas/events/${type}.json` } } },
        ],
      },
    };
  }

  for (const [name, topic] of Object.entries(topics)) {
    const channelMessages: Record<string, unknown> = {};
    for (const [type, definition] of Object.entries(eventTypes)) {
      if (definition.topic === topic) channelMessages[type.replaceAll('.', '_')] = { $ref: `#/components/messages/${type.replaceAll('.', '_')}` };
    }
    channels[name] = {
      address: topic,
      description: `Kafka topic ${topic}; key: ${topicKeys[topic]}.`,
      messages: channelMessages,
    };
    if (Object.keys(channelMessages).length > 0) {
      operations[`receive_${name}`] = { action: 'receive', channel: { $ref: `#/channels/${name}` } };
    }
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'hop events',
      version: '1.0.0',
      description: 'CloudEvents 1.0 in structured JSON mode on Kafka. Generated by scripts/generate-schemas.ts.',
    },
    defaultContentType: 'application/cloudevents+json',
    channels,
    operations,
    components: { messages },
  };
}

interface Operation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  request?: string;
  response: { status: number; schema?: string; description: string };
  errors: ErrorCode[];
}

const operations: Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: 200 while the process runs',
    response: { status: 200, description: '{ status: "ok" }' },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: 200 when database, bus, storage and media are connected (media "off" counts as ready), else 503',
    response: { status: 200, description: '{ status, checks: { database, bus, storage, media } }; the same body with 503 when not ready' },
    errors: [],
  },
  {
    method: 'post',
    path: '/janus/events',
    summary: 'Intake of the Janus HTTP event handler (a JSON event or array); HTTP basic auth user janus when HOP_JANUS_EVENTS_PASSWORD is set',
    response: { status: 202, description: '{ accepted: N }, published to hop.media.v1' },
    errors: ['INVALID_JSON', 'JANUS_EVENT_INVALID', 'UNAUTHORIZED', 'BODY_TOO_LARGE', 'UNAVAILABLE'],
  },
  {
    method: 'post',
    path: '/api/v1/meetings',
    summary: 'Schedule a meeting or save a draft (single or recurring); returns each participant\'s invitation link once, and warnings',
    request: 'create-meeting-request',
    response: { status: 201, schema: 'created-meeting-response', description: 'The meeting, with invitation keys and warnings (people clashes accepted, recurrence capped)' },
    errors: [
      'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED', 'END_BEFORE_START', 'UNKNOWN_TIME_ZONE', 'BODY_TOO_LARGE',
      'AGENDA_TOO_LONG', 'RECURRENCE_INVALID', 'MEETING_ROOM_UNAVAILABLE', 'MEETING_ROOM_OVER_CAPACITY', 'MEETING_ROOM_CONFLICT',
      'PEOPLE_CONFLICT', 'NOTICE_TOO_SHORT',
    ],
  },
  {
    method: 'get',
    path: '/api/v1/meetings',
    summary: 'List meetings by start time; query from, to (ISO instants), status, limit (1-500)',
    response: { status: 200, description: '{ meetings: [...] }' },
    errors: ['VALIDATION_FAILED'],
  },
  {
    method: 'get',
    path: '/api/v1/meetings/{id}',
    summary: 'One meeting with participants and room status',
    response: { status: 200, schema: 'meeting', description: 'The meeting' },
    errors: ['MEETING_NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/v1/meetings/{id}/cancel',
    summary: 'Cancel a meeting; its room is destroyed',
    request: 'cancel-meeting-request',
    response: { status: 200, schema: 'meeting', description: 'The cancelled meeting' },
    errors: ['MEETING_NOT_FOUND', 'MEETING_ENDED', 'VALIDATION_FAILED'],
  },
  {
    method: 'post',
    path: '/api/v1/meetings/{id}/join',
    summary: 'Join details for an invited participant (never the room secret)',
    request: 'join-request',
    response: { status: 200, schema: 'join-details-response', description: 'What the browser needs to enter the VideoRoom' },
    errors: ['MEETING_NOT_FOUND', 'NOT_INVITED', 'MEETING_CANCELLED', 'MEETING_ENDED', 'ROOM_NOT_READY', 'MEDIA_OFF', 'MEDIA_UNAVAILABLE', 'MEETING_FULL', 'MEDIA_SERVER_FULL'],
  },
];

const participationOperations: Operation[] = [
  { method: 'get', path: '/api/v1/meetings/{id}/media', summary: 'The meeting\'s cap on concurrent connections, the defaults it falls back to, and the participants connected now', response: { status: 200, schema: 'meeting-media', description: 'The media settings' }, errors: ['MEETING_NOT_FOUND'] },
  { method: 'put', path: '/api/v1/meetings/{id}/media', summary: 'Set the meeting\'s cap on concurrent connections (null: the default); the next join is checked against it, and no one connected is cut off; audited', request: 'meeting-media-request', response: { status: 200, schema: 'meeting-media', description: 'The media settings' }, errors: ['MEETING_NOT_FOUND', 'MEETING_CANCELLED', 'MEETING_ENDED', 'VALIDATION_FAILED'] },
  { method: 'post', path: '/api/v1/meetings/{id}/hand', summary: 'Raise or lower the caller\'s own hand in the current occurrence (invitation key or signed-in participant); without `raised`, only read it', request: 'hand-request', response: { status: 200, schema: 'hand-state', description: 'The hand and its place among the raised hands' }, errors: ['MEETING_NOT_FOUND', 'NOT_INVITED', 'OUTSIDE_GUEST_WINDOW', 'MEETING_CANCELLED', 'MEETING_ENDED', 'MEETING_STATUS_CONFLICT', 'HAND_RAISE_OUTSIDE_MEETING', 'OCCURRENCE_NOT_FOUND', 'VALIDATION_FAILED'] },
  { method: 'post', path: '/api/v1/meetings/{id}/hands/{participantId}/lower', summary: 'The chair or the secretary lowers a participant\'s raised hand (body occurrenceId, else the current occurrence); audited when it was raised', request: 'lower-hand-request', response: { status: 200, schema: 'hand-state', description: 'The hand' }, errors: ['MEETING_NOT_FOUND', 'PARTICIPANT_NOT_FOUND', 'OCCURRENCE_NOT_FOUND', 'VALIDATION_FAILED'] },
];

const directoryOperations: Operation[] = [
  { method: 'post', path: '/api/v1/units', summary: 'Create a unit', request: 'create-unit-request', response: { status: 201, description: 'The unit' }, errors: ['VALIDATION_FAILED', 'REFERENCED_UNIT_NOT_FOUND', 'UNIT_PARENT_CYCLE', 'UNIT_CODE_TAKEN', 'UNIT_DISABLED'] },
  { method: 'get', path: '/api/v1/units', summary: 'List units with their parent ids', response: { status: 200, description: '{ units: [...] }' }, errors: ['VALIDATION_FAILED'] },
  { method: 'patch', path: '/api/v1/units/{id}', summary: 'Change a unit', request: 'update-unit-request', response: { status: 200, description: 'The unit' }, errors: ['UNIT_NOT_FOUND', 'VALIDATION_FAILED', 'UNIT_PARENT_CYCLE', 'UNIT_CODE_TAKEN', 'UNIT_DISABLED'] },
  { method: 'post', path: '/api/v1/units/{id}/disable', summary: 'Disable a unit', response: { status: 200, description: 'The unit' }, errors: ['UNIT_NOT_FOUND'] },
  { method: 'post', path: '/api/v1/users', summary: 'Create a person with memberships', request: 'create-user-request', response: { status: 201, description: 'The person' }, errors: ['VALIDATION_FAILED', 'REFERENCED_UNIT_NOT_FOUND', 'USER_EMAIL_TAKEN', 'USER_EXTERNAL_ID_TAKEN', 'UNIT_DISABLED'] },
  { method: 'get', path: '/api/v1/users', summary: 'Search people: q ignores case and tone marks; unitId, includeSubunits', response: { status: 200, description: '{ users: [...] }' }, errors: ['VALIDATION_FAILED'] },
  { method: 'patch', path: '/api/v1/users/{id}', summary: 'Change a person', request: 'update-user-request', response: { status: 200, description: 'The person' }, errors: ['USER_NOT_FOUND', 'VALIDATION_FAILED', 'USER_EMAIL_TAKEN', 'USER_DISABLED'] },
  { method: 'post', path: '/api/v1/users/{id}/disable', summary: 'Disable a person', response: { status: 200, description: 'The person' }, errors: ['USER_NOT_FOUND'] },
];

Object.assign(httpSchemas, {
  'start-upload-request': { schema: startUploadRequestSchema, io: 'input' },
  'upload-response': { schema: uploadResponseSchema, io: 'output' },
} satisfies typeof httpSchemas);

const schedulingErrors: ErrorCode[] = [
  'VALIDATION_FAILED', 'END_BEFORE_START', 'AGENDA_TOO_LONG', 'MEETING_ROOM_UNAVAILABLE', 'MEETING_ROOM_OVER_CAPACITY',
  'MEETING_ROOM_CONFLICT', 'PEOPLE_CONFLICT', 'NOTICE_TOO_SHORT',
];
const meetingStateErrors: ErrorCode[] = ['MEETING_NOT_FOUND', 'MEETING_CANCELLED', 'MEETING_ENDED', 'MEETING_STATUS_CONFLICT'];

const schedulingOperations: Operation[] = [
  { method: 'patch', path: '/api/v1/meetings/{id}', summary: 'Change title, agenda, times, time zone, recurrence, mode, meeting room, preparation, urgency or participants (add, remove, invite units); +1 sequence after scheduling', request: 'update-meeting-request', response: { status: 200, schema: 'updated-meeting-response', description: 'The meeting, added invitation keys once, warnings' }, errors: [...meetingStateErrors, ...schedulingErrors, 'UNKNOWN_TIME_ZONE', 'RECURRENCE_INVALID'] },
  { method: 'post', path: '/api/v1/meetings/{id}/postpone', summary: 'Postpone: without times the meeting waits as postponed; with startsAt and endsAt it moves there', request: 'postpone-meeting-request', response: { status: 200, schema: 'meeting', description: 'The meeting, with warnings' }, errors: [...meetingStateErrors, ...schedulingErrors] },
  { method: 'post', path: '/api/v1/meetings/{id}/schedule', summary: 'Publish a draft: checks clashes and the notice, emits meeting.scheduled', request: 'schedule-meeting-request', response: { status: 200, schema: 'meeting', description: 'The meeting, with warnings' }, errors: [...meetingStateErrors, 'MEETING_ROOM_CONFLICT', 'PEOPLE_CONFLICT', 'NOTICE_TOO_SHORT'] },
  { method: 'post', path: '/api/v1/meetings/{id}/start', summary: 'Open the meeting (in_progress) from an hour before an occurrence until it ends', response: { status: 200, schema: 'meeting', description: 'The meeting' }, errors: meetingStateErrors },
  { method: 'post', path: '/api/v1/meetings/{id}/end', summary: 'Close the running occurrence; the meeting ends when no later occurrence remains', response: { status: 200, schema: 'meeting', description: 'The meeting' }, errors: meetingStateErrors },
  { method: 'get', path: '/api/v1/meetings/{id}/changes', summary: 'Change history after scheduling: kind, sequence, actor, time, fields before and after', response: { status: 200, description: '{ changes: [...] } oldest first' }, errors: ['MEETING_NOT_FOUND'] },
  { method: 'patch', path: '/api/v1/meetings/{id}/occurrences/{occurrenceId}', summary: 'Move one occurrence of a series', request: 'move-occurrence-request', response: { status: 200, schema: 'meeting', description: 'The meeting, with warnings' }, errors: [...meetingStateErrors, ...schedulingErrors, 'OCCURRENCE_NOT_FOUND', 'MEETING_NOT_RECURRING'] },
  { method: 'post', path: '/api/v1/meetings/{id}/occurrences/{occurrenceId}/cancel', summary: 'Cancel one occurrence of a series; the last one cancels the meeting', request: 'cancel-occurrence-request', response: { status: 200, schema: 'meeting', description: 'The meeting' }, errors: [...meetingStateErrors, 'OCCURRENCE_NOT_FOUND', 'MEETING_NOT_RECURRING'] },
  { method: 'post', path: '/api/v1/meeting-rooms', summary: 'Add a physical meeting room (admins)', request: 'create-meeting-room-request', response: { status: 201, schema: 'meeting-room', description: 'The room' }, errors: ['VALIDATION_FAILED', 'REFERENCED_UNIT_NOT_FOUND'] },
  { method: 'get', path: '/api/v1/meeting-rooms', summary: 'Meeting rooms by name; query unitId (that unit and shared rooms), includeDisabled', response: { status: 200, description: '{ meetingRooms: [meeting-room] }' }, errors: ['VALIDATION_FAILED'] },
  { method: 'patch', path: '/api/v1/meeting-rooms/{id}', summary: 'Change a meeting room (admins)', request: 'update-meeting-room-request', response: { status: 200, schema: 'meeting-room', description: 'The room' }, errors: ['MEETING_ROOM_NOT_FOUND', 'VALIDATION_FAILED', 'REFERENCED_UNIT_NOT_FOUND'] },
  { method: 'post', path: '/api/v1/meeting-rooms/{id}/disable', summary: 'Take a meeting room out of use (admins)', response: { status: 200, schema: 'meeting-room', description: 'The room' }, errors: ['MEETING_ROOM_NOT_FOUND'] },
  { method: 'get', path: '/api/v1/calendar', summary: 'Occurrences in a day, week or month: query view, date (YYYY-MM-DD), timeZone, and one of user, unit, room', response: { status: 200, schema: 'calendar-response', description: 'The range and its occurrences' }, errors: ['VALIDATION_FAILED', 'UNKNOWN_TIME_ZONE'] },
  { method: 'post', path: '/api/v1/calendar/feed-token', summary: 'Create or rotate the caller\'s calendar feed link; the token is returned once', response: { status: 201, schema: 'calendar-feed-token-response', description: 'The token and feed path' }, errors: [] },
  { method: 'get', path: '/api/v1/calendar/feed/{token}.ics', summary: 'iCalendar feed (text/calendar, METHOD:PUBLISH) of the person the token belongs to; no sign-in', response: { status: 200, description: 'text/calendar' }, errors: ['CALENDAR_FEED_NOT_FOUND'] },
];

const attendanceOperations: Operation[] = [
  { method: 'get', path: '/api/v1/meetings/{id}/attendance', summary: 'Attendance of one occurrence (query occurrenceId, else the current one): everyone for the chair, secretary, organisers and admins (scope "all"), else only the caller\'s row (scope "own")', response: { status: 200, description: '{ scope, meeting, occurrence, rows, summary, refusedCheckIns, version }, and for scope "all" also refusedJoins and raisedHands' }, errors: ['MEETING_NOT_FOUND', 'OCCURRENCE_NOT_FOUND'] },
  { method: 'put', path: '/api/v1/meetings/{id}/attendance/{participantId}', summary: 'Mark a participant present in person, present online, late, absent (reason required) or delegated (delegate name and position); audited', request: 'mark-attendance-request', response: { status: 200, description: 'The participant\'s attendance row' }, errors: ['MEETING_NOT_FOUND', 'PARTICIPANT_NOT_FOUND', 'OCCURRENCE_NOT_FOUND', 'MEETING_CANCELLED', 'MEETING_STATUS_CONFLICT', 'VALIDATION_FAILED'] },
  { method: 'get', path: '/api/v1/meetings/{id}/attendance/report', summary: 'Attendance report of one occurrence; query format json, csv (UTF-8 with BOM) or xlsx, occurrenceId; every download audited', response: { status: 200, description: 'JSON as GET …/attendance, or the file' }, errors: ['MEETING_NOT_FOUND', 'OCCURRENCE_NOT_FOUND', 'VALIDATION_FAILED'] },
  { method: 'get', path: '/api/v1/meetings/{id}/attendance/stream', summary: 'Live board as server-sent events: event "board" with the JSON of GET …/attendance, at once and after every change', response: { status: 200, description: 'text/event-stream' }, errors: ['MEETING_NOT_FOUND', 'OCCURRENCE_NOT_FOUND'] },
  { method: 'get', path: '/api/v1/attendance/report', summary: 'Attendance of a unit\'s meetings in a period (query unitId, from, to, format json or csv, table people or units for the CSV): by unit, by person, per occurrence; audited', response: { status: 200, description: '{ occurrences, byUnit, byPerson, truncated }, or one table as CSV with rates written with a decimal comma' }, errors: ['VALIDATION_FAILED', 'REPORT_PERIOD_INVALID', 'PERMISSION_DENIED'] },
  { method: 'get', path: '/api/v1/meeting-rooms/{id}/check-in-code', summary: 'Kiosk of a meeting room: the meeting held there now, its check-in code (rotates every 30 s), link and QR code (SVG), and the live board\'s counts. For the room\'s kiosk key (scope kiosk:<room id>) or attendance.read-all on that meeting', response: { status: 200, description: '{ meetingRoom, meeting, occurrence, code, url, qrSvg, rotatesAt, present, inRoom, online, invited, checkedIn }' }, errors: ['MEETING_ROOM_NOT_FOUND', 'NO_MEETING_IN_ROOM', 'PERMISSION_DENIED'] },
  { method: 'post', path: '/api/v1/attendance/check-in', summary: 'Check in with the code of a meeting room\'s QR code (signed-in people only); refused attempts are shown to the secretary', request: 'check-in-request', response: { status: 200, description: '{ meetingId, title, occurrenceId, checkedInAt, alreadyCheckedIn }' }, errors: ['CHECK_IN_CODE_INVALID', 'CHECK_IN_CODE_EXPIRED', 'CHECK_IN_NOT_INVITED', 'VALIDATION_FAILED'] },
];

const holidayOperations: Operation[] = [
  { method: 'get', path: '/api/v1/holidays', summary: 'Holiday calendar entries of one year; query year (current year in Asia/Ho_Chi_Minh by default)', response: { status: 200, schema: 'holiday-list-response', description: '{ year, holidays: [...] } by date' }, errors: ['VALIDATION_FAILED'] },
  { method: 'put', path: '/api/v1/holidays/{date}', summary: 'Enter or replace the entry of a date (YYYY-MM-DD): holiday (day off) or working_day (a Saturday or Sunday made a working day); 201 when new', request: 'upsert-holiday-request', response: { status: 200, schema: 'holiday', description: 'The entry' }, errors: ['VALIDATION_FAILED', 'WORKING_DAY_NOT_WEEKEND'] },
  { method: 'delete', path: '/api/v1/holidays/{date}', summary: 'Remove the entry of a date (YYYY-MM-DD)', response: { status: 200, schema: 'holiday', description: 'The removed entry' }, errors: ['VALIDATION_FAILED', 'HOLIDAY_NOT_FOUND'] },
];

const webhookTargetErrors: ErrorCode[] = ['WEBHOOK_URL_INVALID', 'WEBHOOK_TARGET_UNRESOLVED', 'WEBHOOK_TARGET_FORBIDDEN', 'WEBHOOK_TARGET_NOT_ALLOWED'];

const notificationOperations: Operation[] = [
  { method: 'post', path: '/api/v1/admin/webhooks', summary: 'Add a webhook endpoint; the URL must pass the allow-list check; the signing secret is returned this once', request: 'create-webhook-endpoint-request', response: { status: 201, schema: 'webhook-endpoint-with-secret', description: 'The endpoint with its secret' }, errors: ['VALIDATION_FAILED', ...webhookTargetErrors] },
  { method: 'get', path: '/api/v1/admin/webhooks', summary: 'List webhook endpoints, without secrets', response: { status: 200, description: '{ endpoints: [...] }' }, errors: [] },
  { method: 'patch', path: '/api/v1/admin/webhooks/{id}', summary: 'Change name, URL, kind filter or enabled; a new URL and an endpoint being enabled must pass the allow-list check', request: 'update-webhook-endpoint-request', response: { status: 200, schema: 'webhook-endpoint', description: 'The endpoint' }, errors: ['WEBHOOK_ENDPOINT_NOT_FOUND', 'VALIDATION_FAILED', ...webhookTargetErrors] },
  { method: 'post', path: '/api/v1/admin/webhooks/{id}/disable', summary: 'Stop deliveries to an endpoint; its pending deliveries wait until it is enabled', response: { status: 200, schema: 'webhook-endpoint', description: 'The endpoint' }, errors: ['WEBHOOK_ENDPOINT_NOT_FOUND'] },
  { method: 'post', path: '/api/v1/admin/webhooks/{id}/rotate-secret', summary: 'New signing secret, returned this once; the previous one also signs for 24 hours', response: { status: 200, schema: 'webhook-endpoint-with-secret', description: 'The endpoint with its new secret' }, errors: ['WEBHOOK_ENDPOINT_NOT_FOUND'] },
  { method: 'post', path: '/api/v1/admin/webhooks/{id}/replay-dead', summary: 'Queue every dead delivery of the endpoint again, in their original order', response: { status: 200, description: '{ replayed, deliveryIds }' }, errors: ['WEBHOOK_ENDPOINT_NOT_FOUND'] },
  { method: 'post', path: '/api/v1/admin/webhook-targets', summary: 'Add a host name, IP address or CIDR block (optionally one port) to the webhook allow-list', request: 'create-webhook-allowed-target-request', response: { status: 201, schema: 'webhook-allowed-target', description: 'The entry' }, errors: ['VALIDATION_FAILED', 'WEBHOOK_ALLOWED_TARGET_INVALID', 'WEBHOOK_ALLOWED_TARGET_EXISTS'] },
  { method: 'get', path: '/api/v1/admin/webhook-targets', summary: 'List the webhook allow-list', response: { status: 200, description: '{ targets: [...] }' }, errors: [] },
  { method: 'delete', path: '/api/v1/admin/webhook-targets/{id}', summary: 'Remove an allow-list entry', response: { status: 204, description: 'No content' }, errors: ['WEBHOOK_ALLOWED_TARGET_NOT_FOUND'] },
  { method: 'get', path: '/api/v1/admin/notification-deliveries', summary: 'Deliveries newest first; query status (dead: the dead-letter list), channel, endpointId, notificationId, meetingId, limit (1-500), cursor', response: { status: 200, description: '{ deliveries: [notification-delivery], nextCursor }' }, errors: ['VALIDATION_FAILED'] },
  { method: 'post', path: '/api/v1/admin/notification-deliveries/{id}/replay', summary: 'Queue one dead delivery again with attempts reset; it keeps its place in its target\'s order', response: { status: 200, schema: 'notification-delivery', description: 'The delivery' }, errors: ['NOTIFICATION_DELIVERY_NOT_FOUND', 'NOTIFICATION_DELIVERY_NOT_DEAD'] },
];

const documentOperations: Operation[] = [
  { method: 'post', path: '/api/v1/meetings/{id}/uploads', summary: 'Start (or resume) a presigned multipart upload of a meeting document or of a new version; query nothing, body names the file', request: 'start-upload-request', response: { status: 201, schema: 'upload-response', description: 'Part links for the missing parts, parts already received' }, errors: ['MEETING_NOT_FOUND', 'VALIDATION_FAILED', 'FILE_NAME_INVALID', 'FILE_TYPE_NOT_ALLOWED', 'FILE_EMPTY', 'FILE_TOO_LARGE', 'DOCUMENT_NOT_FOUND', 'OCCURRENCE_NOT_FOUND', 'AGENDA_ITEM_NOT_FOUND'] },
  { method: 'get', path: '/api/v1/meetings/{id}/uploads/{uploadId}', summary: "The caller's pending upload with the parts received and fresh links for the missing ones (resume)", response: { status: 200, schema: 'upload-response', description: 'The upload' }, errors: ['MEETING_NOT_FOUND', 'UPLOAD_NOT_FOUND'] },
  { method: 'post', path: '/api/v1/meetings/{id}/uploads/{uploadId}/confirm', summary: 'Complete the upload, check its size, create the document or its next version and emit document.uploaded; repeated, returns the first result with 200', response: { status: 201, description: '{ documentId, versionId, version, created, document }' }, errors: ['MEETING_NOT_FOUND', 'UPLOAD_NOT_FOUND', 'UPLOAD_INCOMPLETE', 'UPLOAD_SIZE_MISMATCH', 'DOCUMENT_NOT_FOUND'] },
  { method: 'get', path: '/api/v1/meetings/{id}/documents', summary: 'Documents the caller may read, with versions, processing state, thumbnail links and changed-since-read marks; query q searches titles and text without diacritics', response: { status: 200, description: '{ documents: [...] }' }, errors: ['MEETING_NOT_FOUND', 'VALIDATION_FAILED'] },
  { method: 'get', path: '/api/v1/meetings/{id}/documents/{documentId}/download', summary: 'A short-lived signed link to a version (query version, variant original|pdf, disposition attachment|inline); audited, marks the version read', response: { status: 200, description: '{ url, expiresAt, fileName, version, variant }' }, errors: ['MEETING_NOT_FOUND', 'DOCUMENT_NOT_FOUND', 'DOCUMENT_PROCESSING', 'DOCUMENT_REJECTED', 'VALIDATION_FAILED'] },
];

function openApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of [...operations, ...schedulingOperations, ...directoryOperations, ...holidayOperations, ...notificationOperations, ...documentOperations, ...attendanceOperations, ...participationOperations]) {
    const responses: Record<string, unknown> = {
      [operation.response.status]: {
        description: operation.response.description,
        content: { 'application/json': { schema: operation.response.schema ? { $ref: `./schemas/http/${operation.response.schema}.json` } : { type: 'object' } } },
      },
    };
    for (const code of operation.errors) {
      const status = String(errorCatalog[code].status);
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = {
        description: existing ? `${existing.description}, ${code}` : code,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const entry: Record<string, unknown> = { summary: operation.summary, responses };
    if (operation.path.includes('{id}')) {
      entry.parameters = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
    }
    if (operation.path.includes('{occurrenceId}')) {
      (entry.parameters as unknown[]).push({ name: 'occurrenceId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    }
    if (operation.path.includes('{participantId}')) {
      (entry.parameters as unknown[]).push({ name: 'participantId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    }
    if (operation.path.includes('{token}')) {
      entry.parameters = [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }];
    }
    if (operation.path.includes('{date}')) {
      entry.parameters = [{ name: 'date', in: 'path', required: true, schema: { type: 'string', format: 'date' } }];
    }
    if (operation.request) {
      entry.requestBody = {
        required: true,
        content: { 'application/json': { schema: { $ref: `./schemas/http/${operation.request}.json` } } },
      };
    }
    paths[operation.path] = { ...paths[operation.path], [operation.method]: entry };
  }

  return {
    openapi: '3.1.0',
    info: { title: 'hop HTTP API', version: '1.0.0', description: 'Generated by scripts/generate-schemas.ts. Errors: docs/errors.md.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'message_en'],
              properties: {
                code: { type: 'string', enum: Object.keys(errorCatalog) },
                message: { type: 'string', description: 'Vietnamese message for people' },
                message_en: { type: 'string' },
                details: {},
              },
            },
          },
        },
      },
    },
  };
}

function errorsMarkdown(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error of the HTTP API comes with this body, with `message` in Vietnamese for people and',
    '`message_en` in English. `details`, when present, is a list of `{ path, message }` for invalid',
    'fields (`VALIDATION_FAILED`, `EVENT_INVALID`, `JANUS_EVENT_INVALID`) or an object with the values',
    'involved (for example `{ "meetingId": "…" }`). The texts in `details` are in English, for',
    'developers and logs; people see `message`.',
    '',
    '```json',
    '{ "error": { "code": "VALIDATION_FAILED", "message": "…", "message_en": "…", "details": [{ "path": "title", "message": "…" }] } }',
    '```',
    '',
    'Codes are stable: a code keeps its meaning and is never reused. "Retry" says whether sending',
    'the same request again later can succeed. Dead-lettered events carry the code in the',
    '`hop-dlq-code` header (plus `RETRIES_EXHAUSTED` when a function kept failing).',
    'Generated from `lib/errors.ts` by `npm run schemas`.',
    '',
    '| code | HTTP | retry | message (vi) | message (en) |',
    '|---|---|---|---|---|',
  ];
  for (const [code, definition] of Object.entries(errorCatalog)) {
    lines.push(`| \`${code}\` | ${definition.status} | ${definition.retryable ? 'yes' : 'no'} | ${definition.vi} | ${definition.en} |`);
  }
  return `${lines.join('\n')}\n`;
}

function permissionsMarkdown(): string {
  const actionNames = Object.keys(actions) as Action[];
  const lines = [
    '# Permissions',
    '',
    'One policy decides every action: `decide(principal, action, context)` in `lib/domain/policy.ts`.',
    'System roles (admin, organiser, member, guest) come from the directory; meeting roles (chair,',
    'secretary, participant, observer, guest) from the meeting\'s participant list. An organiser',
    'schedules and manages meetings of the units they belong to. Guests join only from 30 minutes',
    'before the start until the end. API keys act only through their scopes, and never join, admit',
    'or manage keys.',
    '',
    '| action | API key scope | what it allows |',
    '|---|---|---|',
  ];
  for (const name of actionNames) {
    const action = actions[name];
    lines.push(`| \`${name}\` | ${action.scope ? `\`${action.scope}\`` : 'none (people only)'} | ${action.about} |`);
  }
  lines.push(
    '',
    '## Endpoints',
    '',
    '`gateway/authorization-matrix.test.ts` calls 55 of the API\'s routes as 12 kinds of caller (admin,',
    'organiser of the unit and of another unit, chair, secretary, participant, observer, member not',
    'invited, member of another unit, invited guest, API key with read scopes, anonymous) against one',
    'meeting, 660 HTTP cases; each expected answer comes from `decide`. 23 routes run to completion; the',
    'other 32 (every route with a `com.hop.permission` annotation, read from stack.yml, and the meeting',
    'routes that check inside their function) are checked at the permission gate with made-up ids. Not',
    'in that test: the meeting list and the calendar (they filter rather than refuse; see',
    '`gateway/meeting-access.test.ts` and `gateway/scheduling.test.ts`), the calendar feed (its token is',
    'the credential), unit reminders, the unit attendance report, the kiosk code and QR check-in (tested',
    'in `gateway/meeting-notify.test.ts` and `gateway/attendance.test.ts`).',
    '',
    '| endpoint | action |',
    '|---|---|',
    ...[
      ['POST /api/v1/meetings', 'meeting.create (for the `unitId` of the body)'],
      ['GET /api/v1/meetings', 'lists only the meetings the caller may read'],
      ['GET /api/v1/meetings/:id', 'meeting.read'],
      ['POST /api/v1/meetings/:id/cancel', 'meeting.update'],
      ['PATCH /api/v1/meetings/:id, POST …/postpone, …/schedule, …/start, …/end', 'meeting.update'],
      ['PATCH /api/v1/meetings/:id/occurrences/:occurrenceId, POST …/cancel', 'meeting.update'],
      ['GET /api/v1/meetings/:id/changes', 'meeting.read'],
      ['GET /api/v1/meetings/:id/documents, GET …/documents/:documentId/download', 'document.read; a `meeting_only` document only from the start for those who do not manage the meeting'],
      ['POST /api/v1/meetings/:id/uploads, GET …/uploads/:uploadId, POST …/uploads/:uploadId/confirm', 'document.upload; an upload is seen and confirmed only by the person who started it'],
      ['GET /api/v1/calendar', 'lists the occurrences of meetings the caller may read; for a room or another person, busy blocks to holders of meeting-room.read'],
      ['POST /api/v1/calendar/feed-token', 'calendar.feed'],
      ['GET /api/v1/calendar/feed/:token.ics', 'the token alone (no sign-in)'],
      ['GET /api/v1/meeting-rooms', 'meeting-room.read'],
      ['POST/PATCH /api/v1/meeting-rooms…', 'meeting-room.manage'],
      ['POST /api/v1/meetings/:id/join', 'meeting.join (signed in), or the invitation key'],
      ['POST /api/v1/meetings/:id/hand', 'as the join: the invitation key, or the signed-in participant; raising also needs the meeting open to them'],
      ['POST /api/v1/meetings/:id/hands/:participantId/lower', 'hand.lower'],
      ['GET /api/v1/meetings/:id/media', 'meeting.read'],
      ['PUT /api/v1/meetings/:id/media', 'meeting.update'],
      ['GET /api/v1/units, GET /api/v1/users', 'directory.read'],
      ['POST/PATCH /api/v1/units…, /api/v1/users…', 'directory.manage'],
      ['GET /api/v1/audit', 'audit.read'],
      ['GET /api/v1/holidays', 'directory.read'],
      ['PUT/DELETE /api/v1/holidays/:date', 'directory.manage'],
      ['GET /api/v1/meeting-rooms/:id/check-in-code', 'attendance.read-all on the meeting held in the room now, or the room\'s kiosk key (scope `kiosk:<meeting room id>`, which allows nothing else); with no meeting there, meeting-room.read or the kiosk key'],
      ['/api/v1/admin/api-keys…', 'api-key.manage'],
      ['/api/v1/admin/webhooks…, /api/v1/admin/webhook-targets…, /api/v1/admin/notification-deliveries…', 'notification.manage'],
    ].map(([endpoint, action]) => `| \`${endpoint}\` | ${action} |`),
    '',
    '## Matrix',
    '',
    `Evaluated from the policy for these subjects at ${MATRIX_NOW.toISOString()}, during the meeting of`,
    'every row except "next week". `lib/domain/policy.test.ts` checks the same matrix against a',
    'table written by hand. Generated by `npm run schemas`.',
    '',
    `| subject | ${actionNames.map((name) => `\`${name}\``).join(' | ')} |`,
    `|---|${actionNames.map(() => '---').join('|')}|`,
  );
  for (const subject of policySubjects) {
    const cells = actionNames.map((action) =>
      decide(subject.principal, action, { meeting: subject.meeting, unitId: subject.unitId, now: MATRIX_NOW }).allow ? 'yes' : 'no',
    );
    lines.push(`| ${subject.name} | ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    'Where it is enforced: directory routes through the `com.hop.permission` annotation in `stack.yml`,',
    'checked by the gateway; meeting routes inside their functions (`lib/domain/meeting-access.ts`),',
    'because they need the meeting. A caller who may not read a meeting gets 404, so its title does not',
    'leak. Joining with an invitation key needs no account; a guest\'s key works only in the time window.',
    '`gateway/meeting-access.test.ts` and `test/e2e/sign-in.test.ts` check this through HTTP and a browser.',
    'NOTE: the lobby action has no route yet.',
  );
  return `${lines.join('\n')}\n`;
}

/** Generates every published file, keyed by path relative to the repository root. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

  files.set('docs/schemas/cloudevent.json', json(jsonSchema(cloudEventEnvelopeSchema)));
  for (const [type, definition] of Object.entries(eventTypes)) {
    files.set(`docs/schemas/events/${type}.json`, json({ title: type, ...jsonSchema(definition.data) }));
  }
  for (const [name, { schema, io }] of Object.entries(httpSchemas)) {
    files.set(`docs/schemas/http/${name}.json`, json({ title: name, ...jsonSchema(schema, io) }));
  }
  files.set('docs/asyncapi.yaml', `# Generated by scripts/generate-schemas.ts; do not edit.\n${stringify(asyncApi())}`);
  files.set('docs/openapi.yaml', `# Generated by scripts/generate-schemas.ts; do not edit.\n${stringify(openApi())}`);
  files.set('docs/errors.md', errorsMarkdown());
  files.set('docs/permissions.md', permissionsMarkdown());
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [relative, content] of generatedFiles()) {
    const file = path.join(root, relative);
    if (check) {
      const current = await readFile(file, 'utf8').catch(() => null);
      if (current !== content) stale.push(relative);
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  if (stale.length > 0) {
    process.stderr.write(`out of date (run npm run schemas): ${stale.join(', ')}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
