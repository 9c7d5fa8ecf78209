//! Latchkey's WebAuthn core: the client steps of
//! [WebAuthn Level 3](https://www.w3.org/TR/webauthn-3/) and an ES256 platform authenticator, in plain
//! Rust with no wasm-bindgen, so every rule is unit-tested natively and the same code runs in the
//! extension's service worker as WebAssembly.
//!
//! Side effects go through traits this crate owns: [`store::CredentialStore`], [`rng::Rng`] and
//! [`clock::Clock`], each with an in-memory or deterministic implementation for tests.
//!
//! Entry point: [`client::Latchkey`] (`inspect_create`, `create`, `inspect_get`, `get`).

pub mod authenticator;
pub mod b64url;
pub mod cbor;
pub mod client;
pub mod client_data;
pub mod clock;
pub mod cose;
pub mod crypto;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
/// The native host's protocol (`host` feature: native-host and the fuzz targets; not in the wasm).
#[cfg(feature = "host")]
pub mod host;
pub mod json;
pub mod keyset;
pub mod options;
pub mod origin;
pub mod passkey;
pub mod psl;
pub mod responses;
pub mod rng;
pub mod rp_id;
pub mod sort;
pub mod store;
pub mod vault;

pub use client::{CallerContext, Consent, CreateInspection, GetCandidate, GetInspection, Latchkey};
pub use clock::{Clock, FixedClock};
pub use crypto::PrivateKey;
pub use error::{ErrorName, WebAuthnError};
pub use options::{
    parse_creation_options, parse_request_options, CreationOptions,
    PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RequestOptions,
};
pub use origin::Origin;
pub use passkey::{Passkey, PasskeyError, PasskeyRecord};
pub use responses::{AuthenticationResponseJSON, RegistrationResponseJSON};
pub use rng::{OsRng, Rng, RngError, TestRng};
pub use store::{CredentialStore, MemoryStore, StoreError, StoreWrite};

/// Hex helpers shared by the unit tests' vectors.
#[cfg(test)]
pub(crate) mod test_hex {
    #![allow(clippy::unwrap_used)]

    /// Decodes hex, ignoring white space (vectors are often wrapped).
    pub(crate) fn from_hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Lower-case hex of `bytes`.
    pub(crate) fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
