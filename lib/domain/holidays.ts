/**
 * Storage of the holiday calendar that admins maintain through
 * `holiday-list`, `holiday-upsert` and `holiday-delete`. The rules that read
 * it are in `working-days.ts`.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, HolidayKind } from '../adapters/db/schema.ts';
import { holidayDateSchema, type Holiday } from '../contract/holidays.ts';
import { HopError } from '../errors.ts';
import { normalizeName } from './text-search.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Validates the `:date` route parameter; VALIDATION_FAILED names the `date` path. */
export function parseHolidayDate(value: string | undefined): string {
  const parsed = holidayDateSchema.safeParse(value);
  if (!parsed.success) {
    throw new HopError('VALIDATION_FAILED', { details: parsed.error.issues.map((issue) => ({ path: 'date', message: issue.message })) });
  }
  return parsed.data;
}

/** Selects the columns of a holiday row, with the date read as `YYYY-MM-DD` text. */
function selectHoliday(db: Db) {
  return db
    .selectFrom('holiday')
    .select([
      sql<string>`to_char(date, 'YYYY-MM-DD')`.as('date'),
      'kind',
      'name',
      'note',
      'created_by',
      'created_at',
      'updated_by',
      'updated_at',
    ]);
}

interface HolidaySelection {
  date: string;
  kind: HolidayKind;
  name: string;
  note: string | null;
  created_by: string | null;
  created_at: Date;
  updated_by: string | null;
  updated_at: Date;
}

export function toHoliday(row: HolidaySelection): Holiday {
  return {
    date: row.date,
    kind: row.kind,
    name: row.name,
    note: row.note,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedBy: row.updated_by,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** Lists the holiday rows from `fromDate` to `toDate`, both included, by date. */
export async function listHolidays(db: Db, fromDate: string, toDate: string): Promise<Holiday[]> {
  const rows = await selectHoliday(db).where('date', '>=', fromDate).where('date', '<=', toDate).orderBy('date').execute();
  return rows.map(toHoliday);
}

/** Loads one holiday row and locks it until the transaction ends, or returns null. */
export async function loadHolidayForUpdate(trx: Transaction<Database>, date: string): Promise<Holiday | null> {
  const row = await selectHoliday(trx).where('date', '=', date).forUpdate().executeTakeFirst();
  return row ? toHoliday(row) : null;
}

export interface HolidayInput {
  date: string;
  kind: HolidayKind;
  name: string;
  note: string | null;
  /** User id or API key id of the admin who made the change. */
  actorId: string;
  now: Date;
}

/**
 * Inserts or replaces the row of `input.date`. The name is stored in NFC with
 * runs of whitespace collapsed; the note in NFC with its line breaks kept.
 */
export async function upsertHoliday(trx: Transaction<Database>, input: HolidayInput): Promise<Holiday> {
  const name = normalizeName(input.name);
  const note = input.note === null ? null : input.note.normalize('NFC').trim() || null;
  await trx
    .insertInto('holiday')
    .values({
      date: input.date,
      kind: input.kind,
      name,
      note,
      created_by: input.actorId,
      created_at: input.now,
      updated_by: input.actorId,
      updated_at: input.now,
    })
    .onConflict((conflict) =>
      conflict.column('date').doUpdateSet({ kind: input.kind, name, note, updated_by: input.actorId, updated_at: input.now }),
    )
    .execute();
  const row = await selectHoliday(trx).where('date', '=', input.date).executeTakeFirstOrThrow();
  return toHoliday(row);
}

/** Deletes the row of `date`; returns whether there was one. */
export async function deleteHoliday(trx: Transaction<Database>, date: string): Promise<boolean> {
  const result = await trx.deleteFrom('holiday').where('date', '=', date).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
