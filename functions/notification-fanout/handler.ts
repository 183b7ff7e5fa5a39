import { fanOutNotification } from '../../lib/domain/notifications/deliveries.ts';
import { claimEvent, eventFunction } from '../../lib/runtime/event-function.ts';

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
 * and the bridge dead-letters it with the reason.
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
});
