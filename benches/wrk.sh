#!/usr/bin/env bash
# Sustained load on the API with wrk (Debian's package): 2 threads, 16
# connections, DURATION seconds (default 10) each, against `gencost serve`
# on a new SQLite ledger:
#  1. writes: POST /api/v1/entries, every request a new generation;
#  2. reads: GET /api/v1/totals?by=project on the ledger the writes left;
# latency percentiles from wrk's own report, RUNS times (default 3).
#
#   benches/wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-wrk-bench}
mkdir -p "$DIR"
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bin gencost
G=$PWD/target/release/gencost

# Each request a generation of its own (a counter per thread in the body).
cat > "$DIR/post.lua" <<'LUA'
-- Each thread gets its own number (wrk seeds every thread's random
-- generator alike), so no two requests share a request id.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  n = 0
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format(
    '{"model":"fal-ai/flux/dev","request_id":"wrk-%d-%d","project":"Summer Spot","cost":{"amount":"0.025","currency":"USD"}}',
    id, n)
  return wrk.format(nil, "/api/v1/entries", nil, body)
end
LUA

for run in $(seq "$RUNS"); do
    rm -f "$DIR/ledger.db"*
    "$G" --database "$DIR/ledger.db" serve --addr 127.0.0.1:0 > "$DIR/serve.out" 2> "$DIR/serve.err" &
    PID=$!
    for _ in $(seq 100); do [ -s "$DIR/serve.out" ] && break; sleep 0.1; done
    URL=$(head -1 "$DIR/serve.out" | awk '{print $3}')
    echo "== run $run: writes"
    wrk -t2 -c16 -d"${DURATION}s" --latency -s "$DIR/post.lua" "$URL" |
        grep -E "Requests/sec|requests in|Non-2xx|Socket errors|50%|90%|99%"
    echo "== run $run: reads (totals by project)"
    wrk -t2 -c16 -d"${DURATION}s" --latency "$URL/api/v1/totals?by=project" |
        grep -E "Requests/sec|requests in|Non-2xx|Socket errors|50%|90%|99%"
    kill "$PID"; wait "$PID" 2>/dev/null || true
    "$G" --database "$DIR/ledger.db" verify > /dev/null && echo "verify: ok ($("$G" --database "$DIR/ledger.db" total --json | grep -o '"count": [0-9]*'))"
done
