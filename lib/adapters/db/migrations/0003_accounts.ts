import { sql, type Kysely } from 'kysely';

/**
 * Sign-in: local accounts with scrypt password hashes, browser sessions and API
 * keys for integrations. Session tokens and API key secrets are stored only as
 * SHA-256 hashes, so a database dump does not let anyone sign in.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('local_account')
    .addColumn('user_id', 'uuid', (col) => col.primaryKey().references('app_user.id').onDelete('cascade'))
    /** NFC, trimmed and lower case, so "Hoa.NT" and "hoa.nt" are one account. */
    .addColumn('username', 'text', (col) => col.notNull().unique().check(sql`username = lower(username)`))
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('failed_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('password_changed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('web_session')
    /** SHA-256 of the cookie token, hex. */
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('app_user.id').onDelete('cascade'))
    /** The CSRF token itself: it grants nothing without the session cookie, and `GET /auth/me` returns it again after a page reload. */
    .addColumn('csrf_token', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('web_session_user_idx').on('web_session').column('user_id').execute();
  await db.schema.createIndex('web_session_expires_at_idx').on('web_session').column('expires_at').execute();

  await db.schema
    .createTable('api_key')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    /** Random public part of the key (`hop_<prefix>_<secret>`), shown in lists and used to find the row. */
    .addColumn('prefix', 'text', (col) => col.notNull().unique())
    /** SHA-256 of the secret part, hex. */
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    /** JSON array of scope names; the permission policy gives them their meaning. */
    .addColumn('scopes', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_by', 'uuid', (col) => col.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['api_key', 'web_session', 'local_account']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
