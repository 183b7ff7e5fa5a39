import { processDocumentVersion } from '../../lib/domain/document-processing.ts';
import { eventFunction } from '../../lib/runtime/event-function.ts';

/**
 * Processes each `document.uploaded` of hop.documents.v1: detects the type,
 * hashes, counts pages, renders the thumbnail and the PDF of office files,
 * extracts the search text, and emits `document.processed` or
 * `document.rejected`. A repeated event or a version processed before is
 * skipped. Without object storage the event fails and the bridge retries it.
 */
export const handler = eventFunction({
  name: 'document-process',
  on: {
    'vn.hop.document.uploaded.v1': async (event, deps) => {
      if (!deps.storage) throw new Error('document-process needs object storage, and none is configured');
      const outcome = await processDocumentVersion({ db: deps.db, storage: deps.storage, log: deps.log, now: deps.now }, event.id, event.data.versionId);
      deps.log.info({ fn: 'document-process', eventId: event.id, versionId: event.data.versionId, outcome: outcome.status }, 'document event handled');
    },
  },
});
