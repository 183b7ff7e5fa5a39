import { startUploadRequestSchema } from '../../lib/contract/documents.ts';
import { startUpload } from '../../lib/domain/document-uploads.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * POST /api/v1/meetings/:id/uploads: starts a presigned multipart upload of a
 * meeting document (or of a new version of one), or resumes the caller's
 * pending upload of the same file. Returns 201 with a PUT link per part; the
 * browser sends the parts to the object store and then confirms.
 */
export const handler = httpFunction({
  name: 'document-upload-start',
  body: startUploadRequestSchema,
  handle: async ({ body, params, principal }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'document.upload');
    if (!deps.storage) throw new HopError('UNAVAILABLE', { details: { reason: 'no object storage is configured' } });
    const upload = await startUpload({ db: deps.db, storage: deps.storage, log: deps.log, now: deps.now, maxBytes: deps.documentMaxBytes }, meetingId, principal, body);
    return { status: 201, body: upload };
  },
});
