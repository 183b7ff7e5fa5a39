import path from 'node:path';
import { LocalStorage, type LocalStorageOptions } from './local-storage.ts';
import { S3Storage, type S3StorageOptions } from './s3-storage.ts';
import type { ObjectStorage } from './storage.ts';

export type StorageConfig = ({ kind: 's3' } & S3StorageOptions) | ({ kind: 'local' } & LocalStorageOptions);

/** Creates the S3 storage or the local-folder storage the config names. */
export function createStorage(config: StorageConfig): ObjectStorage {
  if (config.kind === 's3') {
    const { kind: _kind, ...options } = config;
    return new S3Storage(options);
  }
  const { kind: _kind, ...options } = config;
  return new LocalStorage(options);
}

/**
 * Reads the storage settings from environment variables, with the names the
 * gateway uses. S3_ENDPOINT selects S3 and then needs S3_ACCESS_KEY_ID and
 * S3_SECRET_ACCESS_KEY (S3_REGION defaults to us-east-1, S3_BUCKET to hop,
 * S3_PUBLIC_ENDPOINT to S3_ENDPOINT). Without it the objects go to
 * `HOP_DATA_DIR/objects` (HOP_DATA_DIR defaults to .hop-data), with links under
 * PUBLIC_BASE_URL signed with HOP_LOCAL_STORAGE_SECRET; both are required then.
 * Throws an Error naming each missing variable.
 */
export function storageConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  if (env.S3_ENDPOINT) {
    const missing = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((name) => !env[name]);
    if (missing.length > 0) throw new Error(`S3_ENDPOINT is set, so ${missing.join(' and ')} must be set too`);
    return {
      kind: 's3',
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION || 'us-east-1',
      bucket: env.S3_BUCKET || 'hop',
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: true,
      publicEndpoint: env.S3_PUBLIC_ENDPOINT || undefined,
    };
  }

  const missing = ['PUBLIC_BASE_URL', 'HOP_LOCAL_STORAGE_SECRET'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`local object storage needs ${missing.join(' and ')}. Set them, or set S3_ENDPOINT to use S3`);
  }
  return {
    kind: 'local',
    rootDir: path.resolve(env.HOP_DATA_DIR || '.hop-data', 'objects'),
    publicBaseUrl: env.PUBLIC_BASE_URL!,
    signingSecret: env.HOP_LOCAL_STORAGE_SECRET!,
  };
}
