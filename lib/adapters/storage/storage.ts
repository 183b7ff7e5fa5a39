import type { Readable } from 'node:stream';

/**
 * Object storage contract kept by the S3 implementation (MinIO in production,
 * an S3-compatible server in tests) and the local-folder implementation of the
 * embedded default. Keys are `/`-separated paths without a leading `/`.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  contentType: string | null;
  etag: string | null;
  lastModified: Date | null;
}

export interface PutOptions {
  contentType?: string;
  /** Size in bytes, required by S3 for a stream body of unknown length. */
  contentLength?: number;
}

export interface SignedUrlOptions {
  /** Seconds until the link stops working. */
  expiresIn: number;
  /** For uploads: the Content-Type the uploader must send. */
  contentType?: string;
  /** For downloads: the file name the browser saves as. */
  downloadName?: string;
}

export interface ObjectStorage {
  readonly kind: 's3' | 'local';
  ensureBucket(): Promise<void>;
  put(key: string, body: Buffer | Readable, options?: PutOptions): Promise<void>;
  /** Streams the object; throws `ObjectNotFoundError` when it does not exist. */
  get(key: string): Promise<Readable>;
  /** Returns null when the object does not exist. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<ObjectInfo[]>;
  signedDownloadUrl(key: string, options: SignedUrlOptions): Promise<string>;
  signedUploadUrl(key: string, options: SignedUrlOptions): Promise<string>;
  ping(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  readonly key: string;

  constructor(key: string) {
    super(`object ${key} not found`);
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}
