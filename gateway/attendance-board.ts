/**
 * The chair's live attendance board as server-sent events:
 * `GET /api/v1/meetings/:id/attendance/stream[?occurrenceId=]` sends the
 * whole board (`event: board`, the JSON of GET …/attendance: attendance,
 * raised hands and refused joins) at once and again after every change.
 *
 * Changes are found by polling `attendance_version`, which every attendance
 * write raises in its own transaction. One poll per gateway covers all boards
 * open on it, so a change written by any gateway or function reaches every
 * gateway's boards within one poll interval plus one query. Polling works the
 * same on PostgreSQL and PGlite, which LISTEN/NOTIFY would not.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Kysely } from 'kysely';
import type { Database } from '../lib/adapters/db/schema.ts';
import { loadMeetingBoard } from '../lib/domain/attendance/live-board.ts';
import { resolveOccurrence } from '../lib/domain/attendance/meeting-attendance.ts';
import { authorizeMeeting } from '../lib/domain/meeting-access.ts';
import type { Principal as PolicyPrincipal } from '../lib/domain/policy.ts';
import { errorBody, HopError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { authenticate } from './auth/principal.ts';

export interface BoardOptions {
  db: Kysely<Database>;
  log: Logger;
  loadUnitIds(userId: string): Promise<string[]>;
  /** Poll interval in milliseconds. Default 250. */
  pollMs?: number;
  /** Comment line sent when nothing changed, so proxies keep the stream open. Default 15000. */
  keepAliveMs?: number;
}

type Listener = (version: number) => void;

/** Polls the versions of the meetings that have boards open and calls their listeners on a change. */
class VersionWatcher {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #versions = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #polling = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  watch(meetingId: string, listener: Listener): () => void {
    const set = this.#listeners.get(meetingId) ?? new Set();
    set.add(listener);
    this.#listeners.set(meetingId, set);
    this.#timer ??= setInterval(() => void this.#poll(), this.pollMs);
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.#listeners.delete(meetingId);
        this.#versions.delete(meetingId);
      }
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#listeners.size === 0) return;
    this.#polling = true;
    try {
      const rows = await this.db.selectFrom('attendance_version').select(['meeting_id', 'version']).where('meeting_id', 'in', [...this.#listeners.keys()]).execute();
      for (const row of rows) {
        const version = Number(row.version);
        if (this.#versions.get(row.meeting_id) === version) continue;
        this.#versions.set(row.meeting_id, version);
        for (const listener of this.#listeners.get(row.meeting_id) ?? []) listener(version);
      }
    } catch (error) {
      this.log.warn({ err: error }, 'polling attendance versions failed');
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }
}

/** Mounts the board stream; returns a stop function that ends the polling. */
export function mountAttendanceBoard(app: Hono, options: BoardOptions): { stop(): void } {
  const watcher = new VersionWatcher(options.db, options.log, options.pollMs ?? 250);

  app.get('/api/v1/meetings/:id/attendance/stream', async (c) => {
    const auth = await authenticate(c);
    if (!auth.ok) return c.json(errorBody(auth.code), 401);
    let principal: PolicyPrincipal = { kind: 'anonymous' };
    if (auth.principal?.kind === 'api-key') principal = auth.principal;
    else if (auth.principal?.kind === 'user') {
      principal = { kind: 'user', userId: auth.principal.userId, systemRole: auth.principal.systemRole, unitIds: await options.loadUnitIds(auth.principal.userId) };
    }

    let meetingId: string;
    let occurrence: Awaited<ReturnType<typeof resolveOccurrence>>;
    try {
      meetingId = await authorizeMeeting(options.db, c.req.param('id'), principal, 'attendance.read-all');
      occurrence = await resolveOccurrence(options.db, meetingId, c.req.query('occurrenceId'), new Date());
    } catch (error) {
      if (!(error instanceof HopError)) throw error;
      return c.json(errorBody(error.code, error.details), error.status as 401);
    }

    return streamSSE(c, async (stream) => {
      let sending = Promise.resolve();
      const send = () => {
        sending = sending.then(async () => {
          const board = await loadMeetingBoard(options.db, meetingId, occurrence, new Date());
          await stream.writeSSE({ event: 'board', data: JSON.stringify(board), id: String(board.version) });
        });
        sending.catch((error: unknown) => options.log.warn({ err: error, meetingId }, 'sending the attendance board failed'));
      };
      send();
      const unwatch = watcher.watch(meetingId, () => send());
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(keepAlive);
      unwatch();
    });
  });

  return { stop: () => watcher.stop() };
}
