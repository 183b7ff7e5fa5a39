import type { CloudEvent } from '../../lib/contract/cloudevent.ts';
import type { NotificationRequested } from '../../lib/contract/notifications.ts';
import { fanOutNotification, fanOutNotifications } from '../../lib/domain/notifications/deliveries.ts';
import { claimEvent, claimEvents, eventFunction } from '../../lib/runtime/event-function.ts';

const name = 'notification-fanout';

/**
 * Turns each `vn.hop.notification.requested.v1` event (topic
 * hop.notifications.v1) into pending deliveries: one per enabled webhook
 * endpoint whose kind filter matches, and one e-mail when the recipient has an
 * address and SMTP is configured. The gateway's delivery worker sends them.
 *
 * The event id is claimed in the same transaction, and a notification id gets
 * at most one delivery per target, so a redelivered or re-emitted event adds
 * nothing. eventFunction responds 400 to an event whose data fails the schema,
 * and the bridge dead-letters it with the reason. A batch from the bridge
 * (`com.hop.batch-size`), such as the hundreds of invitations of one meeting,
 * is fanned out in one transaction.
 */
export const handler = eventFunction({
  name,
  on: {
    'vn.hop.notification.requested.v1': async (event, deps) => {
      const log = deps.log.child({ fn: name, eventId: event.id, notificationId: event.data.notificationId, meetingId: event.data.meetingId });
      const result = await deps.db.transaction().execute(async (trx) => {
        if (!(await claimEvent(trx, name, event.id))) return null;
        return fanOutNotification(trx, event, { emailEnabled: deps.emailEnabled === true, now: deps.now() });
      });
      if (result === null) log.info('notification event already processed; skipped');
      else log.info({ webhooks: result.webhooks, emails: result.emails, kind: event.data.kind }, 'notification deliveries created');
    },
  },
  onBatch: async (items, deps) => {
    const events = items.flatMap((item) => (item.type === 'vn.hop.notification.requested.v1' ? [item.event as CloudEvent<NotificationRequested>] : []));
    const totals = await deps.db.transaction().execute(async (trx) => {
      const claimed = await claimEvents(trx, name, events.map((event) => event.id));
      // Deleting the claim makes a second copy of an event in this batch a duplicate.
      const fresh = events.filter((event) => claimed.delete(event.id));
      const results = await fanOutNotifications(trx, fresh, { emailEnabled: deps.emailEnabled === true, now: deps.now() });
      return {
        fresh: fresh.length,
        webhooks: results.reduce((sum, result) => sum + result.webhooks, 0),
        emails: results.reduce((sum, result) => sum + result.emails, 0),
      };
    });
    deps.log.info({ fn: name, events: events.length, skipped: events.length - totals.fresh, webhooks: totals.webhooks, emails: totals.emails }, 'notification deliveries created for a batch');
  },
});
