import { sql, type Kysely } from 'kysely';

/**
 * The public holiday calendar that admins maintain: days off (`holiday`) and
 * Saturdays or Sundays made working days (`working_day`), which Vietnam
 * announces each year to compensate for bridge days around Tết and other
 * holidays. Every other Saturday and Sunday is a day off and every other
 * weekday a working day, so only the exceptions are stored.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('holiday')
    .addColumn('date', 'date', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('holiday', 'working_day')`))
    /** Vietnamese name shown to people, for example "Tết Nguyên đán". */
    .addColumn('name', 'text', (col) => col.notNull().check(sql`length(btrim(name)) > 0`))
    .addColumn('note', 'text')
    /** User id or API key id of whoever entered the day. */
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // A working day added to compensate for a bridge day is always a Saturday or a Sunday
  // (ISO day of week 6 or 7); a weekday is already a working day.
  await sql`
    alter table holiday add constraint holiday_working_day_on_weekend
    check (kind <> 'working_day' or extract(isodow from date) in (6, 7))
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('holiday').ifExists().execute();
}
