import { z } from 'zod';
import { sweepExpiredUploads } from '../../lib/domain/document-uploads.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * Cron-triggered: aborts the multipart uploads that were started but not
 * confirmed within their 24 hours and deletes their rows, and forgets
 * confirmed uploads past the same expiry, so no orphan parts or rows stay.
 */
export const handler = httpFunction({
  name: 'document-upload-sweep',
  body: z.unknown(),
  handle: async (_input, deps) => {
    if (!deps.storage) return { body: { aborted: 0, forgotten: 0, skipped: 'no object storage' } };
    return { body: await sweepExpiredUploads({ db: deps.db, storage: deps.storage, log: deps.log }, deps.now()) };
  },
});
