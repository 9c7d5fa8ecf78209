//! Who started the host. Browsers pass the caller on the command line
//! ([Chromium](https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-protocol):
//! `chrome-extension://<id>/`, then on Windows `--parent-window=<HWND>`;
//! [Firefox](https://developer.mozilla.org/en-US/docs/Mozilla/Add-ons/WebExtensions/Native_messaging#extension_side):
//! the manifest path, then the add-on id). The host serves only Latchkey's ids; anything else is
//! refused before a single frame is read. (The browser enforces the manifest's allow-list too; this
//! is the second check, against a host started by hand or by another manifest.)

use crate::{CHROMIUM_ORIGIN, FIREFOX_EXTENSION_ID};
use std::ffi::OsString;
use thiserror::Error;

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Chromium, Chrome or Edge, with the `--parent-window` handle when passed (Windows).
    Chromium {
        /// The browser window's `HWND`.
        parent_window: Option<u64>,
    },
    /// Firefox.
    Firefox,
}

impl Caller {
    /// The window handle to parent OS prompts to, if known.
    #[must_use]
    pub const fn parent_window(&self) -> Option<u64> {
        match self {
            Self::Chromium { parent_window } => *parent_window,
            Self::Firefox => None,
        }
    }
}

/// Why the caller was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallerError {
    /// No caller argument at all.
    #[error("no caller: latchkey-host is started by the browser (or run `latchkey-host install`)")]
    Missing,
    /// A Chromium origin that is not Latchkey's.
    #[error("refusing extension origin {0:?}: only {CHROMIUM_ORIGIN} may use this host")]
    WrongOrigin(String),
    /// A Firefox add-on id that is not Latchkey's.
    #[error("refusing add-on id {0:?}: only {FIREFOX_EXTENSION_ID} may use this host")]
    WrongAddon(String),
    /// Arguments that fit neither browser.
    #[error("unrecognized caller arguments")]
    Unrecognized,
}

fn clip(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Checks the arguments after the program name.
///
/// # Errors
/// [`CallerError`] for anything but Latchkey's Chromium origin or Firefox add-on id.
pub fn check_caller(args: &[OsString]) -> Result<Caller, CallerError> {
    let first = args.first().ok_or(CallerError::Missing)?;
    let first = first.to_str().ok_or(CallerError::Unrecognized)?;
    if first.starts_with("chrome-extension://") {
        if first != CHROMIUM_ORIGIN {
            return Err(CallerError::WrongOrigin(clip(first)));
        }
        let parent_window = args
            .iter()
            .skip(1)
            .filter_map(|a| a.to_str())
            .find_map(|a| a.strip_prefix("--parent-window="))
            .and_then(|n| n.parse::<u64>().ok());
        return Ok(Caller::Chromium { parent_window });
    }
    // Firefox: [manifest path, add-on id].
    match args.get(1).map(|a| a.to_str()) {
        Some(Some(id)) if id == FIREFOX_EXTENSION_ID && args.len() == 2 => Ok(Caller::Firefox),
        Some(Some(id)) => Err(CallerError::WrongAddon(clip(id))),
        _ => Err(CallerError::Unrecognized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn latchkey_callers_pass() {
        assert_eq!(
            check_caller(&args(&[
                "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/"
            ])),
            Ok(Caller::Chromium {
                parent_window: None
            })
        );
        assert_eq!(
            check_caller(&args(&[
                "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/",
                "--parent-window=655360"
            ])),
            Ok(Caller::Chromium {
                parent_window: Some(655_360)
            })
        );
        assert_eq!(
            check_caller(&args(&[
                "/home/u/.mozilla/native-messaging-hosts/app.latchkey.host.json",
                "latchkey@latchkey.app"
            ])),
            Ok(Caller::Firefox)
        );
    }

    #[test]
    fn others_are_refused() {
        assert_eq!(check_caller(&[]), Err(CallerError::Missing));
        assert!(matches!(
            check_caller(&args(&[
                "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
            ])),
            Err(CallerError::WrongOrigin(_))
        ));
        // Without the trailing slash, with a path, or another scheme: refused.
        for a in [
            "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk",
            "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/x",
            "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkkk/",
        ] {
            assert!(check_caller(&args(&[a])).is_err(), "{a}");
        }
        assert!(check_caller(&args(&["moz-extension://x/"])).is_err());
        assert!(matches!(
            check_caller(&args(&["/m.json", "evil@example.com"])),
            Err(CallerError::WrongAddon(_))
        ));
        assert!(check_caller(&args(&["/m.json", "latchkey@latchkey.app", "x"])).is_err());
        assert!(check_caller(&args(&["/m.json"])).is_err());
    }
}
