#!/usr/bin/env bash
# The closest existing tool for CSV-to-ledger work, side by side in one
# script: the same external-cost CSV of ROWS rows (default 100000; hledger
# needs minutes and gigabytes at a million) imported and then totalled by
# project, by
#   - gencost: `import FILE` into a new ledger, then `total --by project`;
#   - hledger (Debian's package): reading the CSV through a rules file and
#     printing `balance` by project (`hledger -f costs.csv bal`);
#   - the sqlite3 shell: `.import` into a table, then the same GROUP BY.
# Median of RUNS runs (default 3) with peak memory, and the ratios.
#
#   benches/hledger.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-100000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-hledger-bench}
mkdir -p "$DIR"
command -v hledger > /dev/null || { echo "hledger is not installed (apt-get install hledger)" >&2; exit 1; }
cargo build --release --quiet --bin gencost
G=$PWD/target/release/gencost
CSV="$DIR/costs.csv"

awk -v rows="$ROWS" -f benches/costs.awk > "$CSV"

# hledger: each row an expense posted to the project's account.
cat > "$CSV.rules" <<'RULES'
skip 1
fields date, description, amount, currency, tool, client, project, deliverable
currency $
account1 expenses:%project
account2 assets:bank
RULES

# Prints "seconds peak-MB" of one run of "$@".
once() {
    /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > "$DIR/out" 2> "$DIR/err" || { cat "$DIR/err" >&2; exit 1; }
    awk '{printf "%s %.0f\n", $1, $2/1024}' "$DIR/time"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$DIR/g"; : > "$DIR/h"; : > "$DIR/s"
for run in $(seq "$RUNS"); do
    rm -f "$DIR/ledger.db"* "$DIR/plain.db"
    g1=$(once "$G" --database "$DIR/ledger.db" import "$CSV")
    g2=$(once "$G" --database "$DIR/ledger.db" total --by project)
    echo "$g1 $g2" | awk '{print $1 + $3, ($2 > $4 ? $2 : $4)}' >> "$DIR/g"
    once hledger -f "$CSV" --rules-file "$CSV.rules" balance expenses --depth 2 >> "$DIR/h"
    s1=$(once sqlite3 "$DIR/plain.db" ".import --csv $CSV costs")
    s2=$(once sqlite3 "$DIR/plain.db" "SELECT project, SUM(amount) FROM costs GROUP BY project")
    echo "$s1 $s2" | awk '{print $1 + $3, ($2 > $4 ? $2 : $4)}' >> "$DIR/s"
done
g=$(cut -d' ' -f1 "$DIR/g" | median); gm=$(cut -d' ' -f2 "$DIR/g" | median)
h=$(cut -d' ' -f1 "$DIR/h" | median); hm=$(cut -d' ' -f2 "$DIR/h" | median)
s=$(cut -d' ' -f1 "$DIR/s" | median); sm=$(cut -d' ' -f2 "$DIR/s" | median)
echo "$ROWS rows, import + total by project, median of $RUNS:"
echo "  gencost        $g s  ${gm} MB"
echo "  hledger        $h s  ${hm} MB   (gencost/hledger $(awk -v a="$g" -v b="$h" 'BEGIN{printf "%.2f", a/b}'))"
echo "  sqlite3 shell  $s s  ${sm} MB   (gencost/sqlite3 $(awk -v a="$g" -v b="$s" 'BEGIN{printf "%.2f", a/b}'))"
