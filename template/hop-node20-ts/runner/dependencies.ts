import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openDatabase } from '../../../lib/adapters/db/database.ts';
import { createStorage, storageConfigFromEnv } from '../../../lib/adapters/storage/create-storage.ts';
import { S3Storage } from '../../../lib/adapters/storage/s3-storage.ts';
import type { ObjectStorage } from '../../../lib/adapters/storage/storage.ts';
import { parseJanusEndpoints } from '../../../lib/adapters/media/endpoints.ts';
import { createJanodeCluster } from '../../../lib/adapters/media/janode-media.ts';
import type { MediaCluster } from '../../../lib/adapters/media/media.ts';
import type { Logger } from '../../../lib/log.ts';
import type { Dependencies } from '../../../lib/runtime/dependencies.ts';

/** Folder in which OpenFaaS mounts the secrets listed under a function's `secrets:` in stack.yml. */
export const DEFAULT_SECRETS_DIR = '/var/openfaas/secrets';

export interface BuiltDependencies {
  deps: Dependencies;
  /** Closes the database pool and the storage client. */
  close(): Promise<void>;
}

/**
 * Builds the adapters a function pod's handler receives, once per process.
 * The runner calls it at start-up. Extend it when handlers need more.
 *
 * - Database: DATABASE_URL, or the OpenFaaS secret `hop-database-url`
 *   (pool size DATABASE_POOL_SIZE, default 10). Required.
 * - Storage: S3 when S3_ENDPOINT is set (see storageConfigFromEnv); the keys
 *   may also come from the secrets `hop-s3-access-key-id` and
 *   `hop-s3-secret-access-key`. Null otherwise, because the local-folder
 *   storage belongs to the gateway process.
 * - Media: the Janus servers of JANUS_URL, with
 *   the API secret and VideoRoom admin key from JANUS_API_SECRET and
 *   JANUS_ADMIN_KEY or the secrets `hop-janus-api-secret` and
 *   `hop-janus-admin-key`. Null without JANUS_URL.
 */
export async function buildDependencies(env: NodeJS.ProcessEnv, log: Logger): Promise<BuiltDependencies> {
  const secretsDir = env.HOP_SECRETS_DIR || DEFAULT_SECRETS_DIR;

  const databaseUrl = env.DATABASE_URL || (await readSecret(secretsDir, 'hop-database-url'));
  if (!databaseUrl) {
    throw new Error(`DATABASE_URL is not set and the secret ${path.join(secretsDir, 'hop-database-url')} does not exist`);
  }
  const poolSize = env.DATABASE_POOL_SIZE ? Number(env.DATABASE_POOL_SIZE) : undefined;
  if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1)) {
    throw new Error(`DATABASE_POOL_SIZE must be a positive whole number, got ${env.DATABASE_POOL_SIZE}`);
  }
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize });

  let storage: ObjectStorage | null = null;
  if (env.S3_ENDPOINT) {
    const storageEnv = {
      ...env,
      S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID || (await readSecret(secretsDir, 'hop-s3-access-key-id')),
      S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY || (await readSecret(secretsDir, 'hop-s3-secret-access-key')),
    };
    try {
      storage = createStorage(storageConfigFromEnv(storageEnv));
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  let media: MediaCluster | null = null;
  if (env.JANUS_URL) {
    const apiSecret = env.JANUS_API_SECRET || (await readSecret(secretsDir, 'hop-janus-api-secret'));
    const adminKey = env.JANUS_ADMIN_KEY || (await readSecret(secretsDir, 'hop-janus-admin-key'));
    media = createJanodeCluster({
      servers: parseJanusEndpoints(env.JANUS_URL).map((endpoint) => ({ ...endpoint, apiSecret, adminKey })),
    });
  }

  let joinTokenSecret = env.HOP_JOIN_TOKEN_SECRET || (await readSecret(secretsDir, 'hop-join-token-secret'));
  if (!joinTokenSecret) {
    // Tokens still work in Janus, but other processes cannot read them, so expired ones are not pruned.
    log.warn('HOP_JOIN_TOKEN_SECRET and the secret hop-join-token-secret are missing; using a random key for this process');
    joinTokenSecret = randomBytes(32).toString('base64url');
  }

  log.info({ database: 'postgres', storage: storage?.kind ?? 'none', media: media ? media.servers().map((server) => server.id) : 'none' }, 'dependencies ready');
  return {
    // notification-fanout writes e-mail deliveries only when the gateways can send them (HOP_SMTP_URL there).
    deps: { db: database.db, media, storage, log, now: () => new Date(), joinTokenSecret, publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''), emailEnabled: env.HOP_EMAIL_ENABLED === 'true', minNoticeWorkingDays: noticeSetting(env.HOP_MIN_NOTICE_WORKING_DAYS), documentMaxBytes: env.HOP_DOCUMENT_MAX_BYTES ? Number(env.HOP_DOCUMENT_MAX_BYTES) : undefined },
    close: async () => {
      if (storage instanceof S3Storage) storage.close();
      await media?.close();
      await database.close();
    },
  };
}

/** Returns the trimmed content of an OpenFaaS secret file, or undefined when the file does not exist. */
export async function readSecret(secretsDir: string, name: string): Promise<string | undefined> {
  try {
    const value = (await readFile(path.join(secretsDir, name), 'utf8')).trim();
    return value === '' ? undefined : value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads HOP_MIN_NOTICE_WORKING_DAYS (0 to 30); unset or invalid means the default of lib/domain/working-days.ts. */
function noticeSetting(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 0 || days > 30) throw new Error(`HOP_MIN_NOTICE_WORKING_DAYS must be an integer from 0 to 30, got "${value}"`);
  return days;
}
