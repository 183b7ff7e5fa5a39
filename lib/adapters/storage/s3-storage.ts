import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { log as rootLog } from '../../log.ts';
import { contentDisposition, normalizeObjectKey, normalizeObjectPrefix, validateExpiresIn, validatePartNumber } from './local-storage.ts';
import {
  ObjectNotFoundError,
  UploadNotFoundError,
  type CompletedPart,
  type ObjectInfo,
  type ObjectStorage,
  type PutOptions,
  type SignedUrlOptions,
  type UploadedPart,
} from './storage.ts';

const log = rootLog.child({ module: 'storage' });

export interface S3StorageOptions {
  /** S3 API URL the server reaches, e.g. `http://minio:9000`. */
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and S3Proxy need. Defaults to true. */
  forcePathStyle?: boolean;
  /** S3 API URL browsers reach, used in signed URLs. Defaults to `endpoint`. */
  publicEndpoint?: string;
  /** Maximum time to open a TCP connection, in ms. Defaults to 5000. */
  connectionTimeoutMs?: number;
  /** Maximum time a request's socket may stay idle, in ms. Defaults to 30000. */
  requestTimeoutMs?: number;
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * Part size and parallel parts of a multipart upload. lib-storage buffers up
 * to partSize × queueSize bytes (16 MiB here) of a stream.
 */
const MULTIPART_PART_BYTES = 8 * 1024 ** 2;
const MULTIPART_QUEUE_SIZE = 2;

/**
 * Object storage on an S3-compatible server (MinIO in production, S3Proxy in
 * tests) through the AWS SDK v3. Keys are normalized with normalizeObjectKey,
 * like the local storage's, and ETags are returned without their quotes.
 */
export class S3Storage implements ObjectStorage {
  readonly kind = 's3' as const;
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly presignClient: S3Client;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    const base: S3ClientConfig = {
      region: options.region,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      forcePathStyle: options.forcePathStyle ?? true,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
        requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      },
    };
    this.client = new S3Client({ ...base, endpoint: options.endpoint });
    // With the default WHEN_SUPPORTED, SDK releases from 3.729 sign the CRC32 of
    // an empty body into presigned PutObject URLs (x-amz-checksum-crc32=AAAAAA==),
    // and S3 and MinIO then reject the real upload. WHEN_REQUIRED leaves checksums
    // out of signed URLs. A browser download cannot check one anyway.
    this.presignClient = new S3Client({
      ...base,
      endpoint: options.publicEndpoint ?? options.endpoint,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      log.info({ bucket: this.bucket }, 'bucket created');
    } catch (error) {
      // Another process created it between HeadBucket and CreateBucket.
      if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }

  /**
   * Uploads a Buffer with one PutObject, and a stream through lib-storage's
   * Upload, which sends buffered parts (a single PutObject when the stream is
   * smaller than one part). A buffered request can be retried by the SDK when
   * the connection drops, which a streaming PutObject cannot, because its body
   * is already consumed: S3Proxy closing a kept-alive connection made such a
   * PUT fail with EPIPE in a test run.
   */
  async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<void> {
    const normalized = normalizeObjectKey(key);
    // The local storage's default too. Without it, S3Proxy stores binary/octet-stream.
    const params = { Bucket: this.bucket, Key: normalized, ContentType: options.contentType ?? DEFAULT_CONTENT_TYPE };

    if (Buffer.isBuffer(body)) {
      await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }));
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: body },
      partSize: MULTIPART_PART_BYTES,
      queueSize: MULTIPART_QUEUE_SIZE,
    });
    await upload.done();
  }

  async get(key: string): Promise<Readable> {
    const normalized = normalizeObjectKey(key);
    let output;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: normalized }));
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(normalized);
      throw error;
    }
    if (!(output.Body instanceof Readable)) {
      throw new Error(`GetObject ${normalized} returned a body that is not a Node.js stream`);
    }
    return output.Body;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const normalized = normalizeObjectKey(key);
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: normalized }));
      return {
        key: normalized,
        size: output.ContentLength ?? 0,
        contentType: output.ContentType ?? null,
        etag: unquoteEtag(output.ETag),
        lastModified: output.LastModified ?? null,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const normalized = normalizeObjectKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: normalized }));
  }

  /** Lists every object under the prefix, following continuation tokens. `contentType` is null because ListObjectsV2 does not return it. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const normalized = normalizeObjectPrefix(prefix);
    const objects: ObjectInfo[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: normalized === '' ? undefined : normalized,
          ContinuationToken: continuationToken,
        }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        objects.push({
          key: item.Key,
          size: item.Size ?? 0,
          contentType: null,
          etag: unquoteEtag(item.ETag),
          lastModified: item.LastModified ?? null,
        });
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return objects;
  }

  /** Presigns a GetObject. `downloadName` becomes the response's Content-Disposition. */
  async signedDownloadUrl(key: string, options: SignedUrlOptions): Promise<string> {
    const normalized = normalizeObjectKey(key);
    validateExpiresIn(options.expiresIn);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: normalized,
      ResponseContentDisposition: options.downloadName === undefined ? undefined : contentDisposition(options.downloadName),
    });
    return getSignedUrl(this.presignClient, command, { expiresIn: options.expiresIn });
  }

  /** Presigns a PutObject. With `contentType`, the uploader must send exactly that Content-Type. */
  async signedUploadUrl(key: string, options: SignedUrlOptions): Promise<string> {
    const normalized = normalizeObjectKey(key);
    validateExpiresIn(options.expiresIn);
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: normalized, ContentType: options.contentType });
    return getSignedUrl(this.presignClient, command, {
      expiresIn: options.expiresIn,
      signableHeaders: options.contentType === undefined ? undefined : new Set(['content-type']),
    });
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async createMultipartUpload(key: string, options: { contentType?: string } = {}): Promise<string> {
    const normalized = normalizeObjectKey(key);
    const output = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: normalized, ContentType: options.contentType ?? DEFAULT_CONTENT_TYPE }),
    );
    if (!output.UploadId) throw new Error(`CreateMultipartUpload ${normalized} returned no upload id`);
    return output.UploadId;
  }

  /** Presigns an UploadPart. The browser sends the part's bytes as the body, with no other signed header. */
  async signedUploadPartUrl(key: string, uploadId: string, partNumber: number, options: { expiresIn: number }): Promise<string> {
    const normalized = normalizeObjectKey(key);
    validateExpiresIn(options.expiresIn);
    validatePartNumber(partNumber);
    const command = new UploadPartCommand({ Bucket: this.bucket, Key: normalized, UploadId: uploadId, PartNumber: partNumber });
    return getSignedUrl(this.presignClient, command, { expiresIn: options.expiresIn });
  }

  /** Follows ListParts' part-number markers until every part is listed. */
  async listUploadedParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const normalized = normalizeObjectKey(key);
    // S3Proxy 4.1 answers ListParts of an unknown or aborted upload with the parts it
    // still has (none, or one sent after the abort) instead of NoSuchUpload, so the
    // upload is first looked up among the key's open uploads.
    if (!(await this.uploadExists(normalized, uploadId))) throw new UploadNotFoundError(uploadId);
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: normalized, UploadId: uploadId, PartNumberMarker: marker }));
      } catch (error) {
        if (isNoSuchUpload(error)) throw new UploadNotFoundError(uploadId);
        throw error;
      }
      for (const part of page.Parts ?? []) {
        if (part.PartNumber === undefined) continue;
        parts.push({ partNumber: part.PartNumber, size: part.Size ?? 0, etag: unquoteEtag(part.ETag) ?? '' });
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  private async uploadExists(key: string, uploadId: string): Promise<boolean> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      if ((page.Uploads ?? []).some((upload) => upload.Key === key && upload.UploadId === uploadId)) return true;
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return false;
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<void> {
    const normalized = normalizeObjectKey(key);
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: normalized,
          UploadId: uploadId,
          MultipartUpload: { Parts: ordered.map((part) => ({ PartNumber: part.partNumber, ETag: `"${part.etag}"` })) },
        }),
      );
    } catch (error) {
      if (isNoSuchUpload(error)) throw new UploadNotFoundError(uploadId);
      throw error;
    }
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const normalized = normalizeObjectKey(key);
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: normalized, UploadId: uploadId }));
    } catch (error) {
      if (!isNoSuchUpload(error)) throw error;
    }
  }

  /** Closes the HTTP connections of both SDK clients. */
  close(): void {
    this.client.destroy();
    this.presignClient.destroy();
  }
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined;
}

// HeadObject and HeadBucket have no response body, so the SDK names their 404 `NotFound`.
function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket') return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 404;
}

function isNoSuchUpload(error: unknown): boolean {
  return errorName(error) === 'NoSuchUpload' || isNotFound(error);
}

function unquoteEtag(etag: string | undefined): string | null {
  if (etag === undefined || etag === '') return null;
  return etag.replace(/^"(.*)"$/, '$1');
}
