import type { Kysely, Transaction } from 'kysely';
import { eventTypes, type HopEvent } from '../../contract/events.ts';
import type { Database } from './schema.ts';

/**
 * Writes an event to the transactional outbox inside the caller's transaction,
 * so the state change and its event commit or roll back together. The outbox
 * relay publishes it afterwards, keyed by `key` (the aggregate id).
 * The data is validated against its type's schema here, so an invalid event
 * fails the transaction instead of reaching consumers.
 */
export async function appendToOutbox(
  trx: Transaction<Database> | Kysely<Database>,
  event: HopEvent,
  key: string,
): Promise<void> {
  const definition = eventTypes[event.type];
  definition.data.parse(event.data);

  const headers: Record<string, string> = {
    'content-type': 'application/cloudevents+json; charset=utf-8',
    'ce-type': event.type,
    'ce-id': event.id,
  };
  if (event.traceparent) headers.traceparent = event.traceparent;

  await trx
    .insertInto('outbox')
    .values({
      topic: definition.topic,
      message_key: key,
      event_id: event.id,
      payload: JSON.stringify(event),
      headers: JSON.stringify(headers),
    })
    .execute();
}
