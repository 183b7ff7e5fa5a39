import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { allTopics } from '../lib/contract/topics.ts';
import type { Bus } from '../lib/adapters/bus/bus.ts';
import { createBus } from '../lib/adapters/bus/create-bus.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { createJanodeCluster, type JanodeMediaCluster } from '../lib/adapters/media/janode-media.ts';
import { janusInstalled, startJanus, type JanusProcess } from '../lib/adapters/media/janus-process.ts';
import { LocalStorage } from '../lib/adapters/storage/local-storage.ts';
import type { ObjectStorage } from '../lib/adapters/storage/storage.ts';
import { log as rootLog, type Logger } from '../lib/log.ts';
import type { Dependencies } from '../lib/runtime/dependencies.ts';
import { createOidcSignIn } from './auth/oidc-signin.ts';
import { mountAuth } from './auth/routes.ts';
import { KafkaBridge } from './bridge.ts';
import type { GatewayConfig, JanusEndpoint } from './config.ts';
import { CronScheduler } from './cron.ts';
import { createApp } from './http/app.ts';
import { InProcessInvoker, OpenFaasInvoker, type Invoker } from './invoker.ts';
import { mountJanusIntake } from './janus-intake.ts';
import { mountAttendanceBoard } from './attendance-board.ts';
import { attachMediaSignalling, bindFromDatabase, recordSessionsInDatabase } from './media-signalling.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { DeliveryWorker } from './delivery-worker.ts';
import { createSmtpSender } from '../lib/adapters/notify/smtp.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { loadRegistry } from './registry.ts';
import { mountLocalStorage, openStorage, readOrCreateSecret } from './storage.ts';

/** Maximum delay between a function call that may have written to the outbox and the relay's next pass, in milliseconds. */
const WAKE_DELAY_MS = 10;

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The implementation each part of the platform runs on, as logged at start-up. */
export interface PlatformSummary {
  url: string;
  database: 'postgres' | 'pglite';
  bus: 'kafka' | 'embedded';
  storage: 's3' | 'local';
  media: string;
  functions: 'in-process' | 'openfaas';
}

export interface Platform {
  summary: PlatformSummary;
  port: number;
  database: DatabaseHandle;
  bus: Bus;
  storage: ObjectStorage;
  media: JanodeMediaCluster | null;
  /** Key of the Janus join tokens this gateway's functions sign. */
  joinTokenSecret: string;
  relay: OutboxRelay | null;
  /** The notification delivery worker, or null with HOP_DELIVERY=off. */
  deliveryWorker: DeliveryWorker | null;
  cron: CronScheduler | null;
  invoker: Invoker;
  stop(): Promise<void>;
}

/**
 * Starts the gateway and everything it drives: database (migrated), bus, media,
 * functions, Kafka bridge, outbox relay, cron schedules and the HTTP server.
 * Each part is stopped in reverse order by `stop()`, also when start-up fails
 * half-way.
 */
export async function startPlatform(config: GatewayConfig, log: Logger = rootLog): Promise<Platform> {
  const { env } = config;
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        log.error({ err: error }, 'stopping a platform part failed');
      }
    }
    stops.length = 0;
  };

  try {
    const releaseDataDir = await lockDataDir(config.dataDir);
    stops.push(releaseDataDir);

    const database = await openDatabase(
      env.DATABASE_URL
        ? { kind: 'postgres', url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE }
        : { kind: 'pglite', dataDir: path.join(config.dataDir, 'db') },
    );
    stops.push(() => database.close());
    await migrateToLatest(database.db);

    const bus = env.KAFKA_BROKERS
      ? createBus({
          kind: 'kafka',
          brokers: env.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
          clientId: env.KAFKA_CLIENT_ID,
          partitions: env.KAFKA_PARTITIONS,
          partitionsConsumedConcurrently: env.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY ?? env.KAFKA_PARTITIONS,
          sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
          heartbeatIntervalMs: env.KAFKA_HEARTBEAT_INTERVAL_MS,
          commitIntervalMs: env.KAFKA_COMMIT_INTERVAL_MS,
        })
      : createBus({ kind: 'embedded', db: database.db, partitions: env.KAFKA_PARTITIONS });
    stops.push(() => bus.close());
    await bus.ensureTopics(allTopics);

    const storage = await openStorage(config, config.publicBaseUrl);
    const media = await startMedia(config, log, stops);

    const functions = await loadRegistry(path.resolve(repositoryRoot, env.HOP_STACK_FILE));
    let relay: OutboxRelay | null = null;
    const joinTokenSecret = await readOrCreateSecret(config, 'join-token.key', env.HOP_JOIN_TOKEN_SECRET);
    let deliveryWorker: DeliveryWorker | null = null;
    const deps: Dependencies = {
      db: database.db,
      media: media.cluster,
      storage,
      log,
      now: () => new Date(),
      joinTokenSecret,
      // Set from PUBLIC_BASE_URL, or below once the port is known.
      publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      emailEnabled: env.HOP_SMTP_URL !== undefined,
      minNoticeWorkingDays: env.HOP_MIN_NOTICE_WORKING_DAYS,
      documentMaxBytes: env.HOP_DOCUMENT_MAX_BYTES,
      documentLinkSeconds: env.HOP_DOCUMENT_LINK_SECONDS,
    };
    let wakeTimer: NodeJS.Timeout | null = null;
    const invoker: Invoker = env.OPENFAAS_URL
      ? new OpenFaasInvoker(env.OPENFAAS_URL, env.HOP_FUNCTION_TIMEOUT_MS, log)
      : await InProcessInvoker.load(functions, deps, {
          rootDir: repositoryRoot,
          timeoutMs: env.HOP_FUNCTION_TIMEOUT_MS,
          afterInvoke: (result) => {
            // An event skipped by its function (202) wrote nothing. The wake-ups of a
            // busy bridge are merged, so the relay and the delivery worker look at most
            // every WAKE_DELAY_MS instead of once per call.
            if (result?.status === 202 && (result.body as { skipped?: unknown } | null)?.skipped === true) return;
            wakeTimer ??= setTimeout(() => {
              wakeTimer = null;
              relay?.wake();
              deliveryWorker?.wake();
            }, WAKE_DELAY_MS).unref();
          },
        });

    if (env.HOP_RELAY === 'on') {
      relay = new OutboxRelay({ db: database.db, dialect: database.kind, bus, log: log.child({ module: 'outbox-relay' }) });
      relay.start();
      const started = relay;
      stops.push(() => started.stop());
    }

    if (env.HOP_DELIVERY === 'on') {
      const mail =
        env.HOP_SMTP_URL && env.HOP_SMTP_FROM
          ? createSmtpSender({ url: env.HOP_SMTP_URL, from: env.HOP_SMTP_FROM, timeoutMs: env.HOP_WEBHOOK_TIMEOUT_MS })
          : null;
      const worker = new DeliveryWorker({
        db: database.db,
        log: log.child({ module: 'delivery-worker' }),
        mail,
        concurrency: env.HOP_DELIVERY_CONCURRENCY,
        requestTimeoutMs: env.HOP_WEBHOOK_TIMEOUT_MS,
        leaseMs: Math.max(120_000, 6 * env.HOP_WEBHOOK_TIMEOUT_MS),
      });
      worker.start();
      deliveryWorker = worker;
      stops.push(async () => {
        await worker.stop();
        mail?.close();
      });
    }

    if (env.HOP_BRIDGE === 'on') {
      const bridge = new KafkaBridge({
        bus,
        invoker,
        functions,
        groupPrefix: env.HOP_BRIDGE_GROUP_PREFIX,
        log: log.child({ module: 'bridge' }),
        maxAttempts: env.HOP_BRIDGE_MAX_ATTEMPTS,
        backoffMs: env.HOP_BRIDGE_BACKOFF_MS,
        backoffMaxMs: env.HOP_BRIDGE_BACKOFF_MAX_MS,
      });
      await bridge.start();
      stops.push(() => bridge.stop());
    }

    let cron: CronScheduler | null = null;
    const cronOn = env.HOP_CRON === 'on' || (env.HOP_CRON === 'auto' && !env.OPENFAAS_URL);
    if (cronOn) {
      cron = new CronScheduler(invoker, log.child({ module: 'cron' }));
      cron.start(functions);
      const started = cron;
      stops.push(() => started.stop());
    }

    const loadUnitIds = async (userId: string) =>
      (await database.db.selectFrom('membership').select('unit_id').where('user_id', '=', userId).execute()).map((row) => row.unit_id);
    const app = await createApp({
      functions,
      invoker,
      log: log.child({ module: 'http' }),
      maxBodyBytes: env.HOP_MAX_BODY_BYTES,
      rootDir: repositoryRoot,
      loadUnitIds,
      readiness: async () => ({
        database: await check(() => database.ping()),
        bus: await check(() => bus.ping()),
        storage: await check(() => storage.ping()),
        media: media.cluster ? await check(() => Promise.all(media.cluster!.servers().map((s) => s.ping())).then(() => {})) : 'off',
      }),
      extend: (hono) => {
        mountJanusIntake(hono, bus, log.child({ module: 'janus-intake' }), {
          password: media.eventsPassword,
          maxBytes: env.HOP_JANUS_EVENTS_MAX_BYTES,
        });
        mountLocalStorage(hono, storage);
        mountAuth(hono, { db: database.db, config, log: log.child({ module: 'auth' }), oidc: createOidcSignIn(config) });
        const board = mountAttendanceBoard(hono, { db: database.db, log: log.child({ module: 'attendance-board' }), loadUnitIds });
        stops.push(() => board.stop());
      },
    });

    const server = await listen(app.fetch, env.PORT, env.HOST);
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    if (media.cluster) {
      const cluster = media.cluster;
      const signalling = attachMediaSignalling(server as Server, {
        log: log.child({ module: 'signalling' }),
        sessions: recordSessionsInDatabase(database.db),
        bind: bindFromDatabase({
          db: database.db,
          joinTokenSecret,
          resolveServer: (id) => {
            const janus = cluster.server(id);
            return janus ? { url: janus.url, apiSecret: janus.apiSecret } : undefined;
          },
        }),
      });
      // Runs before the HTTP server closes (stops run in reverse), so browsers get a clean close frame.
      stops.push(() => signalling.close());
    }

    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : env.PORT;
    const url = env.PUBLIC_BASE_URL ?? `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${port}`;
    deps.publicBaseUrl ??= url;
    // Without PUBLIC_BASE_URL, local storage links must name the bound port (PORT=0 picks a free one).
    if (!env.PUBLIC_BASE_URL && storage instanceof LocalStorage) storage.setPublicBaseUrl(url);

    return {
      summary: {
        url,
        database: database.kind,
        bus: bus.kind,
        storage: storage.kind,
        media: media.description,
        functions: env.OPENFAAS_URL ? 'openfaas' : 'in-process',
      },
      port,
      database,
      bus,
      storage,
      joinTokenSecret,
      media: media.cluster,
      relay,
      deliveryWorker,
      cron,
      invoker,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function check(probe: () => Promise<void>): Promise<string> {
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3000 ms')), 3000).unref()),
    ]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function listen(fetch: Parameters<typeof serve>[0]['fetch'], port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
    server.once('error', reject);
  });
}

/**
 * Connects to the Janus servers of JANUS_URL, or starts the embedded Janus from
 * media/janus-config/ when it is installed, or runs without media.
 */
async function startMedia(
  config: GatewayConfig,
  log: Logger,
  stops: (() => Promise<void> | void)[],
): Promise<{ cluster: JanodeMediaCluster | null; description: string; eventsPassword?: string }> {
  const { env } = config;
  let endpoints: JanusEndpoint[] = config.janus;
  let janus: JanusProcess | null = null;
  // The embedded Janus gets a fresh VideoRoom admin key each start, so only this
  // gateway can create rooms on it.
  let adminKey = env.JANUS_ADMIN_KEY;
  let eventsPassword = env.HOP_JANUS_EVENTS_PASSWORD;

  if (endpoints.length === 0) {
    if (env.HOP_MEDIA === 'off') return { cluster: null, description: 'off (HOP_MEDIA=off)', eventsPassword };
    adminKey ??= randomBytes(24).toString('base64url');
    eventsPassword ??= randomBytes(24).toString('base64url');
    if (!(await janusInstalled())) {
      log.warn(
        'media is off: the janus binary is not installed. Install Debian\'s janus package (apt-get install janus) and restart, or set JANUS_URL to a running Janus server.',
      );
      return { cluster: null, description: 'off (janus not installed)', eventsPassword };
    }
    janus = await startJanus({
      configDir: path.join(repositoryRoot, 'media', 'janus-config'),
      runDir: path.join(config.dataDir, 'janus'),
      wsPort: env.HOP_JANUS_WS_PORT,
      adminWsPort: env.HOP_JANUS_ADMIN_PORT,
      // Only the gateway talks to the Janus API; browsers go through its signalling proxy.
      bindIp: '127.0.0.1',
      eventsUrl: `http://127.0.0.1:${env.PORT}/janus/events`,
      serverName: 'embedded',
      eventsPassword,
      videoroomAdminKey: adminKey,
    });
    const started = janus;
    stops.push(() => started.stop());
    endpoints = [{ id: 'embedded', url: `ws://127.0.0.1:${env.HOP_JANUS_WS_PORT}` }];
  }

  const cluster = createJanodeCluster({
    servers: endpoints.map((endpoint) => ({ ...endpoint, apiSecret: env.JANUS_API_SECRET, adminKey })),
  });
  stops.push(() => cluster.close());
  const description = janus
    ? `embedded Janus (pid ${janus.pid}) at ${endpoints[0]!.url}`
    : endpoints.map((endpoint) => `${endpoint.id}=${endpoint.url}`).join(', ');
  return { cluster, description, eventsPassword };
}
