/**
 * Processing of an uploaded document version: the real type from the content,
 * SHA-256 and size, page count, first-page thumbnail, search text, and a PDF
 * rendition of office documents made by LibreOffice. A version ends `ready`
 * (with `conversion` `failed` when only the PDF rendition could not be made)
 * or `rejected`, whose original object is deleted.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { detectFileType, type DetectedType } from '../adapters/documents/detect-type.ts';
import { convertToPdf } from '../adapters/documents/libreoffice.ts';
import { pdfFirstPagePng, pdfPageCount, pdfText, truncateUtf8 } from '../adapters/documents/poppler.ts';
import { ToolError } from '../adapters/documents/run-tool.ts';
import { ZipFormatError, zipLimitViolation, type ZipLimits } from '../adapters/documents/zip-inspect.ts';
import type { Database, DocumentConversion, DocumentVersionRow } from '../adapters/db/schema.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import { ObjectNotFoundError, type ObjectStorage } from '../adapters/storage/storage.ts';
import { allowedDocumentMimeTypes, officeMimeTypes } from '../contract/documents.ts';
import { eventSource, newEvent } from '../contract/events.ts';
import { errorCatalog, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { claimEvent } from '../runtime/event-function.ts';
import { renditionKeys } from './documents.ts';
import { foldForSearch } from './text-search.ts';

export const PROCESSOR_NAME = 'document-process';
const source = eventSource(PROCESSOR_NAME);

/** Limits of one processing run. */
export interface ProcessingLimits {
  /** Time limit of one LibreOffice conversion (HOP_LIBREOFFICE_TIMEOUT_MS). */
  conversionTimeoutMs: number;
  /** Time limit of each poppler tool call. */
  pdfToolTimeoutMs: number;
  /** Longest stored search text, in UTF-8 bytes. */
  maxTextBytes: number;
  zip: ZipLimits;
  /** Longer side of the thumbnail, in pixels. */
  thumbnailPixels: number;
}

export const defaultProcessingLimits: ProcessingLimits = {
  conversionTimeoutMs: 120_000,
  pdfToolTimeoutMs: 60_000,
  maxTextBytes: 2 * 1024 * 1024,
  // Real office files stay far below these: text XML compresses about 5 to 20 times.
  zip: { maxUncompressedBytes: 1024 ** 3, maxEntries: 10_000, maxRatio: 100, ratioCheckFromBytes: 50 * 1024 ** 2 },
  thumbnailPixels: 480,
};

export interface ProcessingDependencies {
  db: Kysely<Database>;
  storage: ObjectStorage;
  log: Logger;
  now: () => Date;
  limits?: ProcessingLimits;
}

export type ProcessingOutcome =
  | { status: 'ready'; conversion: DocumentConversion }
  | { status: 'rejected'; code: ErrorCode }
  | { status: 'skipped'; reason: string };

/** What the content turned out to be, before the state is written. */
type Analysis =
  | {
      kind: 'ready';
      detectedType: string;
      sha256: string;
      sizeBytes: number;
      pageCount: number | null;
      thumbnail: Buffer | null;
      pdfFile: string | null;
      text: string;
      conversion: DocumentConversion;
      conversionError: string | null;
    }
  | { kind: 'rejected'; code: ErrorCode; reason: string; sha256: string | null; detectedType: string | null };

/**
 * Processes the version named by a `document.uploaded` event, once: the event
 * id is claimed in the transaction that writes the result, and a version that
 * is no longer `processing` is skipped. Two runs at the same time both do the
 * work, but only the first writes its result and events; the renditions go to
 * the same keys either way.
 */
export async function processDocumentVersion(deps: ProcessingDependencies, eventId: string, versionId: string): Promise<ProcessingOutcome> {
  const limits = deps.limits ?? defaultProcessingLimits;
  const version = await deps.db.selectFrom('document_version').selectAll().where('id', '=', versionId).executeTakeFirst();
  if (!version) return { status: 'skipped', reason: 'version not found' };
  if (version.status !== 'processing') return { status: 'skipped', reason: `version is ${version.status}` };

  const log = deps.log.child({ meetingId: version.meeting_id, documentId: version.document_id, versionId });
  const workDir = await mkdtemp(path.join(tmpdir(), 'hop-doc-'));
  try {
    const analysis = await analyse(deps.storage, version, workDir, limits, log);
    if (analysis.kind === 'rejected') return await reject(deps, eventId, version, analysis, log);
    return await accept(deps, eventId, version, analysis, log);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function analyse(storage: ObjectStorage, version: DocumentVersionRow, workDir: string, limits: ProcessingLimits, log: Logger): Promise<Analysis> {
  const original = path.join(workDir, `original${extensionFor(version.claimed_type)}`);
  let download;
  try {
    download = await downloadHashed(storage, version.object_key, original);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return { kind: 'rejected', code: 'DOCUMENT_DAMAGED', reason: 'the uploaded object is missing', sha256: null, detectedType: null };
    throw error;
  }
  const { sha256, sizeBytes } = download;

  let detected: DetectedType;
  try {
    detected = await detectFileType(original);
  } catch (error) {
    if (error instanceof ZipFormatError) return { kind: 'rejected', code: 'DOCUMENT_DAMAGED', reason: error.message, sha256, detectedType: null };
    throw error;
  }
  if (!allowedDocumentMimeTypes.has(detected.mime)) {
    return { kind: 'rejected', code: 'DOCUMENT_TYPE_NOT_ALLOWED', reason: `the content is ${detected.mime}`, sha256, detectedType: detected.mime };
  }
  if (detected.mime !== version.claimed_type) {
    return { kind: 'rejected', code: 'DOCUMENT_TYPE_MISMATCH', reason: `the name claims ${version.claimed_type}, the content is ${detected.mime}`, sha256, detectedType: detected.mime };
  }
  if (detected.zip) {
    const violation = zipLimitViolation(detected.zip, limits.zip);
    if (violation) return { kind: 'rejected', code: 'DOCUMENT_ARCHIVE_UNSAFE', reason: violation, sha256, detectedType: detected.mime };
  }

  const base = { kind: 'ready' as const, detectedType: detected.mime, sha256, sizeBytes };
  if (detected.mime === 'text/plain') {
    const text = truncateUtf8(await readFile(original), limits.maxTextBytes);
    return { ...base, pageCount: null, thumbnail: null, pdfFile: null, text, conversion: 'not_needed', conversionError: null };
  }
  if (detected.mime.startsWith('image/')) {
    // NOTE: images get no thumbnail: the list shows them through their own (small enough) download link.
    return { ...base, pageCount: 1, thumbnail: null, pdfFile: null, text: '', conversion: 'not_needed', conversionError: null };
  }

  let pdfFile = original;
  let conversion: DocumentConversion = 'not_needed';
  if (officeMimeTypes.has(detected.mime)) {
    const outDir = path.join(workDir, 'pdf');
    await mkdir(outDir);
    try {
      pdfFile = await convertToPdf(original, outDir, { timeoutMs: limits.conversionTimeoutMs });
      conversion = 'converted';
    } catch (error) {
      // The original stays downloadable; the page shows that no PDF could be made.
      const message = error instanceof ToolError && error.timedOut ? `LibreOffice timed out after ${limits.conversionTimeoutMs} ms` : String((error as Error).message ?? error).slice(0, 500);
      log.warn({ err: error }, 'office document conversion failed');
      return { ...base, pageCount: null, thumbnail: null, pdfFile: null, text: '', conversion: 'failed', conversionError: message };
    }
  }

  let pageCount: number;
  try {
    pageCount = await pdfPageCount(pdfFile, { timeoutMs: limits.pdfToolTimeoutMs });
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    if (conversion === 'converted') {
      return { ...base, pageCount: null, thumbnail: null, pdfFile: null, text: '', conversion: 'failed', conversionError: `the converted PDF is unreadable: ${error.message.slice(0, 300)}` };
    }
    return { kind: 'rejected', code: 'DOCUMENT_DAMAGED', reason: error.message.slice(0, 500), sha256, detectedType: detected.mime };
  }
  const thumbnail = pageCount > 0 ? await pdfFirstPagePng(pdfFile, workDir, limits.thumbnailPixels, { timeoutMs: limits.pdfToolTimeoutMs }) : null;
  const text = await pdfText(pdfFile, limits.maxTextBytes, { timeoutMs: limits.pdfToolTimeoutMs });
  return { ...base, pageCount, thumbnail, pdfFile: conversion === 'converted' ? pdfFile : null, text, conversion, conversionError: null };
}

/** Streams the object into `file`, hashing it on the way. */
async function downloadHashed(storage: ObjectStorage, key: string, file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(await storage.get(key), measure, createWriteStream(file, { flags: 'wx' }));
  return { sha256: hash.digest('hex'), sizeBytes };
}

// LibreOffice picks its import filter partly by extension, so the local copy keeps the claimed one.
function extensionFor(mime: string): string {
  const extensions: Record<string, string> = {
    'application/pdf': '.pdf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '.docx',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': '.xlsx',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation': '.pptx',
    'application/vnd.oasis.opendocument.text': '.odt',
    'text/plain': '.txt',
  };
  return extensions[mime] ?? '.bin';
}

async function accept(deps: ProcessingDependencies, eventId: string, version: DocumentVersionRow, analysis: Extract<Analysis, { kind: 'ready' }>, log: Logger): Promise<ProcessingOutcome> {
  const keys = renditionKeys(version.meeting_id, version.id);
  if (analysis.thumbnail) await deps.storage.put(keys.thumbnail, analysis.thumbnail, { contentType: 'image/png' });
  if (analysis.pdfFile) {
    const { size } = await stat(analysis.pdfFile);
    await deps.storage.put(keys.pdf, createReadStream(analysis.pdfFile), { contentType: 'application/pdf', contentLength: size });
  }

  const now = deps.now();
  const written = await deps.db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, PROCESSOR_NAME, eventId))) return false;
    const updated = await trx
      .updateTable('document_version')
      .set({
        status: 'ready',
        sha256: analysis.sha256,
        detected_type: analysis.detectedType,
        page_count: analysis.pageCount,
        thumbnail_key: analysis.thumbnail ? keys.thumbnail : null,
        pdf_key: analysis.pdfFile ? keys.pdf : null,
        conversion: analysis.conversion,
        conversion_error: analysis.conversionError,
        text_content: analysis.text,
        text_search: foldForSearch(analysis.text),
        processed_at: now,
      })
      .where('id', '=', version.id)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    const event = newEvent(
      'vn.hop.document.processed.v1',
      {
        meetingId: version.meeting_id,
        documentId: version.document_id,
        versionId: version.id,
        version: version.version,
        detectedType: analysis.detectedType,
        sha256: analysis.sha256,
        sizeBytes: analysis.sizeBytes,
        pageCount: analysis.pageCount,
        hasThumbnail: analysis.thumbnail !== null,
        hasPdf: analysis.pdfFile !== null,
        textChars: analysis.text.length,
        conversion: analysis.conversion,
      },
      { source, subject: version.meeting_id, time: now },
    );
    await appendToOutbox(trx, event, version.meeting_id);
    return true;
  });
  if (!written) return { status: 'skipped', reason: 'already processed' };
  log.info({ pageCount: analysis.pageCount, conversion: analysis.conversion, detectedType: analysis.detectedType }, 'document processed');
  return { status: 'ready', conversion: analysis.conversion };
}

async function reject(deps: ProcessingDependencies, eventId: string, version: DocumentVersionRow, analysis: Extract<Analysis, { kind: 'rejected' }>, log: Logger): Promise<ProcessingOutcome> {
  const now = deps.now();
  const written = await deps.db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, PROCESSOR_NAME, eventId))) return false;
    const updated = await trx
      .updateTable('document_version')
      .set({ status: 'rejected', rejected_code: analysis.code, sha256: analysis.sha256, detected_type: analysis.detectedType, processed_at: now })
      .where('id', '=', version.id)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    const event = newEvent(
      'vn.hop.document.rejected.v1',
      { meetingId: version.meeting_id, documentId: version.document_id, versionId: version.id, version: version.version, code: analysis.code, reason: analysis.reason.slice(0, 1000) },
      { source, subject: version.meeting_id, time: now },
    );
    await appendToOutbox(trx, event, version.meeting_id);
    return true;
  });
  if (!written) return { status: 'skipped', reason: 'already processed' };
  // After the commit: a crash before this line leaves the object, which a later run does not see again.
  // NOTE: such a leftover original of a rejected version is not swept yet.
  await deps.storage.delete(version.object_key);
  log.info({ code: analysis.code, reason: analysis.reason, message: errorCatalog[analysis.code].en }, 'document rejected');
  return { status: 'rejected', code: analysis.code };
}
