import { z } from 'zod';
import { text } from './meeting.ts';

/**
 * The file types a meeting document may have, by file-name extension: the MIME
 * type the upload is stored with, and whether LibreOffice renders it to PDF
 * for viewing in the browser. Processing checks the content against the type
 * the extension claims.
 */
export const documentTypes = {
  pdf: { mime: 'application/pdf', office: false },
  docx: { mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', office: true },
  xlsx: { mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', office: true },
  pptx: { mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', office: true },
  odt: { mime: 'application/vnd.oasis.opendocument.text', office: true },
  png: { mime: 'image/png', office: false },
  jpg: { mime: 'image/jpeg', office: false },
  jpeg: { mime: 'image/jpeg', office: false },
  gif: { mime: 'image/gif', office: false },
  webp: { mime: 'image/webp', office: false },
  txt: { mime: 'text/plain', office: false },
} as const satisfies Record<string, { mime: string; office: boolean }>;

export type DocumentExtension = keyof typeof documentTypes;
export const allowedDocumentMimeTypes: ReadonlySet<string> = new Set(Object.values(documentTypes).map((type) => type.mime));
export const officeMimeTypes: ReadonlySet<string> = new Set(Object.values(documentTypes).filter((type) => type.office).map((type) => type.mime));

/** Default largest upload (HOP_DOCUMENT_MAX_BYTES). */
export const DEFAULT_DOCUMENT_MAX_BYTES = 200 * 1024 * 1024;

const documentKind = z.enum(['document', 'report']);
const documentVisibility = z.enum(['in_advance', 'meeting_only']);

/**
 * POST /api/v1/meetings/:id/uploads: start (or resume) an upload. Without
 * `documentId` the upload becomes a new document titled `title` (the file
 * name without its extension by default); with it, a new version of that
 * document. `lastModified` (the browser's File.lastModified) tells two files
 * of the same name and size apart when an upload is resumed.
 */
export const startUploadRequestSchema = z
  .object({
    fileName: z.string().min(1).max(2000),
    sizeBytes: z.number().int().nonnegative(),
    lastModified: z.number().int().nonnegative().optional(),
    documentId: z.uuid().optional(),
    title: text(300).optional(),
    note: text(1000, { multiline: true }).optional(),
    kind: documentKind.default('document'),
    visibility: documentVisibility.default('in_advance'),
    occurrenceId: z.uuid().optional(),
    agendaIndex: z.number().int().nonnegative().max(99).optional(),
  })
  .strict();

export type StartUploadRequest = z.output<typeof startUploadRequestSchema>;

export const uploadPartSchema = z.object({ partNumber: z.number().int().positive(), url: z.string() });

/** The upload as the browser needs it: where each missing part goes, and which parts already arrived. */
export const uploadResponseSchema = z.object({
  uploadId: z.uuid(),
  documentId: z.uuid().nullable(),
  fileName: z.string(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  partSize: z.number().int(),
  partCount: z.number().int(),
  expiresAt: z.iso.datetime(),
  /** Parts already received, with their sizes; the browser skips them. */
  uploadedParts: z.array(z.object({ partNumber: z.number().int(), size: z.number().int() })),
  /** Presigned PUT links of the parts still missing; they expire after `partUrlExpiresIn` seconds. */
  parts: z.array(uploadPartSchema),
  partUrlExpiresIn: z.number().int(),
});

export const confirmUploadRequestSchema = z.object({}).strict();

export const downloadQuerySchema = z
  .object({
    version: z.coerce.number().int().positive().optional(),
    variant: z.enum(['original', 'pdf']).default('original'),
    disposition: z.enum(['attachment', 'inline']).default('attachment'),
  })
  .strict();

export const listDocumentsQuerySchema = z
  .object({
    q: z.string().max(200).optional(),
  })
  .strict();
