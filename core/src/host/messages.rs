//! Request and answer types of the native host protocol, and the strict request parser.

use super::{
    MAX_CHALLENGE_BYTES, MAX_FRAME_BYTES, MAX_KEY_ID_CHARS, MAX_OPTIONS_BYTES, MAX_ORIGIN_CHARS,
    MAX_REASON_CHARS, MAX_WINDOW_HANDLE, OS_KEY_BYTES,
};
use crate::b64url;
use crate::error::ErrorName;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// A request id chosen by the extension; the answer carries the same id.
pub type RequestId = u32;

/// One request frame: `{"id", "type", …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestFrame {
    /// The extension's id for this request.
    pub id: RequestId,
    /// What is asked.
    #[serde(flatten)]
    pub request: Request,
}

/// The requests, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Request {
    /// The version handshake; must come first.
    Hello(HelloRequest),
    /// Ask the OS to verify the user (Windows Hello, polkit).
    VerifyUser(VerifyUserRequest),
    /// Create the OS-held wrapping key (after an OS verification) and return it.
    OsKeyCreate(OsKeyCreateRequest),
    /// Release the OS-held wrapping key after an OS verification.
    OsKeyRelease(OsKeyReleaseRequest),
    /// Forward `navigator.credentials.create()` to the platform (webauthn.dll on Windows).
    PlatformCreate(PlatformRequest),
    /// Forward `navigator.credentials.get()` to the platform (webauthn.dll on Windows).
    PlatformGet(PlatformRequest),
    /// Cancel a pending request.
    Cancel(CancelRequest),
}

/// The request kinds, for decoding an answer ([`parse_result`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// `hello`
    Hello,
    /// `verify-user`
    VerifyUser,
    /// `os-key-create`
    OsKeyCreate,
    /// `os-key-release`
    OsKeyRelease,
    /// `platform-create`
    PlatformCreate,
    /// `platform-get`
    PlatformGet,
    /// `cancel`
    Cancel,
}

impl RequestKind {
    /// Every kind, in protocol order.
    pub const ALL: [Self; 7] = [
        Self::Hello,
        Self::VerifyUser,
        Self::OsKeyCreate,
        Self::OsKeyRelease,
        Self::PlatformCreate,
        Self::PlatformGet,
        Self::Cancel,
    ];

    /// The `type` string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::VerifyUser => "verify-user",
            Self::OsKeyCreate => "os-key-create",
            Self::OsKeyRelease => "os-key-release",
            Self::PlatformCreate => "platform-create",
            Self::PlatformGet => "platform-get",
            Self::Cancel => "cancel",
        }
    }

    fn from_type(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Request {
    /// This request's kind.
    #[must_use]
    pub const fn kind(&self) -> RequestKind {
        match self {
            Self::Hello(_) => RequestKind::Hello,
            Self::VerifyUser(_) => RequestKind::VerifyUser,
            Self::OsKeyCreate(_) => RequestKind::OsKeyCreate,
            Self::OsKeyRelease(_) => RequestKind::OsKeyRelease,
            Self::PlatformCreate(_) => RequestKind::PlatformCreate,
            Self::PlatformGet(_) => RequestKind::PlatformGet,
            Self::Cancel(_) => RequestKind::Cancel,
        }
    }
}

/// `hello {protocolVersion}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelloRequest {
    /// The protocol version the extension speaks.
    pub protocol_version: u32,
}

/// `verify-user {reason, parentWindow?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyUserRequest {
    /// Shown in the OS prompt (1–256 characters, no control characters).
    pub reason: String,
    /// The browser window to parent the prompt to (a Windows `HWND` as a number); when absent the
    /// host uses the `--parent-window=` argument Chromium passes on Windows, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_window: Option<u64>,
}

/// `os-key-create {keyId, challenge?, replace?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OsKeyCreateRequest {
    /// Which key (e.g. the vault id).
    pub key_id: KeyId,
    /// Context bytes (base64url, ≤ 64 bytes) mixed into the derived key; the same challenge gives
    /// the same key. Absent = empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// Replace an existing key of that id (its old key is gone for good). Default `false`: an
    /// existing key gives [`ErrorCode::KeyExists`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace: bool,
}

/// `os-key-release {keyId, challenge?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OsKeyReleaseRequest {
    /// Which key.
    pub key_id: KeyId,
    /// As in [`OsKeyCreateRequest::challenge`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// [`AuthenticatorAttachment`](https://www.w3.org/TR/webauthn-3/#enum-attachment) choice for the
/// platform fallback, plus `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attachment {
    /// Let the OS offer everything it has.
    #[default]
    Any,
    /// Windows Hello on this device.
    Platform,
    /// A security key or another device.
    CrossPlatform,
}

impl Attachment {
    /// `true` for [`Attachment::Any`] (the default, left out when serializing).
    #[must_use]
    pub const fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

/// `platform-create` / `platform-get {origin, options, attachment?, parentWindow?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformRequest {
    /// The calling page's origin (taken by the service worker from the sender, never from the page).
    pub origin: String,
    /// `PublicKeyCredentialCreationOptionsJSON` / `PublicKeyCredentialRequestOptionsJSON`
    /// (WebAuthn L3 §5.1.3/§5.1.4 JSON forms).
    pub options: Value,
    /// Which authenticators the OS may use.
    #[serde(default, skip_serializing_if = "Attachment::is_any")]
    pub attachment: Attachment,
    /// As in [`VerifyUserRequest::parent_window`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_window: Option<u64>,
}

/// `cancel {requestId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// The id of the request to cancel.
    pub request_id: RequestId,
}

/// A key id: 1–64 characters of `A–Z a–z 0–9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// The id text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if s.is_empty() || s.len() > MAX_KEY_ID_CHARS || !ok_chars {
            return Err(format!(
                "keyId must be 1-{MAX_KEY_ID_CHARS} characters of A-Z a-z 0-9 - _"
            ));
        }
        Ok(Self(s))
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> Self {
        k.0
    }
}

// ---------------------------------------------------------------------------------------------
// Answers

/// An answer frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseFrame {
    /// `{"id", "result"}`.
    Ok {
        /// The request's id.
        id: RequestId,
        /// Its result (shape per request kind).
        result: ResponseBody,
    },
    /// `{"id", "error"}`; `id` is `null` when the frame had no readable id.
    Err {
        /// The request's id, if it could be read.
        id: Option<RequestId>,
        /// What went wrong.
        error: ErrorBody,
    },
}

/// The result of each request kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseBody {
    /// `hello`.
    Hello(HelloResult),
    /// `verify-user`.
    VerifyUser(VerifyUserResult),
    /// `os-key-create`, `os-key-release`.
    OsKey(OsKeyResult),
    /// `platform-create`, `platform-get`.
    Platform(PlatformResult),
    /// `cancel`.
    Cancel(CancelResult),
}

/// Whether the host can do something here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// It works now (a verifier/agent/API is present).
    Available,
    /// This OS supports it, but not now (no enrolled Hello, no polkit agent, no Secret Service…).
    Unavailable,
    /// Not implemented for this OS.
    Unsupported,
}

/// The host's OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostOs {
    /// Windows.
    Windows,
    /// Linux.
    Linux,
    /// macOS.
    Macos,
    /// Anything else.
    Other,
}

/// What the host can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Capabilities {
    /// `verify-user`.
    pub user_verification: Availability,
    /// `os-key-create` / `os-key-release`.
    pub os_key: Availability,
    /// `platform-create` / `platform-get`.
    pub platform_authenticator: Availability,
}

/// `hello` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelloResult {
    /// [`super::PROTOCOL_VERSION`].
    pub protocol_version: u32,
    /// The host's crate version.
    pub host_version: String,
    /// The host's OS.
    pub os: HostOs,
    /// What it can do.
    pub capabilities: Capabilities,
    /// `true` only in a build with the `test-verifier` feature (scripted verification).
    pub test_build: bool,
}

/// How the user was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerificationMethod {
    /// Windows Hello (`UserConsentVerifier` or a `KeyCredential` signature).
    WindowsHello,
    /// polkit (`pkcheck`, with an authentication agent's prompt).
    Polkit,
    /// The test build's scripted verifier.
    Test,
}

/// `verify-user` result (a refusal is an [`ErrorCode::Denied`] error, never `verified: false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyUserResult {
    /// Always `true`.
    pub verified: bool,
    /// Who verified.
    pub method: VerificationMethod,
}

/// `os-key-create` / `os-key-release` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OsKeyResult {
    /// The key id asked for.
    pub key_id: KeyId,
    /// The 32-byte wrapping key, base64url.
    pub key: OsKeyB64,
    /// How the user was verified before the release.
    pub method: VerificationMethod,
}

/// `platform-create` / `platform-get` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformResult {
    /// `RegistrationResponseJSON` / `AuthenticationResponseJSON`.
    pub credential: Value,
}

/// `cancel` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelResult {
    /// `true` when a pending request of that id was told to stop (its own answer is then
    /// [`ErrorCode::Cancelled`], unless it had already finished).
    pub cancelled: bool,
}

/// The OS-held 32-byte key in base64url. Secret: private, zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OsKeyB64(String);

impl OsKeyB64 {
    /// Encodes 32 key bytes.
    #[must_use]
    pub fn from_bytes(key: &[u8; OS_KEY_BYTES]) -> Self {
        Self(b64url::encode(key))
    }

    /// The key bytes (zeroized when dropped).
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; OS_KEY_BYTES]> {
        let mut out = Zeroizing::new([0u8; OS_KEY_BYTES]);
        if let Ok(mut v) = b64url::decode(&self.0) {
            if v.len() == OS_KEY_BYTES {
                out.copy_from_slice(&v);
            }
            v.zeroize();
        }
        out
    }
}

impl TryFrom<String> for OsKeyB64 {
    type Error = String;
    fn try_from(mut s: String) -> Result<Self, String> {
        let ok = match b64url::decode(&s) {
            Ok(mut v) => {
                let n = v.len();
                v.zeroize();
                n == OS_KEY_BYTES
            }
            Err(_) => false,
        };
        if ok {
            Ok(Self(s))
        } else {
            s.zeroize();
            Err("key must be 32 bytes of base64url".to_owned())
        }
    }
}

impl From<OsKeyB64> for String {
    fn from(k: OsKeyB64) -> Self {
        k.0.clone()
    }
}

impl Drop for OsKeyB64 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for OsKeyB64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OsKeyB64(..)")
    }
}

/// Error codes (`error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The frame is too large or not a JSON object.
    BadFrame,
    /// A known request with missing, unknown or out-of-bounds members.
    BadRequest,
    /// An unknown `type`.
    UnknownType,
    /// A request before `hello`.
    HandshakeRequired,
    /// `hello` with a protocol version this host does not speak.
    UnsupportedVersion,
    /// Not implemented on this OS.
    Unsupported,
    /// Supported here, but not now (no agent, no enrolled Hello, no Secret Service…).
    Unavailable,
    /// The user declined or failed the OS verification.
    Denied,
    /// Cancelled by a `cancel` request (or the port closing).
    Cancelled,
    /// Too many requests pending at once.
    Busy,
    /// `os-key-release` for a key that does not exist.
    KeyNotFound,
    /// `os-key-create` for a key that exists (without `replace`).
    KeyExists,
    /// The platform authenticator refused; `name` carries the `DOMException` name.
    WebAuthn,
    /// Anything else; the message says what.
    Internal,
}

/// `error`: `{code, message, name?}`. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorBody {
    /// The code.
    pub code: ErrorCode,
    /// For people; bounded.
    pub message: String,
    /// For [`ErrorCode::WebAuthn`]: the `DOMException` name for the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ErrorName>,
}

impl ErrorBody {
    /// An error without a `name`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            name: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Why a request frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not JSON, or not a JSON object.
    #[error("frame is not a JSON object: {0}")]
    NotObject(String),
    /// `id` is missing or not an integer in 0..=4294967295.
    #[error("id must be an integer from 0 to 4294967295")]
    BadId,
    /// `type` is missing or not a string.
    #[error("type must be a string")]
    MissingType,
    /// An unknown `type`.
    #[error("unknown request type {0:?}")]
    UnknownType(String),
    /// A known request that breaks its schema or bounds.
    #[error("invalid {kind} request: {message}")]
    Invalid {
        /// The request's `type`.
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl ProtocolError {
    /// The wire code.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge(_) | Self::NotObject(_) => ErrorCode::BadFrame,
            Self::BadId | Self::MissingType | Self::Invalid { .. } => ErrorCode::BadRequest,
            Self::UnknownType(_) => ErrorCode::UnknownType,
        }
    }
}

/// A refused request: the id when it could be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{error}")]
pub struct ParseFailure {
    /// The frame's id, if readable.
    pub id: Option<RequestId>,
    /// Why.
    pub error: ProtocolError,
}

impl ParseFailure {
    /// The answer frame for this failure.
    #[must_use]
    pub fn to_response(&self) -> ResponseFrame {
        ResponseFrame::Err {
            id: self.id,
            error: ErrorBody::new(self.error.code(), self.error.to_string()),
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Parses and checks one request frame (the JSON payload, without the length prefix).
///
/// # Errors
/// [`ParseFailure`] for oversize frames, non-objects, a bad `id` or `type`, unknown members,
/// and members out of bounds.
pub fn parse_request(bytes: &[u8]) -> Result<RequestFrame, ParseFailure> {
    let fail = |id, error| ParseFailure { id, error };
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(fail(None, ProtocolError::TooLarge(bytes.len())));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| fail(None, ProtocolError::NotObject(clip(&e.to_string(), 120))))?;
    let Value::Object(mut map) = value else {
        return Err(fail(
            None,
            ProtocolError::NotObject("not an object".to_owned()),
        ));
    };
    let id = match map.remove("id") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| fail(None, ProtocolError::BadId))?,
        _ => return Err(fail(None, ProtocolError::BadId)),
    };
    let kind = match map.get("type") {
        Some(Value::String(t)) => RequestKind::from_type(t)
            .ok_or_else(|| fail(Some(id), ProtocolError::UnknownType(clip(t, 40))))?,
        _ => return Err(fail(Some(id), ProtocolError::MissingType)),
    };
    let invalid = |message: String| ParseFailure {
        id: Some(id),
        error: ProtocolError::Invalid {
            kind: kind.as_str(),
            message,
        },
    };
    let request: Request = serde_json::from_value(Value::Object(map))
        .map_err(|e| invalid(clip(&e.to_string(), 200)))?;
    check_bounds(&request).map_err(invalid)?;
    Ok(RequestFrame { id, request })
}

fn check_window(w: Option<u64>) -> Result<(), String> {
    match w {
        Some(w) if w > MAX_WINDOW_HANDLE => Err("parentWindow is out of range".to_owned()),
        _ => Ok(()),
    }
}

fn check_challenge(c: Option<&String>) -> Result<(), String> {
    if let Some(c) = c {
        match b64url::decode(c) {
            Ok(v) if v.len() <= MAX_CHALLENGE_BYTES => {}
            Ok(_) => return Err(format!("challenge exceeds {MAX_CHALLENGE_BYTES} bytes")),
            Err(e) => return Err(format!("challenge: {e}")),
        }
    }
    Ok(())
}

fn check_bounds(request: &Request) -> Result<(), String> {
    match request {
        Request::Hello(_) | Request::Cancel(_) => Ok(()),
        Request::VerifyUser(r) => {
            let n = r.reason.chars().count();
            if n == 0 || n > MAX_REASON_CHARS {
                return Err(format!("reason must be 1-{MAX_REASON_CHARS} characters"));
            }
            if r.reason.chars().any(char::is_control) {
                return Err("reason must not contain control characters".to_owned());
            }
            check_window(r.parent_window)
        }
        Request::OsKeyCreate(r) => check_challenge(r.challenge.as_ref()),
        Request::OsKeyRelease(r) => check_challenge(r.challenge.as_ref()),
        Request::PlatformCreate(r) | Request::PlatformGet(r) => {
            if r.origin.is_empty() || r.origin.len() > MAX_ORIGIN_CHARS {
                return Err(format!("origin must be 1-{MAX_ORIGIN_CHARS} characters"));
            }
            if !r.options.is_object() {
                return Err("options must be an object".to_owned());
            }
            let size = serde_json::to_vec(&r.options).map_or(usize::MAX, |v| v.len());
            if size > MAX_OPTIONS_BYTES {
                return Err(format!("options exceed {MAX_OPTIONS_BYTES} bytes"));
            }
            check_window(r.parent_window)
        }
    }
}

/// Decodes an answer's `result` for a request of `kind` (the extension's side).
///
/// # Errors
/// A serde error when the result does not fit that kind.
pub fn parse_result(kind: RequestKind, result: Value) -> Result<ResponseBody, serde_json::Error> {
    Ok(match kind {
        RequestKind::Hello => ResponseBody::Hello(serde_json::from_value(result)?),
        RequestKind::VerifyUser => ResponseBody::VerifyUser(serde_json::from_value(result)?),
        RequestKind::OsKeyCreate | RequestKind::OsKeyRelease => {
            ResponseBody::OsKey(serde_json::from_value(result)?)
        }
        RequestKind::PlatformCreate | RequestKind::PlatformGet => {
            ResponseBody::Platform(serde_json::from_value(result)?)
        }
        RequestKind::Cancel => ResponseBody::Cancel(serde_json::from_value(result)?),
    })
}

/// Serializes a request for sending (the extension's side).
///
/// # Errors
/// Only if serde_json fails (it does not for these types).
pub fn encode_request(frame: &RequestFrame) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(frame)
}

/// Reads the `id` member of any answer frame, for routing.
#[must_use]
pub fn response_id(frame: &Map<String, Value>) -> Option<RequestId> {
    frame
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}
