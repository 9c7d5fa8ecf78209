//! The errors a WebAuthn ceremony reports to the page: a `DOMException` name (or a JS `TypeError`)
//! and a message, as the
//! [`create()`](https://www.w3.org/TR/webauthn-3/#sctn-createCredential) and
//! [`get()`](https://www.w3.org/TR/webauthn-3/#sctn-getAssertion) algorithms define them.
//!
//! Serialized as `{"name":"SecurityError","message":"…"}` ([`WebAuthnError::to_json`]); the page
//! shim turns it into `new DOMException(message, name)` or `new TypeError(message)` (docs/design.md).

use crate::json::{self, JsonError};
use thiserror::Error;

/// The error names a ceremony can end with
/// ([WebIDL §2.8.1 error names](https://webidl.spec.whatwg.org/#idl-DOMException-error-names)).
/// `TypeError` is a JS `TypeError`, not a `DOMException`.
///
/// The serde derives (`host` feature) serve only `core::host`'s native-messaging frames (the native host, which
/// the wasm module does not link); the wasm side uses [`ErrorName::as_str`] / [`ErrorName::from_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "host", derive(serde::Serialize, serde::Deserialize))]
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

    /// Every name, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::TypeError,
        Self::NotAllowedError,
        Self::SecurityError,
        Self::NotSupportedError,
        Self::InvalidStateError,
        Self::AbortError,
        Self::UnknownError,
        Self::ConstraintError,
    ];

    /// The name for its exact JS spelling (`"SecurityError"`); `None` for anything else.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == name)
    }
}

impl std::fmt::Display for ErrorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error returned to the page: a name and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
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

    /// `{"name":…,"message":…}` (in that order), the form the page shim reads.
    #[must_use]
    pub fn to_json(&self) -> json::Object {
        error_json(self.name.as_str(), &self.message)
    }

    /// Reads [`WebAuthnError::to_json`]'s form: both members required, `name` one of
    /// [`ErrorName`]'s spellings; other members are ignored.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        let name = ErrorName::from_name(o.req_str("name")?).ok_or(JsonError::WrongType {
            member: "name".to_owned(),
            expected: "a DOMException name",
        })?;
        Ok(Self::new(name, o.req_str("message")?))
    }
}

/// `{"name":…,"message":…}`: the one JSON form of every error the wasm API answers with (WebAuthn
/// errors, and the vault's errors with their own names).
#[must_use]
pub fn error_json(name: &str, message: &str) -> json::Object {
    json::Object::with_capacity(2)
        .with("name", name)
        .with("message", message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn serializes_as_name_and_message() {
        let e = WebAuthnError::security("nope \"quoted\"\n");
        assert_eq!(
            e.to_json().to_json_string(),
            r#"{"name":"SecurityError","message":"nope \"quoted\"\n"}"#
        );
        assert_eq!(e.to_string(), "SecurityError: nope \"quoted\"\n");
    }

    #[test]
    fn reads_its_own_json_back() {
        for name in ErrorName::ALL {
            let e = WebAuthnError::new(name, "m");
            let text = e.to_json().to_json_string();
            let again = WebAuthnError::from_json(&json::parse(&text).unwrap()).unwrap();
            assert_eq!(again, e);
            // The same bytes serde's derive wrote.
            assert_eq!(
                text,
                format!(r#"{{"name":"{}","message":"m"}}"#, name.as_str())
            );
        }
        let read = |t: &str| WebAuthnError::from_json(&json::parse(t).unwrap());
        assert!(read(r#"{"name":"SecurityError","message":"m","extra":1}"#).is_ok());
        for bad in [
            r#"{"name":"Nope","message":"m"}"#,
            r#"{"name":"SecurityError"}"#,
            r#"{"message":"m"}"#,
            r#"{"name":null,"message":"m"}"#,
            r#"{"name":"SecurityError","message":5}"#,
            r#"["SecurityError","m"]"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(ErrorName::from_name("securityerror"), None);
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
            assert_eq!(
                e.to_json().get("name").and_then(json::Value::as_str),
                Some(name)
            );
            assert_eq!(ErrorName::from_name(name), Some(e.name));
        }
    }
}
