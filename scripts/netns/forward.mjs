#!/usr/bin/env node
// Relays stream connections from one socket to another, so that processes in
// different network namespaces can reach each other through a Unix socket on
// the shared file system.
//
//   node scripts/netns/forward.mjs [--exit-with-stdin] LISTEN CONNECT
//
// LISTEN and CONNECT are tcp:HOST:PORT or unix:/path. Port 0 picks a free
// port. Once listening, the relay prints one JSON line to stdout, e.g.
// {"listening":"tcp:127.0.0.1:40123"}. Each accepted connection opens a new
// connection to CONNECT at that moment, so CONNECT may come up later.
// With --exit-with-stdin the relay exits when its stdin closes, which is how
// relays started by a test die with the test process even after a crash.
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';

function usage(message) {
  process.stderr.write(`forward: ${message}\nusage: forward.mjs [--exit-with-stdin] LISTEN CONNECT (each tcp:HOST:PORT or unix:/path)\n`);
  process.exit(2);
}

function parseEndpoint(text) {
  if (text?.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path) usage(`missing path in "${text}"`);
    return { kind: 'unix', path };
  }
  const match = /^tcp:(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text ?? '');
  if (!match) usage(`invalid endpoint "${text}"`);
  const port = Number(match[2]);
  if (port > 65535) usage(`invalid port in "${text}"`);
  return { kind: 'tcp', host: match[1].replace(/^\[|\]$/g, ''), port };
}

const args = process.argv.slice(2);
const exitWithStdin = args[0] === '--exit-with-stdin';
if (exitWithStdin) args.shift();
if (args.length !== 2) usage('expected LISTEN and CONNECT');
const listenOn = parseEndpoint(args[0]);
const connectTo = parseEndpoint(args[1]);

// Failures are printed at the 1st, 10th, 100th … occurrence, so a target
// that stays down (a gateway not started yet) does not flood the log.
let failedConnections = 0;
let nextReport = 1;
function reportFailure(error) {
  failedConnections += 1;
  if (failedConnections < nextReport) return;
  nextReport *= 10;
  process.stderr.write(`forward: connection to ${args[1]} failed (${failedConnections} failures so far): ${error.message}\n`);
}

const server = net.createServer((client) => {
  const upstream = connectTo.kind === 'unix' ? net.connect({ path: connectTo.path }) : net.connect({ host: connectTo.host, port: connectTo.port });
  client.pipe(upstream);
  upstream.pipe(client);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', closeBoth);
  upstream.on('error', (error) => {
    reportFailure(error);
    closeBoth();
  });
  // When one side closes cleanly, pipe() has already ended the other one,
  // which then sends what it still buffers before it closes. Destroying it
  // here would drop that data, and a slow (shaped) link can hold plenty.
  const closeUnlessEnded = (other) => () => {
    if (!other.writableEnded) other.destroy();
  };
  client.on('close', closeUnlessEnded(upstream));
  upstream.on('close', closeUnlessEnded(client));
});

server.on('error', (error) => {
  process.stderr.write(`forward: cannot listen on ${args[0]}: ${error.message}\n`);
  process.exit(1);
});

if (listenOn.kind === 'unix') {
  // A socket file left by a relay that died blocks listen(); remove it, but never a regular file.
  if (existsSync(listenOn.path) && lstatSync(listenOn.path).isSocket()) unlinkSync(listenOn.path);
  server.listen({ path: listenOn.path }, announce);
} else {
  server.listen({ host: listenOn.host, port: listenOn.port }, announce);
}

function announce() {
  const address = server.address();
  const listening = typeof address === 'string' ? `unix:${address}` : `tcp:${address.address}:${address.port}`;
  process.stdout.write(`${JSON.stringify({ listening })}\n`);
}

function shutdown() {
  server.close();
  if (listenOn.kind === 'unix' && existsSync(listenOn.path)) unlinkSync(listenOn.path);
  process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (exitWithStdin) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}
