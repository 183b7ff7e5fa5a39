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

  /**
   * Starts a multipart upload of `key` and returns its upload id. Browsers
   * then PUT each part to a `signedUploadPartUrl`, and the server completes
   * the upload; the object does not exist before that.
   */
  createMultipartUpload(key: string, options?: { contentType?: string }): Promise<string>;
  /** Presigns a PUT of one part (numbers 1 to 10000) of a multipart upload. */
  signedUploadPartUrl(key: string, uploadId: string, partNumber: number, options: { expiresIn: number }): Promise<string>;
  /** Lists the parts received so far, by part number; throws `UploadNotFoundError` for an unknown, completed or aborted upload. */
  listUploadedParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  /**
   * Joins the listed parts, in part-number order, into the object. Every part
   * but the last must be at least `MIN_PART_BYTES`. Throws `UploadNotFoundError`
   * for an unknown upload.
   */
  completeMultipartUpload(key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<void>;
  /** Discards an upload and its parts; aborting an unknown upload is not an error. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

/** One received part of a multipart upload. */
export interface UploadedPart {
  partNumber: number;
  size: number;
  /** Without quotes. */
  etag: string;
}

export type CompletedPart = Pick<UploadedPart, 'partNumber' | 'etag'>;

/** S3's smallest part, except the last one of an upload. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's largest part number. */
export const MAX_PART_NUMBER = 10_000;

export class UploadNotFoundError extends Error {
  readonly uploadId: string;

  constructor(uploadId: string) {
    super(`multipart upload ${uploadId} not found`);
    this.name = 'UploadNotFoundError';
    this.uploadId = uploadId;
  }
}

export class ObjectNotFoundError extends Error {
  readonly key: string;

  constructor(key: string) {
    super(`object ${key} not found`);
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}
