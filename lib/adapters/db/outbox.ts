import { sql, type Kysely, type Transaction } from 'kysely';
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
  await appendManyToOutbox(trx, [{ event, key }]);
}

/**
 * Writes several events in one INSERT, in the given order (see `appendToOutbox`).
 * The rows travel as one JSON array parameter rather than five parameters per
 * row, because a meeting's invitations are hundreds of rows of a few kilobytes
 * each. PostgreSQL then parses one value instead of binding and planning
 * thousands.
 */
export async function appendManyToOutbox(
  trx: Transaction<Database> | Kysely<Database>,
  entries: readonly { event: HopEvent; key: string }[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map(({ event, key }) => {
    const definition = eventTypes[event.type];
    definition.data.parse(event.data);

    const headers: Record<string, string> = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'ce-type': event.type,
      'ce-id': event.id,
    };
    if (event.traceparent) headers.traceparent = event.traceparent;
    return { topic: definition.topic, key, id: event.id, payload: event, headers };
  });
  // The ordinality keeps the array's order, so the outbox ids (and the publishing order) follow `entries`.
  await sql`
    insert into outbox (topic, message_key, event_id, payload, headers)
    select row.value->>'topic', row.value->>'key', row.value->>'id', row.value->'payload', row.value->'headers'
    from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) with ordinality as row(value, position)
    order by row.position
  `.execute(trx);
}
