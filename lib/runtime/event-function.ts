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

/** A validated event of one of the types in `on`. */
export type HandledEvent = { [T in EventType]: { type: T; event: CloudEvent<EventData<T>> } }[EventType];

export interface EventFunctionDefinition {
  name: string;
  on: EventHandlers;
  /**
   * Handles the valid events of a batch in one call, in order, for example in
   * one transaction. When it throws, the bridge delivers the events again one
   * at a time, so an event it applied before the throw must be recognised then
   * (claimEvent). Without it, a batch runs through `on` one event at a time.
   */
  onBatch?: (events: HandledEvent[], deps: Dependencies) => Promise<void>;
}

/** One event's result in a batch response: the status and error a single call would have returned. */
interface BatchItemResult {
  id?: string;
  status: number;
  error?: ReturnType<typeof errorBody>['error'];
  skipped?: boolean;
}

/** Maximum events in one batch; the bridge sends at most `com.hop.batch-size` (up to 1 000). */
const MAX_BATCH_EVENTS = 1_000;

/**
 * Builds a handler for events delivered by the Kafka bridge (or an OpenFaaS
 * connector) as a structured-mode CloudEvent body, or as a CloudEvents JSON
 * batch (an array of them), which gets 200 and one result per event.
 *
 * Responses: 200 when handled, 202 when the type is not one this function
 * handles or its handler resolved `'skipped'` (acknowledged and skipped), 400 when the message is not a valid
 * CloudEvent or its data fails the type's schema (the bridge dead-letters it
 * without retry). A thrown error becomes a 5xx and the bridge retries.
 */
export function eventFunction(definition: EventFunctionDefinition): FunctionHandler {
  return async (event, context) => {
    const log = context.deps.log.child({ fn: definition.name });

    if (Array.isArray(event.body)) {
      if (event.body.length === 0 || event.body.length > MAX_BATCH_EVENTS) {
        context.status(400).succeed(errorBody('EVENT_INVALID', [{ path: '(body)', message: `a batch has 1 to ${MAX_BATCH_EVENTS} events, got ${event.body.length}` }]));
        return undefined;
      }
      const results = await handleBatch(definition, event.body, context.deps);
      context.status(200).succeed({ results });
      return undefined;
    }

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

/** Validates one event of a batch: its result when it is refused or skipped, else the event for its handler. */
function readBatchItem(definition: EventFunctionDefinition, body: unknown): { result: BatchItemResult } | { handled: HandledEvent } {
  const envelope = cloudEventEnvelopeSchema.safeParse(body);
  if (!envelope.success) return { result: { status: 400, ...errorBody('EVENT_INVALID', validationDetails(envelope.error)) } };
  const { type, id } = envelope.data;
  if (!isEventType(type) || definition.on[type] === undefined) return { result: { id, status: 202, skipped: true } };
  const data = eventTypes[type].data.safeParse(envelope.data.data);
  if (!data.success) return { result: { id, status: 400, ...errorBody('EVENT_INVALID', validationDetails(data.error)) } };
  return { handled: { type, event: { ...envelope.data, data: data.data } } as HandledEvent };
}

/**
 * Runs a CloudEvents JSON batch and returns one result per event, in order.
 * Invalid and unhandled events get the 400 and 202 a single call would get.
 * A thrown error that is not a non-retryable HopError of one event's handler
 * is thrown on, so the caller returns 5xx and the bridge delivers the events
 * again one at a time.
 */
async function handleBatch(definition: EventFunctionDefinition, bodies: unknown[], deps: Dependencies): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  const handled: { index: number; item: HandledEvent }[] = [];
  for (const body of bodies) {
    const read = readBatchItem(definition, body);
    if ('result' in read) {
      results.push(read.result);
    } else {
      handled.push({ index: results.length, item: read.handled });
      results.push({ id: read.handled.event.id, status: 200 });
    }
  }
  if (handled.length === 0) return results;

  if (definition.onBatch) {
    await definition.onBatch(
      handled.map((entry) => entry.item),
      deps,
    );
    return results;
  }

  for (const { index, item } of handled) {
    const handle = definition.on[item.type] as (e: CloudEvent<unknown>, d: Dependencies) => Promise<void | 'skipped'>;
    try {
      if ((await handle(item.event, deps)) === 'skipped') results[index] = { id: item.event.id, status: 202, skipped: true };
    } catch (error) {
      if (!(error instanceof HopError) || error.retryable) throw error;
      deps.log.warn({ fn: definition.name, eventId: item.event.id, type: item.type, code: error.code }, 'event rejected');
      results[index] = { id: item.event.id, status: error.status, ...errorBody(error.code, error.details) };
    }
  }
  return results;
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

/**
 * Records in one statement that `consumer` has processed the events
 * `eventIds`, inside the caller's transaction. Returns the ids not processed
 * before, which the caller then applies; an id repeated in `eventIds` counts once.
 */
export async function claimEvents(trx: Transaction<Database> | Kysely<Database>, consumer: string, eventIds: string[]): Promise<Set<string>> {
  const unique = [...new Set(eventIds)];
  if (unique.length === 0) return new Set();
  const inserted = await trx
    .insertInto('processed_event')
    .values(unique.map((eventId) => ({ consumer, event_id: eventId })))
    .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
    .returning('event_id')
    .execute();
  return new Set(inserted.map((row) => row.event_id));
}
