import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../gateway/config.ts';
import { startPlatform, type Platform } from '../../gateway/platform.ts';
import { createApiKey } from '../../gateway/auth/api-keys.ts';
import { actions } from '../../lib/domain/policy.ts';
import { randomUUID } from 'node:crypto';

export interface TestPlatform {
  platform: Platform;
  baseUrl: string;
  /** Bearer token of an admin API key with every scope; `request` sends it, and `requestAs` sends another token or none. */
  adminToken: string;
  /** Sends a request with the given Authorization token, or with none when `token` is null. */
  requestAs(token: string | null, method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  request(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * Starts the whole gateway on a free loopback port with its data in a temp
 * folder. `env` adds or overrides variables (DATABASE_URL, KAFKA_BROKERS,
 * JANUS_URL …); by default everything is embedded and media is off.
 */
export async function startTestPlatform(env: Record<string, string | undefined> = {}): Promise<TestPlatform> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hop-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    HOP_DATA_DIR: dataDir,
    HOP_MEDIA: 'off',
    HOP_CRON: 'off',
    HOP_BRIDGE_BACKOFF_MS: '50',
    HOP_BRIDGE_BACKOFF_MAX_MS: '200',
    // Test files send bursts of writes from one address; the limiter has its own test.
    HOP_WRITE_RATE_PER_MINUTE: '100000',
    // Test meetings start within the hour; gateway/scheduling.test.ts turns the notice rule on.
    HOP_MIN_NOTICE_WORKING_DAYS: '0',
    ...env,
  });
  const platform = await startPlatform(config);
  const baseUrl = `http://127.0.0.1:${platform.port}`;
  const adminToken = await createAdminToken(platform);

  const requestAs: TestPlatform['requestAs'] = async (token, method, urlPath, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${baseUrl}${urlPath}`, init);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };

  return {
    platform,
    baseUrl,
    adminToken,
    requestAs,
    request: (method, urlPath, body, headers) => requestAs(adminToken, method, urlPath, body, headers),
    async stop() {
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every API key scope the policy defines. */
export const allScopes = [...new Set(Object.values(actions).map((action) => action.scope).filter((scope) => scope !== null))];

/** Creates an admin person and an API key of theirs with every scope; returns the key's bearer token. */
async function createAdminToken(platform: Platform): Promise<string> {
  const adminId = randomUUID();
  await platform.database.db
    .insertInto('app_user')
    .values({ id: adminId, display_name: 'Quản trị kiểm thử', name_search: 'quan tri kiem thu', email: null, phone: null, system_role: 'admin', external_id: null, disabled_at: null, updated_at: new Date() })
    .execute();
  const { token } = await createApiKey(platform.database.db, { name: 'test admin', scopes: allScopes, createdBy: adminId });
  return token;
}

/** Builds a valid meeting request starting one hour from now; `overrides` replace its fields. */
export function meetingRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const start = new Date(Date.now() + 60 * 60 * 1000);
  const end = new Date(start.getTime() + 60 * 60 * 1000);
  return {
    title: 'Họp giao ban tuần Sở Thông tin và Truyền thông',
    startsAt: start.toISOString(),
    endsAt: end.toISOString(),
    participants: [
      { name: 'Nguyễn Thị Hòa', email: 'hoa@example.gov.vn', role: 'chair' },
      { name: 'Trần Văn Bình', phone: '+84 905 123 456' },
    ],
    ...overrides,
  };
}
