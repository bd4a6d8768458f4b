#!/usr/bin/env bash
# Compares two commits of Sluice in one run: both gateways up at once against the same bench mock, autocannon
# (its own process) alternating between them, gateway CPU per request from /proc.
#   bench/compare.sh <old-rev> [new-rev|WORKTREE] [stream:true|false] [rounds] [seconds] [config:minimal|full]
# The config file of the new side is used for both (so both run the same plugins); the first round is JIT warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1; NEW=${2:-WORKTREE}; STREAM=${3:-false}; ROUNDS=${4:-4}; SECS=${5:-5}; CONFIG=${6:-minimal}
TMP=$(mktemp -d)
KEY=sk-bench-compare-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cleanup() { kill $(jobs -p) 2>/dev/null || true; git worktree remove --force "$TMP/old" 2>/dev/null || true; [ "$NEW" = WORKTREE ] || git worktree remove --force "$TMP/new" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
tree() { git worktree add -q "$TMP/$1" "$2"; ln -s "$PWD/node_modules" "$TMP/$1/node_modules"; cp "bench/configs/$CONFIG.config.ts" "$TMP/$1/bench/configs/$CONFIG.config.ts"; echo "$TMP/$1"; }
OLD_DIR=$(tree old "$OLD"); NEW_DIR=$PWD; [ "$NEW" = WORKTREE ] || NEW_DIR=$(tree new "$NEW")
node --import jiti/register bench/mock-upstream.ts 19310 > /dev/null 2>&1 &
sleep 1
start() {
  mkdir -p "$TMP/scratch-$2"
  (cd "$1" && BENCH_UPSTREAM_URL=http://127.0.0.1:19310/v1 BENCH_KEY=$KEY BENCH_SCRATCH="$TMP/scratch-$2" NODE_ENV=production \
    exec node bin/sluice.mjs start --config "bench/configs/$CONFIG.config.ts" --port "$2" > /dev/null 2>&1) &
}
start "$OLD_DIR" 19311; start "$NEW_DIR" 19312
# Wait until both answer (start-up takes seconds on a loaded machine).
for port in 19311 19312; do
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.5; done
done
cpu() { awk '{print $14+$15}' /proc/"$(pgrep -f "port $1")"/stat; }
BODY="{\"model\":\"mock/bench\",\"stream\":$STREAM,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"
TICK=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  for side in old:19311 new:19312; do
    name=${side%%:*}; port=${side##*:}
    before=$(cpu "$port")
    reqs=$(node node_modules/autocannon/autocannon.js -c 32 -d "$SECS" -m POST -H content-type=application/json -H "authorization=Bearer $KEY" -b "$BODY" --json "http://127.0.0.1:$port/v1/chat/completions" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.requests.total, Math.round(j.requests.average), j.non2xx + j.errors)})')
    after=$(cpu "$port")
    set -- $reqs
    echo "round $round $name: $2 req/s, $(( (after - before) * 1000000 / TICK / $1 )) µs CPU/req, $3 errors"
  done
done
