import { z } from 'zod';
import { listDocumentsQuerySchema } from '../../lib/contract/documents.ts';
import { listDocuments } from '../../lib/domain/documents.ts';
import { authorizeMeeting, loadMeetingContext } from '../../lib/domain/meeting-access.ts';
import { decide } from '../../lib/domain/policy.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/documents[?q=]: the meeting's documents the caller
 * may read, each with its versions, processing state, thumbnail link and
 * whether it changed since the caller last opened it. `q` searches titles and
 * extracted text, ignoring case and Vietnamese diacritics. `canUpload` tells
 * whether the policy lets the caller upload, so the page can leave out the
 * upload forms for observers.
 */
export const handler = httpFunction({
  name: 'document-list',
  body: z.object({}),
  handle: async ({ params, principal, query }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'document.read');
    const { q } = parseOrThrow(listDocumentsQuerySchema, query);
    const meeting = await loadMeetingContext(deps.db, meetingId, principal);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    const now = deps.now();
    const documents = await listDocuments(deps.db, { meetingId, principal, meeting, storage: deps.storage, now, query: q });
    const canUpload = decide(principal, 'document.upload', { meeting, now }).allow;
    return { body: { documents, canUpload } };
  },
});
