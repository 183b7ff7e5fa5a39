import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readJoinToken, signJoinToken } from './join-token.ts';

const secret = 'a-secret-of-at-least-thirty-two-characters';
const claims = {
  meetingId: '0f8b6c3e-2f55-4a55-9d46-2ad5d4c0c111',
  participantId: '5b0f3c1e-1111-4222-8333-944455556666',
  role: 'guest' as const,
  expiresAt: new Date('2026-12-07T02:10:00Z'),
};

test('token round trip', () => {
  const token = signJoinToken(claims, secret);
  assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(readJoinToken(token, secret), claims);
});

test('other secret rejected', () => {
  assert.equal(readJoinToken(signJoinToken(claims, secret), 'another-secret-of-thirty-two-characters!'), null);
});

test('tampered claims rejected', () => {
  const [version, payload, mac] = signJoinToken(claims, secret).split('.');
  const forged = Buffer.from(Buffer.from(payload!, 'base64url').toString('utf8').replace('guest', 'chair')).toString('base64url');
  assert.equal(readJoinToken(`${version}.${forged}.${mac}`, secret), null);
});

test('garbage rejected', () => {
  for (const value of ['', 'v1', 'v1..', 'v2.abc.def', 'random-token-from-before']) {
    assert.equal(readJoinToken(value, secret), null, value);
  }
});
