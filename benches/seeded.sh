# Sourced by the benchmarks that need a seeded ledger (run from the
# repository's root, after the release build of the seed example).
#
# seeded_copy ENTRIES DEST [SEED_FLAG...]: makes DEST a ledger of ENTRIES
# entries from the seed example (its defaults: the same entries every time;
# flags such as --shuffled-dates are passed on). With SEEDED_DIR set
# (benches/run sets it to a new folder), each size and set of flags is
# seeded once and copied after, so the scripts of one run do not each spend
# a seeding on the same ledger; without it DEST is seeded afresh.
seeded_copy() {
    local entries=$1 dest=$2
    shift 2
    rm -f "$dest" "$dest-wal" "$dest-shm"
    if [ -z "${SEEDED_DIR:-}" ]; then
        target/release/examples/seed --entries "$entries" "$@" --database "sqlite://$dest" > /dev/null
        return
    fi
    local flags=$*
    local kept="$SEEDED_DIR/seeded-$entries${flags:+-${flags//[^a-z0-9]/}}.db"
    if [ ! -f "$kept" ]; then
        target/release/examples/seed --entries "$entries" "$@" --database "sqlite://$kept" > /dev/null
    fi
    cp "$kept" "$dest"
    if [ -f "$kept-wal" ]; then cp "$kept-wal" "$dest-wal"; fi
}
