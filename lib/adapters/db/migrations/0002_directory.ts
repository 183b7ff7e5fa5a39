import { sql, type Kysely } from 'kysely';

/**
 * The organisation directory: a tree of units (province, departments,
 * districts, communes and the offices inside them), people, and which units
 * they belong to with which position. `*_search` columns hold the text folded
 * for search (NFC, case and tone marks removed) so "nguyen thi hoa" finds
 * "Nguyễn Thị Hòa".
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('unit')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('parent_id', 'uuid', (col) => col.references('unit.id'))
    .addColumn('kind', 'text', (col) =>
      col.notNull().check(sql`kind in ('province', 'department', 'district', 'commune', 'office', 'other')`),
    )
    .addColumn('code', 'text', (col) => col.unique())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('name_search', 'text', (col) => col.notNull())
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('unit_parent_idx').on('unit').column('parent_id').execute();
  await db.schema.createIndex('unit_name_search_idx').on('unit').column('name_search').execute();

  await db.schema
    .createTable('app_user')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('display_name', 'text', (col) => col.notNull())
    .addColumn('name_search', 'text', (col) => col.notNull())
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    /** `admin`, `organiser`, `member` or `guest`: the system role. */
    .addColumn('system_role', 'text', (col) =>
      col.notNull().defaultTo('member').check(sql`system_role in ('admin', 'organiser', 'member', 'guest')`),
    )
    /** Subject of the identity provider (OIDC `iss` + `sub`), when the person signs in there. */
    .addColumn('external_id', 'text', (col) => col.unique())
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index app_user_email_idx on app_user (lower(email)) where email is not null`.execute(db);
  await db.schema.createIndex('app_user_name_search_idx').on('app_user').column('name_search').execute();

  await db.schema
    .createTable('membership')
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('unit_id', 'uuid', (col) => col.notNull().references('unit.id').onDelete('cascade'))
    .addColumn('position', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('membership_pk', ['user_id', 'unit_id'])
    .execute();
  await db.schema.createIndex('membership_unit_idx').on('membership').column('unit_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['membership', 'app_user', 'unit']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
