/**
 * Creates a system administrator with a local account:
 *
 *   npm run admin:create -- --username hoa.nt --name "Nguyễn Thị Hòa" [--email hoa@example.gov.vn]
 *
 * The password comes from HOP_ADMIN_PASSWORD or standard input (typed twice,
 * hidden, on a terminal), never from the command line, where other users could
 * read it in the process list. The database is DATABASE_URL, or the PGlite
 * database in HOP_DATA_DIR/db; migrations run first.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { migrateToLatest, openDatabase } from '../lib/adapters/db/database.ts';
import { AccountError, createLocalAccount } from '../gateway/auth/accounts.ts';
import { ConfigError, loadConfig } from '../gateway/config.ts';
import { lockDataDir } from '../gateway/data-dir-lock.ts';
import { log } from '../lib/log.ts';

const usage = `Cách dùng / usage:
  npm run admin:create -- --username TÊN --name "Họ và tên" [--email ĐỊA_CHỈ]
Mật khẩu đọc từ biến HOP_ADMIN_PASSWORD hoặc từ đầu vào chuẩn (stdin).
The password is read from HOP_ADMIN_PASSWORD or standard input.`;

function fail(vi: string, en: string, exitCode = 1): never {
  process.stderr.write(`${vi}\n${en}\n`);
  process.exit(exitCode);
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(question);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          input.setRawMode(false);
          reject(new Error('cancelled with Ctrl-C'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else value += char;
      }
    };
    input.on('data', onData);
  });
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.HOP_ADMIN_PASSWORD;
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) {
    const first = await promptHidden('Mật khẩu / password: ');
    const second = await promptHidden('Nhập lại mật khẩu / repeat password: ');
    if (first !== second) fail('Hai lần nhập mật khẩu không khớp nhau.', 'the two passwords differ');
    return first;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // Only the line break that `echo` or a here-string adds is removed; other spaces belong to the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  // Migration lines would bury the result; LOG_LEVEL still overrides.
  if (!process.env.LOG_LEVEL) log.level = 'warn';

  let values;
  try {
    ({ values } = parseArgs({
      options: {
        username: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        password: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`Tham số không hợp lệ: ${(error as Error).message}\n${usage}`, `invalid arguments: ${(error as Error).message}`, 2);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (values.password !== undefined) {
    fail(
      'Không nhận mật khẩu qua tham số dòng lệnh vì người khác có thể đọc được. Hãy dùng biến HOP_ADMIN_PASSWORD hoặc nhập từ stdin.',
      '--password is not accepted because the process list shows it to other users; use HOP_ADMIN_PASSWORD or stdin',
      2,
    );
  }
  if (!values.username || !values.name) fail(`Thiếu --username hoặc --name.\n${usage}`, 'missing --username or --name', 2);

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail('Cấu hình trong biến môi trường không hợp lệ.', error.message, 2);
    throw error;
  }

  const password = await readPassword();

  let release: (() => Promise<void>) | null = null;
  if (!config.env.DATABASE_URL) {
    // PGlite allows one process on its folder, and the gateway holds gateway.lock while it runs.
    try {
      release = await lockDataDir(config.dataDir);
    } catch (error) {
      if (error instanceof ConfigError) {
        const owner = /pid (\d+)/.exec(error.message)?.[1];
        const gateway = owner ? `gateway hop (pid ${owner})` : 'gateway hop';
        fail(
          `Không mở được cơ sở dữ liệu nhúng trong ${config.dataDir} vì ${gateway} đang chạy trên thư mục này. Hãy dừng gateway, chạy lại lệnh này, rồi khởi động lại gateway.`,
          owner
            ? `the embedded database in ${config.dataDir} is in use by the hop gateway (pid ${owner}); stop it, run this again, then start the gateway`
            : error.message,
        );
      }
      throw error;
    }
  }

  const database = await openDatabase(
    config.env.DATABASE_URL
      ? { kind: 'postgres', url: config.env.DATABASE_URL, poolSize: 1 }
      : { kind: 'pglite', dataDir: path.join(config.dataDir, 'db') },
  );
  try {
    await migrateToLatest(database.db);
    const created = await createLocalAccount(database.db, {
      username: values.username,
      displayName: values.name,
      password,
      systemRole: 'admin',
      email: values.email ?? null,
    });
    process.stdout.write(
      `Đã tạo quản trị viên "${created.username}" (id ${created.userId}).\nCreated admin "${created.username}" (id ${created.userId}).\n`,
    );
  } catch (error) {
    if (error instanceof AccountError) {
      process.exitCode = 1;
      process.stderr.write(`${error.vi}\n${error.message}\n`);
    } else {
      throw error;
    }
  } finally {
    await database.close();
    await release?.();
  }
}

await main();
