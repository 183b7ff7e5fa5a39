/**
 * The delivery queue in `notification_delivery`, as the delivery workers of
 * every gateway share it.
 *
 * A worker claims a delivery by setting status `delivering` with its own id
 * and a lease end; when the worker dies, another may claim the delivery again
 * once the lease has expired. Only the head of line of a target can be
 * claimed: the open (pending or delivering) delivery with the lowest sequence
 * number, and only while no other delivery of that target is being sent. So a
 * target's deliveries go out one at a time, in order, while other targets
 * proceed in parallel.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, NotificationDeliveryRow } from '../../adapters/db/schema.ts';
import { recordAudit } from '../audit.ts';
import { toWebhookEndpoint } from './endpoints.ts';

export interface ClaimOptions {
  workerId: string;
  now: Date;
  leaseMs: number;
  limit: number;
  /** Whether this worker can send e-mail; e-mail deliveries wait for a worker that can. */
  emailEnabled: boolean;
}

/**
 * Claims up to `limit` due head-of-line deliveries, each of another target.
 * `FOR UPDATE SKIP LOCKED` lets concurrent workers claim disjoint rows, and a
 * row that another worker claimed after this statement's snapshot is
 * re-checked under its lock, so its new status and lease exclude it.
 */
export async function claimDeliveries(db: Kysely<Database>, options: ClaimOptions): Promise<NotificationDeliveryRow[]> {
  const { workerId, now, leaseMs, limit, emailEnabled } = options;
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const result = await sql<NotificationDeliveryRow>`
    with candidate as (
      select d.id
      from notification_delivery d
      left join webhook_endpoint w on w.id = d.endpoint_id
      where d.status in ('pending', 'delivering')
        and d.next_attempt_at <= ${now}
        and (d.status = 'pending' or d.lease_expires_at <= ${now})
        and ((d.channel = 'webhook' and w.enabled) or (d.channel = 'email' and ${emailEnabled}))
        and not exists (
          select 1 from notification_delivery earlier
          where earlier.target_key = d.target_key
            and earlier.status in ('pending', 'delivering')
            and earlier.sequence < d.sequence
        )
        and not exists (
          select 1 from notification_delivery sending
          where sending.target_key = d.target_key
            and sending.status = 'delivering'
            and sending.lease_expires_at > ${now}
            and sending.id <> d.id
        )
      order by d.next_attempt_at, d.sequence
      limit ${limit}
      for update of d skip locked
    )
    update notification_delivery d
    set status = 'delivering',
        lease_owner = ${workerId},
        lease_expires_at = ${leaseUntil},
        attempt_count = d.attempt_count + 1,
        first_attempt_at = coalesce(d.first_attempt_at, ${now}),
        updated_at = ${now}
    from candidate
    where d.id = candidate.id
    returning d.*
  `.execute(db);
  return result.rows;
}

export type Completion =
  | { kind: 'delivered'; statusCode: number | null }
  | { kind: 'retry'; nextAttemptAt: Date; error: string; statusCode: number | null }
  | { kind: 'dead'; error: string; statusCode: number | null; disableEndpoint: boolean }
  /** The worker stops before it has an outcome: the delivery is due again at once, its attempt still counted. */
  | { kind: 'release' };

/**
 * Records the outcome of an attempt, if `workerId` still holds the lease.
 * Returns false when it does not (the lease expired and another worker took
 * the delivery), in which case nothing is written.
 */
export async function completeDelivery(db: Kysely<Database>, delivery: NotificationDeliveryRow, workerId: string, now: Date, completion: Completion): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const base = { lease_owner: null, lease_expires_at: null, updated_at: now };
    let update;
    switch (completion.kind) {
      case 'delivered':
        update = { ...base, status: 'delivered' as const, delivered_at: now, last_error: null, last_status_code: completion.statusCode };
        break;
      case 'retry':
        update = { ...base, status: 'pending' as const, next_attempt_at: completion.nextAttemptAt, last_error: completion.error.slice(0, 2000), last_status_code: completion.statusCode };
        break;
      case 'dead':
        update = { ...base, status: 'dead' as const, dead_at: now, last_error: completion.error.slice(0, 2000), last_status_code: completion.statusCode };
        break;
      case 'release':
        update = { ...base, status: 'pending' as const, next_attempt_at: now };
        break;
    }
    const updated = await trx
      .updateTable('notification_delivery')
      .set(update)
      .where('id', '=', delivery.id)
      .where('status', '=', 'delivering')
      .where('lease_owner', '=', workerId)
      .returning('id')
      .executeTakeFirst();
    if (!updated) return false;

    if (completion.kind === 'dead' && completion.disableEndpoint && delivery.endpoint_id) {
      const before = await trx.selectFrom('webhook_endpoint').selectAll().where('id', '=', delivery.endpoint_id).forUpdate().executeTakeFirst();
      if (before?.enabled) {
        const after = await trx
          .updateTable('webhook_endpoint')
          .set({ enabled: false, disabled_reason: completion.error.slice(0, 500), updated_at: now })
          .where('id', '=', before.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, {
          actor: { kind: 'system', id: 'notification-delivery-worker' },
          action: 'webhook-endpoint.disabled',
          entityType: 'webhook-endpoint',
          entityId: before.id,
          before: toWebhookEndpoint(before),
          after: toWebhookEndpoint(after),
          at: now,
        });
      }
    }
    return true;
  });
}
