/**
 * Launches Debian's Chromium with playwright-core inside a network namespace
 * of the media rig (test/support/netns.ts).
 *
 * Playwright spawns the browser itself, so its executable is a wrapper script
 * (scripts/netns/chromium-in-netns.sh) that runs
 * `ip netns exec $HOP_BROWSER_NETNS /usr/bin/chromium`. Playwright talks to
 * Chromium over a pipe (--remote-debugging-pipe), which works across
 * namespaces, and gives each launch a fresh temporary --user-data-dir.
 */
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './netns.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const wrapperPath = join(repoRoot, 'scripts/netns/chromium-in-netns.sh');

/**
 * Chromium flags for media tests: fake camera and microphone (a test pattern
 * and a tone) accepted without a prompt, no QUIC, no background traffic to
 * Google services, and real IP host candidates instead of mDNS names (Janus
 * in the other namespace cannot resolve mDNS).
 */
export const CHROMIUM_MEDIA_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Returns why Chromium cannot run here, or undefined when it can. */
export async function browserUnavailableReason(): Promise<string | undefined> {
  try {
    await access(CHROMIUM_PATH, fsConstants.X_OK);
  } catch {
    return `${CHROMIUM_PATH} not found (apt-get install chromium)`;
  }
  return undefined;
}

export interface LaunchOptions {
  /** Extra Chromium flags. */
  args?: string[];
  /** Launch timeout in milliseconds. Default 60000. */
  timeoutMs?: number;
}

/** Launches a headless Chromium whose network is the namespace `netns`. */
export async function launchBrowserInNetns(netns: string, options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: wrapperPath,
    headless: true,
    args: [...CHROMIUM_MEDIA_FLAGS, ...(options.args ?? [])],
    env: { ...process.env, HOP_BROWSER_NETNS: netns, HOP_CHROMIUM: CHROMIUM_PATH },
    timeout: options.timeoutMs ?? 60_000,
  });
}
