import type { Transaction } from 'kysely';
import type { Database } from '../../lib/adapters/db/schema.ts';
import type { CloudEvent } from '../../lib/contract/cloudevent.ts';
import { recordAudit, type AuditActor } from '../../lib/domain/audit.ts';
import {
  disableUnit,
  disableUser,
  inDirectoryTransaction,
  loadUnit,
  loadUser,
  toUnit,
  upsertUnit,
  upsertUser,
  type WriteOptions,
} from '../../lib/domain/directory.ts';
import { errorBody, HopError } from '../../lib/errors.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { claimEvent, eventFunction } from '../../lib/runtime/event-function.ts';
import type { FunctionHandler } from '../../lib/runtime/function.ts';

const name = 'directory-sync';

/**
 * Events that hop's own functions emitted: their change is already in the
 * database (written in the same transaction as the event), so applying them
 * again would only race with later admin changes.
 */
const hopSourcePrefix = '/hop/';

/**
 * Applies directory events from the province's e-office system (topic
 * hop.directory.v1) to the unit, app_user and membership tables, once per
 * event id. An upsert also re-enables a disabled unit or person. Each applied
 * change leaves an audit record whose actor is the e-office system, named by
 * the event's `source`.
 *
 * Events whose data fails the schema, whose parent would make a cycle, or
 * whose code, e-mail or external id belongs to another record are answered
 * 4xx, so the bridge dead-letters them at once. A parent or membership unit
 * that does not exist yet is answered 503 DIRECTORY_UNIT_PENDING: units and
 * people are keyed by their own ids, so a unit may arrive on another
 * partition after the people in it, and the bridge retries with backoff before
 * it dead-letters the event with RETRIES_EXHAUSTED.
 */
const handleEvent = eventFunction({
  name,
  on: {
    'vn.hop.directory.unit.upserted.v1': async (event, deps) => {
      await applyOnce(event, deps, async (trx, options) => {
        const before = await loadUnit(trx, event.data.unitId);
        const row = await upsertUnit(trx, event.data, options);
        await recordAudit(trx, {
          actor: eOfficeActor(event),
          action: before ? 'unit.updated' : 'unit.created',
          entityType: 'unit',
          entityId: row.id,
          before: before ? toUnit(before) : null,
          after: toUnit(row),
          at: options.now,
        });
        deps.log.info({ fn: name, eventId: event.id, unitId: row.id }, 'unit upserted');
      });
    },
    'vn.hop.directory.unit.disabled.v1': async (event, deps) => {
      await applyOnce(event, deps, async (trx, options) => {
        const before = await loadUnit(trx, event.data.unitId);
        const result = await disableUnit(trx, event.data.unitId, options.now);
        if (before && result?.changed) {
          await recordAudit(trx, {
            actor: eOfficeActor(event),
            action: 'unit.disabled',
            entityType: 'unit',
            entityId: result.row.id,
            before: toUnit(before),
            after: toUnit(result.row),
            at: options.now,
          });
        }
        if (!result) deps.log.warn({ fn: name, eventId: event.id, unitId: event.data.unitId }, 'disabled unit is unknown; nothing to do');
        else deps.log.info({ fn: name, eventId: event.id, unitId: event.data.unitId, changed: result.changed }, 'unit disabled');
      });
    },
    'vn.hop.directory.user.upserted.v1': async (event, deps) => {
      await applyOnce(event, deps, async (trx, options) => {
        const before = await loadUser(trx, event.data.userId);
        const row = await upsertUser(trx, event.data, options);
        const after = await loadUser(trx, row.id);
        await recordAudit(trx, {
          actor: eOfficeActor(event),
          action: before ? 'user.updated' : 'user.created',
          entityType: 'user',
          entityId: row.id,
          before: before ?? null,
          after: after ?? null,
          at: options.now,
        });
        deps.log.info({ fn: name, eventId: event.id, userId: row.id, units: event.data.memberships.length }, 'user upserted');
      });
    },
    'vn.hop.directory.user.disabled.v1': async (event, deps) => {
      await applyOnce(event, deps, async (trx, options) => {
        const before = await loadUser(trx, event.data.userId);
        const result = await disableUser(trx, event.data.userId, options.now);
        if (before && result?.changed) {
          await recordAudit(trx, {
            actor: eOfficeActor(event),
            action: 'user.disabled',
            entityType: 'user',
            entityId: result.row.id,
            before,
            after: (await loadUser(trx, result.row.id)) ?? null,
            at: options.now,
          });
        }
        if (!result) deps.log.warn({ fn: name, eventId: event.id, userId: event.data.userId }, 'disabled user is unknown; nothing to do');
        else deps.log.info({ fn: name, eventId: event.id, userId: event.data.userId, changed: result.changed }, 'user disabled');
      });
    },
  },
});

function eOfficeActor(event: CloudEvent<unknown>): AuditActor {
  return { kind: 'e-office', id: event.source };
}

/** Runs `apply` in a locked directory transaction that also claims the event id, unless hop emitted the event itself. */
async function applyOnce(
  event: CloudEvent<unknown>,
  deps: Dependencies,
  apply: (trx: Transaction<Database>, options: WriteOptions) => Promise<void>,
): Promise<void> {
  if (event.source.startsWith(hopSourcePrefix)) {
    deps.log.debug({ fn: name, eventId: event.id, source: event.source }, 'event emitted by hop; already applied');
    return;
  }
  const options: WriteOptions = { now: deps.now(), missingUnit: 'DIRECTORY_UNIT_PENDING', rejectDisabledUnits: false };
  await inDirectoryTransaction(deps.db, async (trx) => {
    if (!(await claimEvent(trx, name, event.id))) {
      deps.log.info({ fn: name, eventId: event.id, type: event.type }, 'event already applied; skipped');
      return;
    }
    await apply(trx, options);
  });
}

/**
 * The event handler, with a retryable HopError answered as its status and
 * error body instead of thrown, so the bridge's retry and dead-letter reason
 * name the code (`function answered 503 DIRECTORY_UNIT_PENDING`).
 */
export const handler: FunctionHandler = async (event, context) => {
  try {
    return await handleEvent(event, context);
  } catch (error) {
    if (!(error instanceof HopError) || !error.retryable) throw error;
    context.deps.log.warn({ fn: name, code: error.code, details: error.details }, 'event not applied yet; the bridge retries it');
    context.status(error.status).succeed(errorBody(error.code, error.details));
    return undefined;
  }
};
