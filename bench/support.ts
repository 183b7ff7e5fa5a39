/**
 * Helpers shared by the benchmarks: a fresh PostgreSQL database per run,
 * percentiles, and the machine description printed with every result.
 */
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { createTestDatabase } from '../test/support/services.ts';

export interface BenchResult {
  name: string;
  /** Rows of the result table: metric, value, target, whether it was met. */
  rows: { metric: string; value: string; target?: string; met?: boolean }[];
  notes?: string[];
}

export interface BenchDatabase {
  handle: DatabaseHandle;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty, migrated database for one benchmark; `drop` removes it. */
export async function benchDatabase(poolSize = 16): Promise<BenchDatabase> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is not set; run the benchmarks with npm run bench');
  const database = await createTestDatabase(adminUrl);
  const handle = await openDatabase({ kind: 'postgres', url: database.url, poolSize });
  await migrateToLatest(handle.db);
  return {
    handle,
    url: database.url,
    drop: async () => {
      await handle.close();
      await database.drop();
    },
  };
}

/** The value below which `fraction` of the samples fall (nearest rank). */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

export function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

/** CPU model and count, memory, Node.js and PostgreSQL versions. */
export async function machineDescription(handle?: DatabaseHandle): Promise<string> {
  const cpu = cpus();
  let os = 'Linux';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // keep the generic name
  }
  let postgres = '';
  if (handle) {
    const { sql } = await import('kysely');
    const row = await sql<{ server_version: string }>`show server_version`.execute(handle.db);
    postgres = `, PostgreSQL ${row.rows[0]?.server_version ?? '?'}`;
  }
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os}, Node.js ${process.version}${postgres}`;
}
