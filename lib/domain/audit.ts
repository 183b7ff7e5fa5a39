/**
 * The append-only audit log: every change an admin, organiser, API key, cron
 * job or the e-office system makes to meetings, the directory or API keys
 * leaves one `audit_record` row and one `vn.hop.audit.recorded.v1` event, both
 * in the caller's transaction. This module only inserts and reads; the table's
 * trigger rejects UPDATE, DELETE and TRUNCATE.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { eventSource, newEvent } from '../contract/events.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import type { AuditActorKind, AuditRecordRow, Database } from '../adapters/db/schema.ts';
import type { Principal } from './policy.ts';

type Db = Kysely<Database> | Transaction<Database>;

export const auditActions = [
  'meeting.created',
  'meeting.cancelled',
  'meeting.ended',
  'meeting.updated',
  'meeting.postponed',
  'meeting.scheduled',
  'meeting.started',
  'meeting.occurrence-moved',
  'meeting.occurrence-cancelled',
  'meeting.reminders-updated',
  'meeting-room.created',
  'meeting-room.updated',
  'meeting-room.disabled',
  'calendar-feed.rotated',
  'unit.created',
  'unit.updated',
  'unit.disabled',
  'unit.reminders-updated',
  'user.created',
  'user.updated',
  'user.disabled',
  'user.account-set',
  'api-key.created',
  'api-key.revoked',
  'webhook-endpoint.created',
  'webhook-endpoint.updated',
  'webhook-endpoint.disabled',
  'webhook-endpoint.secret-rotated',
  'webhook-allowed-target.created',
  'webhook-allowed-target.deleted',
  'notification-delivery.replayed',
  'holiday.created',
  'holiday.updated',
  'holiday.deleted',
  'document.uploaded',
  'document.downloaded',
  'attendance.marked',
  'attendance.checked-in',
  'attendance.report-downloaded',
  'meeting.media-updated',
  'hand.lowered',
] as const;
export type AuditAction = (typeof auditActions)[number];

export const auditEntityTypes = ['meeting', 'document', 'meeting-room', 'calendar-feed', 'unit', 'user', 'api-key', 'holiday', 'webhook-endpoint', 'webhook-allowed-target', 'notification-delivery', 'attendance', 'attendance-report', 'hand-raise'] as const;
export type AuditEntityType = (typeof auditEntityTypes)[number];

export const auditActorKinds = ['user', 'api-key', 'system', 'e-office'] as const satisfies readonly AuditActorKind[];

/** The author of a change: a person, an API key, a hop function acting alone (system) or the e-office system. */
export interface AuditActor {
  kind: AuditActorKind;
  /** User id, API key id, function name (system) or CloudEvents source (e-office). */
  id: string;
}

export interface AuditInput {
  /** The caller as the gateway authenticated them; give `actor` instead for cron jobs and events. */
  principal?: Principal;
  actor?: AuditActor;
  action: AuditAction;
  entityType: AuditEntityType;
  entityId: string;
  /** The entity before the change, or null when it was created. Secrets are removed by `redactSecrets`. */
  before: object | null;
  /** The entity after the change. Secrets are removed by `redactSecrets`. */
  after: object | null;
  ip?: string | null;
  requestId?: string | null;
  /** Time of the change; the database's `now()` when omitted. */
  at?: Date;
}

/** One audit record as the API returns it. */
export interface AuditRecord {
  id: string;
  at: string;
  actor: AuditActor;
  action: string;
  entityType: string;
  entityId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  ip: string | null;
  requestId: string | null;
}

/** The CloudEvents source of audit events: the table, not the function that made the change. */
const auditEventSource = eventSource('audit');

/**
 * Keys whose values never enter the audit log, compared after removing `_`
 * and `-` and lower-casing. They cover invitation keys, passwords, API key
 * secrets (each with its hash), session and CSRF tokens, and the video room's
 * secret and PIN.
 */
const secretKeys = new Set([
  'invitekey',
  'invitekeyhash',
  'password',
  'passwordhash',
  'secret',
  'secrethash',
  'token',
  'csrftoken',
  'pin',
  'roomsecret',
  'roompin',
]);

function isSecretKey(key: string): boolean {
  return secretKeys.has(key.replace(/[_-]/g, '').toLowerCase());
}

/**
 * Returns a JSON copy of `value` without the properties named in `secretKeys`,
 * at any depth. Callers still build snapshots without secrets; this is the
 * safety net for a field added later.
 */
export function redactSecrets(value: object): Record<string, unknown> {
  const json: unknown = JSON.parse(JSON.stringify(value));
  return strip(json) as Record<string, unknown>;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!isSecretKey(key)) kept[key] = strip(item);
  }
  return kept;
}

/** Maps an authenticated principal to the actor stored in the log. An anonymous caller changes nothing, so it throws. */
export function actorOf(principal: Principal): AuditActor {
  if (principal.kind === 'user') return { kind: 'user', id: principal.userId };
  if (principal.kind === 'api-key') return { kind: 'api-key', id: principal.keyId };
  throw new Error('an anonymous caller cannot be recorded as the actor of a change');
}

/**
 * Reads the client IP and request id from the headers the gateway passes to a
 * function. The IP is the last `X-Forwarded-For` entry, the one the reverse
 * proxy appended; the request id is `X-Request-Id`.
 */
export function requestMetadata(headers: Record<string, string | undefined>): { ip: string | null; requestId: string | null } {
  // NOTE: the gateway does not forward the TCP peer address or the request id it generates itself,
  // so both are null unless a proxy or the client sent the header. Without a reverse proxy that
  // appends X-Forwarded-For in front of the gateway, a client can forge it.
  const forwarded = headers['x-forwarded-for']?.split(',').at(-1)?.trim();
  const requestId = headers['x-request-id']?.trim();
  return { ip: forwarded ? forwarded.slice(0, 100) : null, requestId: requestId ? requestId.slice(0, 200) : null };
}

/**
 * Inserts one audit record and its `vn.hop.audit.recorded.v1` event (topic
 * `hop.audit.v1`, keyed by the entity id) in the caller's transaction, so the
 * record commits or rolls back with the change it describes. Secrets are
 * removed from `before` and `after` first.
 */
export async function recordAudit(trx: Transaction<Database>, input: AuditInput): Promise<AuditRecord> {
  const actor = input.actor ?? (input.principal ? actorOf(input.principal) : undefined);
  if (!actor) throw new Error(`audit record for ${input.action} ${input.entityId} has neither principal nor actor`);

  const before = input.before === null ? null : redactSecrets(input.before);
  const after = input.after === null ? null : redactSecrets(input.after);
  const row = await trx
    .insertInto('audit_record')
    .values({
      ...(input.at ? { at: input.at } : {}),
      actor_kind: actor.kind,
      actor_id: actor.id,
      action: input.action,
      entity_type: input.entityType,
      entity_id: input.entityId,
      before: before === null ? null : JSON.stringify(before),
      after: after === null ? null : JSON.stringify(after),
      ip: input.ip ?? null,
      request_id: input.requestId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const record = toAuditRecord(row);

  const event = newEvent(
    'vn.hop.audit.recorded.v1',
    {
      auditId: record.id,
      at: record.at,
      actor: record.actor,
      action: record.action,
      entityType: record.entityType,
      entityId: record.entityId,
      before: record.before,
      after: record.after,
      ip: record.ip,
      requestId: record.requestId,
    },
    { source: auditEventSource, subject: record.entityId, time: new Date(record.at) },
  );
  await appendToOutbox(trx, event, record.entityId);
  return record;
}

export function toAuditRecord(row: AuditRecordRow): AuditRecord {
  return {
    id: String(row.id),
    at: new Date(row.at).toISOString(),
    actor: { kind: row.actor_kind, id: row.actor_id },
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    before: row.before,
    after: row.after,
    ip: row.ip,
    requestId: row.request_id,
  };
}

export interface AuditQuery {
  /** Inclusive lower bound of `at`. */
  from?: Date | undefined;
  /** Exclusive upper bound of `at`. */
  to?: Date | undefined;
  actorKind?: AuditActorKind | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  /** Only records with an id below this one: the `nextCursor` of the previous page. */
  beforeId?: string | undefined;
  limit: number;
}

/**
 * Lists audit records newest first (by id, which follows commit order closely
 * but not exactly across concurrent transactions). Returns one page and the
 * cursor of the next, or null when this page is the last.
 */
export async function listAuditRecords(db: Db, query: AuditQuery): Promise<{ records: AuditRecord[]; nextCursor: string | null }> {
  let select = db
    .selectFrom('audit_record')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(query.limit + 1);
  if (query.from) select = select.where('at', '>=', query.from);
  if (query.to) select = select.where('at', '<', query.to);
  if (query.actorKind) select = select.where('actor_kind', '=', query.actorKind);
  if (query.actorId) select = select.where('actor_id', '=', query.actorId);
  if (query.action) select = select.where('action', '=', query.action);
  if (query.entityType) select = select.where('entity_type', '=', query.entityType);
  if (query.entityId) select = select.where('entity_id', '=', query.entityId);
  if (query.beforeId) select = select.where('id', '<', sql<string>`${query.beforeId}::bigint`);

  const rows = await select.execute();
  const page = rows.slice(0, query.limit).map(toAuditRecord);
  const nextCursor = rows.length > query.limit ? page.at(-1)!.id : null;
  return { records: page, nextCursor };
}
