import { confirmUploadRequestSchema } from '../../lib/contract/documents.ts';
import { requestMetadata } from '../../lib/domain/audit.ts';
import { confirmUpload } from '../../lib/domain/document-uploads.ts';
import { listDocuments } from '../../lib/domain/documents.ts';
import { authorizeMeeting, loadMeetingContext } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * POST /api/v1/meetings/:id/uploads/:uploadId/confirm: completes the upload,
 * checks the object's size, and creates the document or its next version
 * (status `processing`) with `document.uploaded`. Returns 201 with the
 * document, or 200 with it when this upload was confirmed before.
 */
export const handler = httpFunction({
  name: 'document-upload-confirm',
  body: confirmUploadRequestSchema,
  handle: async ({ params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'document.upload');
    if (!deps.storage) throw new HopError('UNAVAILABLE', { details: { reason: 'no object storage is configured' } });
    const confirmed = await confirmUpload(
      { db: deps.db, storage: deps.storage, log: deps.log, now: deps.now },
      meetingId,
      params.uploadId,
      principal,
      requestMetadata(headers),
    );

    const meeting = await loadMeetingContext(deps.db, meetingId, principal);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    const [document] = await listDocuments(deps.db, { meetingId, principal, meeting, storage: deps.storage, now: deps.now(), documentId: confirmed.documentId });
    return { status: confirmed.created ? 201 : 200, body: { ...confirmed, document: document ?? null } };
  },
});
