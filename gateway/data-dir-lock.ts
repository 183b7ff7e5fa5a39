import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './config.ts';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `HOP_DATA_DIR/gateway.lock` for this process. PGlite, the embedded bus,
 * local storage and the embedded Janus all keep state in the data folder, and a
 * second gateway on it would corrupt that state, so it is refused. A lock left
 * by a process that no longer runs is taken over. Returns the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, 'gateway.lock');

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
      throw new ConfigError(
        `another hop gateway (pid ${owner}) is using HOP_DATA_DIR=${dataDir}; stop it, or start this one with another HOP_DATA_DIR`,
      );
    }
    await rm(file, { force: true });
  }
  throw new ConfigError(`could not take the lock ${file}; remove it if no hop gateway is running`);
}
