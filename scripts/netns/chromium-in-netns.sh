#!/usr/bin/env bash
# Runs Debian's Chromium inside the network namespace named by
# HOP_BROWSER_NETNS. test/support/browser.ts passes this script to Playwright
# as the browser executable. Playwright's pipe to Chromium (file descriptors 3
# and 4) survives `ip netns exec`, which execs the command in place.
set -euo pipefail
if [ -z "${HOP_BROWSER_NETNS:-}" ]; then
  echo "chromium-in-netns.sh: HOP_BROWSER_NETNS is not set" >&2
  exit 2
fi
exec ip netns exec "$HOP_BROWSER_NETNS" "${HOP_CHROMIUM:-/usr/bin/chromium}" "$@"
