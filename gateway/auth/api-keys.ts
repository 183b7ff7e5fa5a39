import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../lib/adapters/db/schema.ts';
import { equalInConstantTime, newToken, sha256Hex } from './tokens.ts';

/**
 * API keys for integrations: `hop_<prefix>_<secret>`, where the prefix is 8
 * random hex characters that find the row and are shown in lists, and the
 * secret is 32 random bytes in base64url, stored only as SHA-256.
 */
const apiKeyPattern = /^hop_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** last_used_at is written at most this often per key. */
const lastUsedResolutionMs = 60_000;

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function summary(row: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
}): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}

const summaryColumns = ['id', 'name', 'prefix', 'scopes', 'created_by', 'created_at', 'last_used_at', 'revoked_at'] as const;

/** Creates a key and returns it with its full token, which is not stored and cannot be shown again. */
export async function createApiKey(
  db: Kysely<Database>,
  input: { name: string; scopes: string[]; createdBy: string },
): Promise<{ key: ApiKeySummary; token: string }> {
  // 32 bits of prefix collide rarely; the unique index catches it and a new prefix is drawn.
  for (let attempt = 0; ; attempt++) {
    const prefix = randomBytes(4).toString('hex');
    const secret = newToken();
    try {
      const row = await db
        .insertInto('api_key')
        .values({
          id: randomUUID(),
          name: input.name,
          prefix,
          secret_hash: sha256Hex(secret),
          scopes: JSON.stringify(input.scopes),
          created_by: input.createdBy,
          last_used_at: null,
          revoked_at: null,
        })
        .returning(summaryColumns)
        .executeTakeFirstOrThrow();
      return { key: summary(row), token: `hop_${prefix}_${secret}` };
    } catch (error) {
      if ((error as { code?: string }).code !== '23505' || attempt >= 4) throw error;
    }
  }
}

/** Lists all keys, newest first, revoked ones included. */
export async function listApiKeys(db: Kysely<Database>): Promise<ApiKeySummary[]> {
  const rows = await db.selectFrom('api_key').select(summaryColumns).orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(summary);
}

/** Revokes a key; revoking twice keeps the first time. Returns null when no key has this id. */
export async function revokeApiKey(db: Kysely<Database>, id: string, now: Date = new Date()): Promise<ApiKeySummary | null> {
  const row = await db
    .updateTable('api_key')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, ${now}::timestamptz)` })
    .where('id', '=', id)
    .returning(summaryColumns)
    .executeTakeFirst();
  return row ? summary(row) : null;
}

export type ApiKeyLookup = { status: 'active'; keyId: string; scopes: string[] } | { status: 'invalid' } | { status: 'revoked' };

/** Finds the key of a bearer token and refreshes its last_used_at at most once a minute. */
export async function findApiKey(db: Kysely<Database>, token: string, now: Date = new Date()): Promise<ApiKeyLookup> {
  const match = apiKeyPattern.exec(token);
  if (!match) return { status: 'invalid' };
  const [, prefix, secret] = match;

  const row = await db
    .selectFrom('api_key')
    .select(['id', 'secret_hash', 'scopes', 'last_used_at', 'revoked_at'])
    .where('prefix', '=', prefix!)
    .executeTakeFirst();
  if (!row || !equalInConstantTime(sha256Hex(secret!), row.secret_hash)) return { status: 'invalid' };
  if (row.revoked_at) return { status: 'revoked' };

  if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() >= lastUsedResolutionMs) {
    await db.updateTable('api_key').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { status: 'active', keyId: row.id, scopes: row.scopes };
}
