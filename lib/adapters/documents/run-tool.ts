import { spawn } from 'node:child_process';

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
}

export class ToolError extends Error {
  readonly tool: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;

  constructor(tool: string, options: { exitCode: number | null; timedOut: boolean; stderr: string; cause?: unknown }) {
    const what = options.timedOut ? 'timed out' : `exited with code ${options.exitCode ?? 'null'}`;
    super(`${tool} ${what}${options.stderr ? `: ${options.stderr.slice(0, 500)}` : ''}`, { cause: options.cause });
    this.name = 'ToolError';
    this.tool = tool;
    this.exitCode = options.exitCode;
    this.timedOut = options.timedOut;
    this.stderr = options.stderr;
  }
}

export interface RunToolOptions {
  timeoutMs: number;
  /** Largest stdout kept, in bytes; more fails the run. Defaults to 64 MiB. */
  maxStdoutBytes?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const MAX_STDERR_CHARS = 4_000;

/**
 * Runs a command-line tool without a shell and collects its output. The tool
 * runs in its own process group, and on time-out the whole group gets
 * SIGKILL, because LibreOffice's `soffice` starts a child `soffice.bin` that
 * a kill of the parent alone leaves running. Rejects with ToolError on a
 * non-zero exit, a signal or the time-out.
 */
export function runTool(command: string, args: readonly string[], options: RunToolOptions): Promise<ToolResult> {
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let timedOut = false;
    let overflow = false;

    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group has already exited.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        overflow = true;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR_CHARS) stderr += chunk.toString('utf8').slice(0, MAX_STDERR_CHARS - stderr.length);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new ToolError(command, { exitCode: null, timedOut: false, stderr: error.message, cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      // Children of the tool may still hold the group; they are not needed any more.
      killGroup();
      if (timedOut || overflow || code !== 0) {
        const detail = overflow ? `output larger than ${maxStdout} bytes` : stderr.trim();
        reject(new ToolError(command, { exitCode: code, timedOut, stderr: detail }));
        return;
      }
      resolve({ stdout: Buffer.concat(stdout), stderr });
    });
  });
}
