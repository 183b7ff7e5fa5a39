/**
 * Attendance at province scale: one conference of 5 000 participants who join
 * within 60 seconds and leave within the next 60 seconds. Their Janus
 * event-handler posts (bench/attendance-traffic.ts, built from events recorded
 * from Janus 1.1.2) go through the gateway's `POST /janus/events`, Kafka
 * (`hop.media.v1`) and attendance-track into PostgreSQL.
 *
 * - In both bursts the gateway of startTestPlatform takes the posts with
 *   HOP_BRIDGE=off, and a second gateway in a child process, configured with
 *   attendance-track alone, consumes the topic through its bridge, as the
 *   function would run apart from the gateway under OpenFaaS.
 * - Burst 1: event-to-row latency, from the POST carrying a `joined` or
 *   `leaving` to the first poll of PostgreSQL that sees the connection row
 *   joined or left (target p99 < 1 s).
 * - Burst 2, a new meeting: the child gateway is killed with SIGKILL halfway
 *   through the joins and started again. No join or leave may be lost or
 *   recorded twice.
 * - Both bursts end with exact counts and times: one connection row per
 *   attendee with its `joined` and `leaving` times, one interval per
 *   participant, one `attendance.joined` event per participant.
 * - A plain kafkajs consumer in a new group then reads hop.media.v1 from the
 *   beginning, for the broker's raw consume rate next to the pipeline's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { sql, type Kysely } from 'kysely';
import { parse, stringify } from 'yaml';
import type { Database } from '../lib/adapters/db/schema.ts';
import { topics } from '../lib/contract/topics.ts';
import { signJoinToken } from '../lib/domain/join-token.ts';
import { createGroupsAtEnd } from '../test/support/kafka-groups.ts';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { eventMask, eventMix, eventTimestamp, newAttendee, publisherTemplate, replay, schedule, type Attendee, type ReplayResult } from './attendance-traffic.ts';
import { benchDatabase, ms, percentile, type BenchResult } from './support.ts';

const PARTICIPANTS = Number(process.env.BENCH_ATTENDANCE_PARTICIPANTS ?? 5_000);
/** Attendees of the SIGKILL burst; its counts are checked after the consumer has caught up (at most CRASH_DRAIN_MS). */
const CRASH_PARTICIPANTS = Number(process.env.BENCH_ATTENDANCE_CRASH_PARTICIPANTS ?? PARTICIPANTS);
/** Length of the join window and of the leave window, in milliseconds. */
const WINDOW_MS = Number(process.env.BENCH_ATTENDANCE_WINDOW_SECONDS ?? 60) * 1000;
const LATENCY_TARGET_MS = 1_000;
/** How long after the last post the latency burst waits for rows; later rows count as unseen. */
const LATENCY_DRAIN_MS = Number(process.env.BENCH_ATTENDANCE_DRAIN_SECONDS ?? 30) * 1000;
/** How long after the last post the SIGKILL burst waits for the consumer to catch up before its counts are checked. */
const CRASH_DRAIN_MS = 300_000;
const POLL_INTERVAL_MS = 25;
const SERVER = 'janus-bench-1';
/**
 * Consumer group prefix of the benchmark's gateways. Tests and other gateways on
 * the same broker join `hop-fn-attendance-track`, take partitions and would
 * write the benchmark's events to their own databases.
 */
const GROUP_PREFIX = `hop-bench-${Date.now()}-fn-`;
const GROUP = `${GROUP_PREFIX}attendance-track`;
const MEDIA_TOPIC = topics.media;

type Row = BenchResult['rows'][number];
type Db = Kysely<Database>;

interface Meeting {
  meetingId: string;
  roomId: number;
  attendees: Attendee[];
}

export async function attendanceBench(): Promise<BenchResult> {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set; run the benchmarks with npm run bench');
  const database = await benchDatabase(8);
  const { db } = database.handle;
  const kafka = new Kafka({ clientId: 'hop-bench-attendance', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const secret = randomBytes(32).toString('base64url');
  const password = randomBytes(24).toString('base64url');
  const env = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: brokers,
    HOP_JOIN_TOKEN_SECRET: secret,
    HOP_JANUS_EVENTS_PASSWORD: password,
    HOP_BRIDGE_GROUP_PREFIX: GROUP_PREFIX,
  };
  const rows: Row[] = [];
  const notes: string[] = [
    `Traffic: ${PARTICIPANTS} attendees, joins spread at random over ${WINDOW_MS / 1000} s and leaves over the next ${WINDOW_MS / 1000} s, ` +
      `${publisherTemplate.length} Janus events each (BENCH_ATTENDANCE_EVENTS=${eventMix}: events = "${eventMask}", from the recorded publisher's transport, session and handle: ${describeTemplate()}), ` +
      'posted in groups one POST at a time as the sample event handler does. Subscriber handles are not replayed.',
    `Latency: POST time (Date.now() before the request) to the start of the first poll (every ${POLL_INTERVAL_MS} ms) that sees the row, on the same clock. ` +
      'A row seen by a poll was committed after the previous poll started and before this one, so each value is an upper bound at most one poll interval plus one query too high.',
  ];
  let hop: TestPlatform | null = null;
  let child: ChildBridge | null = null;
  let groups: string[] = [];
  // Room ids of this run, apart from those of earlier runs still in hop.media.v1.
  const roomBase = Date.now() * 10;
  try {
    groups = await createGroupsAtEnd(brokers, GROUP_PREFIX);

    // Burst 1: the gateway takes the Janus posts, and attendance-track runs behind its own bridge in
    // another process, as an OpenFaaS function does in production. The load generator and the row
    // watcher share the first process with the gateway's intake.
    const first = await seedMeeting(db, secret, roomBase + 1, 'Hội nghị trực tuyến toàn tỉnh', PARTICIPANTS);
    hop = await startTestPlatform({ ...env, HOP_BRIDGE: 'off' });
    child = await ChildBridge.start(env);
    const burst1 = await runBurst(db, admin, hop, password, first, { drainMs: LATENCY_DRAIN_MS });
    await child.stop();
    child = null;
    await hop.stop();
    hop = null;
    const check1 = await verify(db, first, burst1.burstStartEpochMs);
    rows.push(...latencyRows(burst1), ...checkRows(`burst 1, ${LATENCY_DRAIN_MS / 1000} s after the last post`, check1, PARTICIPANTS), ...rateRows('burst 1', burst1));
    notes.push(...check1.problems.map((problem) => `Burst 1 mismatch: ${problem}`));

    // Burst 2: attendance-track in a child gateway, killed with SIGKILL halfway through the joins.
    // Burst 1's backlog, if any, is skipped: this burst measures its own events only.
    await createGroupsAtEnd(brokers, GROUP_PREFIX);
    const second = await seedMeeting(db, secret, roomBase + 2, 'Hội nghị trực tuyến toàn tỉnh (lần 2)', CRASH_PARTICIPANTS);
    hop = await startTestPlatform({ ...env, HOP_BRIDGE: 'off' });
    child = await ChildBridge.start(env);
    const crash: CrashRecord = { killedAt: 0, restartedAt: 0, startAttempts: 0 };
    const running = child;
    const burst2 = await runBurst(db, admin, hop, password, second, {
      drainMs: CRASH_DRAIN_MS,
      atMs: WINDOW_MS / 2,
      action: async () => {
        crash.killedAt = Date.now();
        await running.kill();
        crash.startAttempts = await running.restart();
        crash.restartedAt = Date.now();
      },
    });
    const check2 = await verify(db, second, burst2.burstStartEpochMs);
    rows.push(...crashRows(burst2, crash), ...checkRows(`burst 2 (${CRASH_PARTICIPANTS} attendees, SIGKILL), after catching up`, check2, CRASH_PARTICIPANTS));
    notes.push(...check2.problems.map((problem) => `Burst 2 mismatch: ${problem}`));

    // The broker's raw consume rate, on the same topic and in the same run.
    const raw = await rawConsumeRate(kafka, admin);
    const pipelineRate = burst2.drainRate ?? burst1.drainRate;
    rows.push({ metric: `raw kafkajs consume rate of ${MEDIA_TOPIC} (${raw.messages} messages from the beginning, eachMessage, new group)`, value: `${Math.round(raw.rate)} messages/s` });
    if (pipelineRate) {
      rows.push({ metric: 'raw consume rate ÷ attendance pipeline rate (catch-up after restart)', value: `${(raw.rate / pipelineRate).toFixed(1)} ×` });
    }
    notes.push(...keyingNotes(burst1));
    return { name: `Attendance: ${PARTICIPANTS.toLocaleString('en')} participants join and leave within ${WINDOW_MS / 1000} s each`, rows, notes };
  } finally {
    await child?.stop();
    await hop?.stop();
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
    await database.drop();
  }
}

function describeTemplate(): string {
  const counts = new Map<string, number>();
  for (const t of publisherTemplate) {
    let name = `type ${t.event.type}`;
    if (t.event.type === 64) name = t.event.event.data.event;
    if (t.event.type === 1 || t.event.type === 2) name = t.event.event.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => (count > 1 ? `${count} × ${name}` : name)).join(', ');
}

/** Creates an ongoing meeting with its occurrence, a ready room, and `count` participants with join tokens. */
async function seedMeeting(db: Db, secret: string, roomId: number, title: string, count: number): Promise<Meeting> {
  const now = Date.now();
  const start = new Date(now - 5 * 60_000);
  const end = new Date(now + 2 * 60 * 60_000);
  const meetingId = randomUUID();
  await db
    .insertInto('meeting')
    .values({ id: meetingId, title, description: null, starts_at: start, ends_at: end, last_ends_at: end, time_zone: 'Asia/Ho_Chi_Minh', status: 'in_progress', cancel_reason: null, updated_at: start })
    .execute();
  await db.insertInto('meeting_occurrence').values({ id: randomUUID(), meeting_id: meetingId, recurrence_id: start, starts_at: start, ends_at: end, status: 'scheduled', updated_at: start }).execute();
  await db.insertInto('room').values({ meeting_id: meetingId, status: 'ready', janus_server: SERVER, room_id: roomId, secret: randomBytes(8).toString('hex'), pin: '123456', last_error: null, updated_at: start }).execute();
  await sql`
    insert into participant (id, meeting_id, position, name, email, phone, role, invite_key_hash)
    select gen_random_uuid(), ${meetingId}, n, 'Đại biểu ' || (n + 1), null, null, case when n = 0 then 'chair' else 'participant' end, md5(random()::text)
    from generate_series(0, ${count - 1}) as n`.execute(db);
  const participants = await db.selectFrom('participant').select(['id', 'name']).where('meeting_id', '=', meetingId).orderBy('position').execute();

  const expiresAt = new Date(now + 30 * 60_000);
  const attendees = participants.map((participant) => {
    const token = signJoinToken({ meetingId, participantId: participant.id, role: 'participant', expiresAt }, secret);
    const joinAtMs = 1_000 + Math.random() * WINDOW_MS;
    const leaveAtMs = 1_000 + WINDOW_MS + Math.random() * WINDOW_MS;
    return newAttendee(participant.id, participant.name, token, joinAtMs, leaveAtMs);
  });
  // The signalling proxy records each session before the browser may use it (docs/attendance.md).
  for (let i = 0; i < attendees.length; i += 1000) {
    await db
      .insertInto('media_session')
      .values(
        attendees.slice(i, i + 1000).map((a) => ({
          janus_server: SERVER,
          session_id: String(a.sessionId),
          meeting_id: meetingId,
          participant_id: a.participantId,
          token_hash: createHash('sha256').update(a.token).digest('hex'),
          opened_at: new Date(now),
          closed_at: null,
        })),
      )
      .execute();
  }
  await sql`analyze`.execute(db);
  return { meetingId, roomId, attendees };
}

interface LagSample {
  at: number;
  committed: number;
  high: number;
}

interface BurstOutcome {
  burstStartEpochMs: number;
  replay: ReplayResult;
  joinLatency: number[];
  leaveLatency: number[];
  /** Milliseconds from the burst start to the last row seen; NaN when some never appeared. */
  completedAfterMs: number;
  unseenJoins: number;
  unseenLeaves: number;
  lag: LagSample[];
  maxLag: number;
  /** Messages per second the attendance consumer processed while it had a backlog, or null when it never had one. */
  drainRate: number | null;
  drainMessages: number;
  drainMs: number;
  /** Messages per partition of hop.media.v1 during the burst. */
  partitionCounts: number[];
}

/** Posts one burst, watches PostgreSQL and the consumer group, and waits until every row is there and the group has caught up. */
async function runBurst(db: Db, admin: Admin, hop: TestPlatform, password: string, meeting: Meeting, midway: { drainMs: number; atMs?: number; action?: () => Promise<void> }): Promise<BurstOutcome> {
  const { attendees } = meeting;
  const entries = schedule(attendees);
  const postedJoin = new Float64Array(attendees.length).fill(Number.NaN);
  const postedLeave = new Float64Array(attendees.length).fill(Number.NaN);
  const startOffsets = await partitionOffsets(admin);
  const burstStartEpochMs = Date.now() + 500;

  const watcher = new RowWatcher(db, meeting, burstStartEpochMs);
  const sampler = new LagSampler(admin);
  watcher.start();
  sampler.start();
  let midwayDone: Promise<void> = Promise.resolve();
  const timer =
    midway.action && midway.atMs !== undefined
      ? setTimeout(() => {
          midwayDone = midway.action!();
        }, burstStartEpochMs + midway.atMs - Date.now())
      : null;

  const replayed = await replay({
    url: `${hop.baseUrl}/janus/events`,
    password,
    server: SERVER,
    roomId: meeting.roomId,
    attendees,
    entries,
    burstStartEpochMs,
    onMarked: (kind, attendee, postedAt) => {
      (kind === 'joined' ? postedJoin : postedLeave)[attendee] = postedAt;
    },
  });
  if (timer) clearTimeout(timer);
  await midwayDone;
  const postsEndedAt = Date.now();

  while (Date.now() - postsEndedAt < midway.drainMs) {
    const last = sampler.samples.at(-1);
    if (watcher.complete() && last && last.at > postsEndedAt && last.committed >= last.high) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await watcher.stop();
  await sampler.stop();
  const endOffsets = await partitionOffsets(admin);

  const joinLatency: number[] = [];
  const leaveLatency: number[] = [];
  // A row never seen counts as infinitely late, so it raises the percentiles instead of leaving them.
  for (let i = 0; i < attendees.length; i++) {
    joinLatency.push(Number.isNaN(watcher.joinSeen[i]!) ? Number.POSITIVE_INFINITY : watcher.joinSeen[i]! - postedJoin[i]!);
    leaveLatency.push(Number.isNaN(watcher.leaveSeen[i]!) ? Number.POSITIVE_INFINITY : watcher.leaveSeen[i]! - postedLeave[i]!);
  }
  const unseenJoins = joinLatency.filter((value) => value === Number.POSITIVE_INFINITY).length;
  const unseenLeaves = leaveLatency.filter((value) => value === Number.POSITIVE_INFINITY).length;
  const lastSeen = Math.max(...watcher.joinSeen, ...watcher.leaveSeen);
  const drain = drainRate(sampler.samples);
  return {
    burstStartEpochMs,
    replay: replayed,
    joinLatency,
    leaveLatency,
    completedAfterMs: unseenJoins + unseenLeaves === 0 ? lastSeen - burstStartEpochMs : Number.NaN,
    unseenJoins,
    unseenLeaves,
    lag: sampler.samples,
    maxLag: Math.max(0, ...sampler.samples.map((s) => s.high - s.committed)),
    ...drain,
    partitionCounts: endOffsets.map((end, partition) => end - (startOffsets[partition] ?? 0)),
  };
}

/**
 * Computes the attendance consumer's rate over the longest stretch in which it always
 * had a backlog: from the first lag sample above 500 messages to the first
 * sample after it back under 50, messages committed divided by time.
 */
function drainRate(samples: LagSample[]): { drainRate: number | null; drainMessages: number; drainMs: number } {
  let best = { drainRate: null as number | null, drainMessages: 0, drainMs: 0 };
  for (let i = 0; i < samples.length; i++) {
    if (samples[i]!.high - samples[i]!.committed < 500) continue;
    let j = i;
    while (j + 1 < samples.length && samples[j]!.high - samples[j]!.committed >= 50) j++;
    const messages = samples[j]!.committed - samples[i]!.committed;
    const elapsed = samples[j]!.at - samples[i]!.at;
    if (elapsed >= 2_000 && elapsed > best.drainMs) best = { drainRate: messages / (elapsed / 1000), drainMessages: messages, drainMs: elapsed };
    i = j;
  }
  return best;
}

async function partitionOffsets(admin: Admin): Promise<number[]> {
  const offsets = await admin.fetchTopicOffsets(MEDIA_TOPIC);
  const result: number[] = [];
  for (const item of offsets) result[item.partition] = Number(item.high);
  return result;
}

/**
 * Polls attendance_connection and stores, per attendee, the start time of the
 * first poll that saw their row joined and left. Each poll reads only rows at
 * or after the earliest event time still unseen, so it stays small.
 */
class RowWatcher {
  readonly joinSeen: Float64Array;
  readonly leaveSeen: Float64Array;
  readonly #db: Db;
  readonly #meeting: Meeting;
  readonly #burstStartEpochMs: number;
  readonly #byFeed: Map<string, number>;
  readonly #joinOrder: number[];
  readonly #leaveOrder: number[];
  #joinNext = 0;
  #leaveNext = 0;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(db: Db, meeting: Meeting, burstStartEpochMs: number) {
    this.#db = db;
    this.#meeting = meeting;
    this.#burstStartEpochMs = burstStartEpochMs;
    const count = meeting.attendees.length;
    this.joinSeen = new Float64Array(count).fill(Number.NaN);
    this.leaveSeen = new Float64Array(count).fill(Number.NaN);
    this.#byFeed = new Map(meeting.attendees.map((a, index) => [String(a.feedId), index]));
    const indexes = meeting.attendees.map((_, index) => index);
    this.#joinOrder = [...indexes].sort((a, b) => meeting.attendees[a]!.joinAtMs - meeting.attendees[b]!.joinAtMs);
    this.#leaveOrder = [...indexes].sort((a, b) => meeting.attendees[a]!.leaveAtMs - meeting.attendees[b]!.leaveAtMs);
  }

  complete(): boolean {
    this.#advance();
    return this.#joinNext >= this.#joinOrder.length && this.#leaveNext >= this.#leaveOrder.length;
  }

  start(): void {
    this.#running = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  #advance(): void {
    while (this.#joinNext < this.#joinOrder.length && !Number.isNaN(this.joinSeen[this.#joinOrder[this.#joinNext]!]!)) this.#joinNext++;
    while (this.#leaveNext < this.#leaveOrder.length && !Number.isNaN(this.leaveSeen[this.#leaveOrder[this.#leaveNext]!]!)) this.#leaveNext++;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped && !this.complete()) {
      const attendees = this.#meeting.attendees;
      // Event times are the attendee's join and leave times; 10 s of margin covers the
      // recorded events before `joined` and a `detached` that ends a row before its `leaving`.
      const joinSince = this.#joinNext < this.#joinOrder.length ? attendees[this.#joinOrder[this.#joinNext]!]!.joinAtMs - 10_000 : Number.POSITIVE_INFINITY;
      const leaveSince = this.#leaveNext < this.#leaveOrder.length ? attendees[this.#leaveOrder[this.#leaveNext]!]!.leaveAtMs - 10_000 : Number.POSITIVE_INFINITY;
      const at = (offsetMs: number) => new Date(this.#burstStartEpochMs + Math.min(offsetMs, 10 * WINDOW_MS));
      const pollStartedAt = Date.now();
      const result = await sql<{ feed_id: string; joined: boolean; left: boolean }>`
        select feed_id, joined_at is not null as joined, left_at is not null as left
        from attendance_connection
        where janus_server = ${SERVER} and room_id = ${String(this.#meeting.roomId)}
          and (joined_at >= ${at(joinSince)} or left_at >= ${at(leaveSince)})`.execute(this.#db);
      for (const row of result.rows) {
        const index = this.#byFeed.get(row.feed_id);
        if (index === undefined) continue;
        if (row.joined && Number.isNaN(this.joinSeen[index]!)) this.joinSeen[index] = pollStartedAt;
        if (row.left && row.joined && Number.isNaN(this.leaveSeen[index]!)) this.leaveSeen[index] = pollStartedAt;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_INTERVAL_MS - (Date.now() - pollStartedAt))));
    }
  }
}

/** Samples the attendance consumer group's committed offsets and the end offsets of hop.media.v1 every 500 ms. */
class LagSampler {
  readonly samples: LagSample[] = [];
  readonly #admin: Admin;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#inFlight = this.#sample().catch(() => undefined);
    }, 500);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#inFlight;
    await this.#sample();
  }

  async #sample(): Promise<void> {
    const at = Date.now();
    const [group, ends] = await Promise.all([this.#admin.fetchOffsets({ groupId: GROUP, topics: [MEDIA_TOPIC] }), this.#admin.fetchTopicOffsets(MEDIA_TOPIC)]);
    const high = ends.reduce((sum, item) => sum + Number(item.high), 0);
    const committed = (group[0]?.partitions ?? []).reduce((sum, item) => {
      const low = Number(ends.find((end) => end.partition === item.partition)?.low ?? 0);
      return sum + (Number(item.offset) >= 0 ? Number(item.offset) : low);
    }, 0);
    this.samples.push({ at, committed, high });
  }
}

interface Check {
  connections: number;
  joined: number;
  left: number;
  intervals: number;
  participantsWithInterval: number;
  joinedEvents: number;
  problems: string[];
}

/**
 * Compares what PostgreSQL holds for the meeting with what was posted: each
 * attendee's connection row with the exact `joined` and `leaving` times, one
 * interval per participant spanning them, one attendance.joined event each.
 */
async function verify(db: Db, meeting: Meeting, burstStartEpochMs: number): Promise<Check> {
  const problems: string[] = [];
  const joinedTemplate = publisherTemplate.findIndex((t) => t.mark === 'joined');
  const leavingTemplate = publisherTemplate.findIndex((t) => t.mark === 'leaving');
  const expected = new Map(
    meeting.attendees.map((a) => [
      a.participantId,
      { feedId: String(a.feedId), joinedAt: Math.floor(eventTimestamp(a, joinedTemplate, burstStartEpochMs) / 1000), leftAt: Math.floor(eventTimestamp(a, leavingTemplate, burstStartEpochMs) / 1000) },
    ]),
  );

  const connections = await db
    .selectFrom('attendance_connection')
    .select(['feed_id', 'participant_id', 'joined_at', 'left_at', 'end_reason'])
    .where('janus_server', '=', SERVER)
    .where('room_id', '=', String(meeting.roomId))
    .execute();
  let joined = 0;
  let left = 0;
  const wrong: string[] = [];
  for (const row of connections) {
    const want = row.participant_id ? expected.get(row.participant_id) : undefined;
    if (!want || want.feedId !== row.feed_id) {
      wrong.push(`feed ${row.feed_id} has participant ${row.participant_id ?? 'none'}`);
      continue;
    }
    if (row.joined_at && new Date(row.joined_at).getTime() === want.joinedAt) joined++;
    else wrong.push(`feed ${row.feed_id} joined_at ${row.joined_at ? new Date(row.joined_at).toISOString() : 'null'}, expected ${new Date(want.joinedAt).toISOString()}`);
    if (row.left_at && row.end_reason === 'leaving' && new Date(row.left_at).getTime() === want.leftAt) left++;
    else wrong.push(`feed ${row.feed_id} left_at ${row.left_at ? new Date(row.left_at).toISOString() : 'null'} (${row.end_reason}), expected ${new Date(want.leftAt).toISOString()} (leaving)`);
  }
  if (connections.length !== meeting.attendees.length) problems.push(`${connections.length} connection rows for ${meeting.attendees.length} attendees`);
  if (wrong.length > 0) problems.push(`${wrong.length} connection rows differ, first: ${wrong.slice(0, 3).join('; ')}`);

  const intervals = await db.selectFrom('attendance_interval').select(['participant_id', 'started_at', 'ended_at']).where('meeting_id', '=', meeting.meetingId).execute();
  const participants = new Set(intervals.map((row) => row.participant_id));
  const badIntervals = intervals.filter((row) => {
    const want = expected.get(row.participant_id);
    return !want || new Date(row.started_at).getTime() !== want.joinedAt || !row.ended_at || new Date(row.ended_at).getTime() !== want.leftAt;
  });
  if (intervals.length !== meeting.attendees.length || participants.size !== meeting.attendees.length) {
    problems.push(`${intervals.length} intervals for ${participants.size} participants, expected one for each of ${meeting.attendees.length}`);
  }
  if (badIntervals.length > 0) problems.push(`${badIntervals.length} intervals do not span the posted joined and leaving times`);

  const events = await sql<{ count: string }>`
    select count(*) as count from outbox
    where topic = ${topics.attendance} and message_key = ${meeting.meetingId} and headers->>'ce-type' = 'vn.hop.attendance.joined.v1'`.execute(db);
  const joinedEvents = Number(events.rows[0]!.count);
  if (joinedEvents !== meeting.attendees.length) problems.push(`${joinedEvents} attendance.joined events for ${meeting.attendees.length} participants`);

  return { connections: connections.length, joined, left, intervals: intervals.length, participantsWithInterval: participants.size, joinedEvents, problems };
}

function checkRows(label: string, check: Check, n: number): Row[] {
  return [
    { metric: `${label}: joins recorded (row with the exact joined time)`, value: String(check.joined), target: String(n), met: check.joined === n && check.connections === n },
    { metric: `${label}: leaves recorded (row with the exact leaving time)`, value: String(check.left), target: String(n), met: check.left === n && check.connections === n },
    { metric: `${label}: intervals (one per participant, joined to leaving)`, value: `${check.intervals} for ${check.participantsWithInterval} participants`, target: String(n), met: check.problems.every((p) => !p.includes('interval')) },
    { metric: `${label}: attendance.joined events in the outbox`, value: String(check.joinedEvents), target: String(n), met: check.joinedEvents === n },
  ];
}

function latencyRows(burst: BurstOutcome): Row[] {
  const rows: Row[] = [];
  for (const [kind, samples, unseen] of [
    ['joined', burst.joinLatency, burst.unseenJoins],
    ['leaving', burst.leaveLatency, burst.unseenLeaves],
  ] as const) {
    const p99 = percentile(samples, 0.99);
    rows.push({
      metric: `burst 1: \`${kind}\` POST to row visible, p50 / p95 / p99 (max)${unseen > 0 ? `; ${unseen} rows not visible ${LATENCY_DRAIN_MS / 1000} s after the last post` : ''}`,
      value:
        `${latency(percentile(samples, 0.5))} / ${latency(percentile(samples, 0.95))} / ${latency(p99)} (${latency(Math.max(...samples))})` +
        seenSummary(samples),
      target: 'p99 < 1 s',
      met: unseen === 0 && p99 < LATENCY_TARGET_MS,
    });
  }
  const durations = burst.replay.posts.map((post) => post.durationMs);
  rows.push({
    metric: 'burst 1: POST /janus/events until 202 (events stored in Kafka), p50 / p99',
    value: `${ms(percentile(durations, 0.5))} / ${ms(percentile(durations, 0.99))} over ${burst.replay.posts.length} posts of ${burst.replay.events} events`,
  });
  return rows;
}

/** Describes the rows that were seen when some were not, which the percentiles over all rows hide. */
function seenSummary(samples: number[]): string {
  const seen = samples.filter((value) => value !== Number.POSITIVE_INFINITY);
  if (seen.length === samples.length || seen.length === 0) return '';
  return `; the ${seen.length} seen: p50 ${latency(percentile(seen, 0.5))}, max ${latency(Math.max(...seen))}`;
}

function latency(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return 'not visible';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : ms(value);
}

function rateRows(label: string, burst: BurstOutcome): Row[] {
  const rows: Row[] = [];
  const postSeconds = (Math.max(...burst.replay.posts.map((p) => p.postedAt)) - burst.burstStartEpochMs) / 1000;
  rows.push({ metric: `${label}: events posted per second (average over the burst)`, value: `${Math.round(burst.replay.events / postSeconds)} events/s` });
  rows.push({
    metric: `${label}: largest consumer lag of ${GROUP} on ${MEDIA_TOPIC}`,
    value: `${burst.maxLag} messages${burst.drainRate ? `; with a backlog it processed ${Math.round(burst.drainRate)} messages/s (${burst.drainMessages} in ${(burst.drainMs / 1000).toFixed(1)} s)` : ''}`,
  });
  rows.push({ metric: `${label}: burst start to last row visible`, value: Number.isNaN(burst.completedAfterMs) ? 'never (rows missing)' : `${(burst.completedAfterMs / 1000).toFixed(1)} s`, target: `< ${(2 * WINDOW_MS) / 1000 + 10} s`, met: burst.completedAfterMs < 2 * WINDOW_MS + 10_000 });
  return rows;
}

interface CrashRecord {
  killedAt: number;
  restartedAt: number;
  startAttempts: number;
}

function crashRows(burst: BurstOutcome, crash: CrashRecord): Row[] {
  // The consumer is back once the group commits again after the kill.
  const resumed = burst.lag.find((sample, index) => sample.at > crash.restartedAt && index > 0 && sample.committed > burst.lag[index - 1]!.committed);
  const caughtUp = burst.lag.find((sample) => sample.at > (resumed?.at ?? crash.restartedAt) && sample.high - sample.committed < 50);
  return [
    {
      metric: 'burst 2: SIGKILL of the attendance consumer, new process ready (subscribed)',
      value: `${((crash.restartedAt - crash.killedAt) / 1000).toFixed(1)} s after the kill${crash.startAttempts > 1 ? ` (${crash.startAttempts} start attempts)` : ''}`,
    },
    {
      metric: 'burst 2: kill to first commit of the new consumer / to lag < 50 messages',
      value: `${resumed ? `${((resumed.at - crash.killedAt) / 1000).toFixed(1)} s` : 'never'} / ${caughtUp ? `${((caughtUp.at - crash.killedAt) / 1000).toFixed(1)} s` : 'never'}`,
    },
    {
      metric: 'burst 2: largest consumer lag / catch-up rate with a backlog',
      value: `${burst.maxLag} messages / ${burst.drainRate ? `${Math.round(burst.drainRate)} messages/s (${burst.drainMessages} in ${(burst.drainMs / 1000).toFixed(1)} s)` : 'no backlog'}`,
    },
    {
      metric: 'burst 2: `joined` / `leaving` POST to row visible, p99 (includes the outage)',
      value: `${latency(percentile(burst.joinLatency, 0.99))} / ${latency(percentile(burst.leaveLatency, 0.99))}`,
    },
  ];
}

/** Describes where the burst's messages landed on the partitions of hop.media.v1. */
function keyingNotes(burst: BurstOutcome): string[] {
  const total = burst.partitionCounts.reduce((sum, count) => sum + count, 0);
  const shares = burst.partitionCounts.map((count, partition) => `${partition}: ${count} (${((100 * count) / total).toFixed(0)} %)`).join(', ');
  return [`Burst 1 messages per partition of ${MEDIA_TOPIC}: ${shares}.`];
}

/** Reads hop.media.v1 from the beginning with a plain kafkajs consumer in a new group, up to the end offsets at the start. */
async function rawConsumeRate(kafka: Kafka, admin: Admin): Promise<{ messages: number; rate: number }> {
  const ends = await admin.fetchTopicOffsets(MEDIA_TOPIC);
  const target = ends.reduce((sum, item) => sum + Number(item.high) - Number(item.low), 0);
  const groupId = `hop-bench-raw-${Date.now()}`;
  const consumer = kafka.consumer({ groupId });
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [MEDIA_TOPIC], fromBeginning: true });
  await consumer.run({
    eachMessage: async () => {
      if (count === 0) firstAt = performance.now();
      count++;
      lastAt = performance.now();
      if (count >= target) resolveDone();
    },
  });
  const timeout = setTimeout(resolveDone, 120_000);
  await done;
  clearTimeout(timeout);
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return { messages: count, rate: count / ((lastAt - firstAt) / 1000) };
}

/**
 * A second gateway in a child process (`node --import tsx gateway/main.ts`)
 * whose stack file contains attendance-track alone, so its bridge consumes
 * hop.media.v1 for attendance-track and nothing else.
 */
class ChildBridge {
  #process: ChildProcess | null = null;
  readonly #env: Record<string, string>;
  readonly #dir: string;

  private constructor(env: Record<string, string>, dir: string) {
    this.#env = env;
    this.#dir = dir;
  }

  static async start(env: Record<string, string>): Promise<ChildBridge> {
    const dir = await mkdtemp(path.join(tmpdir(), 'hop-bench-attendance-'));
    const stack = parse(await readFile('stack.yml', 'utf8'), { merge: true }) as { functions: Record<string, unknown> };
    await writeFile(path.join(dir, 'stack.yml'), stringify({ functions: { 'attendance-track': stack.functions['attendance-track'] } }));
    const bridge = new ChildBridge(
      {
        ...env,
        HOP_STACK_FILE: path.join(dir, 'stack.yml'),
        HOP_DATA_DIR: path.join(dir, 'data'),
        PORT: '0',
        HOST: '127.0.0.1',
        HOP_MEDIA: 'off',
        HOP_CRON: 'off',
        HOP_RELAY: 'off',
        HOP_DELIVERY: 'off',
        HOP_BRIDGE_BACKOFF_MS: '50',
        HOP_BRIDGE_BACKOFF_MAX_MS: '200',
        LOG_LEVEL: 'info',
      },
      dir,
    );
    await bridge.#spawn();
    return bridge;
  }

  /** Starts the process and resolves once it logs that it is ready, which is after its bridge joined the group. */
  async #spawn(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { env: { ...process.env, ...this.#env }, stdio: ['ignore', 'pipe', 'inherit'] });
    this.#process = child;
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const onExit = (code: number | null) => reject(new Error(`the attendance gateway exited with code ${code} before it was ready`));
      child.once('exit', onExit);
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.includes('"level":50') || line.includes('"level":60')) process.stderr.write(`[attendance gateway] ${line}\n`);
          if (line.includes('hop is ready')) {
            child.off('exit', onExit);
            resolve();
          }
        }
      });
    });
  }

  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Starts the gateway again at once, as a process supervisor would, and
   * returns the attempts. A start fails when joining the group takes longer
   * than the bus's 30 s request time-out, so a failed start is tried again.
   * The broker keeps the killed member for the session timeout
   * (KAFKA_SESSION_TIMEOUT_MS, 10 s by default) before the new one joins.
   */
  async restart(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#spawn();
        return attempt;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}
