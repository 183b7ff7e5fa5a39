// Link quality and the choice of simulcast layer for each subscription.
//
// Janus forwards one simulcast layer (substream) and a number of temporal
// layers to each subscriber, and leaves the choice to the application. The
// join page samples each subscription's statistics and moves one level down
// the ladder below when the link cannot carry it, and one level up after the
// link has been good for a while. The lowest level pauses the video of that
// feed, so its audio keeps the link to itself. The module has no DOM code,
// so node:test runs it too (web/join-quality.test.ts).

/** Subscription levels, lowest first. `send: false` stops the video of the feed at Janus. */
export const LEVELS = [
  { name: 'off', send: false },
  { name: 'low-t0', send: true, substream: 0, temporal: 0 },
  { name: 'low', send: true, substream: 0, temporal: 2 },
  { name: 'medium', send: true, substream: 1, temporal: 2 },
  { name: 'high', send: true, substream: 2, temporal: 2 },
];
export const LEVEL = { off: 0, lowT0: 1, low: 2, medium: 3, high: 4 };

export const POLICY = {
  /** Statistics are sampled this often, in milliseconds. */
  sampleMs: 2000,
  /** Time a level must stay good before the next level up is tried, in milliseconds. */
  upHoldMs: 3000,
  /**
   * Upper bound of the hold after failed tries up. It stays short so that a
   * link that recovers gets from the low to the high layer within about 15 s
   * (two steps of at most 4.5 s, plus sampling).
   */
  maxUpHoldMs: 4500,
  /** Hold before a step up to the low layer or below, which costs little, in milliseconds. */
  cheapUpHoldMs: 2000,
  /** A step down within this time of a step up counts as a failed try, in milliseconds. */
  failedTryMs: 6000,
  /** Packet loss (0–1) above which a sample is bad. 10 % random loss alone stays below it. */
  badLoss: 0.12,
  /** Packet loss above which one sample is enough to step down. */
  severeLoss: 0.3,
  /** Round-trip time rise over the lowest seen, in seconds, above which a sample is bad (a queue is building). */
  badRttRise: 0.25,
  /** Bad samples in a row that step a level down. */
  badSamplesToStepDown: 2,
  /** Time the lowest video level must stay bad before the video of the feed is paused, in milliseconds. */
  pauseVideoAfterMs: 8000,
};

/**
 * Returns the level a subscription starts on, from the download throughput
 * the connection check measured (kbit/s), or medium when there is none.
 */
export function initialLevel(downloadKbps) {
  if (typeof downloadKbps !== 'number' || !Number.isFinite(downloadKbps)) return LEVEL.medium;
  if (downloadKbps >= 1500) return LEVEL.high;
  if (downloadKbps >= 600) return LEVEL.medium;
  if (downloadKbps >= 250) return LEVEL.low;
  if (downloadKbps >= 150) return LEVEL.lowT0;
  return LEVEL.off;
}

/** Creates the layer state of one subscription. `maxLevel` drops to `off` in audio-only mode. */
export function createLayerState(level, now, maxLevel = LEVEL.high) {
  return {
    level: Math.min(level, maxLevel),
    maxLevel,
    changedAt: now,
    lastUpAt: -Infinity,
    upHoldMs: POLICY.upHoldMs,
    badSamples: 0,
    badSince: null,
    minRtt: Infinity,
    quality: 'good',
  };
}

/**
 * Rates one sample: `poor` when it is bad enough to step down, `fair` when
 * loss or delay is noticeable, else `good`.
 * sample: { loss: 0–1 or null, freezes: new freezes since the last sample,
 * rtt: seconds or null, slowLinks: Janus slow_link events since the last sample }.
 */
export function rateSample(state, sample) {
  if (typeof sample.rtt === 'number' && sample.rtt > 0) state.minRtt = Math.min(state.minRtt, sample.rtt);
  const rttRise = typeof sample.rtt === 'number' && Number.isFinite(state.minRtt) ? sample.rtt - state.minRtt : 0;
  const loss = sample.loss ?? 0;
  if (loss >= POLICY.badLoss || rttRise >= POLICY.badRttRise || sample.freezes > 0 || sample.slowLinks > 1) return 'poor';
  if (loss >= 0.03 || rttRise >= 0.1 || sample.slowLinks > 0) return 'fair';
  return 'good';
}

/**
 * Updates the state with one sample taken at `now` (milliseconds) and returns
 * the level the subscription should be on; the caller applies a change.
 */
export function nextLevel(state, sample, now) {
  const quality = rateSample(state, sample);
  state.quality = quality;
  const severe = (sample.loss ?? 0) >= POLICY.severeLoss;

  if (quality === 'poor') {
    state.badSamples += 1;
    state.badSince ??= now;
  } else {
    state.badSamples = 0;
    state.badSince = null;
  }

  // Step down.
  if (quality === 'poor' && (severe || state.badSamples >= POLICY.badSamplesToStepDown)) {
    if (state.level > LEVEL.lowT0) return moveTo(state, state.level - 1, now);
    // The lowest video level does not hold either: pause the video, keep the audio.
    if (state.level === LEVEL.lowT0 && now - state.badSince >= POLICY.pauseVideoAfterMs) return moveTo(state, LEVEL.off, now);
    return state.level;
  }

  // Step up after a good hold.
  const hold = state.level < LEVEL.low ? POLICY.cheapUpHoldMs : state.upHoldMs;
  if (quality === 'good' && state.level < state.maxLevel && now - state.changedAt >= hold) {
    return moveTo(state, state.level + 1, now);
  }
  // A level that held long after its try up resets the hold.
  if (quality === 'good' && now - state.changedAt >= 30_000) state.upHoldMs = POLICY.upHoldMs;
  return state.level;
}

/** Caps the state at `maxLevel` (audio-only mode sets `off`) and returns the level to apply. */
export function setMaxLevel(state, maxLevel, now) {
  state.maxLevel = maxLevel;
  if (state.level > maxLevel) return moveTo(state, maxLevel, now);
  return state.level;
}

function moveTo(state, level, now) {
  if (level < state.level && now - state.lastUpAt < POLICY.failedTryMs) {
    state.upHoldMs = Math.min(POLICY.maxUpHoldMs, state.upHoldMs * 1.5);
  }
  if (level > state.level) state.lastUpAt = now;
  state.level = level;
  state.changedAt = now;
  state.badSamples = 0;
  state.badSince = null;
  return level;
}

/** Returns the quality of a link from loss (0–1) and round-trip time (seconds) alone, for the publisher's own link. */
export function rateLink(loss, rtt) {
  if ((loss ?? 0) >= POLICY.badLoss || (rtt ?? 0) >= 0.5) return 'poor';
  if ((loss ?? 0) >= 0.03 || (rtt ?? 0) >= 0.25) return 'fair';
  return 'good';
}
