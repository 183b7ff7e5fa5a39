#!/usr/bin/env bash
# Runs the node:test suites (every *.test.ts outside node_modules) under tsx.
# Pass file paths to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find lib functions gateway template test scripts web -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
export NODE_ENV="${NODE_ENV:-test}"
export LOG_LEVEL="${LOG_LEVEL:-error}"
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-1}" --test-reporter=spec "${files[@]}"
