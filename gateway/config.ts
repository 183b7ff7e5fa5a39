import path from 'node:path';
import { z } from 'zod';
import { oidcSettingsFromEnv, type OidcSettings } from '../lib/adapters/identity/oidc.ts';
import { parseJanusEndpoints, type JanusEndpoint } from '../lib/adapters/media/endpoints.ts';

export type { JanusEndpoint };

/**
 * The gateway's settings, all from environment variables. Each external server
 * is optional: when its variable is unset the embedded default takes its place
 * (PGlite, the embedded bus, local object storage, Janus started from
 * media/janus-config/ when installed).
 */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  HOP_DATA_DIR: z.string().default('.hop-data'),
  PUBLIC_BASE_URL: z.url().optional(),
  DATABASE_URL: z.string().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  KAFKA_BROKERS: z.string().optional(),
  KAFKA_CLIENT_ID: z.string().default('hop-gateway'),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  /** Partitions one consumer (a bridge function's subscription) handles at the same time; defaults to KAFKA_PARTITIONS. */
  KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: z.coerce.number().int().min(1).max(1000).optional(),
  /** How long the broker keeps a silent consumer's partitions, in milliseconds; a restarted gateway waits about this long for them. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(10_000),
  /** Interval between consumer heartbeats, in milliseconds; must be below KAFKA_SESSION_TIMEOUT_MS. */
  KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).max(100_000).default(1_000),
  /** Maximum time between offset commits of a busy consumer, in milliseconds. */
  KAFKA_COMMIT_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  S3_ENDPOINT: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().default('hop'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Comma-separated Janus WebSocket URLs, each optionally named: `janus-1=ws://10.0.0.5:8188`. */
  JANUS_URL: z.string().optional(),
  JANUS_API_SECRET: z.string().optional(),
  /** VideoRoom `admin_key` the Janus servers require for creating rooms. */
  JANUS_ADMIN_KEY: z.string().optional(),
  /** Basic-auth password (user `janus`) the Janus event handler sends to /janus/events; the embedded Janus gets a random one. */
  HOP_JANUS_EVENTS_PASSWORD: z.string().min(16).optional(),
  HOP_JANUS_EVENTS_MAX_BYTES: z.coerce.number().int().min(1024).default(8 * 1024 * 1024),
  /** `off` keeps the embedded Janus from starting even when it is installed. */
  HOP_MEDIA: z.enum(['auto', 'off']).default('auto'),
  HOP_JANUS_WS_PORT: z.coerce.number().int().min(1).max(65535).default(8188),
  HOP_JANUS_ADMIN_PORT: z.coerce.number().int().min(1).max(65535).default(7188),
  /** When set, functions run on OpenFaaS at `${OPENFAAS_URL}/function/NAME` instead of in process. */
  OPENFAAS_URL: z.url().optional(),
  HOP_STACK_FILE: z.string().default('stack.yml'),
  HOP_BRIDGE: z.enum(['on', 'off']).default('on'),
  /** Start of the bridge's consumer group ids (prefix + function name); installations or test runs sharing one Kafka cluster need different prefixes. */
  HOP_BRIDGE_GROUP_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default('hop-fn-'),
  HOP_RELAY: z.enum(['on', 'off']).default('on'),
  /** `off` keeps this gateway from running a notification delivery worker. */
  HOP_DELIVERY: z.enum(['on', 'off']).default('on'),
  /** Notification deliveries one gateway sends at the same time, each to a different webhook endpoint or e-mail address. */
  HOP_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  /** Time limit of one webhook request, from connecting to the response headers, and of each SMTP step. */
  HOP_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** SMTP server for notification e-mails: `smtp://user:password@host:587` or `smtps://…:465`; unset sends no e-mail. */
  HOP_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  /** From header of notification e-mails, such as `"Hệ thống họp trực tuyến" <hop@example.gov.vn>`; required with HOP_SMTP_URL. */
  HOP_SMTP_FROM: z.string().min(3).max(500).optional(),
  /** `auto` fires cron functions only when they run in process (OpenFaaS has its cron-connector). */
  HOP_CRON: z.enum(['auto', 'on', 'off']).default('auto'),
  HOP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  HOP_BRIDGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  HOP_BRIDGE_BACKOFF_MS: z.coerce.number().int().min(1).default(500),
  HOP_BRIDGE_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  HOP_FUNCTION_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  HOP_LOCAL_STORAGE_SECRET: z.string().optional(),
  /** Key that signs Janus join tokens; generated into HOP_DATA_DIR when unset. Functions on OpenFaaS need the same value. */
  HOP_JOIN_TOKEN_SECRET: z.string().min(32).optional(),
  /** Lifetime of a browser session from sign-in, in minutes. */
  HOP_SESSION_TTL_MINUTES: z.coerce.number().int().min(5).max(60 * 24 * 30).default(12 * 60),
  /** Failed sign-ins in a row that lock a local account. */
  HOP_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  HOP_LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  /** Sign-in attempts per minute allowed from one IP address, and separately for one user name. */
  HOP_LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Working days of notice a regular (not urgent) meeting needs, Decision 45/2018/QĐ-TTg; 0 turns the check off. */
  HOP_MIN_NOTICE_WORKING_DAYS: z.coerce.number().int().min(0).max(30).default(3),
  /** Largest meeting document upload, in bytes (default 200 MiB); S3 allows up to 5 TiB. */
  HOP_DOCUMENT_MAX_BYTES: z.coerce.number().int().min(1024).max(5 * 1024 ** 4).default(200 * 1024 * 1024),
  /** Lifetime of signed document download links, in seconds. */
  HOP_DOCUMENT_LINK_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  /** Write requests per minute allowed per principal and per IP address on routes with the write limiter. */
  HOP_WRITE_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
  /** `on` takes the client IP from the last X-Forwarded-For entry, which the reverse proxy in front of the gateway appends. */
  HOP_TRUST_PROXY: z.enum(['on', 'off']).default('off'),
  /** The province's OpenID provider, exactly as in its tokens' `iss`; unset turns OIDC sign-in off. docs/oidc.md describes all OIDC_* variables. */
  OIDC_ISSUER: z.string().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  /** Secret of hop's client at the provider, for the token request of the browser sign-in; unset leaves only bearer tokens. */
  OIDC_CLIENT_SECRET: z.string().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_JWKS_URI: z.string().optional(),
  OIDC_ALGORITHMS: z.string().optional(),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.string().optional(),
  OIDC_ROLES_CLAIM: z.string().optional(),
  OIDC_ROLE_MAP: z.string().optional(),
  OIDC_DEFAULT_ROLE: z.string().optional(),
  OIDC_UNITS_CLAIM: z.string().optional(),
  /** Scopes of the browser sign-in's authorization request, separated by spaces; must contain openid. */
  OIDC_SCOPES: z.string().default('openid profile email'),
});

export type GatewayEnv = z.infer<typeof envSchema>;

export interface GatewayConfig {
  env: GatewayEnv;
  dataDir: string;
  publicBaseUrl: string;
  janus: JanusEndpoint[];
  /** OIDC verifier and claim mapping settings; undefined when OIDC_ISSUER is unset. */
  oidc?: OidcSettings;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = envSchema.safeParse(environment);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  const env = parsed.data;
  if (env.HOP_SMTP_URL && !env.HOP_SMTP_FROM) {
    throw new ConfigError('HOP_SMTP_URL is set, so HOP_SMTP_FROM (the From address of notification e-mails) is required');
  }
  if (env.S3_ENDPOINT && (!env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError('S3_ENDPOINT is set, so S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required');
  }

  let oidc: OidcSettings | undefined;
  try {
    oidc = oidcSettingsFromEnv(environment);
  } catch (error) {
    throw new ConfigError(`invalid OIDC settings: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (oidc && !env.OIDC_SCOPES.split(/\s+/).includes('openid')) {
    throw new ConfigError(`OIDC_SCOPES must contain openid, got "${env.OIDC_SCOPES}"`);
  }

  return {
    env,
    ...(oidc ? { oidc } : {}),
    dataDir: path.resolve(env.HOP_DATA_DIR),
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}`,
    janus: env.JANUS_URL ? parseJanusEndpoints(env.JANUS_URL) : [],
  };
}
