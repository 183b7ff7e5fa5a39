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
  status: 'scheduled' | 'cancelled' | 'ended';
  cancel_reason: string | null;
  unit_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
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
