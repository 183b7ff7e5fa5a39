import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { openDatabase, type DatabaseHandle } from '../../../lib/adapters/db/database.ts';
import { requireService, waitFor } from '../../../test/support/services.ts';
import { handler } from './fixtures/handler.ts';
import { createRunnerServer, encodeRouteParams, loadHandler, loadRunnerConfig } from './index.ts';

const runnerDir = path.dirname(fileURLToPath(import.meta.url));
const fixturePath = path.join(runnerDir, 'fixtures', 'handler.ts');

interface ErrorResponse {
  error: { code: string; message: string; message_en: string; details?: unknown };
}

describe('runner', () => {
  let server: Server;
  let baseUrl: string;
  let database: DatabaseHandle;
  const logLines: string[] = [];

  before(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    const capture = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString());
        callback();
      },
    });
    const log = pino({ level: 'info' }, capture);
    server = createRunnerServer({
      handler,
      deps: { db: database.db, media: null, storage: null, log, now: () => new Date(), joinTokenSecret: 'test-join-token-secret-0123456789abcdef' },
      maxBodyBytes: 1024,
      log,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
  });

  it('health check answers 200', async () => {
    const response = await fetch(`${baseUrl}/_/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  it('passes status and JSON through', async () => {
    const response = await fetch(`${baseUrl}/echo?page=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hop-route-params': encodeRouteParams({ id: 'cuộc-họp-1' }) },
      body: JSON.stringify({ name: 'Phòng họp số 1' }),
    });
    assert.equal(response.status, 201);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), {
      body: { name: 'Phòng họp số 1' },
      params: { id: 'cuộc-họp-1' },
      query: { page: '2' },
    });
  });

  it('restores route params header', async () => {
    const header = encodeRouteParams({ id: 'a1', slug: 'họp-giao-ban' });
    assert.match(header, /^[\x20-\x7e]+$/, 'the header is ASCII');
    const response = await fetch(`${baseUrl}/event`, { headers: { 'x-hop-route-params': header } });
    assert.equal(response.status, 200);
    const event = (await response.json()) as { params: Record<string, string>; method: string; path: string };
    assert.deepEqual(event.params, { id: 'a1', slug: 'họp-giao-ban' });
    assert.equal(event.method, 'GET');
    assert.equal(event.path, '/event');
  });

  it('accepts raw UTF-8 params header', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const raw = JSON.stringify({ slug: 'họp-giao-ban' });
      const req = httpRequest(`${baseUrl}/event`, { headers: { 'x-hop-route-params': Buffer.from(raw).toString('latin1') } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual((JSON.parse(status) as { params: unknown }).params, { slug: 'họp-giao-ban' });
  });

  it('missing params header gives empty params', async () => {
    const event = (await (await fetch(`${baseUrl}/event`)).json()) as { params: Record<string, string> };
    assert.deepEqual(event.params, {});
  });

  it('invalid params header answers 400', async () => {
    for (const header of ['not json', '["a"]', '{"id": 5}', 'null']) {
      const response = await fetch(`${baseUrl}/event`, { headers: { 'x-hop-route-params': header } });
      assert.equal(response.status, 400, `header ${header}`);
      assert.equal(((await response.json()) as ErrorResponse).error.code, 'VALIDATION_FAILED');
    }
  });

  it('parses body by content type', async () => {
    const cases: { type: string | undefined; body: string; expected: unknown }[] = [
      { type: 'application/json; charset=utf-8', body: '{"a":[1,2]}', expected: { a: [1, 2] } },
      { type: 'application/cloudevents+json', body: '{"type":"x"}', expected: { type: 'x' } },
      { type: 'text/plain', body: 'xin chào', expected: 'xin chào' },
      { type: 'application/x-www-form-urlencoded', body: 'a=1&b=h%E1%BB%8Dp', expected: { a: '1', b: 'họp' } },
      { type: 'application/json', body: '', expected: undefined },
    ];
    for (const item of cases) {
      const headers: Record<string, string> = item.type ? { 'content-type': item.type } : {};
      const response = await fetch(`${baseUrl}/event`, { method: 'POST', headers, body: item.body });
      assert.equal(response.status, 200, `${item.type}`);
      const event = (await response.json()) as { body: unknown };
      assert.deepEqual(event.body, item.expected, `${item.type}`);
    }
  });

  it('invalid JSON answers 400', async () => {
    const response = await fetch(`${baseUrl}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as ErrorResponse;
    assert.equal(body.error.code, 'INVALID_JSON');
    assert.ok(body.error.message.length > 0);
  });

  it('custom status and headers', async () => {
    const response = await fetch(`${baseUrl}/headers`);
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-fixture'), 'yes');
    assert.equal(response.headers.get('content-type'), 'text/csv');
    assert.equal(await response.text(), 'a,b\n1,2\n');
  });

  it('string result is text', async () => {
    const response = await fetch(`${baseUrl}/text`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await response.text(), 'xin chào');
  });

  it('204 has no body', async () => {
    const response = await fetch(`${baseUrl}/empty`);
    assert.equal(response.status, 204);
    assert.equal(await response.text(), '');
  });

  it('thrown HopError keeps its status', async () => {
    const response = await fetch(`${baseUrl}/hop-error`);
    assert.equal(response.status, 404);
    const body = (await response.json()) as ErrorResponse;
    assert.equal(body.error.code, 'MEETING_NOT_FOUND');
    assert.deepEqual(body.error.details, { meetingId: 'x' });
  });

  it('httpFunction validation answers 400', async () => {
    const response = await fetch(`${baseUrl}/hop-error-validated`);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as ErrorResponse).error.code, 'VALIDATION_FAILED');
  });

  it('thrown error answers generic 500', async () => {
    logLines.length = 0;
    const response = await fetch(`${baseUrl}/throw`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.doesNotMatch(text, /hunter2/);
    assert.equal((JSON.parse(text) as ErrorResponse).error.code, 'INTERNAL');
    const logged = logLines.join('');
    assert.match(logged, /handler failed/);
    assert.match(logged, /database password is hunter2/, 'the error is logged for operators');
  });

  it('context.fail answers generic 500', async () => {
    logLines.length = 0;
    const response = await fetch(`${baseUrl}/fail`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.doesNotMatch(text, /hunter2/);
    assert.equal((JSON.parse(text) as ErrorResponse).error.code, 'INTERNAL');
    assert.match(logLines.join(''), /failed with a secret/);
  });

  it('invalid status answers 500', async () => {
    const response = await fetch(`${baseUrl}/bad-status`);
    assert.equal(response.status, 500);
    assert.equal(((await response.json()) as ErrorResponse).error.code, 'INTERNAL');
  });

  it('body over the limit answers 413', async () => {
    const response = await fetch(`${baseUrl}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2000) }),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as ErrorResponse).error.code, 'BODY_TOO_LARGE');
  });

  it('chunked body over the limit answers 413', async () => {
    const status = await new Promise<number | string>((resolve) => {
      const req = httpRequest(`${baseUrl}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (error) => resolve(`error: ${error.message}`));
      req.write(`{"name": "${'x'.repeat(800)}`);
      req.write(`${'y'.repeat(800)}"}`);
      req.end();
    });
    assert.equal(status, 413);
  });

  it('handler gets deps.db', async () => {
    const response = await fetch(`${baseUrl}/db`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { answer: 42 });
  });
});

describe('runner configuration', () => {
  it('reads defaults', () => {
    const config = loadRunnerConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.maxBodyBytes, 1024 * 1024);
    assert.equal(config.handlerPath, path.resolve(runnerDir, '..', 'function', 'handler.ts'));
  });

  it('reads overrides', () => {
    const config = loadRunnerConfig({ http_port: '8081', MAX_BODY_BYTES: '2048', HOP_HANDLER_PATH: fixturePath });
    assert.equal(config.port, 8081);
    assert.equal(config.maxBodyBytes, 2048);
    assert.equal(config.handlerPath, fixturePath);
  });

  it('rejects invalid numbers', () => {
    assert.throws(() => loadRunnerConfig({ MAX_BODY_BYTES: 'lots' }), /MAX_BODY_BYTES/);
    assert.throws(() => loadRunnerConfig({ http_port: '70000' }), /http_port/);
  });

  it('loadHandler rejects a module without handler', async () => {
    await assert.rejects(loadHandler(path.join(runnerDir, 'dependencies.ts')), /does not export a function named handler/);
  });
});

describe('runner process', () => {
  it('starts, serves and stops on SIGTERM', async (t) => {
    const adminUrl = requireService(t, 'postgres');
    if (!adminUrl) return;

    // The database URL arrives as an OpenFaaS secret file, as in a function pod.
    const secretsDir = await mkdtemp(path.join(tmpdir(), 'hop-runner-secrets-'));
    t.after(() => rm(secretsDir, { recursive: true, force: true }));
    await writeFile(path.join(secretsDir, 'hop-database-url'), `${adminUrl}\n`);

    const child = spawn(process.execPath, ['--import', 'tsx', path.join(runnerDir, 'index.ts')], {
      env: {
        PATH: process.env.PATH,
        http_port: '0',
        HOP_HANDLER_PATH: fixturePath,
        HOP_SECRETS_DIR: secretsDir,
        HOP_FUNCTION_NAME: 'runner-fixture',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const port = await waitFor('the runner to listen', () => {
      const line = output.split('\n').find((item) => item.includes('runner listening'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    });

    const response = await fetch(`http://127.0.0.1:${port}/db`);
    assert.equal(response.status, 200, output);
    assert.deepEqual(await response.json(), { answer: 42 });

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output);
  });

  it('exits 1 without a database URL', async () => {
    const secretsDir = await mkdtemp(path.join(tmpdir(), 'hop-runner-secrets-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(runnerDir, 'index.ts')], {
        env: { PATH: process.env.PATH, http_port: '0', HOP_HANDLER_PATH: fixturePath, HOP_SECRETS_DIR: secretsDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 1);
      assert.match(output, /DATABASE_URL is not set/);
    } finally {
      await rm(secretsDir, { recursive: true, force: true });
    }
  });
});
