import { LAST_SEEN_STEP_MS } from './tracking.ts';

/**
 * Drops signs of life that could not change `last_seen_at`, before any
 * database work. It keeps, per Janus handle, a lower bound of the
 * `last_seen_at` stored for its open connection, as far as this process wrote
 * it. An event less than LAST_SEEN_STEP_MS after that bound is dropped, since
 * recordActivity would update no row for it. Other processes only make the
 * stored value newer, so the bound stays a lower bound.
 */
export class LastSeenFilter {
  readonly #bounds = new Map<string, number>();
  readonly #maxEntries: number;

  /** `maxEntries` bounds the memory: the least recently written handle is forgotten first. */
  constructor(maxEntries = 100_000) {
    this.#maxEntries = maxEntries;
  }

  /** Returns whether a sign of life at `at` may move the handle's `last_seen_at`. */
  due(server: string, sessionId: string, handleId: string, at: Date): boolean {
    const bound = this.#bounds.get(keyOf(server, sessionId, handleId));
    return bound === undefined || at.getTime() - bound >= LAST_SEEN_STEP_MS;
  }

  /**
   * Stores what a committed write showed: `last_seen_at` is now at least `at`
   * (a `joined`, or a sign of life that changed the row), or at least
   * `at` minus LAST_SEEN_STEP_MS (a sign of life that changed nothing, so the
   * stored value was newer or the handle has no open connection).
   */
  written(server: string, sessionId: string, handleId: string, at: Date, changed: boolean): void {
    const key = keyOf(server, sessionId, handleId);
    const bound = changed ? at.getTime() : at.getTime() - LAST_SEEN_STEP_MS;
    const previous = this.#bounds.get(key);
    this.#bounds.delete(key);
    this.#bounds.set(key, previous === undefined ? bound : Math.max(previous, bound));
    if (this.#bounds.size > this.#maxEntries) this.#bounds.delete(this.#bounds.keys().next().value!);
  }
}

function keyOf(server: string, sessionId: string, handleId: string): string {
  return `${server}\u0000${sessionId}\u0000${handleId}`;
}
