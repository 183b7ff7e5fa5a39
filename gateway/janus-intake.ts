import { timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { newEvent } from '../lib/contract/events.ts';
import { topics } from '../lib/contract/topics.ts';
import type { Bus } from '../lib/adapters/bus/bus.ts';
import { errorBody } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { validationDetails } from '../lib/runtime/function.ts';

/**
 * A Janus event-handler event (janus.eventhandler.sampleevh): `type` is a
 * number (1 session, 2 handle, 64 plugin …), `emitter` the Janus server name.
 * Only the fields hop routes on are checked; the rest travels unchanged.
 */
const janusEventSchema = z
  .object({
    type: z.number().int(),
    emitter: z.string().max(200).optional(),
    timestamp: z.number().optional(),
    session_id: z.number().optional(),
    handle_id: z.number().optional(),
    /** An object for most types, an array for media statistics (type 32). */
    event: z.unknown().optional(),
  })
  .passthrough();

const janusPostSchema = z.array(janusEventSchema).max(10_000);

/**
 * Returns the Kafka key of a Janus event, so that one session's events stay in
 * order on one partition and the events without a session spread over the
 * partitions:
 * - with a session id: `<server>:<session>`;
 * - VideoRoom events without one (`leaving`, `unpublished`, a room's
 *   `destroyed`): `<server>:<room>:<feed>`, or `<server>:<room>` without a feed;
 * - transport events (type 128): `<server>:transport:<transport id>`;
 * - the rest (core events): `<server>:server`.
 * Events of one publisher with and without a session id can therefore land on
 * different partitions; attendance-track does not depend on their order.
 */
export function janusEventKey(event: z.infer<typeof janusEventSchema>, server: string): string {
  if (event.session_id !== undefined) return `${server}:${event.session_id}`;
  const body = typeof event.event === 'object' && event.event !== null ? (event.event as Record<string, unknown>) : {};
  if (event.type === 64) {
    const data = typeof body.data === 'object' && body.data !== null ? (body.data as Record<string, unknown>) : {};
    const room = idPart(data.room);
    if (room !== undefined) {
      const feed = idPart(data.id);
      return feed === undefined ? `${server}:${room}` : `${server}:${room}:${feed}`;
    }
  }
  if (event.type === 128) {
    const transport = idPart(body.id);
    if (transport !== undefined) return `${server}:transport:${transport}`;
  }
  return `${server}:server`;
}

/** Returns a Janus id (a number, or a string when string ids are on) as key text, or undefined for anything else. */
function idPart(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= 100) return value;
  return undefined;
}

/**
 * Mounts `POST /janus/events`, where Janus's HTTP event handler posts (single
 * events or, with grouping on, arrays). Each event is validated and published
 * unchanged to the media topic as a `vn.hop.janus.event.v1` CloudEvent. The
 * response is sent only after the bus has stored them, and a failed publish returns 503.
 */
export interface JanusIntakeOptions {
  /** Password Janus sends with HTTP basic auth (user `janus`); posts without it are rejected. None accepts any post. */
  password?: string;
  /** Largest accepted post, in bytes. */
  maxBytes: number;
}

function authorized(header: string | undefined, password: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const expected = Buffer.from(`janus:${password}`, 'utf8');
  const given = Buffer.from(header.slice('Basic '.length).trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function mountJanusIntake(app: Hono, bus: Bus, log: Logger, options: JanusIntakeOptions): void {
  app.post(
    '/janus/events',
    bodyLimit({ maxSize: options.maxBytes, onError: (c) => c.json(errorBody('BODY_TOO_LARGE', { maxBytes: options.maxBytes }), 413) }),
    async (c) => {
    if (options.password !== undefined && !authorized(c.req.header('authorization'), options.password)) {
      log.warn('Janus event post without valid credentials rejected');
      return c.json(errorBody('UNAUTHORIZED'), 401);
    }

    let payload: unknown;
    try {
      payload = JSON.parse(await c.req.text());
    } catch {
      return c.json(errorBody('INVALID_JSON'), 400);
    }
    const parsed = janusPostSchema.safeParse(Array.isArray(payload) ? payload : [payload]);
    if (!parsed.success) {
      log.warn({ issues: validationDetails(parsed.error).slice(0, 5) }, 'invalid Janus event post rejected');
      return c.json(errorBody('JANUS_EVENT_INVALID', validationDetails(parsed.error).slice(0, 20)), 400);
    }

    const events = parsed.data;
    const messages = events.map((event) => {
      const server = event.emitter ?? 'unknown';
      const cloudEvent = newEvent(
        'vn.hop.janus.event.v1',
        { server, event },
        { source: `/hop/janus/${server}`, subject: event.session_id !== undefined ? String(event.session_id) : undefined },
      );
      return { key: janusEventKey(event, server), value: JSON.stringify(cloudEvent), headers: { 'ce-type': cloudEvent.type, 'ce-id': cloudEvent.id } };
    });

    try {
      await bus.publish(topics.media, messages);
    } catch (error) {
      log.error({ err: error, count: messages.length }, 'publishing Janus events failed');
      return c.json(errorBody('UNAVAILABLE'), 503);
    }
    return c.json({ accepted: messages.length }, 202);
    },
  );
}
