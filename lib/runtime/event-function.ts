import { sql, type Kysely, type Transaction } from 'kysely';
import { cloudEventEnvelopeSchema, type CloudEvent } from '../contract/cloudevent.ts';
import { eventTypes, isEventType, type EventData, type EventType } from '../contract/events.ts';
import { errorBody, HopError } from '../errors.ts';
import type { Database } from '../adapters/db/schema.ts';
import type { Dependencies } from './dependencies.ts';
import { validationDetails, type FunctionHandler } from './function.ts';

/**
 * An event handler. It resolves `'skipped'` when the event needs nothing from
 * this function, which is then acknowledged with 202 like an unhandled type.
 */
export type EventHandlers = {
  [T in EventType]?: (event: CloudEvent<EventData<T>>, deps: Dependencies) => Promise<void | 'skipped'>;
};

export interface EventFunctionDefinition {
  name: string;
  on: EventHandlers;
}

/**
 * Builds a handler for events delivered by the Kafka bridge (or an OpenFaaS
 * connector) as a structured-mode CloudEvent body.
 *
 * Responses: 200 when handled, 202 when the type is not one this function
 * handles or its handler resolved `'skipped'` (acknowledged and skipped), 400 when the message is not a valid
 * CloudEvent or its data fails the type's schema (the bridge dead-letters it
 * without retry). A thrown error becomes a 5xx and the bridge retries.
 */
export function eventFunction(definition: EventFunctionDefinition): FunctionHandler {
  return async (event, context) => {
    const log = context.deps.log.child({ fn: definition.name });

    const envelope = cloudEventEnvelopeSchema.safeParse(event.body);
    if (!envelope.success) {
      context.status(400).succeed(errorBody('EVENT_INVALID', validationDetails(envelope.error)));
      return undefined;
    }

    const type = envelope.data.type;
    const handle = isEventType(type) ? definition.on[type] : undefined;
    if (!isEventType(type) || handle === undefined) {
      context.status(202).succeed({ skipped: true, type });
      return undefined;
    }

    const data = eventTypes[type].data.safeParse(envelope.data.data);
    if (!data.success) {
      context.status(400).succeed(errorBody('EVENT_INVALID', validationDetails(data.error)));
      return undefined;
    }

    let outcome: void | 'skipped';
    try {
      outcome = await (handle as (e: CloudEvent<unknown>, d: Dependencies) => Promise<void | 'skipped'>)(
        { ...envelope.data, data: data.data },
        context.deps,
      );
    } catch (error) {
      if (error instanceof HopError && !error.retryable) {
        log.warn({ eventId: envelope.data.id, type, code: error.code }, 'event rejected');
        context.status(error.status).succeed(errorBody(error.code, error.details));
        return undefined;
      }
      throw error;
    }

    if (outcome === 'skipped') {
      context.status(202).succeed({ skipped: true, type, id: envelope.data.id });
      return undefined;
    }
    context.status(200).succeed({ handled: true, id: envelope.data.id });
    return undefined;
  };
}

/**
 * Records that `consumer` has processed `eventId` inside the caller's
 * transaction. Returns false when it already had, so the caller skips the work:
 * this turns the bus's at-least-once delivery into an effect applied once.
 */
export async function claimEvent(
  trx: Transaction<Database> | Kysely<Database>,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('processed_event')
    .values({ consumer, event_id: eventId })
    .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
    .returning(sql<number>`1`.as('one'))
    .executeTakeFirst();
  return inserted !== undefined;
}
