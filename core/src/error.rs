//! The errors a WebAuthn ceremony reports to the page: a `DOMException` name (or a JS `TypeError`)
//! and a message, as the
//! [`create()`](https://www.w3.org/TR/webauthn-3/#sctn-createCredential) and
//! [`get()`](https://www.w3.org/TR/webauthn-3/#sctn-getAssertion) algorithms define them.
//!
//! Serialized as `{"name":"SecurityError","message":"…"}`; the page shim turns it into
//! `new DOMException(message, name)` or `new TypeError(message)` (docs/design.md).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The error names a ceremony can end with
/// ([WebIDL §2.8.1 error names](https://webidl.spec.whatwg.org/#idl-DOMException-error-names)).
/// `TypeError` is a JS `TypeError`, not a `DOMException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorName {
    /// A required member is missing or of the wrong type (WebIDL conversion failure).
    TypeError,
    /// The user did not consent, no credential is available, or the request is otherwise refused
    /// without revealing why.
    NotAllowedError,
    /// The origin is not a secure context or may not claim the requested RP ID.
    SecurityError,
    /// No requested algorithm or credential type is supported.
    NotSupportedError,
    /// A credential from `excludeCredentials` is already present on this authenticator.
    InvalidStateError,
    /// The ceremony was aborted (signalled by the JS layer).
    AbortError,
    /// Anything else: an internal failure (storage, random source).
    UnknownError,
    /// A requirement such as resident keys or user verification cannot be met.
    ConstraintError,
}

impl ErrorName {
    /// The name exactly as JS sees it (`"SecurityError"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TypeError => "TypeError",
            Self::NotAllowedError => "NotAllowedError",
            Self::SecurityError => "SecurityError",
            Self::NotSupportedError => "NotSupportedError",
            Self::InvalidStateError => "InvalidStateError",
            Self::AbortError => "AbortError",
            Self::UnknownError => "UnknownError",
            Self::ConstraintError => "ConstraintError",
        }
    }
}

impl std::fmt::Display for ErrorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error returned to the page: a name and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("{name}: {message}")]
pub struct WebAuthnError {
    /// The `DOMException` name, or `TypeError`.
    pub name: ErrorName,
    /// A message for developers; never contains secrets.
    pub message: String,
}

impl WebAuthnError {
    /// An error with any name.
    pub fn new(name: ErrorName, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }

    /// `TypeError`.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorName::TypeError, message)
    }

    /// `NotAllowedError`.
    pub fn not_allowed(message: impl Into<String>) -> Self {
        Self::new(ErrorName::NotAllowedError, message)
    }

    /// `SecurityError`.
    pub fn security(message: impl Into<String>) -> Self {
        Self::new(ErrorName::SecurityError, message)
    }

    /// `NotSupportedError`.
    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorName::NotSupportedError, message)
    }

    /// `InvalidStateError`.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorName::InvalidStateError, message)
    }

    /// `AbortError`.
    pub fn abort(message: impl Into<String>) -> Self {
        Self::new(ErrorName::AbortError, message)
    }

    /// `UnknownError`.
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(ErrorName::UnknownError, message)
    }

    /// `ConstraintError`.
    pub fn constraint(message: impl Into<String>) -> Self {
        Self::new(ErrorName::ConstraintError, message)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn serializes_as_name_and_message() {
        let e = WebAuthnError::security("nope");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"name":"SecurityError","message":"nope"}"#
        );
        assert_eq!(e.to_string(), "SecurityError: nope");
    }

    #[test]
    fn every_constructor_has_its_name() {
        let all = [
            (WebAuthnError::type_error(""), "TypeError"),
            (WebAuthnError::not_allowed(""), "NotAllowedError"),
            (WebAuthnError::security(""), "SecurityError"),
            (WebAuthnError::not_supported(""), "NotSupportedError"),
            (WebAuthnError::invalid_state(""), "InvalidStateError"),
            (WebAuthnError::abort(""), "AbortError"),
            (WebAuthnError::unknown(""), "UnknownError"),
            (WebAuthnError::constraint(""), "ConstraintError"),
        ];
        for (e, name) in all {
            assert_eq!(e.name.as_str(), name);
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["name"], name);
        }
    }
}
