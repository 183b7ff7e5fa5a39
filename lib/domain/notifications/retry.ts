/**
 * The retry policy of notification deliveries: which outcomes are final, and
 * when the next attempt is due. docs/notifications.md documents it for
 * receivers.
 */

export interface RetryPolicy {
  /** Ceiling of the first retry's delay; it doubles each attempt up to `capMs`. */
  baseMs: number;
  capMs: number;
  /** Time from the first attempt after which a failed delivery goes dead. */
  maxAgeMs: number;
  /** Longest Retry-After hop waits for; longer values are shortened to this. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseMs: 5_000,
  capMs: 60 * 60 * 1000,
  maxAgeMs: 24 * 60 * 60 * 1000,
  maxRetryAfterMs: 60 * 60 * 1000,
};

export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number | null }
  /** Retry later (unless the delivery is too old); `retryAfterMs` comes from the receiver. */
  | { kind: 'retry'; error: string; statusCode: number | null; retryAfterMs: number | null }
  /** Dead at once; `disableEndpoint` when the receiver answered 410 Gone. */
  | { kind: 'dead'; error: string; statusCode: number | null; disableEndpoint: boolean };

/**
 * Classifies a webhook response. 2xx is delivered. 410 Gone kills the delivery
 * and disables the endpoint. Other 4xx answers except 408, 425 and 429 are
 * final, because the receiver rejected this request and sending it again
 * unchanged would hold up every later notification of the endpoint for a day.
 * Everything else (3xx, 408, 425, 429, 5xx) is retried; 429 and 503 honour
 * Retry-After.
 */
export function classifyWebhookResponse(statusCode: number, retryAfter: string | null, now: Date): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode };
  if (statusCode === 410) {
    return { kind: 'dead', error: 'receiver answered 410 Gone; the endpoint was disabled', statusCode, disableEndpoint: true };
  }
  if (statusCode >= 400 && statusCode < 500 && statusCode !== 408 && statusCode !== 425 && statusCode !== 429) {
    return { kind: 'dead', error: `receiver answered ${statusCode}, which is final`, statusCode, disableEndpoint: false };
  }
  const honoured = statusCode === 429 || statusCode === 503 ? parseRetryAfter(retryAfter, now) : null;
  const error = statusCode >= 300 && statusCode < 400 ? `receiver answered ${statusCode}; redirects are not followed` : `receiver answered ${statusCode}`;
  return { kind: 'retry', error, statusCode, retryAfterMs: honoured };
}

/** Parses a Retry-After value (seconds, or an HTTP date) into milliseconds from `now`; null when absent or invalid. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now.getTime());
}

/**
 * Returns the delay before the next attempt after `attempts` failed ones:
 * exponential backoff with full jitter (a uniform draw between 0 and
 * min(cap, base × 2^(attempts − 1))), or the receiver's Retry-After shortened
 * to `maxRetryAfterMs` when it gave one.
 */
export function retryDelayMs(policy: RetryPolicy, attempts: number, retryAfterMs: number | null, random: () => number): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Returns when to try again after a failed attempt, or null when the delivery
 * is out of time and goes dead. The last retry is moved up to the end of the
 * window, so a delivery always gets an attempt at the 24-hour mark.
 */
export function nextAttemptAt(policy: RetryPolicy, firstAttemptAt: Date, attempts: number, retryAfterMs: number | null, now: Date, random: () => number): Date | null {
  const deadline = firstAttemptAt.getTime() + policy.maxAgeMs;
  if (now.getTime() >= deadline) return null;
  const due = now.getTime() + retryDelayMs(policy, attempts, retryAfterMs, random);
  return new Date(Math.min(due, deadline));
}
