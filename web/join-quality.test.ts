import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// @ts-expect-error The join page's modules are plain browser JavaScript without type declarations.
import { LEVEL, POLICY, createLayerState, initialLevel, nextLevel, setMaxLevel } from './join-quality.js';

const good = { loss: 0, freezes: 0, rtt: 0.01, slowLinks: 0 };
const congested = { loss: 0.2, freezes: 1, rtt: 0.4, slowLinks: 2 };

/** Feeds `sample` every POLICY.sampleMs from `start` for `ms`, returns the level and the next time. */
function run(state: unknown, sample: object, start: number, ms: number): { level: number; now: number } {
  let level = -1;
  let now = start;
  for (; now < start + ms; now += POLICY.sampleMs) level = nextLevel(state, sample, now);
  return { level, now };
}

describe('join page layer policy', () => {
  it('starts from the measured download', () => {
    assert.equal(initialLevel(undefined), LEVEL.medium);
    assert.equal(initialLevel(5000), LEVEL.high);
    assert.equal(initialLevel(700), LEVEL.medium);
    assert.equal(initialLevel(300), LEVEL.low);
    assert.equal(initialLevel(200), LEVEL.lowT0);
    assert.equal(initialLevel(80), LEVEL.off);
  });

  it('steps down on congestion, then pauses video', () => {
    const state = createLayerState(LEVEL.high, 0);
    nextLevel(state, good, 0);
    const { level } = run(state, congested, POLICY.sampleMs, 8 * POLICY.sampleMs);
    assert.equal(level, LEVEL.lowT0, 'one step per two bad samples, down to the lowest video level');
    const paused = run(state, congested, 9 * POLICY.sampleMs, POLICY.pauseVideoAfterMs + POLICY.sampleMs);
    assert.equal(paused.level, LEVEL.off, 'video paused when even the lowest level does not hold');
  });

  it('ignores random loss below the threshold', () => {
    const state = createLayerState(LEVEL.high, 0);
    const { level } = run(state, { ...good, loss: 0.1 }, 0, 30_000);
    assert.equal(level, LEVEL.high);
  });

  it('returns from low to high within 15 s', () => {
    const state = createLayerState(LEVEL.lowT0, 0);
    const start = 1000;
    let now = start;
    while (state.level < LEVEL.high && now < start + 60_000) {
      nextLevel(state, good, now);
      now += POLICY.sampleMs;
    }
    assert.equal(state.level, LEVEL.high);
    assert.ok(now - start <= 15_000, `took ${now - start} ms`);
  });

  it('failed tries up lengthen the hold, within the cap', () => {
    const state = createLayerState(LEVEL.low, 0);
    let now = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      while (state.level === LEVEL.low) {
        nextLevel(state, good, now);
        now += POLICY.sampleMs;
      }
      nextLevel(state, { ...congested, freezes: 0, slowLinks: 0, loss: 0.35 }, now);
      now += POLICY.sampleMs;
      assert.equal(state.level, LEVEL.low, 'a severe loss steps down at once');
    }
    assert.equal(state.upHoldMs, POLICY.maxUpHoldMs);
  });

  it('audio-only caps every level at off', () => {
    const state = createLayerState(LEVEL.high, 0);
    assert.equal(setMaxLevel(state, LEVEL.off, 10), LEVEL.off);
    const { level } = run(state, good, 20, 30_000);
    assert.equal(level, LEVEL.off, 'no step up above the cap');
  });
});
