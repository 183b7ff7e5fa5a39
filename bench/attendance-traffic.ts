/**
 * Janus event-handler traffic for the attendance benchmark. Each attendee's
 * events are the ones Janus 1.1.2 posted for one publisher (participant 0) in
 * functions/attendance-track/fixtures/two-browsers.json: its transport,
 * session and publisher handle events, from `created` and `joined` through the
 * ICE, DTLS and media events to `unpublished`, `leaving` and `detached`. Each
 * attendee gets fresh transport, session, handle and feed ids and their own
 * join token, and the timestamps move to the attendee's join and leave times.
 * A session `destroyed` follows the leave, as Janus sent for the other
 * recorded browser when its page closed.
 *
 * The poster sends them as Janus's sample event handler does with
 * `grouping = true`: one POST at a time, each carrying every event queued
 * since the previous one.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

type JanusEvent = Record<string, any>;

interface Fixture {
  sessions: { sessionId: string; participant: number }[];
  events: { server: string; time: string; event: JanusEvent }[];
}

export interface Attendee {
  participantId: string;
  name: string;
  token: string;
  transportId: string;
  sessionId: number;
  handleId: number;
  feedId: number;
  privateId: number;
  /** Join and leave times, milliseconds after the burst start. */
  joinAtMs: number;
  leaveAtMs: number;
}

/** One event of the recorded publisher sequence, with its offset from the `joined` (join phase) or the `leaving` (leave phase). */
interface TemplateEvent {
  phase: 'join' | 'leave';
  offsetMicros: number;
  event: JanusEvent;
  /** The event whose delivery the benchmark times. */
  mark: 'joined' | 'leaving' | null;
}

export interface ScheduledEvent {
  dueMs: number;
  attendee: number;
  template: number;
}

const fixture = JSON.parse(readFileSync(new URL('../functions/attendance-track/fixtures/two-browsers.json', import.meta.url), 'utf8')) as Fixture;

/** Extracts participant 0's publisher sequence from the recording. */
function recordedPublisher(): { template: TemplateEvent[]; ids: { sessionId: number; handleId: number; feedId: number } } {
  const events = fixture.events.map((item) => item.event);
  const sessionId = Number(fixture.sessions.find((s) => s.participant === 0)!.sessionId);
  const joined = events.find((e) => e.session_id === sessionId && e.type === 64 && e.event.data?.event === 'joined')!;
  const handleId = joined.handle_id as number;
  const feedId = joined.event.data.id as number;
  const transportId = events.find((e) => e.session_id === sessionId && e.type === 1 && e.event.name === 'created')!.event.transport.id as string;
  const destroyed = events.find((e) => e.type === 1 && e.event.name === 'destroyed')!;

  const mine = events.filter(
    (e) =>
      (e.session_id === sessionId && (e.handle_id === undefined || e.handle_id === handleId)) ||
      (e.type === 128 && e.event.id === transportId) ||
      (e.session_id === undefined && e.type === 64 && e.event.data?.id === feedId),
  );
  const disconnectedAt = mine.findIndex((e) => e.type === 128 && e.event.data?.event === 'disconnected');
  const leaving = mine.find((e) => e.type === 64 && e.event.data?.event === 'leaving')!;
  const template: TemplateEvent[] = mine.map((event, index) => {
    const phase = index < disconnectedAt ? 'join' : 'leave';
    const anchor = phase === 'join' ? joined : leaving;
    const name = event.type === 64 ? event.event.data?.event : undefined;
    return {
      phase,
      offsetMicros: (event.timestamp as number) - (anchor.timestamp as number),
      event: structuredClone(event),
      mark: markOf(event === joined, name),
    };
  });
  const lastLeave = Math.max(...template.filter((t) => t.phase === 'leave').map((t) => t.offsetMicros));
  template.push({ phase: 'leave', offsetMicros: lastLeave + 10_000, event: { ...structuredClone(destroyed), session_id: sessionId }, mark: null });
  return { template, ids: { sessionId, handleId, feedId } };
}

function markOf(isJoined: boolean, pluginEvent: string | undefined): TemplateEvent['mark'] {
  if (isJoined) return 'joined';
  return pluginEvent === 'leaving' ? 'leaving' : null;
}

const recording = recordedPublisher();

/** Janus event types per name of the event handlers' `events` mask (janus.eventhandler.sampleevh.jcfg of Janus 1.1.2). */
const janusEventTypes: Record<string, number[]> = {
  sessions: [1],
  handles: [2],
  jsep: [8],
  webrtc: [16],
  media: [32],
  plugins: [64],
  transports: [128],
  core: [256],
  external: [1024],
};

/** Reads the `events` mask that media/janus-config gives Janus's HTTP event handler, as event types. */
function shippedEventTypes(): { mask: string; types: Set<number> } {
  const config = readFileSync(new URL('../media/janus-config/janus.eventhandler.sampleevh.jcfg', import.meta.url), 'utf8');
  const match = /^\s*events\s*=\s*"([^"]*)"/m.exec(config);
  if (!match) throw new Error('media/janus-config/janus.eventhandler.sampleevh.jcfg has no events = "..." line');
  const mask = match[1]!;
  const names = mask.split(',').map((name) => name.trim());
  if (names.includes('all')) return { mask, types: new Set(Object.values(janusEventTypes).flat()) };
  const types = new Set<number>();
  for (const name of names) {
    if (name === 'none') continue;
    const known = janusEventTypes[name];
    if (!known) throw new Error(`unknown Janus event type "${name}" in the sampleevh events mask`);
    for (const type of known) types.add(type);
  }
  return { mask, types };
}

/**
 * The recorded events replayed (BENCH_ATTENDANCE_EVENTS): `shipped` (default),
 * the event types that media/janus-config subscribes the event handler to, or
 * `all`, every recorded event, as `events = "all"` would post them.
 */
export const eventMix = process.env.BENCH_ATTENDANCE_EVENTS === 'all' ? 'all' : 'shipped';
const shipped = shippedEventTypes();
/** The `events` mask the replayed traffic corresponds to. */
export const eventMask = eventMix === 'all' ? 'all' : shipped.mask;

/** The recorded publisher sequence that every attendee's events are built from. */
export const publisherTemplate = eventMix === 'all' ? recording.template : recording.template.filter((t) => shipped.types.has(t.event.type));

/** Returns a random 16-digit Janus id, below 2^53 so JSON numbers keep it exact, like the recorded ones. */
export function janusId(): number {
  return 1e15 + randomInt(0, 2 ** 47) * 32 + randomInt(0, 32);
}

export function newAttendee(participantId: string, name: string, token: string, joinAtMs: number, leaveAtMs: number): Attendee {
  return {
    participantId,
    name,
    token,
    transportId: String(randomInt(1, 2 ** 48)),
    sessionId: janusId(),
    handleId: janusId(),
    feedId: janusId(),
    privateId: randomInt(1, 2 ** 32),
    joinAtMs,
    leaveAtMs,
  };
}

/** Lists every event of every attendee, ordered by the time Janus would post it. */
export function schedule(attendees: Attendee[]): ScheduledEvent[] {
  const entries: ScheduledEvent[] = [];
  for (const [index, attendee] of attendees.entries()) {
    for (const [templateIndex, template] of publisherTemplate.entries()) {
      const anchor = template.phase === 'join' ? attendee.joinAtMs : attendee.leaveAtMs;
      entries.push({ dueMs: Math.max(0, anchor + template.offsetMicros / 1000), attendee: index, template: templateIndex });
    }
  }
  return entries.sort((a, b) => a.dueMs - b.dueMs);
}

/** Returns the Janus timestamp (microseconds since the epoch) of one scheduled event. */
export function eventTimestamp(attendee: Attendee, template: number, burstStartEpochMs: number): number {
  const t = publisherTemplate[template]!;
  const anchorMs = t.phase === 'join' ? attendee.joinAtMs : attendee.leaveAtMs;
  return Math.round((burstStartEpochMs + anchorMs) * 1000 + t.offsetMicros);
}

/** Builds one event as Janus posts it, with the attendee's ids in place of the recorded ones. */
export function materialize(attendee: Attendee, template: number, server: string, roomId: number, burstStartEpochMs: number): JanusEvent {
  const recorded = recording.ids;
  const event = structuredClone(publisherTemplate[template]!.event);
  event.emitter = server;
  event.timestamp = eventTimestamp(attendee, template, burstStartEpochMs);
  if (event.session_id === recorded.sessionId) event.session_id = attendee.sessionId;
  if (event.handle_id === recorded.handleId) event.handle_id = attendee.handleId;
  if (typeof event.opaque_id === 'string') event.opaque_id = `hop-${attendee.participantId}`;
  const body = event.event;
  if (event.type === 128) body.id = attendee.transportId;
  if (event.type === 1 && body.transport) body.transport.id = attendee.transportId;
  const data = body?.data;
  if (event.type === 64 && data) {
    if (data.room !== undefined) data.room = roomId;
    if (data.id === recorded.feedId) data.id = attendee.feedId;
    if (data.private_id !== undefined) data.private_id = attendee.privateId;
    if (data.token !== undefined) data.token = attendee.token;
    if (data.display !== undefined) data.display = attendee.name;
  }
  return event;
}

export interface PostRecord {
  /** Date.now() just before the request was sent. */
  postedAt: number;
  durationMs: number;
  events: number;
}

export interface ReplayOptions {
  url: string;
  password: string;
  server: string;
  roomId: number;
  attendees: Attendee[];
  entries: ScheduledEvent[];
  burstStartEpochMs: number;
  /** Called with each marked event (`joined` or `leaving`) and the time its POST was sent. */
  onMarked(kind: 'joined' | 'leaving', attendee: number, postedAt: number): void;
  /** Rejected posts are sent again up to this many times (the sample event handler's `max_retransmissions`). */
  maxRetransmissions?: number;
}

export interface ReplayResult {
  posts: PostRecord[];
  events: number;
  retransmissions: number;
  /** Events Janus would have dropped: every retransmission of their post failed. */
  dropped: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts the scheduled events to the intake as one Janus server does, one grouped POST at a time. */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { entries, attendees } = options;
  const authorization = `Basic ${Buffer.from(`janus:${options.password}`).toString('base64')}`;
  const maxRetransmissions = options.maxRetransmissions ?? 5;
  const result: ReplayResult = { posts: [], events: 0, retransmissions: 0, dropped: 0 };
  let next = 0;
  while (next < entries.length) {
    const elapsed = Date.now() - options.burstStartEpochMs;
    const due = entries[next]!.dueMs;
    if (due > elapsed) {
      await sleep(Math.min(due - elapsed, 50));
      continue;
    }
    const batch: ScheduledEvent[] = [];
    while (next < entries.length && entries[next]!.dueMs <= elapsed && batch.length < 10_000) batch.push(entries[next++]!);
    const body = JSON.stringify(batch.map((entry) => materialize(attendees[entry.attendee]!, entry.template, options.server, options.roomId, options.burstStartEpochMs)));

    let delivered = false;
    let postedAt = 0;
    for (let attempt = 0; attempt <= maxRetransmissions && !delivered; attempt++) {
      if (attempt > 0) {
        result.retransmissions++;
        await sleep(100 * 2 ** (attempt - 1));
      }
      postedAt = Date.now();
      const started = performance.now();
      try {
        const response = await fetch(options.url, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
        await response.arrayBuffer();
        delivered = response.status === 202;
        result.posts.push({ postedAt, durationMs: performance.now() - started, events: batch.length });
      } catch {
        delivered = false;
      }
    }
    if (!delivered) {
      result.dropped += batch.length;
      continue;
    }
    result.events += batch.length;
    for (const entry of batch) {
      const mark = publisherTemplate[entry.template]!.mark;
      if (mark) options.onMarked(mark, entry.attendee, postedAt);
    }
  }
  return result;
}
