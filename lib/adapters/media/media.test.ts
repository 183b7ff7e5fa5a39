/**
 * The Janode media adapter against a real Janus (Debian's janus 1.1.2) in the
 * network namespace rig. The tests need root. Without it they are skipped, but under CI=true they fail.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import Janode, { type JanodeConnection, type JanodeHandle } from 'janode';
import VideoRoomPlugin from 'janode/plugins/videoroom';
import { createMediaRig, mediaRigUnavailableReason, repoRoot, type MediaRig } from '../../../test/support/netns.ts';
import { createJanodeCluster, JanodeMediaServer, MediaServerError, VideoRoomError } from './janode-media.ts';
import type { CreateRoomRequest, MediaCluster } from './media.ts';

const unavailable = await mediaRigUnavailableReason();
if (unavailable && process.env.CI === 'true') throw new Error(`media rig unavailable under CI: ${unavailable}`);

function roomRequest(overrides: Partial<CreateRoomRequest> = {}): CreateRoomRequest {
  return {
    roomId: randomInt(1, 2 ** 31),
    description: 'Họp giao ban tuần',
    secret: randomBytes(16).toString('hex'),
    pin: String(randomInt(100000, 999999)),
    publishers: 6,
    bitrate: 512_000,
    ...overrides,
  };
}

/** Starts forward.mjs in the root namespace and returns it with the endpoint it listens on. */
async function startRelay(listen: string, connectTo: string): Promise<{ child: ChildProcess; listening: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/netns/forward.mjs'), '--exit-with-stdin', listen, connectTo], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`relay exited with code ${code}`)));
  });
  return { child, listening: (JSON.parse(line) as { listening: string }).listening };
}

/** Returns a loopback port that was free a moment ago (listen on port 0, then close). */
async function unusedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function stopRelay(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('Janode media adapter', { skip: unavailable ?? false, timeout: 120_000 }, () => {
  let rig: MediaRig;
  let cluster: MediaCluster;
  let server: JanodeMediaServer;
  /** A second Janus client, acting as a participant joining rooms. */
  let participantConnection: JanodeConnection;
  let participantHandles: JanodeHandle[] = [];

  before(async () => {
    rig = await createMediaRig();
    const janodeCluster = createJanodeCluster({
      servers: [{ id: 'janus-test', url: rig.janusUrlForServer }],
      requestTimeoutMs: 5_000,
    });
    cluster = janodeCluster;
    server = janodeCluster.server('janus-test')!;
    participantConnection = await Janode.connect({ address: { url: rig.janusUrlForServer }, max_retries: 0 });
  });

  after(async () => {
    await participantConnection?.close().catch(() => undefined);
    await cluster?.close();
    await rig?.teardown();
  });

  /** Joins the room as a publisher (without media) and returns the feed id, or throws the VideoRoom error. */
  async function joinAsPublisher(roomId: number, pin: string, token: string | undefined): Promise<number> {
    const session = await participantConnection.create();
    const handle = await session.attach(VideoRoomPlugin);
    participantHandles.push(handle);
    const body: Record<string, unknown> = { request: 'join', ptype: 'publisher', room: roomId, pin, display: 'Người thử' };
    if (token !== undefined) body.token = token;
    const response = await handle.sendRequest({ janus: 'message', body }, 5_000);
    const data = response.plugindata?.data ?? {};
    assert.equal(data.videoroom, 'joined', `join returned ${JSON.stringify(data)}`);
    return Number(data.id);
  }

  async function leaveAll(): Promise<void> {
    for (const handle of participantHandles) await handle.detach().catch(() => undefined);
    participantHandles = [];
  }

  it('cluster exposes the server', () => {
    assert.equal(cluster.pick().id, 'janus-test');
    assert.equal(cluster.servers().length, 1);
    assert.equal(cluster.server('missing'), undefined);
  });

  it('ping reaches Janus', async () => {
    await server.ping();
  });

  it('createRoom is idempotent', async () => {
    const request = roomRequest();
    await server.createRoom(request);
    await server.createRoom(request);

    assert.equal(await server.roomExists(request.roomId), true);
    const listed = (await server.listRooms()).filter((room) => room.roomId === request.roomId);
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0], { roomId: request.roomId, description: 'Họp giao ban tuần', participants: 0 });

    await server.destroyRoom(request.roomId, request.secret);
  });

  it('roomExists is false for an unknown room', async () => {
    assert.equal(await server.roomExists(randomInt(1, 2 ** 31)), false);
  });

  it('allowTokens lets a new token join', async () => {
    const request = roomRequest({ allowed: ['token-first-participant'] });
    await server.createRoom(request);
    try {
      await assert.rejects(joinAsPublisher(request.roomId, request.pin, 'token-late-participant'), (error: Error & { _code?: number }) => {
        assert.equal(error._code, VideoRoomError.UNAUTHORIZED);
        return true;
      });
      await assert.rejects(joinAsPublisher(request.roomId, request.pin, undefined), /433/);

      await joinAsPublisher(request.roomId, request.pin, 'token-first-participant');
      await server.allowTokens(request.roomId, request.secret, ['token-late-participant']);
      await joinAsPublisher(request.roomId, request.pin, 'token-late-participant');

      const participants = await server.listParticipants(request.roomId);
      assert.equal(participants.length, 2);
      assert.deepEqual(
        participants.map((participant) => participant.display),
        ['Người thử', 'Người thử'],
      );
      const listed = (await server.listRooms()).find((room) => room.roomId === request.roomId);
      assert.equal(listed?.participants, 2);
    } finally {
      await leaveAll();
      await server.destroyRoom(request.roomId, request.secret);
    }
  });

  it('empty allowed list rejects tokens', async () => {
    const request = roomRequest({ allowed: [] });
    await server.createRoom(request);
    try {
      await assert.rejects(joinAsPublisher(request.roomId, request.pin, undefined), /433/);
      await assert.rejects(joinAsPublisher(request.roomId, request.pin, 'token-issued-at-join'), /433/);

      await server.allowTokens(request.roomId, request.secret, ['token-issued-at-join']);
      await joinAsPublisher(request.roomId, request.pin, 'token-issued-at-join');
    } finally {
      await leaveAll();
      await server.destroyRoom(request.roomId, request.secret);
    }
  });

  it('allowTokens with no tokens does nothing', async () => {
    const request = roomRequest({ allowed: ['only-token'] });
    await server.createRoom(request);
    await server.allowTokens(request.roomId, request.secret, []);
    await server.destroyRoom(request.roomId, request.secret);
  });

  it('createRoom retry adds its tokens', async () => {
    const request = roomRequest({ allowed: ['token-attempt-one'] });
    await server.createRoom(request);
    try {
      await server.createRoom({ ...request, allowed: ['token-attempt-two'] });
      await joinAsPublisher(request.roomId, request.pin, 'token-attempt-two');
      await joinAsPublisher(request.roomId, request.pin, 'token-attempt-one');
    } finally {
      await leaveAll();
      await server.destroyRoom(request.roomId, request.secret);
    }
  });

  it('room rejects a wrong PIN', async () => {
    const request = roomRequest();
    await server.createRoom(request);
    try {
      await assert.rejects(joinAsPublisher(request.roomId, '000000', undefined), /433/);
    } finally {
      await leaveAll();
      await server.destroyRoom(request.roomId, request.secret);
    }
  });

  it('destroyRoom removes the room', async () => {
    const request = roomRequest();
    await server.createRoom(request);
    assert.equal(await server.roomExists(request.roomId), true);

    await server.destroyRoom(request.roomId, request.secret);

    assert.equal(await server.roomExists(request.roomId), false);
    assert.equal((await server.listRooms()).some((room) => room.roomId === request.roomId), false);
  });

  it('destroyRoom of a missing room is fine', async () => {
    await server.destroyRoom(randomInt(1, 2 ** 31), 'any-secret');
  });

  it('destroyRoom with a wrong secret fails', async () => {
    const request = roomRequest();
    await server.createRoom(request);
    try {
      await assert.rejects(server.destroyRoom(request.roomId, 'wrong-secret'), (error: unknown) => {
        assert.ok(error instanceof MediaServerError);
        assert.equal(error.code, VideoRoomError.UNAUTHORIZED);
        assert.equal(error.serverId, 'janus-test');
        return true;
      });
      assert.equal(await server.roomExists(request.roomId), true);
    } finally {
      await server.destroyRoom(request.roomId, request.secret);
    }
  });

  it('server reconnects after a drop', async () => {
    // A relay of our own between the adapter and the rig, which the test can cut.
    const first = await startRelay('tcp:127.0.0.1:0', `tcp:${rig.janusUrlForServer.replace('ws://', '')}`);
    const port = Number(first.listening.split(':').at(-1));
    const relayed = createJanodeCluster({
      servers: [{ id: 'janus-relayed', url: `ws://127.0.0.1:${port}` }],
      requestTimeoutMs: 3_000,
      connectTimeoutMs: 3_000,
    });
    const relayedServer = relayed.pick();
    let second: ChildProcess | undefined;
    try {
      await relayedServer.ping();

      await stopRelay(first.child);
      await assert.rejects(relayedServer.ping(), MediaServerError);

      second = (await startRelay(`tcp:127.0.0.1:${port}`, `tcp:${rig.janusUrlForServer.replace('ws://', '')}`)).child;
      await relayedServer.ping();
      assert.equal(await relayedServer.roomExists(randomInt(1, 2 ** 31)), false);
    } finally {
      await relayed.close();
      await stopRelay(first.child);
      if (second) await stopRelay(second);
    }
  });

  it('unreachable server fails fast', async () => {
    const port = await unusedLoopbackPort();
    const unreachable = createJanodeCluster({
      servers: [{ id: 'janus-down', url: `ws://127.0.0.1:${port}` }],
      connectTimeoutMs: 3_000,
    });
    const started = Date.now();
    await assert.rejects(unreachable.pick().createRoom(roomRequest()), (error: unknown) => {
      assert.ok(error instanceof MediaServerError);
      assert.match(error.message, new RegExp(`connecting to ws://127\\.0\\.0\\.1:${port} failed`));
      return true;
    });
    assert.ok(Date.now() - started < 4_000, 'connection failure took longer than the connect timeout');
    await unreachable.close();
  });
});
