//! `latchkey-host`: Latchkey's native messaging host. It answers the extension (and only the
//! extension: see [`caller`]) over stdin/stdout with length-prefixed JSON frames ([`framing`]) in
//! the protocol of [`latchkey_core::host`], and reaches what a browser extension cannot: OS user
//! verification ([`verifier`]), an OS-held vault wrapping key ([`oskey`]) and, on Windows, the
//! platform authenticator in webauthn.dll ([`platform`]). [`install`] registers it with browsers.
//!
//! Windows code lives in `windows/` (`cfg(windows)`); its logic sits behind the traits here and
//! is unit-tested with fakes on every OS.

pub mod caller;
pub mod cancel;
pub mod framing;
pub mod fuzz;
pub mod install;
pub mod log;
pub mod oskey;
pub mod platform;
pub mod server;
pub mod verifier;
#[cfg(windows)]
pub mod windows;

use latchkey_core::host::{Availability, HostOs};
use std::sync::Arc;

/// The host's crate version, reported in `hello`.
pub const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Chromium extension id (fixed by the `key` in manifest.json).
pub const CHROMIUM_EXTENSION_ID: &str = "hpkkpmchehgbcnccfgdfoknecacajhkk";

/// The Chromium caller origin, exactly as Chromium passes it (with the trailing `/`).
pub const CHROMIUM_ORIGIN: &str = "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/";

/// The Firefox add-on id (`browser_specific_settings.gecko.id`).
pub const FIREFOX_EXTENSION_ID: &str = "latchkey@latchkey.app";

/// The OS this binary was built for.
#[must_use]
pub const fn host_os() -> HostOs {
    if cfg!(windows) {
        HostOs::Windows
    } else if cfg!(target_os = "linux") {
        HostOs::Linux
    } else if cfg!(target_os = "macos") {
        HostOs::Macos
    } else {
        HostOs::Other
    }
}

/// The backends one host process uses.
#[derive(Clone)]
pub struct Backends {
    /// `verify-user`.
    pub verifier: Arc<dyn verifier::UserVerifier>,
    /// `os-key-*`.
    pub keys: Arc<dyn oskey::OsKeyStore>,
    /// `platform-*`.
    pub platform: Arc<dyn platform::PlatformAuthenticator>,
    /// `true` in a `test-verifier` build.
    pub test_build: bool,
    /// The `--parent-window=` handle Chromium passed on Windows, if any.
    pub parent_window: Option<u64>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends")
            .field("test_build", &self.test_build)
            .field("parent_window", &self.parent_window)
            .finish_non_exhaustive()
    }
}

/// The backends of this build on this OS.
#[must_use]
pub fn default_backends(parent_window: Option<u64>) -> Backends {
    #[cfg(feature = "test-verifier")]
    {
        let verifier = Arc::new(verifier::TestVerifier::from_env());
        let keys = Arc::new(oskey::GatedKeyStore::new(
            verifier.clone(),
            oskey::FileBackend::from_env(),
        ));
        Backends {
            verifier,
            keys,
            platform: Arc::new(platform::Unsupported),
            test_build: true,
            parent_window,
        }
    }
    #[cfg(not(feature = "test-verifier"))]
    {
        os_backends(parent_window)
    }
}

#[cfg(all(not(feature = "test-verifier"), windows))]
fn os_backends(parent_window: Option<u64>) -> Backends {
    Backends {
        verifier: Arc::new(windows::hello::HelloVerifier),
        keys: Arc::new(oskey::KeyCredentialStore::new(
            windows::keycred::WinKeyCredentials,
        )),
        platform: Arc::new(platform::WebAuthnPlatform::new(
            windows::webauthn::WebAuthnDll::load(),
        )),
        test_build: false,
        parent_window,
    }
}

#[cfg(all(not(feature = "test-verifier"), target_os = "linux"))]
fn os_backends(parent_window: Option<u64>) -> Backends {
    let verifier = Arc::new(verifier::PolkitVerifier::system());
    Backends {
        keys: Arc::new(oskey::GatedKeyStore::new(
            verifier.clone(),
            oskey::SecretToolBackend::system(),
        )),
        verifier,
        platform: Arc::new(platform::Unsupported),
        test_build: false,
        parent_window,
    }
}

#[cfg(all(not(feature = "test-verifier"), not(windows), not(target_os = "linux")))]
fn os_backends(parent_window: Option<u64>) -> Backends {
    Backends {
        verifier: Arc::new(verifier::NoVerifier),
        keys: Arc::new(oskey::NoKeyStore),
        platform: Arc::new(platform::Unsupported),
        test_build: false,
        parent_window,
    }
}

/// A capability that needs both parts: the weaker of the two.
#[must_use]
pub const fn weakest(a: Availability, b: Availability) -> Availability {
    match (a, b) {
        (Availability::Unsupported, _) | (_, Availability::Unsupported) => {
            Availability::Unsupported
        }
        (Availability::Unavailable, _) | (_, Availability::Unavailable) => {
            Availability::Unavailable
        }
        _ => Availability::Available,
    }
}
