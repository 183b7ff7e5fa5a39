import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Hono } from 'hono';
import { createStorage } from '../lib/adapters/storage/create-storage.ts';
import { handleLocalStorageRequest, LocalStorage } from '../lib/adapters/storage/local-storage.ts';
import type { ObjectStorage } from '../lib/adapters/storage/storage.ts';
import type { GatewayConfig } from './config.ts';

/**
 * Reads the signing secret of local storage links from HOP_LOCAL_STORAGE_SECRET,
 * or from `HOP_DATA_DIR/storage-signing.key`, creating that file (mode 0600) on
 * first start so links stay valid across restarts.
 */
async function localSigningSecret(config: GatewayConfig): Promise<string> {
  return readOrCreateSecret(config, 'storage-signing.key', config.env.HOP_LOCAL_STORAGE_SECRET);
}

/**
 * Returns `configured` when set, else the secret kept in `HOP_DATA_DIR/<fileName>`,
 * creating the file (mode 0600) with 32 random bytes on first use.
 */
export async function readOrCreateSecret(config: GatewayConfig, fileName: string, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const file = path.join(config.dataDir, fileName);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** Opens S3 (S3_ENDPOINT set) or local storage in HOP_DATA_DIR/objects, and makes sure the bucket exists. */
export async function openStorage(config: GatewayConfig, publicBaseUrl: string): Promise<ObjectStorage> {
  const { env } = config;
  const storage = env.S3_ENDPOINT
    ? createStorage({
        kind: 's3',
        endpoint: env.S3_ENDPOINT,
        region: env.S3_REGION,
        bucket: env.S3_BUCKET,
        accessKeyId: env.S3_ACCESS_KEY_ID!,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
        forcePathStyle: true,
        publicEndpoint: process.env.S3_PUBLIC_ENDPOINT || undefined,
      })
    : createStorage({
        kind: 'local',
        rootDir: path.join(config.dataDir, 'objects'),
        publicBaseUrl,
        signingSecret: await localSigningSecret(config),
      });
  await storage.ensureBucket();
  return storage;
}

/** Serves signed `/storage/…` links of local storage; S3 links go to the object store itself. */
export function mountLocalStorage(app: Hono, storage: ObjectStorage): void {
  if (!(storage instanceof LocalStorage)) return;
  app.on(['GET', 'HEAD', 'PUT'], '/storage/*', async (c) => {
    const { incoming, outgoing } = c.env as HttpBindings;
    await handleLocalStorageRequest(storage, incoming, outgoing);
    return RESPONSE_ALREADY_SENT;
  });
}
