/**
 * Room placement across two real Janus servers, each in its own media rig.
 * Meetings created one after the other through the API are spread over both
 * servers. When one server stops, media-health marks it unhealthy and moves
 * the room of a meeting that has not started to the other server, while a
 * meeting already under way keeps its room.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { createTestDatabase, waitFor } from '../support/services.ts';

async function missingServices(): Promise<string | undefined> {
  const rigReason = await mediaRigUnavailableReason();
  if (rigReason) return rigReason;
  if (!process.env.KAFKA_BROKERS) return 'KAFKA_BROKERS is not set';
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  return undefined;
}

const unavailable = await missingServices();
if (unavailable && process.env.CI === 'true') throw new Error(`placement test cannot run under CI: ${unavailable}`);

const cronRequest = { method: 'POST', path: '/', query: {}, headers: {}, body: {}, params: {}, principal: { kind: 'anonymous' as const } };

describe('room placement on two Janus servers', { skip: unavailable ?? false, timeout: 180_000 }, () => {
  let first: MediaRig;
  let second: MediaRig;
  let hop: TestPlatform;
  let dropDatabase: (() => Promise<void>) | undefined;

  before(async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = database.drop;
    first = await createMediaRig({ serverName: 'janus-a' });
    second = await createMediaRig({ serverName: 'janus-b' });
    hop = await startTestPlatform({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_PARTITIONS: '3',
      JANUS_URL: `janus-a=${first.janusUrlForServer},janus-b=${second.janusUrlForServer}`,
      HOP_MEDIA: 'auto',
    });
    await first.connectGateway(hop.platform.port);
    await second.connectGateway(hop.platform.port);
  });

  after(async () => {
    await hop?.stop();
    await first?.teardown();
    await second?.teardown();
    await dropDatabase?.();
  });

  const roomOf = (meetingId: string) => hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', meetingId).executeTakeFirstOrThrow();

  async function createMeeting(overrides: Record<string, unknown> = {}): Promise<string> {
    const created = await hop.request('POST', '/api/v1/meetings', meetingRequest(overrides));
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    await waitFor('room ready', async () => ((await roomOf(id)).status === 'ready' ? true : undefined), { timeoutMs: 30_000 });
    return id;
  }

  let running: string;
  let future: string;

  it('spreads new rooms over both servers', async () => {
    const health = await hop.platform.invoker.invoke('media-health', cronRequest);
    assert.equal(health.status, 200);

    running = await createMeeting({ title: 'Họp đang diễn ra', startsAt: new Date(Date.now() - 10 * 60_000).toISOString(), endsAt: new Date(Date.now() + 50 * 60_000).toISOString() });
    const placements = [(await roomOf(running)).janus_server];
    for (let index = 0; index < 3; index += 1) {
      const id = await createMeeting({ title: `Họp sắp tới số ${index + 1}` });
      if (index === 0) future = id;
      placements.push((await roomOf(id)).janus_server);
    }
    assert.deepEqual(
      placements.toSorted(),
      ['janus-a', 'janus-a', 'janus-b', 'janus-b'],
      `placements: ${placements.join(', ')}`,
    );
    for (const id of [running, future]) {
      const room = await roomOf(id);
      assert.equal(await hop.platform.media!.server(room.janus_server!)!.roomExists(Number(room.room_id)), true);
    }
  });

  it('moves a future room off a stopped server', async () => {
    const futureRoom = await roomOf(future);
    const runningRoom = await roomOf(running);
    const dead = futureRoom.janus_server!;
    const deadRig = dead === 'janus-a' ? first : second;
    const alive = dead === 'janus-a' ? 'janus-b' : 'janus-a';
    await deadRig.janus.stop();

    const health = await hop.platform.invoker.invoke('media-health', cronRequest);
    assert.equal(health.status, 200);
    const servers = await hop.platform.database.db.selectFrom('media_server').selectAll().orderBy('id').execute();
    assert.equal(servers.find((row) => row.id === dead)?.healthy, false);
    assert.ok(servers.find((row) => row.id === dead)?.unhealthy_since, 'unhealthy_since is set');
    assert.equal(servers.find((row) => row.id === alive)?.healthy, true);

    const moved = await roomOf(future);
    assert.equal(moved.status, 'ready');
    assert.equal(moved.janus_server, alive);
    assert.equal(await hop.platform.media!.server(alive)!.roomExists(Number(moved.room_id)), true, 'the room exists on the healthy server');
    assert.ok((health.body as { moved: string[] }).moved.includes(future));

    // A meeting under way keeps its room, even on the stopped server.
    const stillRunning = await roomOf(running);
    assert.equal(stillRunning.janus_server, runningRoom.janus_server);
    assert.equal(stillRunning.room_id, runningRoom.room_id);

    // New rooms avoid the stopped server.
    const next = await createMeeting({ title: 'Họp sau khi máy chủ dừng' });
    assert.equal((await roomOf(next)).janus_server, alive);
  });
});
