#!/usr/bin/env bash
# The API while a heavy page renders: `gencost serve` on a ledger of
# ENTRIES seeded entries answers CALLS `GET /api/v1/totals` one after
# another, first with nothing else running (the baseline, same server, same
# script), then while REPORTS requests for `GET /api/v1/report.html` of the
# whole ledger (default 3, as a page with three <img> tags would send) are
# made or refused.
# Prints p50, p99 and max of each, in milliseconds. With BASE set to another
# build's target/release, the same for that build after this one.
#
#   benches/heavy.sh                 # ENTRIES (default 1000000), CALLS (default 50),
#                                    # BENCH_DIR (default /tmp/gencost-heavy; the seeded ledger is reused)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

ENTRIES=${ENTRIES:-1000000}
CALLS=${CALLS:-50}
REPORTS=${REPORTS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-heavy}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
if [ ! -f "$DIR/ledger-$ENTRIES.db" ]; then
    seeded_copy "$ENTRIES" "$DIR/ledger-$ENTRIES.db"
fi
# Another build seeds its own ledger (its schema may be older).
if [ -n "${BASE:-}" ] && [ ! -f "$DIR/base-ledger-$ENTRIES.db" ]; then
    "$BASE/examples/seed" --entries "$ENTRIES" --database "sqlite://$DIR/base-ledger-$ENTRIES.db" > /dev/null
fi

# percentiles FILE: p50, p99 and max of the milliseconds in FILE.
percentiles() {
    sort -n "$1" | awk '{a[NR]=$1} END {
        p50=a[int((NR+1)/2)]; i=int(NR*0.99+0.999); if (i>NR) i=NR;
        printf "p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d calls)", p50, a[i], a[NR], NR }'
}

# calls URL FILE: CALLS sequential GETs of URL, each one's time in ms.
calls() {
    : > "$2"
    for _ in $(seq "$CALLS"); do
        curl -s -o /dev/null -w '%{time_total}\n' "$1" | awk '{printf "%.1f\n", $1*1000}' >> "$2"
    done
}

# run LABEL BIN LEDGER: one server of BIN on a copy of LEDGER.
run() {
    local label=$1 bin=$2 db="$DIR/run.db"
    cp "$3" "$db"
    rm -f "$db-wal" "$db-shm"
    "$bin" --database "sqlite://$db" serve --addr 127.0.0.1:0 > "$DIR/serve.out" 2> /dev/null &
    local server=$!
    for _ in $(seq 100); do grep -q serving "$DIR/serve.out" 2> /dev/null && break; sleep 0.1; done
    local url
    url=$(sed -n 's/^gencost serving //p' "$DIR/serve.out")
    curl -s -o /dev/null "$url/api/v1/totals"   # warm the page cache
    calls "$url/api/v1/totals" "$DIR/alone"
    : > "$DIR/report"
    local reports=()
    for _ in $(seq "$REPORTS"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$url/api/v1/report.html" >> "$DIR/report" &
        reports+=($!)
    done
    sleep 0.5
    calls "$url/api/v1/totals" "$DIR/during"
    wait "${reports[@]}"
    printf '%-8s totals alone:            %s\n' "$label" "$(percentiles "$DIR/alone")"
    printf '%-8s totals during %s reports: %s  (reports: %s)\n' "$label" "$REPORTS" \
        "$(percentiles "$DIR/during")" "$(sort "$DIR/report" | awk '{printf "%s in %.1f s; ", $1, $2}')"
    kill "$server"
    wait "$server" 2> /dev/null || true
}

echo "machine: $(nproc) cores; $ENTRIES entries; $CALLS calls each"
run new target/release/gencost "$DIR/ledger-$ENTRIES.db"
if [ -n "${BASE:-}" ]; then
    run base "$BASE/gencost" "$DIR/base-ledger-$ENTRIES.db"
fi
