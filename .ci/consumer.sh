#!/usr/bin/env bash
# The consumer check: a new user's project installs the packed tarballs (.ci/packs/*.tgz) with plain npm,
# type-checks against the published declarations (strict, skipLibCheck false) on TypeScript 6 and on
# TypeScript 7, then runs one small pipeline with every plugin on. Run by .ci/run after packing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE="$ROOT/node_modules/node/bin/node"
[ -x "$NODE" ] || NODE=node
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tapline-consumer.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -r .ci/consumer/. "$WORK/"
cd "$WORK"
tarballs=()
for tgz in "$ROOT"/.ci/packs/tapline-*.tgz; do
  case "$tgz" in *tapline-cli-*) ;; *) tarballs+=("$tgz") ;; esac
done
[ "${#tarballs[@]}" -ge 6 ] || { echo "consumer: expected the packed tarballs in .ci/packs (run the pack step first)" >&2; exit 1; }
npm_flags=(--no-audit --no-fund --loglevel=error)
npm i "${npm_flags[@]}" "${tarballs[@]}" >/dev/null
npm i "${npm_flags[@]}" -D typescript@6.0.3 @types/node@22.20.5 >/dev/null
echo "-- tsc $(npx tsc --version) (strict, skipLibCheck false)"
npx tsc -p tsconfig.json
mkdir -p ts7 && (cd ts7 && echo '{"private":true}' > package.json && npm i "${npm_flags[@]}" typescript@7.0.2 >/dev/null)
echo "-- tsc $(ts7/node_modules/.bin/tsc --version) (strict, skipLibCheck false)"
ts7/node_modules/.bin/tsc -p tsconfig.json
echo "-- run the podcast pipeline with every plugin (node $("$NODE" --version))"
out=$("$NODE" --no-warnings src/podcast.ts)
echo "$out"
echo "$out" | grep -q '"status":"success"'
