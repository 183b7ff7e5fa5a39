import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { constants as fsConstants, createWriteStream, type Stats } from 'node:fs';
import { access, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorBody, errorCatalog, type ErrorBody, type ErrorCode } from '../../errors.ts';
import { log as rootLog } from '../../log.ts';
import {
  MAX_PART_NUMBER,
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

// ---------------------------------------------------------------------------
// Object keys and signed-link rules shared by both storage implementations
// ---------------------------------------------------------------------------

/** S3's maximum key length, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/**
 * Maximum length of one `/`-separated key segment, in UTF-8 bytes. Linux file
 * systems allow 255 bytes per file name, and the local storage appends `.json`
 * to a key's last segment for its metadata file.
 */
export const MAX_KEY_SEGMENT_BYTES = 250;
/** S3's maximum lifetime of a presigned URL (7 days), in seconds. */
export const MAX_SIGNED_URL_SECONDS = 7 * 24 * 60 * 60;

// C0 controls, DEL and C1 controls.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export class InvalidObjectKeyError extends Error {
  readonly key: string;

  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidObjectKeyError';
    this.key = key;
  }
}

/**
 * Returns the key in Unicode NFC, so a name typed on macOS (NFD) and the same
 * name typed on Windows (NFC) reach the same object. Throws
 * InvalidObjectKeyError for an empty or absolute key, a `.` or `..` segment,
 * an empty segment (`a//b`, trailing `/`), a backslash, a control character,
 * or a key or segment over the byte limits above. Both implementations apply
 * these rules, so a key that works on one works on the other.
 */
export function normalizeObjectKey(key: string): string {
  const normalized = key.normalize('NFC');
  if (normalized.length === 0) throw new InvalidObjectKeyError(key, 'the key is empty');
  if (normalized.startsWith('/')) throw new InvalidObjectKeyError(key, 'the key must not start with /');
  if (Buffer.byteLength(normalized) > MAX_KEY_BYTES) {
    throw new InvalidObjectKeyError(key, `the key is longer than ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
  for (const segment of normalized.split('/')) validateKeySegment(key, segment);
  return normalized;
}

/**
 * Normalizes a `list` prefix like a key, except that it may be empty and may
 * end with `/` or inside a segment (`meetings/2024-`).
 */
export function normalizeObjectPrefix(prefix: string): string {
  const normalized = prefix.normalize('NFC');
  if (normalized.length === 0) return normalized;
  if (normalized.startsWith('/')) throw new InvalidObjectKeyError(prefix, 'the prefix must not start with /');

  const segments = normalized.split('/');
  const partial = segments.pop() ?? '';
  for (const segment of segments) validateKeySegment(prefix, segment);
  if (partial !== '' && partial !== '.' && partial !== '..') validateKeySegment(prefix, partial);
  if (partial === '..') throw new InvalidObjectKeyError(prefix, 'the prefix must not contain a .. segment');
  return normalized;
}

function validateKeySegment(key: string, segment: string): void {
  if (segment.length === 0) throw new InvalidObjectKeyError(key, 'the key contains an empty segment (// or a trailing /)');
  if (segment === '.' || segment === '..') throw new InvalidObjectKeyError(key, `the key must not contain a ${segment} segment`);
  if (segment.includes('\\')) throw new InvalidObjectKeyError(key, 'the key must not contain a backslash');
  if (CONTROL_CHARACTERS.test(segment)) throw new InvalidObjectKeyError(key, 'the key must not contain control characters');
  if (Buffer.byteLength(segment) > MAX_KEY_SEGMENT_BYTES) {
    throw new InvalidObjectKeyError(key, `a key segment is longer than ${MAX_KEY_SEGMENT_BYTES} UTF-8 bytes`);
  }
}

/** Throws a RangeError unless `expiresIn` is a whole number of seconds from 1 to 7 days. */
export function validateExpiresIn(expiresIn: number): void {
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_SIGNED_URL_SECONDS) {
    throw new RangeError(`expiresIn must be a whole number of seconds from 1 to ${MAX_SIGNED_URL_SECONDS}, got ${expiresIn}`);
  }
}

/** Throws a RangeError unless `partNumber` is a whole number from 1 to 10000, S3's range. */
export function validatePartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new RangeError(`partNumber must be a whole number from 1 to ${MAX_PART_NUMBER}, got ${partNumber}`);
  }
}

/**
 * Builds an `attachment` Content-Disposition value that keeps a Unicode file
 * name: `filename*` carries it percent-encoded in UTF-8 (RFC 6266 section 4.3,
 * RFC 5987), and `filename` carries an ASCII fallback for old clients, with
 * Vietnamese diacritics removed ("Báo cáo.pdf" becomes "Bao cao.pdf").
 */
export function contentDisposition(downloadName: string): string {
  const name = downloadName.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f]/g, '_');
  return `attachment; filename="${asciiFileName(name)}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

function asciiFileName(name: string): string {
  return (
    name
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd')
      .replace(/Đ/g, 'D')
      // Quotes and backslashes would end or escape the quoted string, and RFC 6266
      // advises against % because some clients decode percent sequences in `filename`.
      .replace(/[^\x20-\x7e]|["\\%]/g, '_')
  );
}

// RFC 5987 attr-char allows ALPHA DIGIT and !#$&+-.^_`|~; encodeURIComponent
// leaves ' ( ) * unescaped as well, so those are escaped here.
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

// ---------------------------------------------------------------------------
// Error codes of the local storage's HTTP endpoint
// ---------------------------------------------------------------------------

/**
 * Error codes the `/storage/` endpoint responds with, in the shape of
 * `errorCatalog` in lib/errors.ts.
 * TODO: move these entries into errorCatalog and use errorBody for them.
 */
/** The error codes the `/storage/` handler answers with; their texts live in lib/errors.ts. */
export type StorageErrorCode = Extract<ErrorCode, `STORAGE_${string}`>;

function storageErrorBody(code: StorageErrorCode): ErrorBody {
  return errorBody(code);
}

// ---------------------------------------------------------------------------
// Signed links
// ---------------------------------------------------------------------------

/** The fields of a signed `/storage/` link, as the request carries them. */
export interface LocalSignedRequest {
  method: 'GET' | 'PUT';
  /** The object key, already normalized. */
  key: string;
  /** Unix time in seconds after which the link stops working. */
  expires: number;
  /** For uploads: the Content-Type the uploader must send (query `type`). */
  contentType?: string | undefined;
  /** For downloads: the file name of the Content-Disposition (query `name`). */
  downloadName?: string | undefined;
  /** For one part of a multipart upload: the upload id (query `upload`) and part number (query `part`). */
  uploadId?: string | undefined;
  partNumber?: number | undefined;
  /** The base64url HMAC-SHA256 (query `sig`). */
  signature: string;
}

export type LocalSignatureCheck =
  | { valid: true }
  | { valid: false; code: 'STORAGE_SIGNATURE_INVALID' | 'STORAGE_LINK_EXPIRED' };

/**
 * Computes the base64url HMAC-SHA256 of a link's method, key, expiry, upload
 * content type and download name. The fields are serialized as a JSON array,
 * so no field value can imitate a field boundary.
 */
export function signLocalRequest(secret: string, request: Omit<LocalSignedRequest, 'signature'>): string {
  const fields: unknown[] = [
    'hop-local-storage-v1',
    request.method,
    request.key,
    request.expires,
    request.contentType ?? '',
    request.downloadName ?? '',
  ];
  // Appended only for part uploads, so the signatures of other links stay as they were.
  if (request.uploadId !== undefined) fields.push(request.uploadId, request.partNumber ?? 0);
  const payload = JSON.stringify(fields);
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/**
 * Checks a link's signature first and its expiry second, so a link whose
 * `expires` was edited is reported as invalid rather than expired.
 */
export function verifyLocalSignature(
  secret: string,
  request: LocalSignedRequest,
  now: Date = new Date(),
): LocalSignatureCheck {
  const expected = Buffer.from(signLocalRequest(secret, request));
  const received = Buffer.from(request.signature);
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { valid: false, code: 'STORAGE_SIGNATURE_INVALID' };
  }
  if (Math.floor(now.getTime() / 1000) > request.expires) return { valid: false, code: 'STORAGE_LINK_EXPIRED' };
  return { valid: true };
}

// ---------------------------------------------------------------------------
// LocalStorage
// ---------------------------------------------------------------------------

export interface LocalStorageOptions {
  /** Folder of the objects, normally `HOP_DATA_DIR/objects`. */
  rootDir: string;
  /** Origin (and optional path) the `/storage/` links start with, e.g. `https://hop.example.vn`. */
  publicBaseUrl: string;
  /** HMAC key of the signed links, at least 32 characters. Links stay valid across restarts only while it stays the same. */
  signingSecret: string;
  /** Maximum size of an upload through a signed link, in bytes. Defaults to 5 GiB, S3's limit for one PUT. */
  maxUploadBytes?: number;
}

export interface LocalPutOptions extends PutOptions {
  /** Rejects the body with ObjectTooLargeError once it passes this many bytes. */
  maxBytes?: number;
}

/** A byte range of an object, both ends included (as in an HTTP Range header). */
export interface ByteRange {
  start: number;
  end: number;
}

export class ObjectTooLargeError extends Error {
  readonly key: string;
  readonly maxBytes: number;

  constructor(key: string, maxBytes: number) {
    super(`object ${key} is larger than the limit of ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
    this.key = key;
    this.maxBytes = maxBytes;
  }
}

interface ObjectMetadata {
  contentType: string;
  etag: string;
}

interface UploadManifest {
  key: string;
  contentType: string;
}

const UPLOAD_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 ** 3;
const MIN_SECRET_LENGTH = 32;
// A concurrent delete may remove an empty parent folder between mkdir and rename.
const MOVE_ATTEMPTS = 3;
/** Age after which ensureBucket removes a partial write left in `tmp/` by a crashed process. */
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

/**
 * Object storage in a local folder, for the embedded single-server setup.
 * Layout under `rootDir`: `files/<key>` contains the bytes, `meta/<key>.json` the
 * content type and ETag (the MD5 of the bytes, as S3 computes it for a single
 * PUT), and `tmp/` the partial writes. A write goes to `tmp/` and is renamed
 * into place, so a reader sees the old object or the new one, never a part.
 * `uploads/<upload id>/` contains a multipart upload: `upload.json` (key and
 * content type) and, per received part, `<n>.part` and `<n>.json` (its ETag).
 *
 * Puts and deletes of one key run one after the other within this process.
 *
 * NOTE: unlike S3, a key cannot be both an object and a folder of objects:
 * after `a/b` exists, putting `a` fails, and the other way round.
 * NOTE: two processes that write one key at the same time can leave the bytes
 * of one and the metadata of the other.
 */
export class LocalStorage implements ObjectStorage {
  readonly kind = 'local' as const;
  readonly rootDir: string;
  readonly maxUploadBytes: number;
  private readonly filesDir: string;
  private readonly metaDir: string;
  private readonly tmpDir: string;
  private readonly uploadsDir: string;
  private publicBaseUrl: string;
  private readonly signingSecret: string;
  private foldersReady: Promise<void> | null = null;
  private readonly keyQueues = new Map<string, Promise<void>>();

  constructor(options: LocalStorageOptions) {
    if (options.signingSecret.length < MIN_SECRET_LENGTH) {
      throw new Error(`the local storage signing secret must have at least ${MIN_SECRET_LENGTH} characters`);
    }
    this.rootDir = path.resolve(options.rootDir);
    this.filesDir = path.join(this.rootDir, 'files');
    this.metaDir = path.join(this.rootDir, 'meta');
    this.tmpDir = path.join(this.rootDir, 'tmp');
    this.uploadsDir = path.join(this.rootDir, 'uploads');
    this.publicBaseUrl = new URL(options.publicBaseUrl).toString().replace(/\/+$/, '');
    this.signingSecret = options.signingSecret;
    this.maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  }

  /**
   * Replaces the origin of the links signed from now on; links signed before keep the old one.
   * The gateway calls it once it listens, because on port 0 (a free port the system picks) the
   * configured address names port 0.
   */
  setPublicBaseUrl(publicBaseUrl: string): void {
    this.publicBaseUrl = new URL(publicBaseUrl).toString().replace(/\/+$/, '');
  }

  /**
   * Creates the storage folders, once per instance, and removes partial writes
   * older than a day from `tmp/`. The local storage has no buckets.
   */
  async ensureBucket(): Promise<void> {
    this.foldersReady ??= (async () => {
      await mkdir(this.filesDir, { recursive: true });
      await mkdir(this.metaDir, { recursive: true });
      await mkdir(this.tmpDir, { recursive: true });
      await mkdir(this.uploadsDir, { recursive: true });
      await this.removeStaleTmpFiles();
    })().catch((error: unknown) => {
      this.foldersReady = null;
      throw error;
    });
    return this.foldersReady;
  }

  async put(key: string, body: Buffer | Readable, options: LocalPutOptions = {}): Promise<void> {
    const normalized = normalizeObjectKey(key);
    await this.ensureBucket();

    const id = randomUUID();
    const tmpData = path.join(this.tmpDir, `${id}.data`);
    const tmpMeta = path.join(this.tmpDir, `${id}.json`);
    const hash = createHash('md5');
    let size = 0;
    const maxBytes = options.maxBytes;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) {
          callback(new ObjectTooLargeError(normalized, maxBytes));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });

    try {
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      await pipeline(source, measure, createWriteStream(tmpData, { flags: 'wx' }));
      if (options.contentLength !== undefined && size !== options.contentLength) {
        throw new Error(`object ${normalized}: the body has ${size} bytes but contentLength is ${options.contentLength}`);
      }

      const metadata: ObjectMetadata = {
        contentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
        etag: hash.digest('hex'),
      };
      await writeFile(tmpMeta, JSON.stringify(metadata), { flag: 'wx' });
      await this.runInKeyQueue(normalized, async () => {
        await this.moveIntoPlace(tmpData, this.filePath(normalized));
        await this.moveIntoPlace(tmpMeta, this.metaPath(normalized));
      });
    } catch (error) {
      await rm(tmpData, { force: true });
      await rm(tmpMeta, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const { stream } = await this.openRead(key);
    return stream;
  }

  /**
   * Opens the object for reading, optionally one byte range of it, and returns
   * the stream with the object's metadata. Size and date come from the opened
   * file, so they match the bytes streamed even if the object is replaced.
   * Throws ObjectNotFoundError when the object does not exist.
   */
  async openRead(key: string, range?: ByteRange): Promise<{ stream: Readable; info: ObjectInfo }> {
    const normalized = normalizeObjectKey(key);
    let handle;
    try {
      handle = await open(this.filePath(normalized), 'r');
    } catch (error) {
      if (isMissingFileError(error)) throw new ObjectNotFoundError(normalized);
      throw error;
    }

    try {
      const stats = await handle.stat();
      // Opening a folder for reading succeeds on Linux, but a folder is not an object.
      if (!stats.isFile()) throw new ObjectNotFoundError(normalized);
      const info = await this.objectInfo(normalized, stats);
      const stream = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
      return { stream, info };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const normalized = normalizeObjectKey(key);
    let stats: Stats;
    try {
      stats = await stat(this.filePath(normalized));
    } catch (error) {
      if (isMissingFileError(error)) return null;
      throw error;
    }
    if (!stats.isFile()) return null;
    return this.objectInfo(normalized, stats);
  }

  async delete(key: string): Promise<void> {
    const normalized = normalizeObjectKey(key);
    await this.runInKeyQueue(normalized, async () => {
      await rm(this.filePath(normalized), { force: true });
      await rm(this.metaPath(normalized), { force: true });
    });
    await this.removeEmptyFolders(path.dirname(this.filePath(normalized)), this.filesDir);
    await this.removeEmptyFolders(path.dirname(this.metaPath(normalized)), this.metaDir);
  }

  /** Lists every object whose key starts with `prefix`, in UTF-8 byte order like S3's ListObjectsV2. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const normalized = normalizeObjectPrefix(prefix);
    const slash = normalized.lastIndexOf('/');
    const folderKey = slash === -1 ? '' : normalized.slice(0, slash);

    const keys: string[] = [];
    await this.collectKeys(folderKey, keys);
    const matching = keys
      .filter((key) => key.startsWith(normalized))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    const objects: ObjectInfo[] = [];
    for (const key of matching) {
      const info = await this.head(key);
      if (info) objects.push(info);
    }
    return objects;
  }

  async signedDownloadUrl(key: string, options: SignedUrlOptions): Promise<string> {
    return this.signedUrl('GET', key, options);
  }

  async signedUploadUrl(key: string, options: SignedUrlOptions): Promise<string> {
    return this.signedUrl('PUT', key, options);
  }

  async ping(): Promise<void> {
    await access(this.rootDir, fsConstants.R_OK | fsConstants.W_OK);
  }

  async createMultipartUpload(key: string, options: { contentType?: string } = {}): Promise<string> {
    const normalized = normalizeObjectKey(key);
    await this.ensureBucket();
    const uploadId = randomUUID();
    const folder = path.join(this.uploadsDir, uploadId);
    await mkdir(folder);
    const manifest: UploadManifest = { key: normalized, contentType: options.contentType ?? DEFAULT_CONTENT_TYPE };
    await writeFile(path.join(folder, 'upload.json'), JSON.stringify(manifest), { flag: 'wx' });
    return uploadId;
  }

  async signedUploadPartUrl(key: string, uploadId: string, partNumber: number, options: { expiresIn: number }): Promise<string> {
    validatePartNumber(partNumber);
    if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new UploadNotFoundError(uploadId);
    return this.signedUrl('PUT', key, options, { uploadId, partNumber });
  }

  /**
   * Stores one part of a multipart upload, replacing an earlier copy of the
   * same part, as S3 does. Called by the `/storage/` endpoint for a signed
   * part link. Throws UploadNotFoundError when the upload does not exist or
   * belongs to another key, and ObjectTooLargeError past `maxBytes`.
   */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: Readable, maxBytes = this.maxUploadBytes): Promise<UploadedPart> {
    const normalized = normalizeObjectKey(key);
    validatePartNumber(partNumber);
    const folder = await this.uploadFolder(normalized, uploadId);

    const id = randomUUID();
    const tmpData = path.join(this.tmpDir, `${id}.data`);
    const tmpMeta = path.join(this.tmpDir, `${id}.json`);
    const hash = createHash('md5');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new ObjectTooLargeError(normalized, maxBytes));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, measure, createWriteStream(tmpData, { flags: 'wx' }));
      const etag = hash.digest('hex');
      await writeFile(tmpMeta, JSON.stringify({ etag }), { flag: 'wx' });
      // The data goes into place first: a part is listed only once its `.json` exists.
      await rename(tmpData, path.join(folder, `${partNumber}.part`));
      await rename(tmpMeta, path.join(folder, `${partNumber}.json`));
      return { partNumber, size, etag };
    } catch (error) {
      await rm(tmpData, { force: true });
      await rm(tmpMeta, { force: true });
      throw error;
    }
  }

  async listUploadedParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const folder = await this.uploadFolder(normalizeObjectKey(key), uploadId);
    const parts: UploadedPart[] = [];
    for (const name of await readdir(folder)) {
      const match = /^(\d+)\.json$/.exec(name);
      if (!match) continue;
      const partNumber = Number(match[1]);
      try {
        const { etag } = JSON.parse(await readFile(path.join(folder, name), 'utf8')) as { etag: string };
        const { size } = await stat(path.join(folder, `${partNumber}.part`));
        parts.push({ partNumber, size, etag });
      } catch (error) {
        // A concurrent completion or abort removed the folder.
        if (isMissingFileError(error)) throw new UploadNotFoundError(uploadId);
        throw error;
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Joins the parts into the object with one streaming `put`, then removes the
   * upload. Throws UploadNotFoundError for an unknown upload, and an Error when
   * a listed part is missing or its ETag differs from the stored one.
   */
  async completeMultipartUpload(key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<void> {
    const normalized = normalizeObjectKey(key);
    const folder = await this.uploadFolder(normalized, uploadId);
    const manifest = await this.readUploadManifest(uploadId);
    const stored = new Map((await this.listUploadedParts(normalized, uploadId)).map((part) => [part.partNumber, part]));
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (ordered.length === 0) throw new Error(`multipart upload ${uploadId} cannot be completed without parts`);
    for (const part of ordered) {
      const received = stored.get(part.partNumber);
      if (!received) throw new Error(`multipart upload ${uploadId}: part ${part.partNumber} was not uploaded`);
      if (received.etag !== part.etag) throw new Error(`multipart upload ${uploadId}: part ${part.partNumber} has ETag ${received.etag}, not ${part.etag}`);
    }

    const files = ordered.map((part) => path.join(folder, `${part.partNumber}.part`));
    const joined = Readable.from(
      (async function* concatenate() {
        for (const file of files) {
          const handle = await open(file, 'r');
          try {
            yield* handle.createReadStream({ autoClose: false });
          } finally {
            await handle.close();
          }
        }
      })(),
    );
    await this.put(normalized, joined, { contentType: manifest?.contentType ?? DEFAULT_CONTENT_TYPE });
    await rm(folder, { recursive: true, force: true });
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const normalized = normalizeObjectKey(key);
    if (!UPLOAD_ID_PATTERN.test(uploadId)) return;
    const manifest = await this.readUploadManifest(uploadId);
    if (!manifest || manifest.key !== normalized) return;
    await rm(path.join(this.uploadsDir, uploadId), { recursive: true, force: true });
  }

  /** Returns the folder of an upload of `key`; throws UploadNotFoundError unless it exists for that key. */
  private async uploadFolder(key: string, uploadId: string): Promise<string> {
    if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new UploadNotFoundError(uploadId);
    const manifest = await this.readUploadManifest(uploadId);
    if (!manifest || manifest.key !== key) throw new UploadNotFoundError(uploadId);
    return path.join(this.uploadsDir, uploadId);
  }

  private async readUploadManifest(uploadId: string): Promise<UploadManifest | null> {
    try {
      return JSON.parse(await readFile(path.join(this.uploadsDir, uploadId, 'upload.json'), 'utf8')) as UploadManifest;
    } catch (error) {
      if (isMissingFileError(error)) return null;
      throw error;
    }
  }

  /** Checks a `/storage/` request's signature with this storage's secret. */
  verifySignedRequest(request: LocalSignedRequest, now: Date = new Date()): LocalSignatureCheck {
    return verifyLocalSignature(this.signingSecret, request, now);
  }

  private signedUrl(method: 'GET' | 'PUT', key: string, options: SignedUrlOptions, part?: { uploadId: string; partNumber: number }): string {
    const normalized = normalizeObjectKey(key);
    validateExpiresIn(options.expiresIn);

    const request = {
      method,
      key: normalized,
      expires: Math.floor(Date.now() / 1000) + options.expiresIn,
      contentType: method === 'PUT' ? options.contentType : undefined,
      downloadName: method === 'GET' ? options.downloadName : undefined,
      uploadId: part?.uploadId,
      partNumber: part?.partNumber,
    };
    const query = new URLSearchParams({ expires: String(request.expires) });
    if (request.contentType !== undefined) query.set('type', request.contentType);
    if (request.downloadName !== undefined) query.set('name', request.downloadName);
    if (part) {
      query.set('upload', part.uploadId);
      query.set('part', String(part.partNumber));
    }
    query.set('sig', signLocalRequest(this.signingSecret, request));

    const encodedKey = normalized.split('/').map(encodeURIComponent).join('/');
    return `${this.publicBaseUrl}/storage/${encodedKey}?${query.toString()}`;
  }

  private filePath(key: string): string {
    return this.insideRoot(this.filesDir, path.join(this.filesDir, ...key.split('/')));
  }

  private metaPath(key: string): string {
    return this.insideRoot(this.metaDir, `${path.join(this.metaDir, ...key.split('/'))}.json`);
  }

  // normalizeObjectKey already rejects `..`, `/` prefixes and backslashes. This
  // second check keeps a future change to those rules from escaping the folder.
  private insideRoot(root: string, target: string): string {
    if (!target.startsWith(root + path.sep)) throw new InvalidObjectKeyError(target, 'the key resolves outside the storage folder');
    return target;
  }

  private async objectInfo(key: string, stats: Stats): Promise<ObjectInfo> {
    const metadata = await this.readMetadata(key);
    return {
      key,
      size: stats.size,
      contentType: metadata?.contentType ?? DEFAULT_CONTENT_TYPE,
      etag: metadata?.etag ?? null,
      lastModified: stats.mtime,
    };
  }

  private async readMetadata(key: string): Promise<ObjectMetadata | null> {
    let text: string;
    try {
      text = await readFile(this.metaPath(key), 'utf8');
    } catch (error) {
      if (isMissingFileError(error)) return null;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<ObjectMetadata>;
      return {
        contentType: typeof parsed.contentType === 'string' ? parsed.contentType : DEFAULT_CONTENT_TYPE,
        etag: typeof parsed.etag === 'string' ? parsed.etag : '',
      };
    } catch (error) {
      log.warn({ err: error, key }, 'object metadata file is not valid JSON; using defaults');
      return null;
    }
  }

  /** Runs `task` after every earlier task queued for the same key has settled. */
  private async runInKeyQueue(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.keyQueues.get(key) ?? Promise.resolve();
    const current = previous.then(task);
    const settled = current.catch(() => undefined);
    this.keyQueues.set(key, settled);
    try {
      await current;
    } finally {
      if (this.keyQueues.get(key) === settled) this.keyQueues.delete(key);
    }
  }

  private async removeStaleTmpFiles(): Promise<void> {
    const cutoff = Date.now() - STALE_TMP_MS;
    for (const name of await readdir(this.tmpDir)) {
      const file = path.join(this.tmpDir, name);
      try {
        if ((await stat(file)).mtimeMs < cutoff) {
          await rm(file, { force: true });
          log.info({ file }, 'removed a stale partial write');
        }
      } catch (error) {
        if (!isMissingFileError(error)) throw error;
      }
    }
  }

  private async moveIntoPlace(source: string, target: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      await mkdir(path.dirname(target), { recursive: true });
      try {
        await rename(source, target);
        return;
      } catch (error) {
        if (!isErrorCode(error, 'ENOENT') || attempt >= MOVE_ATTEMPTS) throw error;
      }
    }
  }

  private async removeEmptyFolders(folder: string, root: string): Promise<void> {
    let current = folder;
    while (current.startsWith(root + path.sep)) {
      try {
        await rmdir(current);
      } catch (error) {
        // ENOTEMPTY: another object lives there. ENOENT: already removed.
        if (isErrorCode(error, 'ENOTEMPTY') || isErrorCode(error, 'EEXIST')) return;
        if (!isErrorCode(error, 'ENOENT')) throw error;
      }
      current = path.dirname(current);
    }
  }

  private async collectKeys(folderKey: string, keys: string[]): Promise<void> {
    const folder = folderKey === '' ? this.filesDir : path.join(this.filesDir, ...folderKey.split('/'));
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissingFileError(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const key = folderKey === '' ? entry.name : `${folderKey}/${entry.name}`;
      // Symbolic links are skipped: the storage never creates them.
      if (entry.isDirectory()) await this.collectKeys(key, keys);
      else if (entry.isFile()) keys.push(key);
    }
  }
}

function isErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

// ENOTDIR: a parent segment of the key is an object, not a folder.
function isMissingFileError(error: unknown): boolean {
  return isErrorCode(error, 'ENOENT') || isErrorCode(error, 'ENOTDIR');
}

// ---------------------------------------------------------------------------
// The `/storage/` HTTP endpoint
// ---------------------------------------------------------------------------

/**
 * Serves signed links of a LocalStorage on a node:http request: GET streams the
 * object (single byte ranges are supported), PUT streams the body into the
 * object up to `storage.maxUploadBytes`. The gateway mounts it on
 * `/storage/*`; the path may also carry the path of `publicBaseUrl` in front.
 *
 * Responds with 403 STORAGE_SIGNATURE_INVALID or STORAGE_LINK_EXPIRED for a bad link,
 * 404 STORAGE_OBJECT_NOT_FOUND, 405 STORAGE_METHOD_NOT_ALLOWED, 413
 * BODY_TOO_LARGE, 416 STORAGE_RANGE_NOT_SATISFIABLE and 500 INTERNAL, each with
 * the JSON error body. Never rejects.
 */
export async function handleLocalStorageRequest(
  storage: LocalStorage,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let key: string | undefined;
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const encodedKey = storageRoutePath(url.pathname);
    if (encodedKey === null) {
      sendError(res, 404, errorBody('ROUTE_NOT_FOUND'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'PUT') {
      res.setHeader('Allow', 'GET, PUT');
      sendStorageError(res, 'STORAGE_METHOD_NOT_ALLOWED');
      return;
    }

    const signed = parseSignedRequest(req.method, encodedKey, url.searchParams);
    if (signed === null) {
      sendStorageError(res, 'STORAGE_SIGNATURE_INVALID');
      return;
    }
    key = signed.key;
    const check = storage.verifySignedRequest(signed);
    if (!check.valid) {
      sendStorageError(res, check.code);
      return;
    }

    if (signed.method === 'GET') await serveDownload(storage, signed, req, res);
    else await receiveUpload(storage, signed, req, res);
  } catch (error) {
    if (res.headersSent) {
      if (!isErrorCode(error, 'ERR_STREAM_PREMATURE_CLOSE')) {
        log.warn({ err: error, key, method: req.method }, 'storage response stopped while streaming');
      }
      res.destroy();
      return;
    }
    log.error({ err: error, key, method: req.method }, 'storage request failed');
    sendError(res, 500, errorBody('INTERNAL'));
  }
}

const ROUTE_PREFIX = '/storage/';

// Accepts `/storage/<key>` and `<any path>/storage/<key>`, so a reverse proxy
// may or may not strip the path of publicBaseUrl.
function storageRoutePath(pathname: string): string | null {
  if (pathname.startsWith(ROUTE_PREFIX)) return pathname.slice(ROUTE_PREFIX.length);
  const index = pathname.indexOf(ROUTE_PREFIX);
  return index === -1 ? null : pathname.slice(index + ROUTE_PREFIX.length);
}

function parseSignedRequest(
  method: 'GET' | 'PUT',
  encodedKey: string,
  query: URLSearchParams,
): LocalSignedRequest | null {
  const expires = query.get('expires');
  const signature = query.get('sig');
  if (expires === null || !/^\d{1,12}$/.test(expires) || signature === null) return null;

  let key: string;
  try {
    key = normalizeObjectKey(encodedKey.split('/').map(decodeURIComponent).join('/'));
  } catch {
    // A malformed percent sequence or a key we would never sign.
    return null;
  }
  const uploadId = query.get('upload') ?? undefined;
  const part = query.get('part');
  if (uploadId !== undefined && (method !== 'PUT' || part === null || !/^\d{1,5}$/.test(part))) return null;
  return {
    method,
    key,
    expires: Number(expires),
    contentType: query.get('type') ?? undefined,
    downloadName: query.get('name') ?? undefined,
    uploadId,
    partNumber: uploadId === undefined ? undefined : Number(part),
    signature,
  };
}

async function serveDownload(
  storage: LocalStorage,
  signed: LocalSignedRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const info = await storage.head(signed.key);
  if (!info) {
    sendStorageError(res, 'STORAGE_OBJECT_NOT_FOUND');
    return;
  }

  const range = parseRange(req.headers.range, info.size);
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${info.size}`);
    sendStorageError(res, 'STORAGE_RANGE_NOT_SATISFIABLE');
    return;
  }

  let opened;
  try {
    opened = await storage.openRead(signed.key, range ?? undefined);
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    sendStorageError(res, 'STORAGE_OBJECT_NOT_FOUND');
    return;
  }

  const { stream, info: object } = opened;
  res.statusCode = range ? 206 : 200;
  res.setHeader('Content-Type', object.contentType ?? DEFAULT_CONTENT_TYPE);
  res.setHeader('Content-Length', range ? range.end - range.start + 1 : object.size);
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`);
  res.setHeader('Accept-Ranges', 'bytes');
  if (object.etag) res.setHeader('ETag', `"${object.etag}"`);
  if (object.lastModified) res.setHeader('Last-Modified', object.lastModified.toUTCString());
  if (signed.downloadName !== undefined) res.setHeader('Content-Disposition', contentDisposition(signed.downloadName));
  res.setHeader('Cache-Control', 'private, no-cache');
  // Uploaded files are served from hop's own origin: keep an uploaded HTML or
  // SVG file from running scripts there, and keep browsers from sniffing types.
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'");
  await pipeline(stream, res);
}

/**
 * Parses a single-range `Range: bytes=…` header. Returns null to serve the
 * whole object (no header, another unit, or several ranges, which RFC 9110
 * lets a server ignore) and 'unsatisfiable' for a range past the end.
 */
function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;

  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

async function receiveUpload(
  storage: LocalStorage,
  signed: LocalSignedRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const sentType = req.headers['content-type']?.trim();
  if (signed.contentType !== undefined && sentType?.toLowerCase() !== signed.contentType.trim().toLowerCase()) {
    rejectUpload(res, 403, storageErrorBody('STORAGE_SIGNATURE_INVALID'));
    return;
  }

  const declaredLength = req.headers['content-length'];
  if (declaredLength !== undefined && Number(declaredLength) > storage.maxUploadBytes) {
    rejectUpload(res, 413, errorBody('BODY_TOO_LARGE', { maxBytes: storage.maxUploadBytes }));
    return;
  }

  // The body goes through a PassThrough instead of straight into put(), because
  // a failed pipeline destroys its source: destroying `req` would reset the
  // connection before the 413 response reaches the client.
  const body = new PassThrough();
  req.pipe(body);
  req.on('close', () => {
    if (!req.complete) body.destroy(new Error('the client closed the connection before the upload completed'));
  });

  let partEtag: string | undefined;
  try {
    if (signed.uploadId !== undefined) {
      partEtag = (await storage.uploadPart(signed.key, signed.uploadId, signed.partNumber ?? 0, body)).etag;
    } else {
      await storage.put(signed.key, body, {
        contentType: sentType || signed.contentType || DEFAULT_CONTENT_TYPE,
        maxBytes: storage.maxUploadBytes,
      });
    }
  } catch (error) {
    req.unpipe(body);
    if (error instanceof UploadNotFoundError) {
      rejectUpload(res, 404, storageErrorBody('STORAGE_UPLOAD_NOT_FOUND'));
      return;
    }
    if (error instanceof ObjectTooLargeError) {
      rejectUpload(res, 413, errorBody('BODY_TOO_LARGE', { maxBytes: storage.maxUploadBytes }));
      return;
    }
    if (!req.complete) {
      log.info({ err: error, key: signed.key }, 'upload stopped before the body was complete');
      res.destroy();
      return;
    }
    throw error;
  }

  const etag = partEtag ?? (await storage.head(signed.key))?.etag;
  if (etag) res.setHeader('ETag', `"${etag}"`);
  res.statusCode = 200;
  res.setHeader('Content-Length', 0);
  res.end();
}

// The rest of the body is not read, so the connection closes after the response.
function rejectUpload(res: ServerResponse, status: number, body: ErrorBody | ErrorBody): void {
  res.setHeader('Connection', 'close');
  sendError(res, status, body);
}

function sendStorageError(res: ServerResponse, code: StorageErrorCode): void {
  sendError(res, errorCatalog[code].status, storageErrorBody(code));
}

function sendError(res: ServerResponse, status: number, body: ErrorBody | ErrorBody): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
