#!/usr/bin/env bash
# Ledger benchmarks of this tree against another build, alternating in one
# script so that both see the same machine: seeding 1,000,000 entries (each
# from no file), `total --by project|model|deliverable`, `list --limit 14`,
# totals and a listing filtered by client and project, and `verify`.
# Prints each run, then the median of each side and the ratio new/base.
#
#   git worktree add /tmp/base <commit> && (cd /tmp/base && cargo build --release --bin gencost --example seed)
#   BASE=/tmp/base/target/release benches/compare.sh
#
# ENTRIES (default 1000000), RUNS (default 3), BENCH_DIR (default /tmp/gencost-compare),
# SKIP_SEED=1 to time the reads again on the ledgers of an earlier run,
# IMPORT_ROWS (default 300000; 0 skips it) for `gencost import` of a generic
# CSV of that many rows (benches/costs.awk) into a new ledger,
# ONLY_IMPORT=1 to time nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${BASE:?set BASE to the target/release directory of the build to compare against}
ENTRIES=${ENTRIES:-1000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-compare}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
NEW=${CARGO_TARGET_DIR:-target}/release

# time_run FILE COMMAND...: appends "seconds peak_kb" of one whole process.
time_run() {
    local file=$1
    shift
    /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null
    cat "$DIR/time" >> "$file"
}

median() { cut -d' ' -f1 "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { cut -d' ' -f2 "$1" | sort -n | tail -1; }

# compare LABEL RUNS COMMAND-WITH-{bin}-AND-{db}...
compare() {
    local label=$1 runs=$2
    shift 2
    : > "$DIR/base.runs"
    : > "$DIR/new.runs"
    for _ in $(seq "$runs"); do
        for side in base new; do
            local bin=$BASE db=$DIR/base.db
            if [ "$side" = new ]; then bin=$NEW; db=$DIR/new.db; fi
            local args=()
            for a in "$@"; do a=${a//\{bin\}/$bin}; args+=("${a//\{db\}/$db}"); done
            time_run "$DIR/$side.runs" "${args[@]}" 2> /dev/null
        done
    done
    local b n
    b=$(median "$DIR/base.runs")
    n=$(median "$DIR/new.runs")
    local ratio=n/a
    if [ "$(echo "$b > 0" | bc -l)" = 1 ]; then ratio=$(printf '%.2f' "$(echo "$n / $b" | bc -l)"); fi
    printf '%-34s base %7.3f s  new %7.3f s  new/base %5s   peak base %5.0f MB new %5.0f MB  (%s runs each: base %s; new %s)\n' \
        "$label" "$b" "$n" "$ratio" \
        "$(echo "$(peak "$DIR/base.runs") / 1024" | bc -l)" "$(echo "$(peak "$DIR/new.runs") / 1024" | bc -l)" \
        "$runs" "$(cut -d' ' -f1 "$DIR/base.runs" | paste -sd' ')" "$(cut -d' ' -f1 "$DIR/new.runs" | paste -sd' ')"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ENTRIES entries; base $BASE"
IMPORT_ROWS=${IMPORT_ROWS:-300000}
if [ "$IMPORT_ROWS" -gt 0 ]; then
    awk -v rows="$IMPORT_ROWS" -f benches/costs.awk > "$DIR/costs.csv"
    compare "import $IMPORT_ROWS rows" "$RUNS" bash -c \
        'rm -f "$0.import" "$0.import-wal" "$0.import-shm"; exec "$1/gencost" --database "sqlite://$0.import" import "$2"' "{db}" "{bin}" "$DIR/costs.csv"
fi
if [ -n "${ONLY_IMPORT:-}" ]; then exit 0; fi
# SKIP_SEED=1 reuses the ledgers an earlier run seeded.
if [ -z "${SKIP_SEED:-}" ]; then
    compare "seed $ENTRIES entries" "$RUNS" bash -c \
        'rm -f "$0" "$0-wal" "$0-shm"; exec "$1/examples/seed" --entries "$2" --database "sqlite://$0"' "{db}" "{bin}" "$ENTRIES"
fi
"$BASE/gencost" --database "sqlite://$DIR/base.db" total > /dev/null   # warm the page cache
"$NEW/gencost" --database "sqlite://$DIR/new.db" total > /dev/null
for by in project model deliverable; do
    compare "total --by $by --json" $((RUNS * 2 + 1)) "{bin}/gencost" --database "sqlite://{db}" total --by "$by" --json
done
compare "list --limit 14 --json" $((RUNS * 2 + 1)) "{bin}/gencost" --database "sqlite://{db}" list --limit 14 --json
# Filters by client and project read the entries (two tags, or a bound
# inside a day), and one tag the rollups; names in another case.
compare "total --client --project" $((RUNS * 2 + 1)) "{bin}/gencost" --database "sqlite://{db}" \
    total --client "northwind studios" --project "SPRING CAMPAIGN" --json
compare "total --client (rollups)" $((RUNS * 2 + 1)) "{bin}/gencost" --database "sqlite://{db}" \
    total --client "northwind studios" --by month --json
compare "total --project --since T" $((RUNS * 2 + 1)) "{bin}/gencost" --database "sqlite://{db}" \
    total --project "brand refresh" --since 2000-01-01T00:00:01Z --json
compare "list --client --project" $((RUNS * 2 + 1)) "{bin}/gencost" --database "sqlite://{db}" \
    list --client "northwind studios" --project "spring campaign" --limit 14 --json
compare "verify" "$RUNS" "{bin}/gencost" --database "sqlite://{db}" verify
