#!/usr/bin/env bash
# Budget benchmark, on a ledger of ENTRIES (default 1000000) entries seeded
# by the `seed` example:
#  1. What budgets add to a log: `gencost serve` on a copy of the ledger
#     with no budget, then on one with 20 (a hard one and 19 that alert,
#     four of them counting the logged client), LOGS (default 300) logs
#     each, one at a time, alternating a finished run and a pending one
#     (a hold, checked against the hard budget). The baseline is the same
#     binary on the same ledger without budgets. Both in this script, one
#     after the other, ROUNDS (default 3) times alternating.
#  2. `budget show` on the ledger with 20 budgets: the whole process,
#     median of 20 runs, beside `total` (baseline); and
#     GET /api/v1/budgets/NAME and GET /api/v1/budgets, 20 runs each.
#
#   benches/budget.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

ENTRIES=${ENTRIES:-1000000}
LOGS=${LOGS:-300}
ROUNDS=${ROUNDS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-budget-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed --example load
G=$PWD/target/release/gencost
LOAD=$PWD/target/release/examples/load
export GENCOST_CONFIG_DIR=$DIR/config GENCOST_DATA_DIR=$DIR GENCOST_RATE_UPDATES=0

start() {
    "$G" --database "sqlite://$1" serve --addr 127.0.0.1:0 > "$DIR/serve.out" 2> "$DIR/serve.err" &
    PID=$!
    for _ in $(seq 100); do [ -s "$DIR/serve.out" ] && break; sleep 0.1; done
    URL=$(head -1 "$DIR/serve.out" | awk '{print $3}')
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ENTRIES entries"
if [ ! -f "$DIR/seeded-$ENTRIES.db" ]; then
    seeded_copy "$ENTRIES" "$DIR/seeded-$ENTRIES.db"
fi
cp "$DIR/seeded-$ENTRIES.db" "$DIR/none.db"
cp "$DIR/seeded-$ENTRIES.db" "$DIR/twenty.db"
B="$G --database sqlite://$DIR/twenty.db"
# Counting the logged client over the seeded year: a hard one, one in
# euros (every day's sums converted), one of a project, one of a model.
$B budget set "Bench hard" --amount 100000000 --currency USD --client "Acme Beverages" --resets year --hard > /dev/null 2>&1
$B budget set "Bench EUR" --amount 90000000 --currency EUR --client "Acme Beverages" --resets never --from 2020-01-01 > /dev/null 2>&1
$B budget set "Bench project" --amount 500000 --currency USD --client "Acme Beverages" --project "Project 3" > /dev/null 2>&1
$B budget set "Bench flux" --amount 50000000 --currency USD --model fal-ai/flux/dev --resets year > /dev/null 2>&1
for i in $(seq 1 16); do
    $B budget set "Other $i" --amount 1000 --currency USD --client "Other client $i" --resets quarter > /dev/null 2>&1
done
echo "budgets: $($B budget list | wc -l)"

for round in $(seq "$ROUNDS"); do
    for ledger in none twenty; do
        start "$DIR/$ledger.db"
        printf 'round %s, %-7s ' "$round" "$ledger:"
        "$LOAD" --url "$URL" --log-timing "Acme Beverages" --runs "$LOGS"
        kill "$PID"; wait "$PID" 2>/dev/null || true
    done
done

# millis COMMAND...: the whole process 20 times; the median in ms.
millis() {
    for _ in $(seq 20); do
        local start end
        start=$(date +%s%N)
        "$@" > /dev/null
        end=$(date +%s%N)
        echo $(( (end - start) / 1000 ))
    done | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms (min %.1f, max %.1f)", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
}
echo "total (baseline, whole process, 20 runs): $(millis $B total)"
echo "budget show 'Bench EUR' (a year of days converted, whole process, 20 runs): $(millis $B budget show "Bench EUR")"
echo "budget show 'Bench hard' (whole process, 20 runs): $(millis $B budget show "Bench hard")"
start "$DIR/twenty.db"
"$LOAD" --url "$URL" --get "/api/v1/budgets/Bench%20EUR" --runs 20
"$LOAD" --url "$URL" --get "/api/v1/budgets" --runs 20
kill "$PID"; wait "$PID" 2>/dev/null || true
$B verify
