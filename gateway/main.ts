import { log } from '../lib/log.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startPlatform } from './platform.ts';

/**
 * `npm start`: runs hop. With no server variables set, everything is embedded
 * (PGlite, embedded bus, local storage, Janus when installed), and data is kept
 * in HOP_DATA_DIR.
 */
async function main(): Promise<void> {
  const started = performance.now();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      log.fatal(error.message);
      process.exit(2);
    }
    throw error;
  }

  let platform;
  try {
    platform = await startPlatform(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      log.fatal(error.message);
      process.exit(2);
    }
    throw error;
  }
  const readyMs = Math.round(performance.now() - started);
  log.info({ ...platform.summary, readyMs }, `hop is ready at ${platform.summary.url} (${readyMs} ms)`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'hop failed to start');
  process.exit(1);
});
