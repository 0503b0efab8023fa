//! The `gencost` binary: everything happens in `gencost::cli`.

fn main() -> std::process::ExitCode {
    gencost::cli::run(std::env::args_os())
}
