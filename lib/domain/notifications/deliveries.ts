/**
 * Notification deliveries: the fan-out of one `vn.hop.notification.requested.v1`
 * event into one row per target, the admin list (the dead-letter list when
 * filtered by status `dead`) and replay of dead deliveries.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, NotificationDeliveryRow } from '../../adapters/db/schema.ts';
import type { CloudEvent } from '../../contract/cloudevent.ts';
import type { NotificationDelivery, NotificationKind, NotificationRequested, WebhookPayload } from '../../contract/notifications.ts';
import { HopError } from '../../errors.ts';

type Db = Kysely<Database> | Transaction<Database>;

export function webhookTargetKey(endpointId: string): string {
  return `webhook:${endpointId}`;
}

export function emailTargetKey(address: string): string {
  return `email:${address.toLowerCase()}`;
}

/** Builds the webhook body (and the stored payload of every delivery) of a notification event. */
export function webhookPayloadOf(event: CloudEvent<NotificationRequested>): WebhookPayload {
  return { type: `notification.${event.data.kind}`, timestamp: event.time, data: event.data };
}

interface FanOutTarget {
  key: string;
  channel: 'webhook' | 'email';
  endpointId: string | null;
  emailAddress: string | null;
}

export interface FanOutResult {
  /** Delivery ids created by this call; a target that already had a delivery of the notification adds none. */
  created: string[];
  webhooks: number;
  emails: number;
}

/**
 * Writes one pending delivery per enabled webhook endpoint whose kind filter
 * matches, and one e-mail delivery when `emailEnabled` and the recipient has
 * an address, in the caller's transaction. A reminder for a participant who
 * has been removed from the meeting since it was rendered gets no delivery.
 *
 * Each target's sequence number comes from `notification_target`, incremented
 * under its row lock, so concurrent fan-outs to one endpoint get sequence
 * numbers in commit order. Targets are locked in key order so that two
 * fan-outs never wait on each other in a cycle.
 */
export async function fanOutNotification(
  trx: Transaction<Database>,
  event: CloudEvent<NotificationRequested>,
  options: FanOutOptions,
): Promise<FanOutResult> {
  const { data } = event;
  if (data.kind === 'reminder' && data.recipient.participantId !== null) {
    // FOR KEY SHARE waits for a removal that is deleting the participant, so the reminder is
    // either dropped here or written before that removal deletes pending reminder deliveries.
    const participant = await trx
      .selectFrom('participant')
      .select('id')
      .where('id', '=', data.recipient.participantId)
      .forKeyShare()
      .executeTakeFirst();
    if (!participant) return { created: [], webhooks: 0, emails: 0 };
  }
  const endpoints = options.endpoints ?? (await enabledEndpoints(trx));
  const targets = targetsOf(data, endpoints, options.emailEnabled);

  const payload = JSON.stringify(webhookPayloadOf(event));
  const result: FanOutResult = { created: [], webhooks: 0, emails: 0 };
  for (const target of targets) {
    const existing = await trx
      .selectFrom('notification_delivery')
      .select('id')
      .where('notification_id', '=', data.notificationId)
      .where('target_key', '=', target.key)
      .executeTakeFirst();
    if (existing) continue;

    const counter = await trx
      .insertInto('notification_target')
      .values({ key: target.key, next_sequence: 1 })
      .onConflict((oc) => oc.column('key').doUpdateSet({ next_sequence: sql`notification_target.next_sequence + 1` }))
      .returning('next_sequence')
      .executeTakeFirstOrThrow();

    const id = randomUUID();
    const inserted = await trx
      .insertInto('notification_delivery')
      .values({
        id,
        notification_id: data.notificationId,
        event_id: event.id,
        meeting_id: data.meetingId,
        kind: data.kind,
        channel: target.channel,
        endpoint_id: target.endpointId,
        email_address: target.emailAddress,
        target_key: target.key,
        sequence: Number(counter.next_sequence),
        payload,
        next_attempt_at: options.now,
        created_at: options.now,
        updated_at: options.now,
      })
      .onConflict((oc) => oc.columns(['notification_id', 'target_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) continue;
    result.created.push(id);
    if (target.channel === 'webhook') result.webhooks++;
    else result.emails++;
  }
  return result;
}

export interface FanOutOptions {
  emailEnabled: boolean;
  now: Date;
  /** The enabled webhook endpoints, when the caller already read them in this transaction. */
  endpoints?: readonly EnabledEndpoint[];
}

type EnabledEndpoint = { id: string; event_kinds: string[] };

function enabledEndpoints(trx: Transaction<Database>): Promise<EnabledEndpoint[]> {
  return trx.selectFrom('webhook_endpoint').select(['id', 'event_kinds']).where('enabled', '=', true).execute();
}

/** Lists the targets of one notification in key order, the order their counters are locked in. */
function targetsOf(data: NotificationRequested, endpoints: readonly EnabledEndpoint[], emailEnabled: boolean): FanOutTarget[] {
  const targets: FanOutTarget[] = endpoints
    .filter((endpoint) => endpoint.event_kinds.length === 0 || endpoint.event_kinds.includes(data.kind))
    .map((endpoint) => ({ key: webhookTargetKey(endpoint.id), channel: 'webhook', endpointId: endpoint.id, emailAddress: null }));
  if (emailEnabled && data.recipient.email) {
    targets.push({ key: emailTargetKey(data.recipient.email), channel: 'email', endpointId: null, emailAddress: data.recipient.email });
  }
  return targets.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Fans out several notifications in the caller's transaction, in order, and
 * returns one result per event. The endpoints are read once, and the counter
 * rows of every target in the batch are locked first, in key order. Two
 * batches that share targets then wait for each other instead of deadlocking,
 * as they could when each event locked its own targets.
 */
export async function fanOutNotifications(
  trx: Transaction<Database>,
  events: readonly CloudEvent<NotificationRequested>[],
  options: Omit<FanOutOptions, 'endpoints'>,
): Promise<FanOutResult[]> {
  if (events.length === 0) return [];
  const endpoints = await enabledEndpoints(trx);
  const keys = [...new Set(events.flatMap((event) => targetsOf(event.data, endpoints, options.emailEnabled).map((target) => target.key)))].sort();
  if (keys.length > 0) {
    await trx
      .insertInto('notification_target')
      .values(keys.map((key) => ({ key, next_sequence: 0 })))
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    await trx.selectFrom('notification_target').select('key').where('key', 'in', keys).orderBy('key').forUpdate().execute();
  }
  const results: FanOutResult[] = [];
  for (const event of events) results.push(await fanOutNotification(trx, event, { ...options, endpoints }));
  return results;
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

export function toNotificationDelivery(row: NotificationDeliveryRow): NotificationDelivery {
  return {
    id: row.id,
    notificationId: row.notification_id,
    meetingId: row.meeting_id,
    kind: row.kind as NotificationKind,
    channel: row.channel,
    endpointId: row.endpoint_id,
    emailAddress: row.email_address,
    sequence: Number(row.sequence),
    status: row.status,
    attemptCount: row.attempt_count,
    firstAttemptAt: iso(row.first_attempt_at),
    nextAttemptAt: iso(row.next_attempt_at)!,
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    deliveredAt: iso(row.delivered_at),
    deadAt: iso(row.dead_at),
    createdAt: iso(row.created_at)!,
  };
}

export interface DeliveryQuery {
  status?: NotificationDelivery['status'] | undefined;
  channel?: NotificationDelivery['channel'] | undefined;
  endpointId?: string | undefined;
  notificationId?: string | undefined;
  meetingId?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

function encodeCursor(row: NotificationDeliveryRow): string {
  return Buffer.from(JSON.stringify([new Date(row.created_at).toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new HopError('VALIDATION_FAILED', { details: [{ path: 'cursor', message: 'cursor is not a nextCursor value of this list' }] });
  }
}

/** Lists deliveries newest first, one page at a time; `nextCursor` is null on the last page. */
export async function listDeliveries(db: Db, query: DeliveryQuery): Promise<{ deliveries: NotificationDelivery[]; nextCursor: string | null }> {
  let select = db
    .selectFrom('notification_delivery')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1);
  if (query.status) select = select.where('status', '=', query.status);
  if (query.channel) select = select.where('channel', '=', query.channel);
  if (query.endpointId) select = select.where('endpoint_id', '=', query.endpointId);
  if (query.notificationId) select = select.where('notification_id', '=', query.notificationId);
  if (query.meetingId) select = select.where('meeting_id', '=', query.meetingId);
  if (query.cursor) {
    const { createdAt, id } = decodeCursor(query.cursor);
    select = select.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
  }
  const rows = await select.execute();
  const page = rows.slice(0, query.limit);
  return { deliveries: page.map(toNotificationDelivery), nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
}

/**
 * Puts a dead delivery back in its target's queue with its attempt count and
 * 24-hour window reset. It keeps its sequence number, so it goes out before
 * every later pending delivery of the same target.
 */
export async function replayDelivery(trx: Transaction<Database>, id: string, now: Date): Promise<{ before: NotificationDeliveryRow; after: NotificationDeliveryRow }> {
  const before = await trx.selectFrom('notification_delivery').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!before) throw new HopError('NOTIFICATION_DELIVERY_NOT_FOUND', { details: { id } });
  if (before.status !== 'dead') throw new HopError('NOTIFICATION_DELIVERY_NOT_DEAD', { details: { id, status: before.status } });
  const after = await trx
    .updateTable('notification_delivery')
    .set(replayedColumns(now))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { before, after };
}

/** Replays every dead delivery of a webhook endpoint; returns their ids in sequence order. */
export async function replayDeadDeliveriesOfEndpoint(trx: Transaction<Database>, endpointId: string, now: Date): Promise<string[]> {
  const rows = await trx
    .updateTable('notification_delivery')
    .set(replayedColumns(now))
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'dead')
    .returning(['id', 'sequence'])
    .execute();
  return rows.sort((a, b) => Number(a.sequence) - Number(b.sequence)).map((row) => row.id);
}

function replayedColumns(now: Date) {
  return {
    status: 'pending' as const,
    attempt_count: 0,
    first_attempt_at: null,
    next_attempt_at: now,
    lease_owner: null,
    lease_expires_at: null,
    dead_at: null,
    updated_at: now,
  };
}

/**
 * Deletes the reminder deliveries not yet attempted for participants removed
 * from a meeting, in the transaction that removes them, and returns how many.
 * Deliveries already being sent (`delivering`) finish as they are.
 */
export async function dropPendingReminderDeliveries(trx: Transaction<Database>, meetingId: string, participantIds: readonly string[]): Promise<number> {
  if (participantIds.length === 0) return 0;
  const dropped = await trx
    .deleteFrom('notification_delivery')
    .where('meeting_id', '=', meetingId)
    .where('kind', '=', 'reminder')
    .where('status', '=', 'pending')
    .where(sql<string>`payload->'data'->'recipient'->>'participantId'`, 'in', [...participantIds])
    .executeTakeFirst();
  return Number(dropped.numDeletedRows);
}
