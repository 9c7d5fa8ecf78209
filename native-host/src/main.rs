//! `latchkey-host`: started by the browser with the caller as argument (protocol mode), or by a
//! person with `install`, `uninstall`, `status`, `--version`.

use latchkey_host::caller::check_caller;
use latchkey_host::install::{self, Env, Options};
use latchkey_host::log::log;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: latchkey-host install|uninstall|status [--browser chrome|chromium|edge|firefox|all] [--user-data-dir DIR]
       (started by the browser otherwise)";

/// Human output of the installer goes to stdout (it is not running as a host then).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn installer(cmd: &str, rest: &[OsString]) -> ExitCode {
    let rest: Vec<String> = rest
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let run = || -> Result<String, install::InstallError> {
        let opts: Options = install::parse_options(&rest)?;
        let env = Env::from_process()?;
        let reg = install::RegExe;
        match cmd {
            "install" => install::install(&env, &opts, &reg),
            "uninstall" => install::uninstall(&env, &opts, &reg),
            _ => Ok(install::status(&env, &opts, &reg)),
        }
    };
    match run() {
        Ok(report) => {
            say(&report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("latchkey-host {cmd}: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some(cmd @ ("install" | "uninstall" | "status")) => return installer(cmd, &args[1..]),
        Some("--version") => {
            say(&format!("latchkey-host {}\n", latchkey_host::HOST_VERSION));
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            say(&format!("{USAGE}\n"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let caller = match check_caller(&args) {
        Ok(c) => c,
        Err(e) => {
            log(&format!("refused: {e}"));
            return ExitCode::from(2);
        }
    };
    log(&format!("started for {caller:?}"));
    let backends = latchkey_host::default_backends(caller.parent_window());
    let stdin = std::io::stdin().lock();
    let end = latchkey_host::server::serve(stdin, Box::new(std::io::stdout()), &backends);
    log(&format!("stopping: {end:?}"));
    match end {
        latchkey_host::server::ServeEnd::Eof => ExitCode::SUCCESS,
        latchkey_host::server::ServeEnd::StreamError => ExitCode::from(1),
    }
}
