/**
 * Uploads of meeting documents straight from the browser to the object store,
 * through presigned multipart uploads: the gateway hands out part links and
 * confirms the finished object, and never carries the bytes itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, DocumentUploadRow } from '../adapters/db/schema.ts';
import { appendToOutbox } from '../adapters/db/outbox.ts';
import { UploadNotFoundError, type ObjectStorage, type UploadedPart } from '../adapters/storage/storage.ts';
import { DEFAULT_DOCUMENT_MAX_BYTES, type StartUploadRequest } from '../contract/documents.ts';
import { eventSource, newEvent } from '../contract/events.ts';
import type { Logger } from '../log.ts';
import { HopError } from '../errors.ts';
import { actorOf, recordAudit } from './audit.ts';
import { actorId, checkFileName, titleFromFileName, uploadObjectKey } from './documents.ts';
import type { Principal } from './policy.ts';
import { foldForSearch } from './text-search.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Part size of an upload: 8 MiB, or more when the file needs more than S3's 10 000 parts. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Lifetime of the presigned part links, in seconds; a resumed upload gets fresh ones. */
export const PART_LINK_SECONDS = 60 * 60;
/** Time an upload may stay unconfirmed before the sweep aborts it. */
export const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

const source = eventSource('document-upload-confirm');

export interface UploadDependencies {
  db: Kysely<Database>;
  storage: ObjectStorage;
  log: Logger;
  now: () => Date;
  /** Largest accepted file (HOP_DOCUMENT_MAX_BYTES); DEFAULT_DOCUMENT_MAX_BYTES when undefined. */
  maxBytes?: number | undefined;
}

export interface UploadView {
  uploadId: string;
  documentId: string | null;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  partSize: number;
  partCount: number;
  expiresAt: string;
  uploadedParts: { partNumber: number; size: number }[];
  parts: { partNumber: number; url: string }[];
  partUrlExpiresIn: number;
}

/** The part size for a file: DEFAULT_PART_BYTES, rounded up to whole MiB when more than 10 000 parts would be needed. */
export function partSizeFor(sizeBytes: number): number {
  const mib = 1024 * 1024;
  return Math.max(DEFAULT_PART_BYTES, Math.ceil(sizeBytes / MAX_PARTS / mib) * mib);
}

/**
 * Starts an upload, or returns the pending one of the same person, meeting,
 * target document, file name, size and `lastModified`, so a reloaded page or
 * a second tab resumes it instead of sending the file again. Checks the file
 * name, size and target first (FILE_NAME_INVALID, FILE_TYPE_NOT_ALLOWED,
 * FILE_EMPTY, FILE_TOO_LARGE, DOCUMENT_NOT_FOUND, OCCURRENCE_NOT_FOUND,
 * AGENDA_ITEM_NOT_FOUND).
 */
export async function startUpload(deps: UploadDependencies, meetingId: string, principal: Principal, request: StartUploadRequest): Promise<UploadView> {
  const file = checkFileName(request.fileName);
  const maxBytes = deps.maxBytes ?? DEFAULT_DOCUMENT_MAX_BYTES;
  if (request.sizeBytes === 0) throw new HopError('FILE_EMPTY');
  if (request.sizeBytes > maxBytes) throw new HopError('FILE_TOO_LARGE', { details: { maxBytes, sizeBytes: request.sizeBytes } });
  await checkTarget(deps.db, meetingId, request);

  const creator = actorId(principal);
  const resumeKey = createHash('sha256')
    .update(JSON.stringify([creator, meetingId, request.documentId ?? '', file.name, request.sizeBytes, request.lastModified ?? null]))
    .digest('hex');
  const existing = await pendingUpload(deps.db, resumeKey, deps.now());
  if (existing) return describeUpload(deps, existing);

  const uploadId = randomUUID();
  const objectKey = uploadObjectKey(meetingId, uploadId);
  const partSize = partSizeFor(request.sizeBytes);
  const storageUploadId = await deps.storage.createMultipartUpload(objectKey, { contentType: file.mime });
  const now = deps.now();
  const inserted = await deps.db
    .insertInto('document_upload')
    .values({
      id: uploadId,
      meeting_id: meetingId,
      document_id: request.documentId ?? null,
      occurrence_id: request.occurrenceId ?? null,
      agenda_index: request.agendaIndex ?? null,
      title: request.title ?? titleFromFileName(file.name),
      kind: request.kind,
      visibility: request.visibility,
      note: request.note ?? null,
      file_name: file.name,
      content_type: file.mime,
      size_bytes: request.sizeBytes,
      part_size: partSize,
      part_count: Math.ceil(request.sizeBytes / partSize),
      object_key: objectKey,
      storage_upload_id: storageUploadId,
      resume_key: resumeKey,
      created_by: creator,
      status: 'pending',
      created_at: now,
      expires_at: new Date(now.getTime() + UPLOAD_TTL_MS),
    })
    .onConflict((oc) => oc.column('resume_key').where('status', '=', 'pending').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return describeUpload(deps, inserted);

  // The same upload was started at the same moment (two tabs, a double click): keep the other one.
  await deps.storage.abortMultipartUpload(objectKey, storageUploadId);
  const winner = await pendingUpload(deps.db, resumeKey, deps.now());
  if (!winner) throw new Error(`upload ${resumeKey} lost an insert race but no pending row exists`);
  return describeUpload(deps, winner);
}

async function pendingUpload(db: Db, resumeKey: string, now: Date): Promise<DocumentUploadRow | undefined> {
  return db
    .selectFrom('document_upload')
    .selectAll()
    .where('resume_key', '=', resumeKey)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

async function checkTarget(db: Db, meetingId: string, request: StartUploadRequest): Promise<void> {
  if (request.documentId) {
    const document = await db.selectFrom('document').select('id').where('id', '=', request.documentId).where('meeting_id', '=', meetingId).executeTakeFirst();
    if (!document) throw new HopError('DOCUMENT_NOT_FOUND', { details: { documentId: request.documentId } });
  }
  if (request.occurrenceId) {
    const occurrence = await db
      .selectFrom('meeting_occurrence')
      .select('id')
      .where('id', '=', request.occurrenceId)
      .where('meeting_id', '=', meetingId)
      .executeTakeFirst();
    if (!occurrence) throw new HopError('OCCURRENCE_NOT_FOUND', { details: { occurrenceId: request.occurrenceId } });
  }
  if (request.agendaIndex !== undefined) {
    const meeting = await db.selectFrom('meeting').select('agenda').where('id', '=', meetingId).executeTakeFirstOrThrow();
    const agenda = Array.isArray(meeting.agenda) ? meeting.agenda : [];
    if (request.agendaIndex >= agenda.length) throw new HopError('AGENDA_ITEM_NOT_FOUND', { details: { agendaIndex: request.agendaIndex, agendaItems: agenda.length } });
  }
}

/** Loads a pending upload of this person in this meeting; UPLOAD_NOT_FOUND for anyone else's, an expired or an unknown one. */
export async function findUpload(db: Db, meetingId: string, uploadId: string | undefined, principal: Principal, now: Date): Promise<DocumentUploadRow> {
  if (!uploadId || !/^[0-9a-f-]{36}$/i.test(uploadId)) throw new HopError('UPLOAD_NOT_FOUND', { details: { uploadId } });
  const row = await db
    .selectFrom('document_upload')
    .selectAll()
    .where('id', '=', uploadId)
    .where('meeting_id', '=', meetingId)
    .where('created_by', '=', actorId(principal))
    .executeTakeFirst();
  if (!row || new Date(row.expires_at) <= now) throw new HopError('UPLOAD_NOT_FOUND', { details: { uploadId } });
  return row;
}

/** Returns the upload with the parts already received and fresh links for the missing ones. */
export async function describeUpload(deps: UploadDependencies, row: DocumentUploadRow): Promise<UploadView> {
  let received: UploadedPart[];
  try {
    received = await deps.storage.listUploadedParts(row.object_key, row.storage_upload_id);
  } catch (error) {
    if (error instanceof UploadNotFoundError) throw new HopError('UPLOAD_NOT_FOUND', { details: { uploadId: row.id } });
    throw error;
  }
  const complete = new Set(received.filter((part) => part.size === expectedPartSize(row, part.partNumber)).map((part) => part.partNumber));
  const parts: { partNumber: number; url: string }[] = [];
  for (let partNumber = 1; partNumber <= row.part_count; partNumber += 1) {
    if (complete.has(partNumber)) continue;
    parts.push({
      partNumber,
      url: await deps.storage.signedUploadPartUrl(row.object_key, row.storage_upload_id, partNumber, { expiresIn: PART_LINK_SECONDS }),
    });
  }
  return {
    uploadId: row.id,
    documentId: row.document_id,
    fileName: row.file_name,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    partSize: row.part_size,
    partCount: row.part_count,
    expiresAt: new Date(row.expires_at).toISOString(),
    uploadedParts: received.filter((part) => complete.has(part.partNumber)).map((part) => ({ partNumber: part.partNumber, size: part.size })),
    parts,
    partUrlExpiresIn: PART_LINK_SECONDS,
  };
}

function expectedPartSize(row: DocumentUploadRow, partNumber: number): number {
  const size = Number(row.size_bytes);
  if (partNumber < row.part_count) return row.part_size;
  return size - row.part_size * (row.part_count - 1);
}

export interface ConfirmedUpload {
  documentId: string;
  versionId: string;
  version: number;
  /** False when this confirm found the upload already confirmed and returned the earlier result. */
  created: boolean;
}

/**
 * Completes the multipart upload, checks the object's size, and in one
 * transaction creates the document (or its next version), the
 * `document.uploaded` event and the audit record. The upload row is locked
 * for the whole call, so two confirms at once make one version: the second
 * returns the first one's result. Missing parts leave the upload as it is
 * (UPLOAD_INCOMPLETE) so the browser can send them; a size that differs
 * from the declared one aborts the upload (UPLOAD_SIZE_MISMATCH).
 */
export async function confirmUpload(deps: UploadDependencies, meetingId: string, uploadId: string | undefined, principal: Principal, request: { ip: string | null; requestId: string | null }): Promise<ConfirmedUpload> {
  const initial = await findUpload(deps.db, meetingId, uploadId, principal, deps.now());

  const outcome = await deps.db.transaction().execute(async (trx): Promise<ConfirmedUpload | HopError> => {
    const row = await trx.selectFrom('document_upload').selectAll().where('id', '=', initial.id).forUpdate().executeTakeFirst();
    if (!row) throw new HopError('UPLOAD_NOT_FOUND', { details: { uploadId } });
    if (row.status === 'confirmed' && row.version_id) {
      const version = await trx.selectFrom('document_version').select(['id', 'document_id', 'version']).where('id', '=', row.version_id).executeTakeFirstOrThrow();
      return { documentId: version.document_id, versionId: version.id, version: version.version, created: false };
    }

    // A size mismatch deletes the upload row in this transaction, so the error is returned and thrown after the commit.
    const mismatch = await completeObject(trx, deps, row);
    if (mismatch) return mismatch;

    try {
      return await createVersion(trx, deps, row, principal, deps.now(), request);
    } catch (error) {
      // The transaction rolls back, so the completed object would be left without a version.
      await deps.storage.delete(row.object_key).catch((cleanup: unknown) => deps.log.error({ err: cleanup, key: row.object_key }, 'could not delete the object of a failed confirm'));
      throw error;
    }
  });
  if (outcome instanceof HopError) throw outcome;
  return outcome;
}

/**
 * Checks the received parts and completes the object. Throws UPLOAD_INCOMPLETE
 * while parts are missing; returns UPLOAD_SIZE_MISMATCH, after discarding the
 * upload and its row, when the sizes differ from the declared ones.
 */
async function completeObject(trx: Transaction<Database>, deps: UploadDependencies, row: DocumentUploadRow): Promise<HopError | null> {
  const declared = Number(row.size_bytes);
  let parts: UploadedPart[];
  try {
    parts = await deps.storage.listUploadedParts(row.object_key, row.storage_upload_id);
  } catch (error) {
    if (error instanceof UploadNotFoundError) throw new HopError('UPLOAD_NOT_FOUND', { details: { uploadId: row.id } });
    throw error;
  }
  const byNumber = new Map(parts.map((part) => [part.partNumber, part]));
  const missing: number[] = [];
  for (let partNumber = 1; partNumber <= row.part_count; partNumber += 1) if (!byNumber.has(partNumber)) missing.push(partNumber);
  if (missing.length > 0) throw new HopError('UPLOAD_INCOMPLETE', { details: { missingParts: missing.slice(0, 100), partCount: row.part_count } });

  const wanted = parts.filter((part) => part.partNumber <= row.part_count);
  const received = wanted.reduce((sum, part) => sum + part.size, 0);
  const wrongPart = wanted.find((part) => part.size !== expectedPartSize(row, part.partNumber));
  if (received !== declared || wrongPart) {
    await deps.storage.abortMultipartUpload(row.object_key, row.storage_upload_id);
    await trx.deleteFrom('document_upload').where('id', '=', row.id).execute();
    return new HopError('UPLOAD_SIZE_MISMATCH', { details: { declaredBytes: declared, receivedBytes: received, partNumber: wrongPart?.partNumber ?? null } });
  }

  await deps.storage.completeMultipartUpload(row.object_key, row.storage_upload_id, wanted);
  const info = await deps.storage.head(row.object_key);
  if (!info || info.size !== declared) {
    await deps.storage.delete(row.object_key);
    await trx.deleteFrom('document_upload').where('id', '=', row.id).execute();
    return new HopError('UPLOAD_SIZE_MISMATCH', { details: { declaredBytes: declared, receivedBytes: info?.size ?? 0 } });
  }
  return null;
}

async function createVersion(
  trx: Transaction<Database>,
  deps: UploadDependencies,
  row: DocumentUploadRow,
  principal: Principal,
  now: Date,
  request: { ip: string | null; requestId: string | null },
): Promise<ConfirmedUpload> {
  let documentId = row.document_id;
  let versionNumber = 1;
  if (documentId) {
    // The lock orders concurrent new versions of one document.
    const document = await trx.selectFrom('document').select('id').where('id', '=', documentId).forUpdate().executeTakeFirst();
    if (!document) throw new HopError('DOCUMENT_NOT_FOUND', { details: { documentId } });
    const last = await trx.selectFrom('document_version').select((eb) => eb.fn.max('version').as('max')).where('document_id', '=', documentId).executeTakeFirst();
    versionNumber = Number(last?.max ?? 0) + 1;
    await trx.updateTable('document').set({ updated_at: now }).where('id', '=', documentId).execute();
  } else {
    documentId = randomUUID();
    await trx
      .insertInto('document')
      .values({
        id: documentId,
        meeting_id: row.meeting_id,
        occurrence_id: row.occurrence_id,
        agenda_index: row.agenda_index,
        title: row.title,
        title_search: foldForSearch(row.title),
        kind: row.kind,
        visibility: row.visibility,
        created_by: row.created_by,
        updated_at: now,
      })
      .execute();
  }

  const versionId = randomUUID();
  await trx
    .insertInto('document_version')
    .values({
      id: versionId,
      document_id: documentId,
      meeting_id: row.meeting_id,
      version: versionNumber,
      file_name: row.file_name,
      claimed_type: row.content_type,
      size_bytes: Number(row.size_bytes),
      object_key: row.object_key,
      note: row.note,
      uploaded_by: row.created_by,
      uploaded_at: now,
      status: 'processing',
    })
    .execute();
  await trx.updateTable('document_upload').set({ status: 'confirmed', version_id: versionId }).where('id', '=', row.id).execute();

  const actor = actorOf(principal);
  const event = newEvent(
    'vn.hop.document.uploaded.v1',
    {
      meetingId: row.meeting_id,
      documentId,
      versionId,
      version: versionNumber,
      occurrenceId: row.occurrence_id,
      agendaIndex: row.agenda_index,
      fileName: row.file_name,
      claimedType: row.content_type,
      sizeBytes: Number(row.size_bytes),
      objectKey: row.object_key,
      uploadedBy: { kind: actor.kind === 'api-key' ? 'api-key' : 'user', id: actor.id },
    },
    { source, subject: row.meeting_id, time: now },
  );
  await appendToOutbox(trx, event, row.meeting_id);
  await recordAudit(trx, {
    principal,
    action: 'document.uploaded',
    entityType: 'document',
    entityId: documentId,
    before: null,
    after: { meetingId: row.meeting_id, versionId, version: versionNumber, fileName: row.file_name, sizeBytes: Number(row.size_bytes), title: row.title, visibility: row.visibility },
    ip: request.ip,
    requestId: request.requestId,
    at: now,
  });
  deps.log.info({ meetingId: row.meeting_id, documentId, versionId, version: versionNumber }, 'document upload confirmed');
  return { documentId, versionId, version: versionNumber, created: true };
}

/** Aborts the multipart upload and deletes its row. */
export async function discardUpload(deps: Pick<UploadDependencies, 'db' | 'storage'>, row: Pick<DocumentUploadRow, 'id' | 'object_key' | 'storage_upload_id'>): Promise<void> {
  await deps.storage.abortMultipartUpload(row.object_key, row.storage_upload_id);
  await deps.db.deleteFrom('document_upload').where('id', '=', row.id).execute();
}

/**
 * Aborts every pending upload past its expiry and deletes its row, and deletes
 * confirmed rows past their expiry (their version is kept). Returns the counts.
 */
export async function sweepExpiredUploads(deps: Pick<UploadDependencies, 'db' | 'storage' | 'log'>, now: Date, limit = 500): Promise<{ aborted: number; forgotten: number }> {
  const expired = await deps.db
    .selectFrom('document_upload')
    .select(['id', 'object_key', 'storage_upload_id', 'status'])
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  let aborted = 0;
  let forgotten = 0;
  for (const row of expired) {
    if (row.status === 'pending') {
      await discardUpload(deps, row);
      aborted += 1;
    } else {
      await deps.db.deleteFrom('document_upload').where('id', '=', row.id).execute();
      forgotten += 1;
    }
  }
  if (aborted + forgotten > 0) deps.log.info({ aborted, forgotten }, 'expired document uploads swept');
  return { aborted, forgotten };
}
