/**
 * The Janus signalling proxy against a real Janus in the media rig's
 * namespace: the gateway checks join tokens before the WebSocket opens, lets
 * through only the VideoRoom requests of the meeting's own room, and adds the
 * PIN and the participant's name itself. Node WebSocket clients stand in for
 * browsers. Subscribing needs a feed with media, so test/e2e/meeting-video.test.ts
 * covers it: its browsers subscribe to each other through the proxy.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SIGNALLING_PATH } from '../lib/contract/meeting.ts';
import { signJoinToken } from '../lib/domain/join-token.ts';
import { createMediaRig, mediaRigUnavailableReason, type MediaRig } from '../test/support/netns.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createTestDatabase, waitFor } from '../test/support/services.ts';

async function missingServices(): Promise<string | undefined> {
  const rigReason = await mediaRigUnavailableReason();
  if (rigReason) return rigReason;
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  return undefined;
}

const unavailable = await missingServices();
if (unavailable && process.env.CI === 'true') throw new Error(`signalling test cannot run under CI: ${unavailable}`);

type JanusReply = Record<string, any>;

/** A minimal Janus API client over one WebSocket, as janus.js speaks it. */
class JanusClient {
  private counter = 0;
  private readonly waiting = new Map<string, { resolve: (reply: JanusReply) => void; acked: boolean }>();
  readonly events: JanusReply[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString()) as JanusReply;
      this.events.push(reply);
      const entry = typeof reply.transaction === 'string' ? this.waiting.get(reply.transaction) : undefined;
      if (!entry) return;
      // A plugin message gets an "ack" first and its reply later as an "event" with the same transaction.
      if (reply.janus === 'ack' && entry.acked) return;
      this.waiting.delete(reply.transaction);
      entry.resolve(reply);
    });
  }

  static open(url: string): Promise<JanusClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'janus-protocol');
      socket.once('open', () => resolve(new JanusClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request and resolves with its reply, which for plugin messages is the event after the ack. */
  send(message: Record<string, unknown>, { waitPastAck = false } = {}): Promise<JanusReply> {
    const transaction = `t${++this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(message)}`)), 10_000);
      this.waiting.set(transaction, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        acked: waitPastAck,
      });
      this.socket.send(JSON.stringify({ ...message, transaction }));
    });
  }

  async session(): Promise<number> {
    const reply = await this.send({ janus: 'create' });
    assert.equal(reply.janus, 'success', JSON.stringify(reply));
    return reply.data.id as number;
  }

  async attach(sessionId: number, plugin = 'janus.plugin.videoroom'): Promise<JanusReply> {
    return this.send({ janus: 'attach', session_id: sessionId, plugin });
  }

  message(sessionId: number, handleId: number, body: Record<string, unknown>): Promise<JanusReply> {
    return this.send({ janus: 'message', session_id: sessionId, handle_id: handleId, body }, { waitPastAck: true });
  }

  close(): void {
    this.socket.close();
  }
}

/** Opens a socket that the gateway must reject, and resolves with the HTTP status and JSON body of the rejection. */
function rejectedUpgrade(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'janus-protocol');
    socket.once('open', () => {
      socket.close();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    socket.once('error', () => undefined);
  });
}

describe('Janus signalling proxy', { skip: unavailable ?? false, timeout: 120_000 }, () => {
  let rig: MediaRig;
  let hop: TestPlatform;
  let dropDatabase: (() => Promise<void>) | undefined;
  let meeting: { id: string; participants: { id: string; name: string; inviteKey: string }[] };
  let roomId: number;
  let pin: string;
  const clients: JanusClient[] = [];

  const signallingUrl = (token?: string) =>
    `ws://127.0.0.1:${hop.platform.port}${SIGNALLING_PATH}${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

  const joinDetails = async (inviteKey: string) => {
    const join = await hop.request('POST', `/api/v1/meetings/${meeting.id}/join`, { inviteKey });
    assert.equal(join.status, 200, JSON.stringify(join.body));
    return join.body;
  };

  const openClient = async (token: string) => {
    const client = await JanusClient.open(signallingUrl(token));
    clients.push(client);
    return client;
  };

  before(async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = database.drop;
    rig = await createMediaRig({ serverName: 'janus-rig' });
    hop = await startTestPlatform({ DATABASE_URL: database.url, JANUS_URL: `janus-rig=${rig.janusUrlForServer}`, HOP_MEDIA: 'auto' });
    await rig.connectGateway(hop.platform.port);

    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        participants: [
          { name: 'Nguyễn Văn An', role: 'chair' },
          { name: 'Hồ Thị Lài', role: 'participant' },
        ],
      }),
    );
    assert.equal(created.status, 201);
    meeting = created.body;
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${meeting.id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });
    const room = await hop.platform.database.db.selectFrom('room').selectAll().where('meeting_id', '=', meeting.id).executeTakeFirstOrThrow();
    roomId = Number(room.room_id);
    pin = room.pin!;
  });

  after(async () => {
    for (const client of clients) client.close();
    await hop?.stop();
    await rig?.teardown();
    await dropDatabase?.();
  });

  it('join details carry no PIN or secret', async () => {
    const details = await joinDetails(meeting.participants[1]!.inviteKey);
    assert.equal(details.janus.url, SIGNALLING_PATH);
    assert.equal(details.janus.roomId, roomId);
    assert.equal('pin' in details.janus, false);
    assert.equal(JSON.stringify(details).includes(pin), false, 'the PIN appears nowhere in the join details');
  });

  it('rejects a missing or forged token', async () => {
    const missing = await rejectedUpgrade(signallingUrl());
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, 'JOIN_TOKEN_INVALID');

    const forged = signJoinToken(
      { meetingId: meeting.id, participantId: meeting.participants[0]!.id, role: 'chair', expiresAt: new Date(Date.now() + 60_000) },
      'not the gateway key',
    );
    const wrongKey = await rejectedUpgrade(signallingUrl(forged));
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.error.code, 'JOIN_TOKEN_INVALID');
    assert.match(wrongKey.body.error.message, /Mã vào phòng họp không hợp lệ/);
  });

  it('rejects an expired token', async () => {
    const expired = signJoinToken(
      { meetingId: meeting.id, participantId: meeting.participants[0]!.id, role: 'chair', expiresAt: new Date(Date.now() - 1000) },
      hop.platform.joinTokenSecret,
    );
    const refused = await rejectedUpgrade(signallingUrl(expired));
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'JOIN_TOKEN_EXPIRED');
  });

  it('rejects a participant of another meeting', async () => {
    const stranger = signJoinToken(
      { meetingId: meeting.id, participantId: randomUUID(), role: 'participant', expiresAt: new Date(Date.now() + 60_000) },
      hop.platform.joinTokenSecret,
    );
    const refused = await rejectedUpgrade(signallingUrl(stranger));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'NOT_INVITED');
  });

  it('publisher joins without knowing the PIN', async () => {
    const details = await joinDetails(meeting.participants[0]!.inviteKey);
    const client = await openClient(details.janus.token);
    const sessionId = await client.session();
    const handle = await client.attach(sessionId);
    assert.equal(handle.janus, 'success');

    // The browser claims another name; the proxy puts the invited name in its place.
    const joined = await client.message(sessionId, handle.data.id, { request: 'join', ptype: 'publisher', room: roomId, display: 'Someone Else' });
    assert.equal(joined.plugindata?.data?.videoroom, 'joined', JSON.stringify(joined));
    assert.equal(joined.plugindata.data.room, roomId);

    const listed = await client.message(sessionId, handle.data.id, { request: 'listparticipants', room: roomId });
    const names = (listed.plugindata?.data?.participants ?? []).map((p: { display?: string }) => p.display);
    assert.ok(names.includes('Nguyễn Văn An'), `participants: ${JSON.stringify(names)}`);
    assert.ok(!names.includes('Someone Else'));
  });

  it('rejects other rooms, plugins and room management', async () => {
    const details = await joinDetails(meeting.participants[1]!.inviteKey);
    const client = await openClient(details.janus.token);
    const sessionId = await client.session();

    const otherPlugin = await client.attach(sessionId, 'janus.plugin.echotest');
    assert.equal(otherPlugin.janus, 'error');
    assert.equal(otherPlugin.error.code, 403);

    const handleId = (await client.attach(sessionId)).data.id as number;
    const cases: [string, Record<string, unknown>][] = [
      ['another room', { request: 'join', ptype: 'publisher', room: roomId + 1 }],
      ['destroy', { request: 'destroy', room: roomId }],
      ['create', { request: 'create', room: roomId + 2 }],
      ['allowed', { request: 'allowed', room: roomId, action: 'add', allowed: ['x'] }],
      ['kick', { request: 'kick', room: roomId, id: 1 }],
      ['list', { request: 'list' }],
      ['bad ptype', { request: 'join', ptype: 'listener', room: roomId }],
    ];
    for (const [name, body] of cases) {
      const reply = await client.send({ janus: 'message', session_id: sessionId, handle_id: handleId, body });
      assert.equal(reply.janus, 'error', `${name}: ${JSON.stringify(reply)}`);
      assert.equal(reply.error.code, 403, name);
    }

    const foreignSession = await client.send({ janus: 'attach', session_id: sessionId + 1, plugin: 'janus.plugin.videoroom' });
    assert.equal(foreignSession.janus, 'error');
    assert.match(foreignSession.error.reason, /unknown session_id/);

    const info = await client.send({ janus: 'info' });
    assert.equal(info.janus, 'error');

    const notJson = new Promise<JanusReply>((resolve) => client.socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
    client.socket.send('{not json');
    assert.equal((await notJson).error.code, 400);
  });

  it('closes a socket that floods requests', async () => {
    const details = await joinDetails(meeting.participants[1]!.inviteKey);
    const client = await openClient(details.janus.token);
    const closed = new Promise<number>((resolve) => client.socket.once('close', (code) => resolve(code)));
    for (let i = 0; i < 2000; i++) client.socket.send(JSON.stringify({ janus: 'keepalive', session_id: 1, transaction: `f${i}` }));
    assert.equal(await closed, 1008);
  });

  it('refuses joins above the meeting cap', async () => {
    const db = hop.platform.database.db;
    const earlier = await joinDetails(meeting.participants[1]!.inviteKey);
    for (const client of clients.splice(0)) client.close();
    await waitFor('no open media sessions', async () => {
      const open = await db.selectFrom('media_session').select('session_id').where('meeting_id', '=', meeting.id).where('closed_at', 'is', null).execute();
      return open.length === 0 ? true : undefined;
    });
    await db.updateTable('room').set({ max_connections: 1 }).where('meeting_id', '=', meeting.id).execute();
    try {
      const chair = await joinDetails(meeting.participants[0]!.inviteKey);
      const client = await openClient(chair.janus.token);
      await client.session();

      const refused = await hop.request('POST', `/api/v1/meetings/${meeting.id}/join`, { inviteKey: meeting.participants[1]!.inviteKey });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'MEETING_FULL');
      assert.match(refused.body.error.message, /đủ số điểm cầu/);
      assert.equal(refused.body.error.details.limit, 1);

      const events = await db.selectFrom('outbox').select(['topic', 'payload', 'headers']).where('message_key', '=', meeting.id).where('topic', '=', 'hop.media.v1').execute();
      const refusals = events.filter((row) => row.headers['ce-type'] === 'vn.hop.media.join-refused.v1');
      assert.equal(refusals.length, 1, 'one media.join-refused event');
      const data = (refusals[0]!.payload as { data: { participantId: string; reason: string } }).data;
      assert.equal(data.participantId, meeting.participants[1]!.id);
      assert.equal(data.reason, 'meeting-full');

      // Join details issued before the cap was reached do not get past the proxy either.
      const upgrade = await rejectedUpgrade(signallingUrl(earlier.janus.token));
      assert.equal(upgrade.status, 503);
      assert.equal(upgrade.body.error.code, 'MEETING_FULL');

      // The connected participant can always come back (a second device or a reconnect).
      await joinDetails(meeting.participants[0]!.inviteKey);
    } finally {
      await db.updateTable('room').set({ max_connections: null }).where('meeting_id', '=', meeting.id).execute();
    }
  });

  it('refuses simultaneous sessions above the cap', async () => {
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        participants: Array.from({ length: 6 }, (_, index) => ({ name: `Đại biểu xã số ${index + 1}`, role: index === 0 ? 'chair' : 'participant' })),
      }),
    );
    assert.equal(created.status, 201);
    const crowded = created.body as { id: string; participants: { id: string; inviteKey: string }[] };
    await waitFor('room ready', async () => ((await hop.request('GET', `/api/v1/meetings/${crowded.id}`)).body.roomStatus === 'ready' ? true : undefined), {
      timeoutMs: 30_000,
    });

    // Every page gets its join details and opens its socket while no one is connected yet, so the early checks all pass.
    const tokens: string[] = [];
    for (const participant of crowded.participants) {
      const join = await hop.request('POST', `/api/v1/meetings/${crowded.id}/join`, { inviteKey: participant.inviteKey });
      assert.equal(join.status, 200, JSON.stringify(join.body));
      tokens.push(join.body.janus.token as string);
    }
    const capped = await hop.request('PUT', `/api/v1/meetings/${crowded.id}/media`, { maxConnections: 2 });
    assert.equal(capped.status, 200, JSON.stringify(capped.body));
    const sockets = await Promise.all(tokens.map((token) => openClient(token)));

    const replies = await Promise.all(sockets.map((client) => client.send({ janus: 'create' })));
    const admitted = replies.filter((reply) => reply.janus === 'success');
    const refused = replies.filter((reply) => reply.janus === 'error');
    assert.equal(admitted.length, 2, JSON.stringify(replies));
    assert.equal(refused.length, 4);
    for (const reply of refused) {
      assert.equal(reply.error.code, 503);
      assert.match(reply.error.reason, /^MEETING_FULL: /);
    }

    const db = hop.platform.database.db;
    const open = await db.selectFrom('media_session').select('participant_id').where('meeting_id', '=', crowded.id).where('closed_at', 'is', null).execute();
    assert.equal(open.length, 2, 'only the admitted sessions are recorded');
    const stored = await db.selectFrom('media_join_refusal').selectAll().where('meeting_id', '=', crowded.id).execute();
    assert.equal(stored.length, 4, 'each refused participant is on the chair\'s board');
    assert.ok(stored.every((row) => row.reason === 'meeting-full' && row.max_connections === 2));
    for (const client of sockets) client.close();
  });

  it('rejects a removed participant', async () => {
    const details = await joinDetails(meeting.participants[1]!.inviteKey);
    await hop.platform.database.db.deleteFrom('participant').where('id', '=', meeting.participants[1]!.id).execute();
    const refused = await rejectedUpgrade(signallingUrl(details.janus.token));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'NOT_INVITED');
  });
});
