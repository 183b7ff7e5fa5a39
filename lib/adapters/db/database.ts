import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { log } from '../../log.ts';
import { migrations } from './migrations/index.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; poolSize?: number }
  | { kind: 'pglite'; dataDir: string | null };

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseConfig['kind'];
  /** Runs `select 1`; readiness probes call it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// PostgreSQL int8 (bigint, bigserial) arrives as a string by default. hop's
// bigint values (outbox ids, Janus room ids) stay below 2^53, so they are parsed as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** Opens PostgreSQL (a pool) or PGlite (in a folder, or in memory when dataDir is null). */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 10 });
    pool.on('error', (error) => log.error({ err: error, module: 'db' }, 'idle PostgreSQL client failed'));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await pool.query('select 1');
      },
      close: () => db.destroy(),
    };
  }

  if (config.dataDir !== null) await mkdir(config.dataDir, { recursive: true });
  const client = config.dataDir === null ? new PGlite() : new PGlite(config.dataDir);
  await client.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => db.destroy(),
  };
}

/** Applies pending migrations; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'hop_migration',
    migrationLockTableName: 'hop_migration_lock',
  });
  const result = await migrator.migrateToLatest();
  for (const item of result.results ?? []) {
    log.info({ module: 'db', migration: item.migrationName, status: item.status }, 'migration');
  }
  if (result.error) {
    const failed = result.results?.find((item) => item.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed`, { cause: result.error });
  }
  return result;
}
