import { z } from 'zod';
import { downloadQuerySchema } from '../../lib/contract/documents.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { actorId, DOWNLOAD_LINK_SECONDS, listDocuments } from '../../lib/domain/documents.ts';
import { authorizeMeeting, loadMeetingContext } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/documents/:documentId/download[?version=&variant=&disposition=]:
 * a signed link to one version (the latest by default), valid for
 * HOP_DOCUMENT_LINK_SECONDS (120 by default). `variant=pdf` is the PDF rendition of an office
 * document. Each call is audited and marks the version as read by the caller.
 * The document must be visible to the caller (list rules), and the version
 * `ready`: DOCUMENT_PROCESSING before, DOCUMENT_REJECTED after a rejection.
 */
export const handler = httpFunction({
  name: 'document-download',
  body: z.object({}),
  handle: async ({ params, principal, query, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'document.read');
    const options = parseOrThrow(downloadQuerySchema, query);
    if (!deps.storage) throw new HopError('UNAVAILABLE', { details: { reason: 'no object storage is configured' } });
    const meeting = await loadMeetingContext(deps.db, meetingId, principal);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const documentId = params.documentId ?? '';
    const notFound = () => new HopError('DOCUMENT_NOT_FOUND', { details: { documentId, version: options.version } });
    if (!/^[0-9a-f-]{36}$/i.test(documentId)) throw notFound();
    const [document] = await listDocuments(deps.db, { meetingId, principal, meeting, storage: null, now: deps.now(), documentId });
    if (!document) throw notFound();
    const view = options.version === undefined ? document.latest : document.versions.find((version) => version.version === options.version);
    if (!view) throw notFound();
    if (view.status === 'processing') throw new HopError('DOCUMENT_PROCESSING', { details: { documentId, version: view.version } });
    if (view.status === 'rejected') throw new HopError('DOCUMENT_REJECTED', { details: { documentId, version: view.version, code: view.rejection?.code } });

    const row = await deps.db.selectFrom('document_version').select(['object_key', 'pdf_key', 'claimed_type']).where('id', '=', view.id).executeTakeFirstOrThrow();
    const pdf = options.variant === 'pdf' && row.claimed_type !== 'application/pdf';
    if (pdf && !row.pdf_key) throw new HopError('DOCUMENT_NOT_FOUND', { details: { documentId, version: view.version, variant: 'pdf' } });
    const key = pdf ? row.pdf_key! : row.object_key;
    const fileName = pdf ? `${view.fileName.replace(/\.[^.]*$/, '')}.pdf` : view.fileName;
    const linkSeconds = deps.documentLinkSeconds ?? DOWNLOAD_LINK_SECONDS;
    const url = await deps.storage.signedDownloadUrl(key, {
      expiresIn: linkSeconds,
      downloadName: options.disposition === 'attachment' ? fileName : undefined,
    });

    const now = deps.now();
    await deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('document_read')
        .values({ user_id: actorId(principal), document_id: documentId, version: view.version, read_at: now })
        .onConflict((oc) =>
          oc.columns(['user_id', 'document_id']).doUpdateSet((eb) => ({
            version: eb.fn('greatest', [eb.ref('document_read.version'), eb.ref('excluded.version')]),
            read_at: now,
          })),
        )
        .execute();
      await recordAudit(trx, {
        principal,
        action: 'document.downloaded',
        entityType: 'document',
        entityId: documentId,
        before: null,
        after: { meetingId, versionId: view.id, version: view.version, variant: pdf ? 'pdf' : 'original', fileName },
        ...requestMetadata(headers),
        at: now,
      });
    });
    return {
      body: { url, expiresAt: new Date(now.getTime() + linkSeconds * 1000).toISOString(), fileName, version: view.version, variant: pdf ? 'pdf' : 'original' },
    };
  },
});
