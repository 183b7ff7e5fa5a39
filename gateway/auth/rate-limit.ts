import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';

/** Outcome of taking one token: allowed, or rejected with the seconds until a token is available. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface TokenBucketOptions {
  /** Tokens a key may spend at once; also the bucket size. */
  capacity: number;
  /** Tokens added back per minute. */
  refillPerMinute: number;
  /** Keys kept in memory before full buckets are dropped; the oldest are dropped when none is full. */
  maxKeys?: number;
  now?: () => number;
}

/**
 * In-memory token buckets, one per key (an IP address, a user name, a
 * principal). State lives in this process only: with several gateways behind
 * a load balancer each one counts separately, so the effective limit is the
 * configured one times the number of gateways.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: TokenBucketOptions) {
    this.capacity = options.capacity;
    this.refillPerMs = options.refillPerMinute / 60_000;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Takes one token for `key`. */
  take(key: string): RateDecision {
    const nowMs = this.now();
    const bucket = this.refilled(key, nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  /** Takes one token from each key, but only when every key has one, so a rejected request costs nothing. */
  takeAll(keys: string[]): RateDecision {
    const nowMs = this.now();
    let retryAfterSeconds = 0;
    const buckets = keys.map((key) => this.refilled(key, nowMs));
    for (const bucket of buckets) {
      if (bucket.tokens < 1) {
        retryAfterSeconds = Math.max(retryAfterSeconds, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000));
      }
    }
    if (retryAfterSeconds > 0) return { allowed: false, retryAfterSeconds: Math.max(1, retryAfterSeconds) };
    for (const bucket of buckets) bucket.tokens -= 1;
    return { allowed: true };
  }

  /** Number of keys held in memory. */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, nowMs: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.prune(nowMs);
      bucket = { tokens: this.capacity, updatedMs: nowMs };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (nowMs - bucket.updatedMs) * this.refillPerMs);
    bucket.updatedMs = nowMs;
    return bucket;
  }

  /** Drops buckets that have refilled (they behave like absent ones), then the oldest tenth if that freed nothing. */
  private prune(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (nowMs - bucket.updatedMs) * this.refillPerMs >= this.capacity) this.buckets.delete(key);
    }
    if (this.buckets.size < this.maxKeys) return;
    let drop = Math.ceil(this.maxKeys / 10);
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}

/**
 * Returns a function that logs `message` at warn level at most once a minute,
 * with the number of calls it suppressed since the last line, so an attack
 * cannot flood the log.
 */
export function throttledWarning(log: Logger, message: string, now: () => number = Date.now): (fields: object) => void {
  let lastMs = -Infinity;
  let suppressed = 0;
  return (fields) => {
    const nowMs = now();
    if (nowMs - lastMs < 60_000) {
      suppressed += 1;
      return;
    }
    log.warn({ ...fields, suppressed }, message);
    lastMs = nowMs;
    suppressed = 0;
  };
}

/** Sends 429 RATE_LIMITED with a Retry-After header in seconds. */
export function rateLimitedResponse(c: Context, retryAfterSeconds: number) {
  c.header('Retry-After', String(retryAfterSeconds));
  return c.json(errorBody('RATE_LIMITED', { retryAfterSeconds }), 429);
}

/**
 * Middleware that spends one token from each key `keysOf` returns for the
 * request (for example `principal:<id>` and `ip:<address>`) and answers 429
 * when any of them is empty. Safe methods (GET, HEAD, OPTIONS) pass free.
 */
export function rateLimitMiddleware(
  limiter: TokenBucketLimiter,
  keysOf: (c: Context) => Promise<string[]> | string[],
  log: Logger,
): MiddlewareHandler {
  const warn = throttledWarning(log, 'write rate limit reached');
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const keys = await keysOf(c);
    const decision = limiter.takeAll(keys);
    if (!decision.allowed) {
      warn({ keys, path: c.req.path, retryAfterSeconds: decision.retryAfterSeconds });
      return rateLimitedResponse(c, decision.retryAfterSeconds);
    }
    return next();
  };
}
