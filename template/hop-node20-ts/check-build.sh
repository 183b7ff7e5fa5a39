#!/usr/bin/env bash
# Checks the template's build steps without Docker or faas-cli:
#   template/hop-node20-ts/check-build.sh FUNCTION [WORK_DIR]
# The script assembles the build context the way faas-cli does: template files
# at the root, and the function folder and the `configuration.copy` paths
# under function/. It replays the Dockerfile's build-stage commands in
# WORK_DIR/build, using the repository's node_modules in place of `npm ci`,
# and compiles with tsconfig.build.json. Then it starts the compiled runner
# with template.yml's fprocess and calls GET /_/health on it.
#
# The runner needs a database URL at start-up: DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/postgres. Not covered: the Docker
# stages themselves, npm ci, of-watchdog and the non-root user.
set -euo pipefail

FUNCTION="${1:?usage: $0 FUNCTION [WORK_DIR]}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${2:-$(mktemp -d)}"
PORT="${CHECK_PORT:-13000}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

[ -d "$REPO/functions/$FUNCTION" ] || { echo "check-build: no folder functions/$FUNCTION" >&2; exit 1; }

# 1. The build context, as faas-cli's CreateBuildContext assembles it.
context="$WORK/context"
rm -rf "$context"
mkdir -p "$context/function"
cp -R "$REPO/template/hop-node20-ts/." "$context/"
cp -R "$REPO/functions/$FUNCTION/." "$context/function/"
for extra in lib package.json package-lock.json tsconfig.json; do
  cp -R "$REPO/$extra" "$context/function/$extra"
done
# .dockerignore excludes these from the Docker build.
find "$context" -name '*.test.ts' -delete
rm -rf "$context/runner/fixtures" "$context/check-build.sh"

# 2. The Dockerfile's build stage, with /build replaced by $WORK/build.
build="$WORK/build"
rm -rf "$build"
mkdir -p "$build/functions/handler" "$build/template/hop-node20-ts"
cp "$context/function/package.json" "$context/function/package-lock.json" "$build/"
ln -s "$REPO/node_modules" "$build/node_modules"
cp "$context/function/tsconfig.json" "$build/"
cp -R "$context/function/lib" "$build/lib"
cp -R "$context/function/." "$build/functions/handler/"
rm -rf "$build/functions/handler/lib" "$build/functions/handler/node_modules" \
  "$build/functions/handler/package.json" "$build/functions/handler/package-lock.json" "$build/functions/handler/tsconfig.json"
cp -R "$context/runner" "$build/template/hop-node20-ts/runner"
cp "$context/tsconfig.build.json" "$build/"

(cd "$build" && "$REPO/node_modules/.bin/tsc" -p tsconfig.build.json)
test -f "$build/dist/functions/handler/handler.js"
test -f "$build/dist/template/hop-node20-ts/runner/index.js"
echo "check-build: compiled $FUNCTION in $build/dist" >&2

# 3. The fprocess of template.yml, run from the build folder.
(
  cd "$build"
  HOP_HANDLER_PATH="$build/dist/functions/handler/handler.js" http_port="$PORT" HOP_FUNCTION_NAME="$FUNCTION" \
    exec node --enable-source-maps dist/template/hop-node20-ts/runner/index.js
) >"$WORK/runner.log" 2>&1 &
runner_pid=$!
trap 'kill "$runner_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 50); do
  if curl -fsS "http://127.0.0.1:$PORT/_/health" >/dev/null 2>&1; then
    echo "check-build: the compiled runner responds to GET /_/health on 127.0.0.1:$PORT" >&2
    exit 0
  fi
  if ! kill -0 "$runner_pid" 2>/dev/null; then break; fi
  sleep 0.2
done
cat "$WORK/runner.log" >&2
echo "check-build: the compiled runner did not respond to GET /_/health; its log is above" >&2
exit 1
