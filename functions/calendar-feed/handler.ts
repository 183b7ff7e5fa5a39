import { z } from 'zod';
import { buildUserFeed, hashFeedToken } from '../../lib/domain/calendar-feed.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const feedFile = /^([A-Za-z0-9_-]{43})\.ics$/;

/**
 * GET /api/v1/calendar/feed/:file, where the file is `<token>.ics`: the
 * iCalendar feed of the person the token belongs to. The token is the only
 * credential, so an unknown token, or one of a disabled person, is 404.
 */
export const handler = httpFunction({
  name: 'calendar-feed',
  body: z.unknown(),
  handle: async ({ params }, deps) => {
    const token = feedFile.exec(params.file ?? '')?.[1];
    if (!token) throw new HopError('CALENDAR_FEED_NOT_FOUND');
    const owner = await deps.db
      .selectFrom('calendar_feed_token')
      .innerJoin('app_user', 'app_user.id', 'calendar_feed_token.user_id')
      .select(['calendar_feed_token.user_id', 'app_user.disabled_at'])
      .where('calendar_feed_token.token_hash', '=', hashFeedToken(token))
      .executeTakeFirst();
    if (!owner || owner.disabled_at) throw new HopError('CALENDAR_FEED_NOT_FOUND');

    const now = deps.now();
    const body = await buildUserFeed(deps.db, owner.user_id, now);
    await deps.db.updateTable('calendar_feed_token').set({ last_used_at: now }).where('user_id', '=', owner.user_id).execute();
    return { status: 200, body, headers: { 'content-type': 'text/calendar; charset=utf-8', 'cache-control': 'private, max-age=300' } };
  },
});
