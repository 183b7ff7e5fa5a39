import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LEVEL,
  POLICY,
  createLayerState,
  createLinkEstimate,
  finishProbe,
  fittingLevel,
  initialLevel,
  levelKbps,
  nextLevel,
  planRound,
  setMaxLevel,
  startProbe,
  // @ts-expect-error The join page's modules are plain browser JavaScript without type declarations.
} from './join-quality.js';

const good = { loss: 0, freezes: 0, rtt: 0.01, slowLinks: 0 };
const congested = { loss: 0.2, freezes: 1, rtt: 0.4, slowLinks: 2 };
/** The room's layer caps in bit/s, as the join details carry them (lib/domain/rooms.ts). */
const layers = { high: 900_000, medium: 300_000, low: 100_000 };

/** Feeds `sample` every POLICY.sampleMs from `start` for `ms`, returns the level and the next time. */
function run(state: unknown, sample: object, start: number, ms: number): { level: number; now: number } {
  let level = -1;
  let now = start;
  for (; now < start + ms; now += POLICY.sampleMs) level = nextLevel(state, sample, now);
  return { level, now };
}

/**
 * A bottleneck link for the page: a subscription sends its level's full
 * bitrate (levelKbps); what does not fit is lost and builds a queue. A probe
 * gets the capacity the media leaves free.
 */
class SimulatedLink {
  capacityKbps: number;
  probes = 0;
  private pendingProbe: { startedAt: number; mediaKbps: number } | null = null;

  constructor(capacityKbps: number) {
    this.capacityKbps = capacityKbps;
  }

  /** Returns the samples of one round for subscriptions on these levels. */
  samples(levels: number[]): object[] {
    const offered = levels.reduce((sum, level) => sum + levelKbps(level, layers), 0);
    const carried = Math.min(offered, this.capacityKbps);
    const loss = offered > this.capacityKbps ? 1 - this.capacityKbps / offered : 0;
    return levels.map((level) => {
      const share = (levelKbps(level, layers) / offered) * carried;
      return loss > 0 ? { loss, freezes: 1, rtt: 0.4, slowLinks: 2, receivedKbps: share } : { ...good, receivedKbps: share };
    });
  }

  /** Runs one round at `now`: finishes a probe started in the last round, plans, and starts a probe when due. */
  round(link: any, states: any[], now: number): number[] {
    if (this.pendingProbe) {
      const spare = Math.max(0, this.capacityKbps - this.pendingProbe.mediaKbps);
      finishProbe(link, spare, this.pendingProbe.mediaKbps, this.pendingProbe.startedAt + 1000);
      this.pendingProbe = null;
    }
    const samples = this.samples(states.map((state) => state.level));
    const plan = planRound(link, states.map((state, index) => ({ state, sample: samples[index] })), layers, now);
    if (plan.probe) {
      startProbe(link, now);
      this.probes += 1;
      this.pendingProbe = { startedAt: now, mediaKbps: link.lastRound.receivedKbps };
    }
    return plan.levels;
  }
}

/** Runs rounds from `start` for `ms` and returns every level the first subscription was on, and the next time. */
function runLink(simulated: SimulatedLink, link: unknown, states: unknown[], start: number, ms: number): { levels: number[]; now: number } {
  const levels: number[] = [];
  let now = start;
  for (; now < start + ms; now += POLICY.sampleMs) levels.push(simulated.round(link, states, now)[0]!);
  return { levels, now };
}

describe('join page layer policy', () => {
  it('needs video plus audio for each level', () => {
    assert.equal(levelKbps(LEVEL.off, layers), POLICY.audioKbps);
    assert.equal(levelKbps(LEVEL.lowT0, layers), 50 + POLICY.audioKbps);
    assert.equal(levelKbps(LEVEL.low, layers), 100 + POLICY.audioKbps);
    assert.equal(levelKbps(LEVEL.medium, layers), 300 + POLICY.audioKbps);
    assert.equal(levelKbps(LEVEL.high, layers), 900 + POLICY.audioKbps);
  });

  it('fits levels with headroom for audio', () => {
    assert.equal(fittingLevel(2000, layers), LEVEL.high);
    assert.equal(fittingLevel(1000, layers), LEVEL.medium, 'high needs (900 + 50) × 1.25');
    assert.equal(fittingLevel(500, layers), LEVEL.medium);
    assert.equal(fittingLevel(250, layers), LEVEL.low, 'medium needs (300 + 50) × 1.25');
    assert.equal(fittingLevel(150, layers), LEVEL.lowT0);
    assert.equal(fittingLevel(120, layers), LEVEL.off, 'low-t0 needs (50 + 50) × 1.25');
    assert.equal(fittingLevel(500, layers, 2), LEVEL.low, 'two subscriptions share the link');
    assert.equal(fittingLevel(null, layers), LEVEL.high, 'no measurement, no cap');
  });

  it('follows the room layer caps', () => {
    assert.equal(fittingLevel(250, { high: 600_000, medium: 120_000, low: 60_000 }), LEVEL.medium);
  });

  it('starts from the measured link', () => {
    assert.equal(initialLevel(undefined, layers), LEVEL.low);
    assert.equal(initialLevel(null, layers), LEVEL.low);
    assert.equal(initialLevel(5000, layers), LEVEL.high);
    assert.equal(initialLevel(700, layers), LEVEL.medium);
    assert.equal(initialLevel(240, layers), LEVEL.low);
    assert.equal(initialLevel(160, layers), LEVEL.lowT0);
    assert.equal(initialLevel(80, layers), LEVEL.off);
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

  it('returns from low to high within 15 s without an estimate', () => {
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

describe('join page link estimate', () => {
  it('stays on low at 250 kbit/s', () => {
    const simulated = new SimulatedLink(250);
    // The probe before joining measured a little less than the link.
    const link = createLinkEstimate(240, 0);
    const state = createLayerState(initialLevel(link.kbps, layers), 0);
    assert.equal(state.level, LEVEL.low);
    const { levels } = runLink(simulated, link, [state], POLICY.sampleMs, 60_000);
    assert.deepEqual([...new Set(levels)], [LEVEL.low], 'never tries medium, which does not fit');
    assert.ok(simulated.probes >= 5, `${simulated.probes} probes in a minute`);
    assert.ok(simulated.probes <= 60_000 / POLICY.probeIntervalMs, `${simulated.probes} probes in a minute`);
    assert.equal(link.source, 'probe');
    assert.ok(Math.abs(link.kbps - 250) < 1, `estimate ${link.kbps}`);
  });

  it('congestion lowers the estimate to the received rate', () => {
    const simulated = new SimulatedLink(2000);
    const link = createLinkEstimate(1900, 0);
    const state = createLayerState(initialLevel(link.kbps, layers), 0);
    assert.equal(state.level, LEVEL.high);
    runLink(simulated, link, [state], POLICY.sampleMs, 10_000);
    assert.equal(state.level, LEVEL.high);

    simulated.capacityKbps = 250;
    const started = 12_000;
    const { levels, now } = runLink(simulated, link, [state], started, 12_000);
    assert.equal(state.level, LEVEL.low, `levels ${levels.join(', ')}`);
    assert.ok(levels.indexOf(LEVEL.low) <= 1, `straight to low, not through medium: ${levels.join(', ')}`);
    assert.ok(link.kbps <= 250, `estimate ${link.kbps}`);

    const later = runLink(simulated, link, [state], now, 60_000);
    assert.deepEqual([...new Set(later.levels)], [LEVEL.low], 'probes keep it on low');
  });

  it('recovers to high within 15 s after 2 Mbit/s returns', () => {
    const simulated = new SimulatedLink(250);
    const link = createLinkEstimate(240, 0);
    const state = createLayerState(initialLevel(link.kbps, layers), 0);
    let now = 0;
    // The link returns at each phase of the probe interval in turn.
    for (const badMs of [20_000, 22_000, 24_000, 26_000]) {
      simulated.capacityKbps = 250;
      now = runLink(simulated, link, [state], now, badMs).now;
      assert.equal(state.level, LEVEL.low);
      simulated.capacityKbps = 2000;
      const restored = now;
      while (state.level < LEVEL.high && now < restored + 60_000) {
        simulated.round(link, [state], now);
        now += POLICY.sampleMs;
      }
      assert.equal(state.level, LEVEL.high);
      assert.ok(now - restored <= 15_000, `high after ${now - restored} ms`);
    }
  });

  it('pauses video when even low-t0 does not fit', () => {
    const simulated = new SimulatedLink(120);
    const link = createLinkEstimate(115, 0);
    const state = createLayerState(initialLevel(link.kbps, layers), 0);
    assert.equal(state.level, LEVEL.off);
    const { levels } = runLink(simulated, link, [state], POLICY.sampleMs, 60_000);
    assert.deepEqual([...new Set(levels)], [LEVEL.off]);
    assert.ok(simulated.probes <= 60_000 / POLICY.pausedProbeIntervalMs, `${simulated.probes} probes in a minute while paused`);
  });

  it('two subscriptions share the link', () => {
    const simulated = new SimulatedLink(500);
    const link = createLinkEstimate(480, 0);
    const states = [createLayerState(initialLevel(link.kbps, layers, 2), 0), createLayerState(initialLevel(link.kbps, layers, 2), 0)];
    assert.deepEqual(
      states.map((state) => state.level),
      [LEVEL.low, LEVEL.low],
    );
    runLink(simulated, link, states, POLICY.sampleMs, 30_000);
    assert.deepEqual(
      states.map((state) => state.level),
      [LEVEL.low, LEVEL.low],
    );
  });

  it('keeps a level near its threshold', () => {
    const link = createLinkEstimate(480, 0);
    const state = createLayerState(LEVEL.medium, 0);
    // A probe measures 400 kbit/s: below (300 + 50) × 1.25, above (300 + 50) × 1.1.
    startProbe(link, 10_000);
    finishProbe(link, 50, 350, 11_000);
    assert.equal(link.kbps, 400);
    planRound(link, [{ state, sample: { ...good, receivedKbps: 350 } }], layers, 12_000);
    assert.equal(state.level, LEVEL.medium);
    assert.equal(initialLevel(link.kbps, layers), LEVEL.low, 'a new subscription starts below it');
  });

  it('estimate takes the step-down round', () => {
    const link = createLinkEstimate(1900, 0);
    const state = createLayerState(LEVEL.high, 0);
    const queueing = { loss: 0.2, freezes: 0, rtt: 0.4, slowLinks: 0 };
    planRound(link, [{ state, sample: { ...good, receivedKbps: 950 } }], layers, 0);
    // The first bad round still carries traffic from before the link got slower.
    planRound(link, [{ state, sample: { ...queueing, receivedKbps: 700 } }], layers, 2000);
    assert.equal(link.kbps, 1900, 'one bad round is not enough');
    planRound(link, [{ state, sample: { ...queueing, receivedKbps: 260 } }], layers, 4000);
    assert.equal(link.kbps, 260);
    assert.equal(link.source, 'congestion');
    assert.equal(state.level, LEVEL.low);
  });

  it('uplink queue does not lower estimate', () => {
    const link = createLinkEstimate(480, 0);
    const state = createLayerState(LEVEL.medium, 0);
    for (let now = 0; now < 10_000; now += POLICY.sampleMs) {
      planRound(link, [{ state, sample: { ...good, receivedKbps: 340 } }], layers, now);
    }
    // The page's own upload fills the uplink: the round-trip time rises, the download still arrives whole.
    planRound(link, [{ state, sample: { ...good, rtt: 0.5, receivedKbps: 335 } }], layers, 10_000);
    planRound(link, [{ state, sample: { ...good, rtt: 0.5, receivedKbps: 330 } }], layers, 12_000);
    assert.equal(state.level, LEVEL.low, 'the statistics step the level down');
    assert.equal(link.kbps, 480, 'but the rate shows no limit of the link');
  });

  it('pausing video is no measurement', () => {
    const link = createLinkEstimate(480, 0);
    // Capped at low-t0, as the benchmark's capLevel does, so good rounds do not move it up.
    const state = createLayerState(LEVEL.lowT0, 0, LEVEL.lowT0);
    for (let now = 0; now < 10_000; now += POLICY.sampleMs) {
      planRound(link, [{ state, sample: { ...good, receivedKbps: 100 } }], layers, now);
    }
    let now = 10_000;
    for (; state.level !== LEVEL.off && now < 40_000; now += POLICY.sampleMs) {
      planRound(link, [{ state, sample: { ...good, freezes: 1, receivedKbps: 95 } }], layers, now);
    }
    assert.equal(state.level, LEVEL.off, 'freezes on low-t0 pause the video');
    assert.equal(link.kbps, 480);
  });

  it('probe rounds neither step down nor measure', () => {
    const link = createLinkEstimate(480, 0);
    const state = createLayerState(LEVEL.medium, 0);
    for (let now = 0; now < 10_000; now += POLICY.sampleMs) {
      planRound(link, [{ state, sample: { ...good, receivedKbps: 340 } }], layers, now);
    }
    // The probe's download squeezes the media: severe loss, a fraction of the usual rate.
    const squeezed = { ...good, loss: 0.35, freezes: 1, receivedKbps: 150 };
    startProbe(link, 10_000);
    planRound(link, [{ state, sample: squeezed }], layers, 10_000);
    finishProbe(link, 300, 200, 11_000);
    planRound(link, [{ state, sample: squeezed }], layers, 12_000);
    assert.equal(state.level, LEVEL.medium, 'no step down while the probe filled the link');
    assert.equal(link.kbps, 500, 'the probe result is the estimate');
    assert.equal(link.source, 'probe');

    planRound(link, [{ state, sample: squeezed }], layers, 14_000);
    assert.equal(state.level, LEVEL.medium, 'nor while its load still shows in the statistics');
    planRound(link, [{ state, sample: squeezed }], layers, 16_000);
    assert.equal(link.source, 'congestion', 'after the probe, congestion measures the link again');
    assert.equal(link.kbps, 150);
    assert.equal(state.level, LEVEL.lowT0, 'low needs (100 + 50) × 1.1 to stay');
  });

  it('a cut link is no measurement', () => {
    const link = createLinkEstimate(1900, 0);
    const state = createLayerState(LEVEL.high, 0);
    let now = 0;
    for (let round = 0; round < 10; round++, now += POLICY.sampleMs) {
      planRound(link, [{ state, sample: { loss: null, freezes: 1, rtt: null, slowLinks: 0, receivedKbps: 0 } }], layers, now);
    }
    assert.equal(link.kbps, 1900);
    assert.ok(state.level < LEVEL.high, 'the statistics still step the level down');
  });

  it('random loss does not lower the estimate', () => {
    const link = createLinkEstimate(1900, 0);
    const state = createLayerState(LEVEL.high, 0);
    for (let now = 0; now < 30_000; now += POLICY.sampleMs) {
      planRound(link, [{ state, sample: { ...good, loss: 0.1, receivedKbps: 850 } }], layers, now);
    }
    assert.equal(state.level, LEVEL.high);
    assert.equal(link.kbps, 1900);
  });

  it('a failed probe keeps the estimate', () => {
    const link = createLinkEstimate(240, 0);
    startProbe(link, 10_000);
    finishProbe(link, null, 150, 11_000);
    assert.equal(link.kbps, 240);
    assert.equal(link.probing, false);
    assert.equal(link.probeStartedAt, 10_000, 'the next probe waits the interval');
  });

  it('no probe without an estimate', () => {
    const link = createLinkEstimate(null, 0);
    const state = createLayerState(LEVEL.low, 0);
    for (let now = 0; now < 30_000; now += POLICY.sampleMs) {
      const plan = planRound(link, [{ state, sample: { ...good, receivedKbps: 150 } }], layers, now);
      assert.equal(plan.probe, false);
    }
    assert.equal(state.level, LEVEL.high, 'the statistics alone move it up');
  });
});
