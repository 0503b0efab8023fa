//! The `gencost` binary: everything happens in `gencost::cli`.

fn main() -> std::process::ExitCode {
    keep_malloc_thresholds();
    owner_only_files();
    gencost::cli::run(std::env::args_os())
}

/// glibc raises its mmap threshold to the size of each large buffer freed
/// (up to 32 MB), after which such buffers come from the threads' heaps and
/// stay there once freed: a 1,000,000-row import, whose threads pass
/// chunks of rows and rows of events between them, peaked at 199 MB with
/// that, and at 146 MB, no slower, with the threshold kept at its 128 KiB
/// start.
fn keep_malloc_thresholds() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; it runs before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Everything gencost writes holds a studio's costs and clients: the SQLite
/// ledger (and the write-ahead log SQLite makes beside it with the same
/// mode), its backups, exports, reports and the config files are created
/// readable by their owner only (0600, folders 0700), whatever the umask
/// the shell had. Files that already exist keep their mode.
fn owner_only_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets this process's file creation mask; it runs
    // before any other thread exists.
    unsafe {
        libc::umask(0o077);
    }
}
