import { z } from 'zod';
import { describeUpload, findUpload } from '../../lib/domain/document-uploads.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/uploads/:uploadId: the caller's pending upload with
 * the parts already received and fresh links for the missing ones, so a
 * browser resumes after a dropped connection without sending received parts again.
 */
export const handler = httpFunction({
  name: 'document-upload-get',
  body: z.object({}),
  handle: async ({ params, principal }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'document.upload');
    if (!deps.storage) throw new HopError('UNAVAILABLE', { details: { reason: 'no object storage is configured' } });
    const row = await findUpload(deps.db, meetingId, params.uploadId, principal, deps.now());
    if (row.status !== 'pending') throw new HopError('UPLOAD_NOT_FOUND', { details: { uploadId: row.id, status: row.status } });
    return { body: await describeUpload({ db: deps.db, storage: deps.storage, log: deps.log, now: deps.now }, row) };
  },
});
