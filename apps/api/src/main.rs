//! The `purse` binary: parses the command line and runs it.

fn main() -> std::process::ExitCode {
    purse_api::cli::main()
}
