/**
 * Meeting documents: file-name rules, object keys, who sees which document
 * when, and the document list as the API returns it. Uploading is in
 * document-uploads.ts, processing in document-processing.ts.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, DocumentRow, DocumentVersionRow } from '../adapters/db/schema.ts';
import type { ObjectStorage } from '../adapters/storage/storage.ts';
import { documentTypes, type DocumentExtension } from '../contract/documents.ts';
import { errorCatalog, HopError, type ErrorCode } from '../errors.ts';
import { decide, type MeetingContext, type Principal } from './policy.ts';
import { foldForSearch } from './text-search.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Largest file name, in UTF-8 bytes: what Linux file systems allow, so a downloaded file can be saved under its name. */
export const MAX_FILE_NAME_BYTES = 255;
/** Lifetime of download links, in seconds. */
export const DOWNLOAD_LINK_SECONDS = 120;
/** Lifetime of thumbnail links in the document list, in seconds. */
export const THUMBNAIL_LINK_SECONDS = 600;

// C0 controls, DEL, C1 controls, and the bidirectional overrides that can disguise an extension ("gpj.exe").
const fileNameControls = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface CheckedFileName {
  /** NFC, trimmed. */
  name: string;
  extension: DocumentExtension;
  mime: string;
}

/**
 * Checks a file name as the browser sends it and returns it in NFC with its
 * allowed extension. Throws FILE_NAME_INVALID (details.reason) for an empty
 * name, a `/` or `\`, a control or bidirectional-override character, an
 * unpaired surrogate, `.` or `..`, or more than 255 UTF-8 bytes, and
 * FILE_TYPE_NOT_ALLOWED for an extension outside `documentTypes`.
 */
export function checkFileName(raw: string): CheckedFileName {
  const invalid = (reason: string) => new HopError('FILE_NAME_INVALID', { details: { reason } });
  if (unpairedSurrogate.test(raw)) throw invalid('the name is not valid Unicode');
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) throw invalid('the name is empty');
  if (name.includes('/') || name.includes('\\')) throw invalid('the name contains a path separator');
  if (fileNameControls.test(name)) throw invalid('the name contains control characters');
  if (name === '.' || name === '..') throw invalid('the name is . or ..');
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_FILE_NAME_BYTES) throw invalid(`the name has ${bytes} UTF-8 bytes, more than ${MAX_FILE_NAME_BYTES}`);

  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (!Object.hasOwn(documentTypes, extension)) {
    throw new HopError('FILE_TYPE_NOT_ALLOWED', { details: { extension, allowed: Object.keys(documentTypes) } });
  }
  const type = documentTypes[extension as DocumentExtension];
  return { name, extension: extension as DocumentExtension, mime: type.mime };
}

/** Returns the file name without its extension, the default title of a new document. */
export function titleFromFileName(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name).trim().slice(0, 300) || name;
}

/** Object key of an upload's original bytes; the version keeps it after confirmation. */
export function uploadObjectKey(meetingId: string, uploadId: string): string {
  return `documents/${meetingId}/originals/${uploadId}`;
}

/** Object keys of a version's renditions: the same for every processing run, so a second run overwrites the first. */
export function renditionKeys(meetingId: string, versionId: string): { thumbnail: string; pdf: string } {
  const base = `documents/${meetingId}/renditions/${versionId}`;
  return { thumbnail: `${base}/thumbnail.png`, pdf: `${base}/document.pdf` };
}

/** Returns when a document becomes readable for people who do not manage the meeting, or null when it is readable from the invitation on. */
export function visibleFrom(
  document: Pick<DocumentRow, 'visibility' | 'occurrence_id'>,
  meetingStartsAt: Date,
  occurrenceStarts: ReadonlyMap<string, Date>,
): Date | null {
  if (document.visibility === 'in_advance') return null;
  return (document.occurrence_id ? occurrenceStarts.get(document.occurrence_id) : undefined) ?? meetingStartsAt;
}

/** Returns the id the database stores for the author of an upload. */
export function actorId(principal: Principal): string {
  if (principal.kind === 'user') return principal.userId;
  if (principal.kind === 'api-key') return principal.keyId;
  throw new HopError('AUTH_REQUIRED');
}

/** Returns whether `principal` manages the meeting (chair, secretary, organiser of the unit, admin), who reads every document at any time. */
export function managesMeeting(principal: Principal, meeting: MeetingContext): boolean {
  return decide(principal, 'meeting.update', { meeting }).allow;
}

export interface DocumentVersionView {
  id: string;
  version: number;
  fileName: string;
  note: string | null;
  sizeBytes: number;
  uploadedBy: { id: string; name: string | null };
  uploadedAt: string;
  status: DocumentVersionRow['status'];
  detectedType: string | null;
  sha256: string | null;
  pageCount: number | null;
  hasPdf: boolean;
  conversion: DocumentVersionRow['conversion'];
  conversionError: string | null;
  thumbnailUrl: string | null;
  rejection: { code: string; message: string; message_en: string } | null;
}

export interface DocumentView {
  id: string;
  title: string;
  kind: DocumentRow['kind'];
  visibility: DocumentRow['visibility'];
  visibleFrom: string | null;
  occurrenceId: string | null;
  agendaIndex: number | null;
  agendaTitle: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** The newest version that is not rejected, or null while every version is rejected. */
  latest: DocumentVersionView | null;
  versions: DocumentVersionView[];
  /** The version this reader opened last, or null when never. */
  lastReadVersion: number | null;
  /** True when the latest version is newer than the one this reader opened last (or they never opened it). */
  changedSinceRead: boolean;
}

export interface ListDocumentsOptions {
  meetingId: string;
  principal: Principal;
  meeting: MeetingContext;
  storage: ObjectStorage | null;
  now: Date;
  /** Search text; matched against titles and extracted text without case or diacritics. */
  query?: string | undefined;
  /** Only this document. */
  documentId?: string;
}

/**
 * Lists the meeting's documents this principal may see, newest first, with
 * every version newest first. People who do not manage the meeting see a
 * `meeting_only` document from its start on, and rejected versions only of
 * their own uploads.
 */
export async function listDocuments(db: Db, options: ListDocumentsOptions): Promise<DocumentView[]> {
  const { meetingId, principal, now } = options;
  const manager = managesMeeting(principal, options.meeting);
  const me = principal.kind === 'anonymous' ? '' : actorId(principal);

  let documentsQuery = db.selectFrom('document').selectAll().where('meeting_id', '=', meetingId).orderBy('created_at', 'desc').orderBy('id');
  if (options.documentId) documentsQuery = documentsQuery.where('id', '=', options.documentId);
  const folded = options.query ? foldForSearch(options.query) : '';
  if (folded) {
    const pattern = `%${folded.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
    documentsQuery = documentsQuery.where((eb) =>
      eb.or([
        eb('title_search', 'like', pattern),
        eb.exists(
          eb
            .selectFrom('document_version')
            .select(sql`1`.as('one'))
            .whereRef('document_version.document_id', '=', 'document.id')
            .where('document_version.status', '=', 'ready')
            .where('document_version.text_search', 'like', pattern),
        ),
      ]),
    );
  }
  const documents = await documentsQuery.execute();
  if (documents.length === 0) return [];

  const ids = documents.map((document) => document.id);
  const versions = await db
    .selectFrom('document_version')
    .leftJoin('app_user', (join) => join.on(sql`app_user.id::text`, '=', sql.ref('document_version.uploaded_by')))
    .select([
      'document_version.id',
      'document_version.document_id',
      'document_version.version',
      'document_version.file_name',
      'document_version.note',
      'document_version.size_bytes',
      'document_version.uploaded_by',
      'document_version.uploaded_at',
      'document_version.status',
      'document_version.detected_type',
      'document_version.sha256',
      'document_version.page_count',
      'document_version.pdf_key',
      'document_version.thumbnail_key',
      'document_version.conversion',
      'document_version.conversion_error',
      'document_version.rejected_code',
      'app_user.display_name',
    ])
    .where('document_version.document_id', 'in', ids)
    .orderBy('document_version.version', 'desc')
    .execute();
  const reads = me
    ? await db.selectFrom('document_read').select(['document_id', 'version']).where('user_id', '=', me).where('document_id', 'in', ids).execute()
    : [];
  const lastRead = new Map(reads.map((read) => [read.document_id, read.version]));

  const meetingRow = await db.selectFrom('meeting').select(['starts_at', 'agenda']).where('id', '=', meetingId).executeTakeFirstOrThrow();
  const occurrences = await db.selectFrom('meeting_occurrence').select(['id', 'starts_at']).where('meeting_id', '=', meetingId).execute();
  const occurrenceStarts = new Map(occurrences.map((row) => [row.id, new Date(row.starts_at)]));
  const agenda = Array.isArray(meetingRow.agenda) ? meetingRow.agenda : [];

  const views: DocumentView[] = [];
  for (const document of documents) {
    const from = visibleFrom(document, new Date(meetingRow.starts_at), occurrenceStarts);
    const ownDocument = document.created_by === me;
    if (!manager && !ownDocument && from !== null && now < from) continue;

    const own = versions.filter((version) => version.document_id === document.id);
    const visible = own.filter((version) => version.status !== 'rejected' || manager || version.uploaded_by === me);
    if (visible.length === 0) continue;

    const versionViews: DocumentVersionView[] = [];
    for (const version of visible) {
      versionViews.push({
        id: version.id,
        version: version.version,
        fileName: version.file_name,
        note: version.note,
        sizeBytes: Number(version.size_bytes),
        uploadedBy: { id: version.uploaded_by, name: version.display_name ?? null },
        uploadedAt: new Date(version.uploaded_at).toISOString(),
        status: version.status,
        detectedType: version.detected_type,
        sha256: version.sha256,
        pageCount: version.page_count,
        hasPdf: version.pdf_key !== null,
        conversion: version.conversion,
        conversionError: version.conversion_error,
        thumbnailUrl:
          version.thumbnail_key && options.storage
            ? await options.storage.signedDownloadUrl(version.thumbnail_key, { expiresIn: THUMBNAIL_LINK_SECONDS })
            : null,
        rejection: version.rejected_code ? rejectionOf(version.rejected_code) : null,
      });
    }
    const latest = versionViews.find((version) => version.status !== 'rejected') ?? null;
    const readVersion = lastRead.get(document.id) ?? null;
    views.push({
      id: document.id,
      title: document.title,
      kind: document.kind,
      visibility: document.visibility,
      visibleFrom: from ? from.toISOString() : null,
      occurrenceId: document.occurrence_id,
      agendaIndex: document.agenda_index,
      agendaTitle: document.agenda_index === null ? null : (agenda[document.agenda_index]?.title ?? null),
      createdBy: document.created_by,
      createdAt: new Date(document.created_at).toISOString(),
      updatedAt: new Date(document.updated_at).toISOString(),
      latest,
      versions: versionViews,
      lastReadVersion: readVersion,
      changedSinceRead: latest !== null && (readVersion === null || latest.version > readVersion),
    });
  }
  return views;
}

/** The rejection reason in both languages, from the error catalogue. */
export function rejectionOf(code: string): { code: string; message: string; message_en: string } {
  const definition = Object.hasOwn(errorCatalog, code) ? errorCatalog[code as ErrorCode] : errorCatalog.DOCUMENT_DAMAGED;
  return { code, message: definition.vi, message_en: definition.en };
}
