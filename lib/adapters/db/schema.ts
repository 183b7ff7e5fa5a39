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
