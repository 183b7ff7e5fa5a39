/**
 * The network namespace rig for media tests.
 *
 * Janus gathers no ICE candidates on loopback, so Janus runs in namespace
 * `hop-j-<id>` and the browsers in `hop-b-<id>`, joined by a veth pair
 * (198.18.0.1 on the Janus side, 198.18.0.2 on the browser side). The hop
 * gateway, Kafka and PostgreSQL stay in the root namespace on 127.0.0.1, with
 * no link to the rig. Connections cross between namespaces through Unix
 * sockets in the rig's run folder, relayed by `scripts/netns/forward.mjs`:
 *
 * - Janode in the root namespace -> root relay 127.0.0.1:<random port> ->
 *   janus-ws.sock -> relay in hop-j -> Janus 127.0.0.1:8188 (same for the Admin API).
 * - Browsers in hop-b -> relay 127.0.0.1:8080 -> gateway.sock -> root relay ->
 *   gateway 127.0.0.1:<gatewayPort>. Janus's event handler in hop-j posts to
 *   its own relay on 127.0.0.1:8080, which ends at the same gateway.
 * - Browsers reach the Janus API through the gateway's signalling proxy (the
 *   same relay), and media flows between them and Janus over the veth.
 * - With `gatewayAcrossVeth`, the relay in hop-b connects across the veth to
 *   a relay on 198.18.0.1:8080 in hop-j, which ends at gateway.sock. Pages,
 *   API calls and signalling of the browser namespace then share the veth
 *   with the media. A participant's access link carries them all the same way.
 *
 * Creating and deleting namespaces needs root.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { janusInstalled, startJanus, type JanusProcess } from '../../lib/adapters/media/janus-process.ts';
import { log } from '../../lib/log.ts';

const rigLog = log.child({ module: 'media-rig' });
const execFileAsync = promisify(execFile);

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const netnsScript = join(repoRoot, 'scripts/netns/netns.sh');
const forwarderScript = join(repoRoot, 'scripts/netns/forward.mjs');

/** Janus's address on the veth, in namespace hop-j-<id>. */
export const JANUS_RIG_ADDRESS = '198.18.0.1';
/** The browsers' address on the veth, in namespace hop-b-<id>. */
export const BROWSER_RIG_ADDRESS = '198.18.0.2';
const JANUS_WS_PORT = 8188;
const JANUS_ADMIN_WS_PORT = 7188;
/** Port of the gateway relay inside the namespaces (browsers and Janus events). */
const NAMESPACE_GATEWAY_PORT = 8080;
const FORWARDER_START_TIMEOUT_MS = 10_000;
const RUN_DIR_PREFIX = 'hop-media-';

export interface MediaRigOptions {
  /** Port of the hop gateway on 127.0.0.1 in the root namespace. `connectGateway` can set it later. */
  gatewayPort?: number;
  /** Path on the gateway that Janus POSTs events to. Default /janus/events. */
  eventsPath?: string;
  /** VideoRoom admin_key for Janus. When missing, Janus has none. */
  videoroomAdminKey?: string;
  /** Janus `server_name`, which its events carry as `emitter`. Pass the MediaServer id. Default "janus-rig". */
  serverName?: string;
  /**
   * Routes the browser namespace's connections to the gateway across the
   * veth, so that shaping and cuts apply to them as to the media. The loss
   * rules drop UDP only, so they do not apply. Default false: those
   * connections reach the gateway through a Unix socket, which no rule touches.
   */
  gatewayAcrossVeth?: boolean;
}

export interface ShapeOptions {
  /** tc rate, e.g. "120kbit". */
  rate: string;
  /** tc burst, e.g. "16kb". Default 16kb. */
  burst?: string;
  /** tc latency, e.g. "300ms". Default 300ms. */
  latency?: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MediaRig {
  id: string;
  janusNetns: string;
  browserNetns: string;
  runDir: string;
  /** Janus `server_name`, which its events carry as `emitter`. */
  serverName: string;
  janus: JanusProcess;
  /** Janus API URL for code in the root namespace (Janode), through the relays. */
  janusUrlForServer: string;
  /** Janus Admin API URL for code in the root namespace. */
  janusAdminUrlForServer: string;
  /** The gateway's URL as browsers in the browser namespace see it: http://127.0.0.1:8080. */
  browserGatewayUrl: string;
  /** Relays the gateway address of the namespaces to 127.0.0.1:`port` in the root namespace. */
  connectGateway(port: number): Promise<void>;
  /** Runs a command to completion inside the browser namespace. */
  runInBrowserNs(command: string, args: string[]): Promise<CommandResult>;
  /** Starts a long-running command inside the browser namespace. Teardown stops it. */
  spawnInBrowserNs(command: string, args: string[]): ChildProcess;
  /** Limits the bandwidth on both veth ends with a token bucket filter. */
  shape(options: ShapeOptions): Promise<void>;
  /** Removes the bandwidth limit. */
  unshape(): Promise<void>;
  /** Drops this percentage of the UDP packets arriving on each veth end, at random (iptables statistic); 0 removes the loss. */
  setLoss(percent: number): Promise<void>;
  /** Cuts the link (every packet on the browser-side veth end dropped, both ways) or restores it. */
  cut(on: boolean): Promise<void>;
  /** Stops every process of the rig by pid and deletes the namespaces and the run folder. */
  teardown(): Promise<void>;
}

/** Returns why the rig cannot run on this machine, or undefined when it can. */
export async function mediaRigUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the media rig creates network namespaces and needs root';
  if (!(await janusInstalled())) return 'janus is not installed (apt-get install janus)';
  try {
    await execFileAsync('ip', ['netns', 'list']);
  } catch (error) {
    return `"ip netns" failed: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Skips the test when the rig cannot run, except under CI (CI=true), where
 * that fails the test so a broken machine cannot pass as "nothing to test".
 * Returns true when the test may go on.
 */
export async function requireMediaRig(t: TestContext): Promise<boolean> {
  const reason = await mediaRigUnavailableReason();
  if (!reason) return true;
  if (process.env.CI === 'true') throw new Error(`media rig unavailable: ${reason}`);
  t.skip(reason);
  return false;
}

let rigCount = 0;

/** Creates the namespaces, starts Janus in hop-j-<id> and the relays. */
export async function createMediaRig(options: MediaRigOptions = {}): Promise<MediaRig> {
  await removeStaleRigs();

  // The owner pid leads the id so that a later run can tell a rig left by a crash.
  rigCount += 1;
  const id = `${process.pid}-${rigCount}`;
  const janusNetns = `hop-j-${id}`;
  const browserNetns = `hop-b-${id}`;
  const runDir = join(tmpdir(), `${RUN_DIR_PREFIX}${id}`);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await execFileAsync('bash', [netnsScript, 'create', id]);
  rigLog.info({ id, janusNetns, browserNetns }, 'media rig namespaces created');

  // If the test process exits without teardown, delete the namespaces anyway
  // (this also stops the processes inside them).
  const emergencyCleanup = () => {
    spawnSync('bash', [netnsScript, 'delete', id], { stdio: 'ignore' });
  };
  process.once('exit', emergencyCleanup);

  const relays: Relay[] = [];
  const browserChildren: ChildProcess[] = [];
  let janus: JanusProcess | undefined;
  let tornDown = false;

  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    for (const child of browserChildren) await stopChild(child);
    for (const relay of relays.reverse()) await relay.stop();
    if (janus) await janus.stop();
    await execFileAsync('bash', [netnsScript, 'delete', id]);
    await rm(runDir, { recursive: true, force: true });
    process.removeListener('exit', emergencyCleanup);
    rigLog.info({ id }, 'media rig removed');
  };

  const serverName = options.serverName ?? 'janus-rig';
  try {
    const eventsPath = options.eventsPath ?? '/janus/events';
    janus = await startJanus({
      configDir: join(repoRoot, 'media/janus-config'),
      runDir: join(runDir, 'janus'),
      wsPort: JANUS_WS_PORT,
      adminWsPort: JANUS_ADMIN_WS_PORT,
      // Loopback of hop-j only: the relay is the one client of the Janus API.
      bindIp: '127.0.0.1',
      eventsUrl: `http://127.0.0.1:${NAMESPACE_GATEWAY_PORT}${eventsPath}`,
      netns: janusNetns,
      videoroomAdminKey: options.videoroomAdminKey,
      serverName,
    });

    const janusSocket = join(runDir, 'janus-ws.sock');
    const adminSocket = join(runDir, 'janus-admin.sock');
    const gatewaySocket = join(runDir, 'gateway.sock');
    relays.push(await startRelay(`unix:${janusSocket}`, `tcp:127.0.0.1:${JANUS_WS_PORT}`, janusNetns));
    relays.push(await startRelay(`unix:${adminSocket}`, `tcp:127.0.0.1:${JANUS_ADMIN_WS_PORT}`, janusNetns));
    const janusRelay = await startRelay('tcp:127.0.0.1:0', `unix:${janusSocket}`);
    relays.push(janusRelay);
    const adminRelay = await startRelay('tcp:127.0.0.1:0', `unix:${adminSocket}`);
    relays.push(adminRelay);
    if (options.gatewayAcrossVeth) {
      const vethGateway = `tcp:${JANUS_RIG_ADDRESS}:${NAMESPACE_GATEWAY_PORT}`;
      relays.push(await startRelay(vethGateway, `unix:${gatewaySocket}`, janusNetns));
      relays.push(await startRelay(`tcp:127.0.0.1:${NAMESPACE_GATEWAY_PORT}`, vethGateway, browserNetns));
    } else {
      relays.push(await startRelay(`tcp:127.0.0.1:${NAMESPACE_GATEWAY_PORT}`, `unix:${gatewaySocket}`, browserNetns));
    }
    relays.push(await startRelay(`tcp:127.0.0.1:${NAMESPACE_GATEWAY_PORT}`, `unix:${gatewaySocket}`, janusNetns));

    let gatewayRelay: Relay | undefined;
    const connectGateway = async (port: number) => {
      if (gatewayRelay) {
        await gatewayRelay.stop();
        relays.splice(relays.indexOf(gatewayRelay), 1);
      }
      gatewayRelay = await startRelay(`unix:${gatewaySocket}`, `tcp:127.0.0.1:${port}`);
      relays.push(gatewayRelay);
    };
    if (options.gatewayPort !== undefined) await connectGateway(options.gatewayPort);

    const rig: MediaRig = {
      id,
      janusNetns,
      browserNetns,
      runDir,
      serverName,
      janus,
      janusUrlForServer: `ws://${tcpAddress(janusRelay.listening)}`,
      janusAdminUrlForServer: `ws://${tcpAddress(adminRelay.listening)}`,
      browserGatewayUrl: `http://127.0.0.1:${NAMESPACE_GATEWAY_PORT}`,
      connectGateway,
      runInBrowserNs: async (command, args) => {
        try {
          const { stdout, stderr } = await execFileAsync('ip', ['netns', 'exec', browserNetns, command, ...args]);
          return { code: 0, stdout, stderr };
        } catch (error) {
          const failure = error as { code?: number | string; stdout?: string; stderr?: string };
          if (typeof failure.code !== 'number') throw error;
          return { code: failure.code, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
        }
      },
      spawnInBrowserNs: (command, args) => {
        const child = spawn('ip', ['netns', 'exec', browserNetns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        browserChildren.push(child);
        return child;
      },
      shape: async ({ rate, burst, latency }) => {
        await execFileAsync('bash', [netnsScript, 'shape', id, rate, burst ?? '16kb', latency ?? '300ms']);
      },
      unshape: async () => {
        await execFileAsync('bash', [netnsScript, 'unshape', id]);
      },
      setLoss: async (percent) => {
        await execFileAsync('bash', [netnsScript, 'loss', id, String(percent)]);
      },
      cut: async (on) => {
        await execFileAsync('bash', [netnsScript, 'cut', id, on ? 'on' : 'off']);
      },
      teardown,
    };
    rigLog.info({ id, janusUrlForServer: rig.janusUrlForServer }, 'media rig ready');
    return rig;
  } catch (error) {
    await teardown().catch((cleanupError: unknown) => rigLog.error({ err: cleanupError, id }, 'media rig cleanup failed'));
    throw error;
  }
}

/** Deletes namespaces and run folders of rigs whose owner process no longer runs. */
async function removeStaleRigs(): Promise<void> {
  const { stderr } = await execFileAsync('bash', [netnsScript, 'cleanup-stale']);
  for (const line of stderr.split('\n').filter(Boolean)) rigLog.warn(line);
  for (const name of await readdir(tmpdir())) {
    const match = new RegExp(`^${RUN_DIR_PREFIX}(\\d+)-\\w+$`).exec(name);
    if (!match || processRuns(Number(match[1]))) continue;
    rigLog.warn({ runDir: name }, 'removing run folder of a media rig whose owner is gone');
    await rm(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tcpAddress(endpoint: string): string {
  if (!endpoint.startsWith('tcp:')) throw new Error(`expected a tcp endpoint, got ${endpoint}`);
  return endpoint.slice('tcp:'.length);
}

interface Relay {
  pid: number;
  /** The endpoint the relay listens on, with the port it picked. */
  listening: string;
  stop(): Promise<void>;
}

/**
 * Starts `forward.mjs LISTEN CONNECT`, in `netns` when given, and waits for
 * its "listening" line. The relay's stdin is a pipe from this process, so the
 * relay exits when this process dies.
 */
async function startRelay(listen: string, connectTo: string, netns?: string): Promise<Relay> {
  const nodeArgs = [forwarderScript, '--exit-with-stdin', listen, connectTo];
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...nodeArgs], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, nodeArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  const where = netns ?? 'root';

  createInterface({ input: child.stderr! }).on('line', (line) => rigLog.warn({ netns: where, listen }, line));
  const listening = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay ${listen} -> ${connectTo} (${where}) did not start within ${FORWARDER_START_TIMEOUT_MS} ms`));
    }, FORWARDER_START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { listening: string }).listening);
      } catch (error) {
        reject(new Error(`relay printed an unexpected line: ${line}`, { cause: error }));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay ${listen} -> ${connectTo} (${where}) exited with code ${code}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  rigLog.debug({ pid: child.pid, netns: where, listening, connectTo }, 'relay started');
  return { pid: child.pid as number, listening, stop: () => stopChild(child) };
}

/** Stops a child process by pid: SIGTERM, then SIGKILL after 5 seconds. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

