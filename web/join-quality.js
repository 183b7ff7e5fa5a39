// Link quality and the choice of simulcast layer for each subscription.
//
// Janus forwards one simulcast layer (substream) and a number of temporal
// layers to each subscriber, and leaves the choice to the application. The
// join page keeps one estimate of its link's download capacity, in kbit/s.
// Two kinds of measurement set it. A probe (web/link-probe.js) is a short
// download from the gateway, before joining and whenever a higher level might
// fit. The other is the rate the subscriptions received while congestion
// made them step down. Each subscription is capped at the highest level whose
// bitrate (the room's layer cap plus audio, plus headroom) fits its share of
// that estimate, so audio always keeps room. Below the cap the page moves one
// level down when a subscription's statistics turn bad, and back up after a
// good hold. The lowest level pauses the video of that feed. The module has
// no DOM code, so node:test runs it too (web/join-quality.test.ts).

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

  /**
   * Share of the link kept free on top of a level's bitrate before the page
   * moves up to that level: the level needs (video + audio) × (1 + headroom).
   */
  headroom: 0.25,
  /**
   * Smaller headroom a level may keep before the estimate moves the
   * subscription down, so that an estimate close to a threshold does not
   * flip the level at every measurement.
   */
  keepHeadroom: 0.1,
  /**
   * Audio of one subscription on the link, in kbit/s: Opus with RTP, SRTP,
   * UDP and IPv4 headers. Chromium 156 received about 49 kbit/s in the media rig.
   */
  audioKbps: 50,
  /**
   * Share of the low layer's bitrate that its temporal base layer (level
   * low-t0) takes. Chromium 156's fake camera sent about half of it.
   */
  baseTemporalShare: 0.5,
  /**
   * Share of a subscription's usual rate on its level below which the link,
   * not the sender, limits what arrives. Only such a step down measures the
   * link: 10 % random loss, a queue on the uplink or a paused video keep the
   * rate above it.
   */
  limitedShare: 0.7,
  /**
   * Minimum time between probes while the video is on, in milliseconds. A
   * probe lasts about a second, so a link that recovers is measured within
   * about 9 s. The subscription then moves straight to the level it allows.
   */
  probeIntervalMs: 8000,
  /**
   * Minimum time between probes while the estimate keeps the video paused,
   * in milliseconds. A probe fills the link for about a second, which costs
   * audio on the weakest links.
   */
  pausedProbeIntervalMs: 30_000,
  /**
   * Time after a probe during which the statistics still show its load, in
   * milliseconds: freezes and round-trip times arrive a round or two late.
   */
  probeSettleMs: 4000,
};

const isKbps = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * Returns the bitrate a subscription on `level` needs on the link, in kbit/s:
 * its video from the room's layer caps (`layers` in bit/s, as the join
 * details carry them) plus its audio.
 */
export function levelKbps(level, layers) {
  const video = {
    [LEVEL.off]: 0,
    [LEVEL.lowT0]: layers.low * POLICY.baseTemporalShare,
    [LEVEL.low]: layers.low,
    [LEVEL.medium]: layers.medium,
    [LEVEL.high]: layers.high,
  }[level];
  return video / 1000 + POLICY.audioKbps;
}

/**
 * Returns the highest level whose bitrate, with `headroom` on top, fits one
 * subscription's share of a link of `linkKbps`, which `feeds` subscriptions
 * share equally. It returns `off` when even the lowest video level does not
 * fit, and `high` when the link is not measured.
 */
export function fittingLevel(linkKbps, layers, feeds = 1, headroom = POLICY.headroom) {
  if (!isKbps(linkKbps)) return LEVEL.high;
  const share = linkKbps / Math.max(1, feeds);
  for (let level = LEVEL.high; level > LEVEL.off; level--) {
    if (levelKbps(level, layers) * (1 + headroom) <= share) return level;
  }
  return LEVEL.off;
}

/**
 * Returns the level a new subscription starts on: the fitting level of the
 * measured link, or low when nothing is measured, so that the first seconds
 * cost little while the statistics show what the link carries.
 */
export function initialLevel(linkKbps, layers, feeds = 1) {
  return isKbps(linkKbps) ? fittingLevel(linkKbps, layers, feeds) : LEVEL.low;
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
    /** Rate received in good rounds on `usual.level`, kbit/s (a moving average), or null. */
    usual: null,
  };
}

/**
 * Creates the page's estimate of its link's download capacity. `kbps` is a
 * measurement taken before joining, or null when there is none.
 */
export function createLinkEstimate(kbps, now) {
  const measured = isKbps(kbps);
  return {
    /** Download capacity in kbit/s, or null before the first measurement. */
    kbps: measured ? kbps : null,
    /** What set `kbps` last: probe, congestion or received. */
    source: measured ? 'probe' : null,
    /** When a probe last measured the link (ms), or -Infinity. */
    probedAt: measured ? now : -Infinity,
    /** When the last probe started and ended, successful or not (ms). */
    probeStartedAt: measured ? now : -Infinity,
    probeEndedAt: -Infinity,
    probing: false,
    /** What every subscription received together in the last round, kbit/s. */
    lastRound: { receivedKbps: 0 },
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
 * `limit` is what the link estimate allows: `level`, the highest level that
 * fits, and `keepLevel`, the highest the subscription may stay on (see
 * POLICY.keepHeadroom), and `probedAt`, when a probe last measured the link.
 * With `limit.duringProbe` a poor sample neither counts as bad nor steps
 * down, because the probe filled the link on purpose.
 */
export function nextLevel(state, sample, now, limit = { level: LEVEL.high, keepLevel: LEVEL.high, probedAt: -Infinity }) {
  const quality = rateSample(state, sample);
  state.quality = quality;
  const severe = (sample.loss ?? 0) >= POLICY.severeLoss;

  if (quality === 'poor' && !limit.duringProbe) {
    state.badSamples += 1;
    state.badSince ??= now;
  } else if (quality !== 'poor') {
    state.badSamples = 0;
    state.badSince = null;
  }

  // The estimate fell below what this level needs.
  if (state.level > limit.keepLevel) return moveTo(state, limit.keepLevel, now);

  // Step down.
  if (quality === 'poor' && !limit.duringProbe && (severe || state.badSamples >= POLICY.badSamplesToStepDown)) {
    if (state.level > LEVEL.lowT0) return moveTo(state, state.level - 1, now);
    // The lowest video level does not hold either: pause the video, keep the audio.
    if (state.level === LEVEL.lowT0 && now - state.badSince >= POLICY.pauseVideoAfterMs) return moveTo(state, LEVEL.off, now);
    return state.level;
  }

  // Step up after a good hold. A probe taken since the last change measured
  // the link as it is now, so the subscription moves straight to the level
  // it allows. Without such a probe it moves one level at a time.
  const ceiling = Math.min(state.maxLevel, limit.level);
  const hold = state.level < LEVEL.low ? POLICY.cheapUpHoldMs : state.upHoldMs;
  if (quality === 'good' && state.level < ceiling && now - state.changedAt >= hold) {
    return moveTo(state, limit.probedAt > state.changedAt ? ceiling : state.level + 1, now);
  }
  // A level that held long after its try up resets the hold.
  if (quality === 'good' && now - state.changedAt >= 30_000) state.upHoldMs = POLICY.upHoldMs;
  return state.level;
}

/**
 * Returns the rate a subscription usually receives on its level, in kbit/s:
 * the average of its good rounds there, or the level's bitrate before any.
 */
function usualKbps(state, layers) {
  return state.usual?.level === state.level ? state.usual.kbps : levelKbps(state.level, layers);
}

/** Adds a good round's received rate to the subscription's usual rate on its level. */
function noteUsualKbps(state, receivedKbps) {
  if (state.usual?.level !== state.level) state.usual = { level: state.level, kbps: receivedKbps };
  else state.usual.kbps = 0.7 * state.usual.kbps + 0.3 * receivedKbps;
}

/** Returns what the link estimate allows a subscription, as `nextLevel` takes it. */
export function linkLimit(link, layers, feeds) {
  return {
    level: fittingLevel(link.kbps, layers, feeds, POLICY.headroom),
    keepLevel: fittingLevel(link.kbps, layers, feeds, POLICY.keepHeadroom),
    probedAt: link.probedAt,
  };
}

/**
 * Runs one sampling round over every subscription of the page and returns
 * the level each should be on, in the order given, and whether a probe of
 * the link is due. `subscriptions` is a list of { state, sample }, where
 * `sample.receivedKbps` is what that subscription received since the last
 * round (audio and video with packet headers), or null when unknown.
 *
 * When congestion makes a subscription step down while it received well
 * below its usual rate (POLICY.limitedShare), the link carried no more than
 * what the subscriptions received in that round, so the estimate falls to
 * that rate. The round before it may straddle the moment the link got
 * slower, so it does not count. Rounds in which nothing arrived are no
 * measurement (the link is cut, not slow). A round without congestion raises
 * the estimate to the received rate when that is higher.
 */
export function planRound(link, subscriptions, layers, now) {
  const feeds = subscriptions.length;
  // A round that overlaps a probe or its aftermath measures the probe's load, not the link.
  const duringProbe = link.probing || now - link.probeEndedAt < POLICY.probeSettleMs;
  const limit = { ...linkLimit(link, layers, feeds), duringProbe };
  let congested = false;
  for (const { state, sample } of subscriptions) {
    const before = state.level;
    const usual = usualKbps(state, layers);
    nextLevel(state, sample, now, limit);
    const received = isKbps(sample.receivedKbps) ? sample.receivedKbps : null;
    if (duringProbe || received === null) continue;
    if (state.level < before && state.quality === 'poor' && received < POLICY.limitedShare * usual) congested = true;
    if (state.level === before && state.quality === 'good') noteUsualKbps(state, received);
  }

  const receivedKbps = subscriptions.reduce((sum, { sample }) => sum + (isKbps(sample.receivedKbps) ? sample.receivedKbps : 0), 0);
  link.lastRound = { receivedKbps };
  if (congested && receivedKbps > 0) {
    if (link.kbps === null || receivedKbps < link.kbps) {
      link.kbps = receivedKbps;
      link.source = 'congestion';
      const lowered = linkLimit(link, layers, feeds);
      for (const { state } of subscriptions) if (state.level > lowered.keepLevel) moveTo(state, lowered.keepLevel, now);
    }
  } else if (!congested && link.kbps !== null && receivedKbps > link.kbps) {
    link.kbps = receivedKbps;
    link.source = 'received';
  }

  return { levels: subscriptions.map(({ state }) => state.level), probe: probeDue(link, subscriptions, layers, now) };
}

/**
 * Returns whether the page should probe the link now. A probe is due when
 * some subscription has held good on the highest level the estimate allows,
 * a higher level exists for it, and the last probe is old enough
 * (POLICY.probeIntervalMs, or pausedProbeIntervalMs while the estimate keeps
 * the video paused). Without an estimate the statistics alone move the
 * levels, so no probe is due.
 */
export function probeDue(link, subscriptions, layers, now) {
  if (link.probing || link.kbps === null) return false;
  const cap = fittingLevel(link.kbps, layers, subscriptions.length);
  const interval = cap === LEVEL.off ? POLICY.pausedProbeIntervalMs : POLICY.probeIntervalMs;
  if (now - link.probeStartedAt < interval) return false;
  return subscriptions.some(
    ({ state }) => state.level >= cap && state.level < state.maxLevel && state.quality === 'good' && now - state.changedAt >= POLICY.upHoldMs,
  );
}

/** Marks a probe as started at `now`. */
export function startProbe(link, now) {
  link.probing = true;
  link.probeStartedAt = now;
}

/**
 * Records a probe's result: `probeKbps`, the download throughput the probe
 * measured (null when it failed), competed with the media the subscriptions
 * received during the probe (`mediaKbps`), so the link carries about both.
 */
export function finishProbe(link, probeKbps, mediaKbps, now) {
  link.probing = false;
  link.probeEndedAt = now;
  if (!isKbps(probeKbps)) return;
  link.kbps = probeKbps + (isKbps(mediaKbps) ? mediaKbps : 0);
  link.source = 'probe';
  link.probedAt = now;
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
