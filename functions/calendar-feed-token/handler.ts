import { z } from 'zod';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { feedPath, hashFeedToken, newFeedToken } from '../../lib/domain/calendar-feed.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * POST /api/v1/calendar/feed-token: creates the signed-in person's calendar
 * feed link, or replaces it so the old link stops working. The token is
 * returned once (the gateway checks calendar.feed, which is for people only).
 */
export const handler = httpFunction({
  name: 'calendar-feed-token',
  body: z.object({}).strict(),
  handle: async ({ principal, headers }, deps) => {
    if (principal.kind !== 'user') throw new HopError('PERMISSION_DENIED', { details: { action: 'calendar.feed' } });
    const token = newFeedToken();
    const now = deps.now();
    await deps.db.transaction().execute(async (trx) => {
      const previous = await trx.selectFrom('calendar_feed_token').select('created_at').where('user_id', '=', principal.userId).forUpdate().executeTakeFirst();
      await trx
        .insertInto('calendar_feed_token')
        .values({ user_id: principal.userId, token_hash: hashFeedToken(token), created_at: now, last_used_at: null })
        .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ token_hash: hashFeedToken(token), created_at: now, last_used_at: null }))
        .execute();
      await recordAudit(trx, {
        principal,
        action: 'calendar-feed.rotated',
        entityType: 'calendar-feed',
        entityId: principal.userId,
        before: previous ? { createdAt: new Date(previous.created_at).toISOString() } : null,
        after: { createdAt: now.toISOString() },
        ...requestMetadata(headers),
        at: now,
      });
    });
    return { status: 201, body: { token, feedPath: feedPath(token), createdAt: now.toISOString() } };
  },
});
