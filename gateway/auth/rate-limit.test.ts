import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { log } from '../../lib/log.ts';
import { rateLimitMiddleware, TokenBucketLimiter } from './rate-limit.ts';

describe('token bucket limiter', () => {
  test('allows the capacity, then rejects', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerMinute: 3, now: () => now });
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { allowed: true });
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 20 });
    assert.deepEqual(limiter.take('b'), { allowed: true }, 'keys are independent');
    now = 20_000;
    assert.deepEqual(limiter.take('a'), { allowed: true }, 'one token back after 20 s');
  });

  test('takeAll spends nothing when rejected', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerMinute: 1, now: () => now });
    assert.deepEqual(limiter.take('ip:x'), { allowed: true });
    assert.equal(limiter.takeAll(['ip:x', 'user:y']).allowed, false);
    now = 60_000;
    assert.deepEqual(limiter.takeAll(['ip:x', 'user:y']), { allowed: true }, 'user:y still had its token');
  });

  test('memory stays bounded', () => {
    const now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerMinute: 2, maxKeys: 100, now: () => now });
    for (let i = 0; i < 1000; i++) limiter.take(`ip:${i}`);
    assert.ok(limiter.size <= 100, `size ${limiter.size}`);
  });
});

describe('write rate limit middleware', () => {
  test('answers 429 with Retry-After', async () => {
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerMinute: 2 });
    const app = new Hono();
    app.use('*', rateLimitMiddleware(limiter, () => ['ip:test'], log));
    app.post('/write', (c) => c.json({ ok: true }));
    app.get('/read', (c) => c.json({ ok: true }));

    assert.equal((await app.request('/write', { method: 'POST' })).status, 200);
    assert.equal((await app.request('/write', { method: 'POST' })).status, 200);
    const limited = await app.request('/write', { method: 'POST' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '30');
    const body = (await limited.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'RATE_LIMITED');
    assert.match(body.error.message, /quá nhiều yêu cầu/);
    assert.equal((await app.request('/read')).status, 200, 'GET passes free');
  });
});
