import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Table types of hop's database; the migrations in `migrations/` create them. */
export interface Database {
  meeting: MeetingTable;
  participant: ParticipantTable;
  room: RoomTable;
  outbox: OutboxTable;
  processed_event: ProcessedEventTable;
  unit: UnitTable;
  app_user: AppUserTable;
  membership: MembershipTable;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface MeetingTable {
  id: string;
  title: string;
  description: string | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
  time_zone: string;
  status: MeetingStatus;
  cancel_reason: string | null;
  unit_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
  /** Agenda items in order; written as a JSON string (migration 0006_scheduling). */
  agenda: ColumnType<AgendaItemRow[], string | undefined, string>;
  mode: ColumnType<MeetingMode, MeetingMode | undefined, MeetingMode>;
  /** The physical meeting room, for in-person and hybrid meetings. */
  meeting_room_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** What attendees prepare before the meeting. */
  preparation: ColumnType<string | null, string | null | undefined, string | null>;
  urgent: ColumnType<boolean, boolean | undefined, boolean>;
  /** iCalendar SEQUENCE: 0 when scheduled, +1 on each change after that. */
  sequence: ColumnType<number, number | undefined, number>;
  /** RFC 5545 RRULE value (without the `RRULE:` prefix), or null for a single meeting. */
  recurrence_rule: ColumnType<string | null, string | null | undefined, string | null>;
  /** The occurrence count hop stopped at when the rule has no end or goes past the cap; null when not capped. */
  recurrence_count_cap: ColumnType<number | null, number | null | undefined, number | null>;
  postpone_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** End of the latest occurrence that is not cancelled; `ends_at` for a single meeting. */
  last_ends_at: Timestamp;
}

export type MeetingStatus = 'draft' | 'scheduled' | 'in_progress' | 'postponed' | 'cancelled' | 'ended';
export type MeetingMode = 'in_person' | 'online' | 'hybrid';

export interface AgendaItemRow {
  title: string;
  presenter: string | null;
  plannedMinutes: number;
}

export interface ParticipantTable {
  id: string;
  meeting_id: string;
  /** Order in the invitation list, from 0. */
  position: number;
  name: string;
  email: string | null;
  phone: string | null;
  role: 'chair' | 'secretary' | 'participant' | 'observer' | 'guest';
  /** SHA-256 of the invitation key, hex; the key itself is shown once and never stored. */
  invite_key_hash: string;
  /** The directory person, when the participant was invited as one. */
  user_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The unit whose invitation as a whole added this person (migration 0006_scheduling). */
  invited_unit_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface RoomTable {
  meeting_id: string;
  status: 'pending' | 'ready' | 'destroyed' | 'failed';
  janus_server: string | null;
  room_id: ColumnType<number | null, number | null, number | null>;
  secret: string | null;
  pin: string | null;
  last_error: string | null;
  updated_at: Timestamp;
  /** Cap on concurrent participants of this meeting (migration 0012); null uses HOP_MEETING_MAX_CONNECTIONS. */
  max_connections: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface OutboxTable {
  id: Generated<string>;
  topic: string;
  message_key: string;
  event_id: string;
  payload: ColumnType<unknown, string, never>;
  headers: ColumnType<Record<string, string>, string, never>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  published_at: ColumnType<Date | null, never, Date | string>;
}

export interface ProcessedEventTable {
  consumer: string;
  event_id: string;
  processed_at: ColumnType<Date, Date | string | undefined, never>;
}

export type MeetingRow = Selectable<MeetingTable>;
export type NewMeetingRow = Insertable<MeetingTable>;
export type ParticipantRow = Selectable<ParticipantTable>;
export type RoomRow = Selectable<RoomTable>;

export type UnitKind = 'province' | 'department' | 'district' | 'commune' | 'office' | 'other';
export type SystemRole = 'admin' | 'organiser' | 'member' | 'guest';

export interface UnitTable {
  id: string;
  parent_id: string | null;
  kind: UnitKind;
  code: string | null;
  name: string;
  name_search: string;
  disabled_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
}

export interface AppUserTable {
  id: string;
  display_name: string;
  name_search: string;
  email: string | null;
  phone: string | null;
  system_role: ColumnType<SystemRole, SystemRole | undefined, SystemRole>;
  external_id: string | null;
  disabled_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
}

export interface MembershipTable {
  user_id: string;
  unit_id: string;
  position: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

// Sign-in tables (migration 0003_accounts). This declaration merges into `Database` above.
export interface Database {
  local_account: LocalAccountTable;
  web_session: WebSessionTable;
  api_key: ApiKeyTable;
}

export interface LocalAccountTable {
  user_id: string;
  /** NFC, trimmed, lower case. */
  username: string;
  /** `scrypt$N$r$p$salt$hash`, see lib/domain/passwords.ts. */
  password_hash: string;
  /** Failed sign-ins since the last success or lock-out. */
  failed_attempts: ColumnType<number, number | undefined, number>;
  locked_until: Timestamp | null;
  password_changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface WebSessionTable {
  /** SHA-256 of the cookie token, hex; the token itself is never stored. */
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Timestamp | null;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  /** Public part of `hop_<prefix>_<secret>`. */
  prefix: string;
  /** SHA-256 of the secret part, hex. */
  secret_hash: string;
  /** Written as a JSON string, read as the parsed array. */
  scopes: ColumnType<string[], string, string>;
  created_by: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export type LocalAccountRow = Selectable<LocalAccountTable>;
export type WebSessionRow = Selectable<WebSessionTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;

// Audit log (migration 0005_audit). Append-only: a trigger rejects UPDATE, DELETE and TRUNCATE.
export interface Database {
  audit_record: AuditRecordTable;
}

export type AuditActorKind = 'user' | 'api-key' | 'system' | 'e-office';

export interface AuditRecordTable {
  /** bigserial: a number from the pg driver (see database.ts), which may differ under PGlite, so read it with String(). */
  id: ColumnType<number | string, never, never>;
  at: ColumnType<Date, Date | string | undefined, never>;
  actor_kind: ColumnType<AuditActorKind, AuditActorKind, never>;
  actor_id: ColumnType<string, string, never>;
  action: ColumnType<string, string, never>;
  entity_type: ColumnType<string, string, never>;
  entity_id: ColumnType<string, string, never>;
  /** Written as a JSON string, read as the parsed object. */
  before: ColumnType<Record<string, unknown> | null, string | null, never>;
  after: ColumnType<Record<string, unknown> | null, string | null, never>;
  ip: ColumnType<string | null, string | null | undefined, never>;
  request_id: ColumnType<string | null, string | null | undefined, never>;
}

export type AuditRecordRow = Selectable<AuditRecordTable>;

// Public holiday calendar (migration 0007_holidays).
export interface Database {
  holiday: HolidayTable;
}

export type HolidayKind = 'holiday' | 'working_day';

export interface HolidayTable {
  /** A PostgreSQL `date`. Drivers read it as a JS Date at local midnight, so select it with `to_char(date, 'YYYY-MM-DD')`. */
  date: ColumnType<Date | string, string, never>;
  kind: HolidayKind;
  name: string;
  note: string | null;
  created_by: ColumnType<string | null, string | null | undefined, never>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_by: string | null;
  updated_at: Timestamp;
}

// Scheduling (migration 0006_scheduling). This declaration merges into `Database` above.
export interface Database {
  meeting_room: MeetingRoomTable;
  meeting_occurrence: MeetingOccurrenceTable;
  meeting_change: MeetingChangeTable;
  meeting_invited_unit: MeetingInvitedUnitTable;
  calendar_feed_token: CalendarFeedTokenTable;
}

/** A physical meeting room (phòng họp), managed by admins. */
export interface MeetingRoomTable {
  id: string;
  unit_id: string | null;
  name: string;
  location: string | null;
  capacity: number | null;
  equipment: string | null;
  disabled_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
}

export type OccurrenceStatus = 'scheduled' | 'cancelled' | 'moved';

/** One occurrence of a meeting; a single meeting has exactly one. */
export interface MeetingOccurrenceTable {
  id: string;
  meeting_id: string;
  /** The start the recurrence rule gives this occurrence (iCalendar RECURRENCE-ID); fixed once written. */
  recurrence_id: Timestamp;
  starts_at: Timestamp;
  ends_at: Timestamp;
  status: OccurrenceStatus;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
}

/** One change to a meeting after it was scheduled, with the changed fields before and after. */
export interface MeetingChangeTable {
  id: Generated<string>;
  meeting_id: string;
  occurrence_id: string | null;
  /** The meeting's sequence after this change. */
  sequence: number;
  kind: string;
  actor_kind: AuditActorKind;
  actor_id: string;
  /** Written as a JSON string, read as the parsed object. */
  before: ColumnType<Record<string, unknown>, string, never>;
  after: ColumnType<Record<string, unknown>, string, never>;
  changed_at: ColumnType<Date, Date | string | undefined, never>;
}

/** A unit invited as a whole; its members at invitation time became participants. */
export interface MeetingInvitedUnitTable {
  meeting_id: string;
  unit_id: string;
  member_count: number;
  invited_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface CalendarFeedTokenTable {
  user_id: string;
  /** SHA-256 of the feed token, hex; the token is shown once. */
  token_hash: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_used_at: Timestamp | null;
}

export type MeetingRoomRow = Selectable<MeetingRoomTable>;
export type MeetingOccurrenceRow = Selectable<MeetingOccurrenceTable>;
export type MeetingChangeRow = Selectable<MeetingChangeTable>;

// Notification delivery (migration 0008_notifications). This declaration merges into `Database` above.
export interface Database {
  webhook_endpoint: WebhookEndpointTable;
  webhook_allowed_target: WebhookAllowedTargetTable;
  notification_target: NotificationTargetTable;
  notification_delivery: NotificationDeliveryTable;
}

export interface WebhookEndpointTable {
  id: string;
  name: string;
  url: string;
  /** `whsec_` + base64 of 32 random bytes. Never returned by the API after create or rotate. */
  secret: string;
  previous_secret: ColumnType<string | null, string | null | undefined, string | null>;
  previous_secret_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Written as a JSON string, read as the parsed array; empty means every kind. */
  event_kinds: ColumnType<string[], string | undefined, string>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: ColumnType<string | null, string | null | undefined, never>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WebhookAllowedTargetTable {
  id: string;
  kind: 'host' | 'cidr';
  target: string;
  port: number | null;
  note: string | null;
  created_by: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface NotificationTargetTable {
  /** `webhook:<endpoint id>` or `email:<address in lower case>`. */
  key: string;
  /** bigint: a number from the pg driver, possibly a string under PGlite, so read it with Number(). */
  next_sequence: ColumnType<number | string, number | undefined, number>;
}

export type DeliveryChannel = 'webhook' | 'email';
export type DeliveryStatusName = 'pending' | 'delivering' | 'delivered' | 'dead';

export interface NotificationDeliveryTable {
  id: string;
  notification_id: string;
  event_id: string;
  meeting_id: string;
  kind: string;
  channel: DeliveryChannel;
  endpoint_id: string | null;
  email_address: string | null;
  target_key: string;
  /** bigint: read it with Number(). */
  sequence: ColumnType<number | string, number, never>;
  /** Written as a JSON string, read as the parsed object. */
  payload: ColumnType<unknown, string, never>;
  status: ColumnType<DeliveryStatusName, DeliveryStatusName | undefined, DeliveryStatusName>;
  attempt_count: ColumnType<number, number | undefined, number>;
  first_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  next_attempt_at: Timestamp;
  lease_owner: ColumnType<string | null, string | null | undefined, string | null>;
  lease_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  last_status_code: ColumnType<number | null, number | null | undefined, number | null>;
  delivered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  dead_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;
export type WebhookAllowedTargetRow = Selectable<WebhookAllowedTargetTable>;
export type NotificationDeliveryRow = Selectable<NotificationDeliveryTable>;

// Reminders and notification preferences (migration 0009_reminders).
export interface Database {
  reminder: ReminderTable;
  unit_reminder_setting: UnitReminderSettingTable;
}

export interface ReminderTable {
  id: string;
  meeting_id: string;
  occurrence_id: string;
  /** Minutes before the occurrence start. */
  offset_minutes: number;
  due_at: Timestamp;
  status: 'pending' | 'sent';
  sent_at: Timestamp | null;
  sent_for_start: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
}

export interface UnitReminderSettingTable {
  unit_id: string;
  /** Minutes before the start; written as a JSON string, read as the parsed array. */
  offsets_minutes: ColumnType<number[], string, string>;
  updated_by: string | null;
  updated_at: Timestamp;
}

// Columns migration 0009_reminders adds to existing tables (declaration merging).
export interface MeetingTable {
  /** Minutes before each occurrence; written as a JSON string, read as the parsed array; null means the unit's or hop's default. */
  reminder_offsets: ColumnType<number[] | null, string | null | undefined, string | null>;
}

export interface AppUserTable {
  /** IANA zone for the times in this person's notifications; null means Asia/Ho_Chi_Minh. */
  time_zone: ColumnType<string | null, string | null | undefined, string | null>;
  /** Language of this person's notifications; null means Vietnamese. */
  language: ColumnType<'vi' | 'en' | null, 'vi' | 'en' | null | undefined, 'vi' | 'en' | null>;
}

// Attendance (migration 0011_attendance). This declaration merges into `Database` above.
export interface Database {
  media_session: MediaSessionTable;
  attendance_connection: AttendanceConnectionTable;
  attendance_interval: AttendanceIntervalTable;
  attendance_mark: AttendanceMarkTable;
  attendance_check_in: AttendanceCheckInTable;
  attendance_check_in_attempt: AttendanceCheckInAttemptTable;
  attendance_version: AttendanceVersionTable;
}

/** A Janus session opened through the signalling proxy, bound to the participant whose join token opened it. */
export interface MediaSessionTable {
  janus_server: string;
  /** Janus session id as decimal text. */
  session_id: string;
  meeting_id: string;
  participant_id: string;
  /** SHA-256 of the join token, hex. */
  token_hash: string;
  opened_at: Timestamp;
  closed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  ended_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** One VideoRoom publisher presence (one device), from Janus events. */
export interface AttendanceConnectionTable {
  janus_server: string;
  room_id: string;
  feed_id: string;
  session_id: ColumnType<string | null, string | null | undefined, string | null>;
  handle_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Null on a row a `leaving` created before its `joined`. */
  meeting_id: ColumnType<string | null, string | null | undefined, string | null>;
  occurrence_id: ColumnType<string | null, string | null | undefined, string | null>;
  participant_id: ColumnType<string | null, string | null | undefined, string | null>;
  joined_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  left_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  end_reason: ColumnType<string | null, string | null | undefined, string | null>;
  last_seen_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type AttendanceIntervalStatus = 'open' | 'grace' | 'closed';

/** Merged presence of one participant in one occurrence, derived from `attendance_connection`. */
export interface AttendanceIntervalTable {
  occurrence_id: string;
  participant_id: string;
  meeting_id: string;
  started_at: Timestamp;
  ended_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  status: AttendanceIntervalStatus;
}

export type AttendanceMarkStatus = 'present_in_person' | 'present_online' | 'late' | 'absent' | 'delegated';

export interface AttendanceMarkTable {
  occurrence_id: string;
  participant_id: string;
  meeting_id: string;
  status: AttendanceMarkStatus;
  absence_reason: string | null;
  delegate_name: string | null;
  delegate_position: string | null;
  note: string | null;
  /** User id or API key id of whoever marked. */
  marked_by: string;
  marked_at: Timestamp;
}

export interface AttendanceCheckInTable {
  occurrence_id: string;
  participant_id: string;
  meeting_id: string;
  meeting_room_id: string;
  user_id: string;
  checked_in_at: Timestamp;
}

/** A refused QR check-in, shown to the secretary. `code` is the error code it was refused with. */
export interface AttendanceCheckInAttemptTable {
  id: string;
  meeting_id: string | null;
  occurrence_id: string | null;
  meeting_room_id: string | null;
  user_id: string;
  user_name: string;
  code: string;
  attempted_at: Timestamp;
}

export interface AttendanceVersionTable {
  meeting_id: string;
  /** bigint: read it with Number(). */
  version: ColumnType<number | string, number, number>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

// Meeting documents (migration 0010_documents). This declaration merges into `Database` above.
export interface Database {
  document: DocumentTable;
  document_version: DocumentVersionTable;
  document_upload: DocumentUploadTable;
  document_read: DocumentReadTable;
}

export type DocumentKind = 'document' | 'report';
export type DocumentVisibility = 'in_advance' | 'meeting_only';
export type DocumentVersionStatus = 'processing' | 'ready' | 'rejected';
export type DocumentConversion = 'not_needed' | 'converted' | 'failed';

export interface DocumentTable {
  id: string;
  meeting_id: string;
  occurrence_id: string | null;
  /** Index of the agenda item in `meeting.agenda`, or null for the whole meeting. */
  agenda_index: number | null;
  title: string;
  /** `title` folded by foldForSearch. */
  title_search: string;
  kind: DocumentKind;
  visibility: DocumentVisibility;
  /** User id or API key id of the first uploader. */
  created_by: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
}

export interface DocumentVersionTable {
  id: string;
  document_id: string;
  meeting_id: string;
  version: number;
  file_name: string;
  /** The MIME type the file name's extension claims. */
  claimed_type: string;
  /** bigint: a number from the pg driver, possibly a string under PGlite, so read it with Number(). */
  size_bytes: ColumnType<number | string, number, never>;
  object_key: string;
  note: string | null;
  uploaded_by: string;
  uploaded_at: ColumnType<Date, Date | string | undefined, never>;
  status: DocumentVersionStatus;
  sha256: ColumnType<string | null, string | null | undefined, string | null>;
  detected_type: ColumnType<string | null, string | null | undefined, string | null>;
  page_count: ColumnType<number | null, number | null | undefined, number | null>;
  thumbnail_key: ColumnType<string | null, string | null | undefined, string | null>;
  pdf_key: ColumnType<string | null, string | null | undefined, string | null>;
  conversion: ColumnType<DocumentConversion | null, DocumentConversion | null | undefined, DocumentConversion | null>;
  conversion_error: ColumnType<string | null, string | null | undefined, string | null>;
  /** Error catalogue code of the rejection (lib/errors.ts). */
  rejected_code: ColumnType<string | null, string | null | undefined, string | null>;
  text_content: ColumnType<string | null, string | null | undefined, string | null>;
  /** `text_content` folded by foldForSearch, for search without diacritics. */
  text_search: ColumnType<string | null, string | null | undefined, string | null>;
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface DocumentUploadTable {
  id: string;
  meeting_id: string;
  /** The document this upload adds a version to; null for a new document. */
  document_id: string | null;
  occurrence_id: string | null;
  agenda_index: number | null;
  title: string;
  kind: DocumentKind;
  visibility: DocumentVisibility;
  note: string | null;
  file_name: string;
  content_type: string;
  size_bytes: ColumnType<number | string, number, never>;
  part_size: number;
  part_count: number;
  object_key: string;
  storage_upload_id: string;
  resume_key: string;
  created_by: string;
  status: 'pending' | 'confirmed';
  version_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  expires_at: Timestamp;
}

export interface DocumentReadTable {
  user_id: string;
  document_id: string;
  version: number;
  read_at: Timestamp;
}

export type DocumentRow = Selectable<DocumentTable>;
export type DocumentVersionRow = Selectable<DocumentVersionTable>;
export type DocumentUploadRow = Selectable<DocumentUploadTable>;

// Media placement and capacity (migration 0012_media_placement). This declaration merges into `Database` above.
export interface Database {
  media_server: MediaServerTable;
}

/** The last health probe of one Janus server, written by media-health. */
export interface MediaServerTable {
  id: string;
  healthy: boolean;
  rooms: ColumnType<number, number | undefined, number>;
  participants: ColumnType<number, number | undefined, number>;
  checked_at: Timestamp;
  unhealthy_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
}

// Join refusals and raised hands (migration 0014_join_refusals_hands). This declaration merges into `Database` above.
export interface Database {
  media_join_refusal: MediaJoinRefusalTable;
  hand_raise: HandRaiseTable;
}

export type JoinRefusalReason = 'meeting-full' | 'server-full';

/** Joins of one participant in one occurrence refused for one reason: a connection cap was reached. */
export interface MediaJoinRefusalTable {
  occurrence_id: string;
  participant_id: string;
  reason: JoinRefusalReason;
  meeting_id: string;
  participant_name: string;
  janus_server: string;
  /** The cap reached at the latest refusal. */
  max_connections: number;
  /** Participants connected at the latest refusal. */
  connected: number;
  attempts: ColumnType<number, number | undefined, number>;
  first_refused_at: Timestamp;
  last_refused_at: Timestamp;
}

/** The hand of one participant in one occurrence; raised while `lowered_at` is null. */
export interface HandRaiseTable {
  occurrence_id: string;
  participant_id: string;
  meeting_id: string;
  raised_at: Timestamp;
  lowered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** User id or API key id of the chair or secretary who lowered it; null when the participant did. */
  lowered_by: ColumnType<string | null, string | null | undefined, string | null>;
}
