import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

/**
 * Real-service settings for tests. `scripts/test.sh` starts Kafka, the S3
 * server and Janus and exports these variables. A test that needs a service
 * whose variable is missing is skipped when run by hand, but fails under CI
 * (CI=true), so a broken start-up script cannot pass as "nothing to test".
 */
export const serviceEnv = {
  kafka: 'KAFKA_BROKERS',
  postgres: 'TEST_DATABASE_URL',
  s3: 'S3_ENDPOINT',
  janus: 'TEST_JANUS_URL',
  browser: 'TEST_NETNS',
} as const;

export type ServiceName = keyof typeof serviceEnv;

/** Returns the service's setting, or skips the test (fails it under CI) when it is not set. */
export function requireService(t: TestContext, service: ServiceName): string | undefined {
  const variable = serviceEnv[service];
  const value = process.env[variable];
  if (value) return value;
  if (process.env.CI === 'true') throw new Error(`${variable} is not set; scripts/test.sh starts ${service} and sets it`);
  t.skip(`${variable} not set; run the tests with npm test to start ${service}`);
  return undefined;
}

/**
 * Creates a fresh PostgreSQL database for one test file and returns its URL and
 * a function that drops it. `adminUrl` is a URL of a database the test user
 * may create databases from (TEST_DATABASE_URL).
 */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `hop_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 15_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`, { cause: lastError });
}
