//! The `cloud` binary: see [`cloud::cli`].
fn main() -> std::process::ExitCode {
    cloud::cli::run()
}
