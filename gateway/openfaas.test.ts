/**
 * The production path of function calls: the gateway with OPENFAAS_URL set
 * calls `/function/NAME` over HTTP, and every function runs in the OpenFaaS
 * template's runner (template/hop-node20-ts/runner) as it does in its pod.
 * A small HTTP router replaces the OpenFaaS gateway, forwarding
 * `/function/NAME/...` to that function's runner as OpenFaaS does.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type DatabaseHandle } from '../lib/adapters/db/database.ts';
import { log } from '../lib/log.ts';
import { createRunnerServer, loadHandler } from '../template/hop-node20-ts/runner/index.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase, waitFor } from '../test/support/services.ts';
import { repositoryRoot } from './platform.ts';
import { loadRegistry } from './registry.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Forwards `/function/NAME[/rest]` to the runner of NAME, keeping method, headers, query and body. */
function openFaasRouter(runners: Map<string, number>): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://router');
    const match = /^\/function\/([a-z0-9-]+)(\/.*)?$/.exec(url.pathname);
    const port = match ? runners.get(match[1]!) : undefined;
    if (!match || port === undefined) {
      res.writeHead(404).end('function not found');
      return;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: `${match[2] ?? '/'}${url.search}`, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('upstream failed'));
    req.pipe(upstream);
  });
}

if (!process.env.TEST_DATABASE_URL && process.env.CI === 'true') throw new Error('TEST_DATABASE_URL is not set; scripts/test.sh sets it');

describe('functions on OpenFaaS runners', { skip: process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL not set' }, () => {
  let drop: () => Promise<void>;
  let database: DatabaseHandle;
  let hop: TestPlatform;
  const servers: Server[] = [];
  const runnerPorts = new Map<string, number>();

  before(async () => {
    const created = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    drop = created.drop;
    database = await openDatabase({ kind: 'postgres', url: created.url });

    const functions = await loadRegistry(path.join(repositoryRoot, 'stack.yml'));
    for (const fn of functions) {
      const handler = await loadHandler(path.join(repositoryRoot, fn.handlerDir, 'handler.ts'));
      const server = createRunnerServer({
        handler,
        // Test meetings start within the hour, so the minimum notice of working days is off, as in startTestPlatform.
        deps: { db: database.db, media: null, storage: null, log, now: () => new Date(), joinTokenSecret: 'test-join-token-secret-0123456789abcdef', minNoticeWorkingDays: 0 },
        log,
      });
      servers.push(server);
      runnerPorts.set(fn.name, await listen(server));
    }
    const router = openFaasRouter(runnerPorts);
    servers.push(router);
    const routerPort = await listen(router);

    hop = await startTestPlatform({ DATABASE_URL: created.url, OPENFAAS_URL: `http://127.0.0.1:${routerPort}` });
    assert.equal(hop.platform.summary.functions, 'openfaas');
  });

  after(async () => {
    await hop?.stop();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await database?.close();
    await drop?.();
  });

  it('meeting created, read and cancelled', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest({ title: 'Họp qua OpenFaaS' }));
    assert.equal(created.status, 201);
    assert.equal(created.body.title, 'Họp qua OpenFaaS');

    const fetched = await hop.request('GET', `/api/v1/meetings/${created.body.id}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.participants.length, 2);

    const listed = await hop.request('GET', '/api/v1/meetings?limit=5');
    assert.equal(listed.status, 200);
    assert.ok(listed.body.meetings.some((meeting: { id: string }) => meeting.id === created.body.id));

    const cancelled = await hop.request('POST', `/api/v1/meetings/${created.body.id}/cancel`, { reason: 'Lý do: bão' });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
  });

  it('errors keep their status and code', async () => {
    const invalid = await hop.request('POST', '/api/v1/meetings', meetingRequest({ timeZone: 'Mars/Olympus' }));
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'UNKNOWN_TIME_ZONE');

    const missing = await hop.request('GET', '/api/v1/meetings/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'MEETING_NOT_FOUND');

    const vietnameseParam = await hop.request('GET', `/api/v1/meetings/${encodeURIComponent('cuộc-họp')}`);
    assert.equal(vietnameseParam.status, 404, 'a non-ASCII route parameter reaches the function');
    assert.equal(vietnameseParam.body.error.code, 'MEETING_NOT_FOUND');
  });

  it('Kafka bridge calls event functions over HTTP', async () => {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest());
    // The runners have no media, so room-provision marks the room failed: proof it ran.
    await waitFor('room-provision ran', async () => {
      const meeting = await hop.request('GET', `/api/v1/meetings/${created.body.id}`);
      return meeting.body.roomStatus === 'failed' ? true : undefined;
    });
  });

  it('unreachable function answers 503', async () => {
    const port = runnerPorts.get('meeting-get')!;
    const index = [...runnerPorts.keys()].indexOf('meeting-get');
    const server = servers[index]!;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    runnerPorts.set('meeting-get', port);

    const response = await hop.request('GET', '/api/v1/meetings/00000000-0000-4000-8000-000000000000');
    assert.equal(response.status, 503);
    assert.equal(response.body.error.code, 'UNAVAILABLE');
    assert.equal(response.body.error.details.upstreamStatus, 502);
    const health = await hop.request('GET', '/healthz');
    assert.equal(health.status, 200);
  });
});
