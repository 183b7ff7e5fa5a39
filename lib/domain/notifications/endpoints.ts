/**
 * Webhook endpoints and the webhook target allow-list: the rows, their API
 * shapes, secret generation and the target check that the admin API runs
 * before it stores a URL.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, WebhookAllowedTargetRow, WebhookEndpointRow } from '../../adapters/db/schema.ts';
import type { AllowedTarget, NotificationKind, WebhookEndpoint } from '../../contract/notifications.ts';
import { HopError } from '../../errors.ts';
import { checkWebhookTarget, systemResolver, type AllowListEntry, type Resolver, type TargetCheck } from './target-check.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** How long the secret before a rotation keeps signing requests next to the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/** Returns a new Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function toWebhookEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    eventKinds: row.event_kinds as NotificationKind[],
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    previousSecretExpiresAt: row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at).toISOString() : null,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export function toAllowedTarget(row: WebhookAllowedTargetRow): AllowedTarget {
  return {
    id: row.id,
    kind: row.kind,
    target: row.target,
    port: row.port,
    note: row.note,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export async function loadAllowList(db: Db): Promise<AllowListEntry[]> {
  return db.selectFrom('webhook_allowed_target').select(['kind', 'target', 'port']).execute();
}

export async function loadEndpoint(db: Db, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoint').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Loads an endpoint for a change, locking its row; throws WEBHOOK_ENDPOINT_NOT_FOUND. */
export async function loadEndpointForUpdate(trx: Transaction<Database>, id: string): Promise<WebhookEndpointRow> {
  const row = await trx.selectFrom('webhook_endpoint').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new HopError('WEBHOOK_ENDPOINT_NOT_FOUND', { details: { id } });
  return row;
}

/** Runs the target check on a URL against the stored allow-list and throws its error code when it fails. */
export async function assertWebhookTargetAllowed(db: Db, url: string, resolver: Resolver = systemResolver): Promise<Extract<TargetCheck, { ok: true }>> {
  const check = await checkWebhookTarget(url, await loadAllowList(db), resolver);
  if (!check.ok) throw new HopError(check.code, { details: { url, reason: check.reason } });
  return check;
}

/** The endpoint as stored in audit records: without its secrets. */
export function auditSnapshot(row: WebhookEndpointRow): Record<string, unknown> {
  return toWebhookEndpoint(row);
}
