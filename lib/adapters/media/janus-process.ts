/**
 * Starts and stops a Janus process with hop's configuration.
 *
 * The templates in `media/janus-config` contain `{{NAME}}` placeholders. The
 * launcher fills them, writes the result to `<runDir>/config` and runs
 * `janus -F <runDir>/config`, optionally inside a network namespace through
 * `ip netns exec`. The gateway uses this for the embedded Janus of `npm start`
 * and the media tests use it inside their namespace rig.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { log } from '../../log.ts';

const janusLog = log.child({ module: 'janus-process' });

export interface StartJanusOptions {
  /** Folder with the `*.jcfg` templates, normally `media/janus-config`. */
  configDir: string;
  /** Folder for the rendered configuration (`config/`), `janus.log` and `janus.pid`. */
  runDir: string;
  /** Port of the Janus API WebSocket (browsers and Janode). */
  wsPort: number;
  /** Port of the Admin API WebSocket. */
  adminWsPort: number;
  /** Address the Janus API WebSocket binds to, "0.0.0.0" for all. Default 127.0.0.1. */
  bindIp?: string;
  /** Address the Admin API WebSocket binds to. Default 127.0.0.1. */
  adminBindIp?: string;
  /** Comma-separated address prefixes allowed on the Admin API. Default "127.". */
  adminAcl?: string;
  /** URL the HTTP event handler POSTs events to, e.g. http://127.0.0.1:8080/janus/events. */
  eventsUrl: string;
  /** Password of HTTP basic auth (user `janus`) on event posts; none when missing. */
  eventsPassword?: string;
  /** Admin API secret. When missing, JANUS_ADMIN_SECRET or else a random value is used. */
  adminSecret?: string;
  /** VideoRoom `admin_key` that `create` requests must carry. When missing, Janus has none. */
  videoroomAdminKey?: string;
  /** UDP port range for ICE and RTP as "MIN-MAX". Default 20000-40000. */
  rtpPortRange?: string;
  /** Network namespace to run Janus in (`ip netns exec NAME`). */
  netns?: string;
  /** Janus log level from 0 (none) to 7 (huge). Default 4 (info). */
  debugLevel?: number;
  /** Janus `server_name`, which the `info` request and events (`emitter`) show. Default "hop". */
  serverName?: string;
  /** Time to wait for the WebSocket port, in milliseconds. Default 20000. */
  startTimeoutMs?: number;
  /** The Janus binary. Default `janus` from PATH. */
  executable?: string;
}

export interface JanusProcess {
  pid: number;
  /** Janus API URL as seen from Janus's own network namespace. */
  url: string;
  /** Admin API URL as seen from Janus's own network namespace. */
  adminUrl: string;
  adminSecret: string;
  logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Stops Janus (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
/** Characters a jcfg string value may not contain, because the launcher does no escaping. */
const UNSAFE_VALUE = /["\\\r\n]/;

/** Returns true when the Janus binary is on PATH (or at `executable` when it contains a slash). */
export async function janusInstalled(executable = 'janus'): Promise<boolean> {
  return (await findExecutable(executable)) !== undefined;
}

async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not in this folder; try the next.
    }
  }
  return undefined;
}

/**
 * Replaces `{{NAME}}` placeholders with `values[NAME]`. A line containing
 * `{{NAME?}}` is removed when NAME has no value or an empty one. A missing
 * value for a plain `{{NAME}}` is an error. Comment lines (first non-blank
 * character `#`) are copied unchanged.
 */
export function renderTemplate(template: string, values: Record<string, string | number | undefined>, fileName = 'template'): string {
  const lines: string[] = [];
  for (const line of template.split('\n')) {
    if (line.trimStart().startsWith('#')) {
      lines.push(line);
      continue;
    }
    let dropLine = false;
    const rendered = line.replace(/\{\{([A-Z0-9_]+)(\?)?\}\}/g, (_match, name: string, optional: string | undefined) => {
      const value = values[name];
      if (value === undefined || value === '') {
        if (optional) {
          dropLine = true;
          return '';
        }
        throw new Error(`${fileName}: no value for placeholder {{${name}}}`);
      }
      const text = String(value);
      if (UNSAFE_VALUE.test(text)) throw new Error(`${fileName}: value for {{${name}}} contains a quote, backslash or line break`);
      return text;
    });
    if (!dropLine) lines.push(rendered);
  }
  return lines.join('\n');
}

/** Renders every `*.jcfg` template of `configDir` into `targetDir` and returns the admin secret used. */
export async function renderJanusConfig(options: StartJanusOptions, targetDir: string): Promise<string> {
  const debugLevel = options.debugLevel ?? 4;
  if (!Number.isInteger(debugLevel) || debugLevel < 0 || debugLevel > 7) {
    throw new Error(`invalid Janus debugLevel ${debugLevel}: expected an integer from 0 to 7`);
  }
  const adminSecret = options.adminSecret ?? process.env.JANUS_ADMIN_SECRET ?? randomBytes(24).toString('base64url');
  const values: Record<string, string | number | undefined> = {
    CONFIG_DIR: targetDir,
    DEBUG_LEVEL: debugLevel,
    ADMIN_SECRET: adminSecret,
    SERVER_NAME: options.serverName ?? 'hop',
    RTP_PORT_RANGE: options.rtpPortRange ?? '20000-40000',
    HOP_EVENTS_URL: options.eventsUrl,
    HOP_EVENTS_USER: options.eventsPassword ? 'janus' : undefined,
    HOP_EVENTS_PASSWORD: options.eventsPassword,
    VIDEOROOM_ADMIN_KEY: options.videoroomAdminKey,
    WS_PORT: options.wsPort,
    WS_IP: options.bindIp ?? '127.0.0.1',
    ADMIN_WS_PORT: options.adminWsPort,
    ADMIN_WS_IP: options.adminBindIp ?? '127.0.0.1',
    ADMIN_WS_ACL: options.adminAcl ?? '127.',
  };

  await mkdir(targetDir, { recursive: true, mode: 0o700 });
  const templates = (await readdir(options.configDir)).filter((name) => name.endsWith('.jcfg'));
  if (!templates.includes('janus.jcfg')) throw new Error(`${options.configDir} contains no janus.jcfg`);
  for (const name of templates) {
    const template = await readFile(join(options.configDir, name), 'utf8');
    // The files contain the admin secret and key, so only the owner may read them.
    await writeFile(join(targetDir, name), renderTemplate(template, values, name), { mode: 0o600 });
  }
  return adminSecret;
}

/** Starts Janus and resolves once it listens on its API WebSocket port. */
export async function startJanus(options: StartJanusOptions): Promise<JanusProcess> {
  const executable = options.executable ?? 'janus';
  const janusPath = await findExecutable(executable);
  if (!janusPath) throw new Error(`Janus binary "${executable}" not found; install Debian's janus package`);

  await mkdir(options.runDir, { recursive: true, mode: 0o700 });
  const pidFile = join(options.runDir, 'janus.pid');
  await stopStaleJanus(pidFile);

  const configFolder = join(options.runDir, 'config');
  const adminSecret = await renderJanusConfig(options, configFolder);
  const logFile = join(options.runDir, 'janus.log');
  const janusArgs = ['-F', configFolder];
  const { child, pid, exited } = options.netns
    ? await spawnWithLog('ip', ['netns', 'exec', options.netns, janusPath, ...janusArgs], logFile)
    : await spawnWithLog(janusPath, janusArgs, logFile);
  await writeFile(pidFile, `${pid}\n`);
  let stopping = false;
  void exited.then(async (status) => {
    await rm(pidFile, { force: true });
    if (!stopping) janusLog.error({ pid, status, logFile, netns: options.netns }, 'Janus exited unexpectedly');
  });

  const host = hostForBindIp(options.bindIp ?? '127.0.0.1');
  const adminHost = hostForBindIp(options.adminBindIp ?? '127.0.0.1');
  const janus: JanusProcess = {
    pid,
    url: `ws://${host}:${options.wsPort}`,
    adminUrl: `ws://${adminHost}:${options.adminWsPort}`,
    adminSecret,
    logFile,
    exited,
    stop: async () => {
      stopping = true;
      await stopProcess(child, exited);
      janusLog.info({ pid, netns: options.netns }, 'Janus stopped');
    },
  };

  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  let addresses: string[];
  try {
    addresses = await waitForPort({ pid, port: options.wsPort, exited, timeoutMs });
  } catch (error) {
    await janus.stop();
    // At high debug levels Janus prints its configuration, secrets included.
    let tail = await readLogTail(logFile);
    for (const secret of [adminSecret, options.videoroomAdminKey]) {
      if (secret) tail = tail.split(secret).join('[redacted]');
    }
    throw new Error(`Janus did not start (see ${logFile}): ${(error as Error).message}\n${tail}`, { cause: error });
  }
  const bindIp = options.bindIp ?? '127.0.0.1';
  if (bindIp !== '0.0.0.0' && bindIp !== '::' && listensOnAllAddresses(addresses)) {
    // Janus 1.1.2 binds to every address when ws_ip is not an address of its host or namespace.
    janusLog.warn({ pid, bindIp, port: options.wsPort }, 'Janus listens on all addresses: bindIp is not a local address');
  }
  janusLog.info({ pid, url: janus.url, netns: options.netns, logFile }, 'Janus started');
  return janus;
}

interface SpawnedProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code, or the signal name when a signal ended the process. */
  exited: Promise<number | string>;
}

/** Spawns a process with stdout and stderr appended to `logFile`. */
async function spawnWithLog(command: string, args: string[], logFile: string): Promise<SpawnedProcess> {
  const logHandle = await open(logFile, 'a', 0o600);
  try {
    // `ip netns exec` execs the command, so the child pid is Janus's own pid.
    const child = spawn(command, args, { stdio: ['ignore', logHandle.fd, logHandle.fd] });
    // Listeners go on before the first await, because 'spawn' and 'exit' may fire during it.
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', reject);
    });
    return { child, pid, exited };
  } finally {
    await logHandle.close();
  }
}

function hostForBindIp(bindIp: string): string {
  if (bindIp === '0.0.0.0') return '127.0.0.1';
  return bindIp.includes(':') ? `[${bindIp}]` : bindIp;
}

async function stopProcess(child: ChildProcess, exited: Promise<number | string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    janusLog.warn({ pid: child.pid }, 'Janus did not exit after SIGTERM; sending SIGKILL');
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Stops a Janus left running by an earlier launcher that died. The pid file
 * is trusted only when the process still runs Janus with this run folder.
 */
async function stopStaleJanus(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  const configFolder = join(pidFile, '..', 'config');
  let commandLine: string;
  try {
    commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    await rm(pidFile, { force: true });
    return;
  }
  if (!commandLine.includes('janus') || !commandLine.includes(configFolder)) {
    await rm(pidFile, { force: true });
    return;
  }

  janusLog.warn({ pid, pidFile }, 'stopping Janus left running by an earlier start');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (Date.now() < deadline && processExists(pid)) await sleep(100);
  if (processExists(pid)) process.kill(pid, 'SIGKILL');
  await rm(pidFile, { force: true });
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface PortWait {
  pid: number;
  port: number;
  exited: Promise<number | string>;
  timeoutMs: number;
}

/**
 * Waits until Janus listens on the port and returns the listening addresses
 * (hexadecimal, as in /proc). The check reads the TCP table of Janus's own
 * network namespace through `/proc/<pid>/net/tcp` and `tcp6`, so it works
 * inside another namespace and sends no packets.
 */
async function waitForPort({ pid, port, exited, timeoutMs }: PortWait): Promise<string[]> {
  let exitStatus: number | string | undefined;
  void exited.then((status) => {
    exitStatus = status;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitStatus !== undefined) throw new Error(`Janus exited with status ${exitStatus} during start-up`);
    const addresses = await listeningAddresses(pid, port);
    if (addresses.length > 0) return addresses;
    await sleep(100);
  }
  throw new Error(`port ${port} was not listening within ${timeoutMs} ms`);
}

async function listeningAddresses(pid: number, port: number): Promise<string[]> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await readFile(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localAddress = fields[1];
      const state = fields[3];
      // State 0A is TCP_LISTEN.
      if (localAddress?.endsWith(`:${portHex}`) && state === '0A') addresses.push(localAddress.slice(0, -5));
    }
  }
  return addresses;
}

/** Returns true when the /proc addresses contain an any-address listener (0.0.0.0 or ::). */
function listensOnAllAddresses(addresses: string[]): boolean {
  return addresses.some((address) => /^0+$/.test(address));
}

async function readLogTail(logFile: string, lines = 30): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
