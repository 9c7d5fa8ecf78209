//! The platform fallback: forward a `create`/`get` the user chose to hand to "Windows Hello /
//! security key" to the OS authenticator. Only Windows has one reachable from a process
//! (webauthn.dll, [`webauthn.h`](https://github.com/microsoft/webauthn)); elsewhere
//! [`Unsupported`].
//!
//! [`WebAuthnPlatform`] does everything that is not FFI, on every OS (so it is unit-tested with a
//! fake [`WebAuthnApi`]): it checks the origin and RP ID with the core's rules (webauthn.dll trusts
//! its caller for both), builds `clientDataJSON` (WebAuthn L3 §5.8.1.1) from the request's
//! challenge and origin, turns the L3 JSON options into plain parameters, and maps the DLL's raw
//! results to `RegistrationResponseJSON` / `AuthenticationResponseJSON`.
//! Extensions are not forwarded (`clientExtensionResults` is `{}`).

use crate::cancel::CancelToken;
use latchkey_core::b64url;
use latchkey_core::client_data::{serialize_client_data, ClientDataType};
use latchkey_core::error::{ErrorName, WebAuthnError};
use latchkey_core::host::{Attachment, Availability, PlatformRequest};
use latchkey_core::options::{
    parse_creation_options, parse_request_options, UserVerificationRequirement,
};
use latchkey_core::rp_id::effective_rp_id;
use latchkey_core::Origin;
use serde_json::{json, Map, Value};
use thiserror::Error;

/// Why a platform request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlatformError {
    /// No platform authenticator API on this OS.
    #[error("the platform authenticator is not supported on this OS")]
    Unsupported,
    /// The API is missing here (webauthn.dll absent or too old).
    #[error("the platform authenticator is unavailable: {0}")]
    Unavailable(String),
    /// The request or the authenticator failed with a WebAuthn error name.
    #[error("{0}")]
    WebAuthn(WebAuthnError),
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
}

fn type_error(m: &str) -> PlatformError {
    PlatformError::WebAuthn(WebAuthnError::type_error(m))
}

/// One OS authenticator.
pub trait PlatformAuthenticator: Send + Sync {
    /// Whether it can be used here.
    fn availability(&self) -> Availability;
    /// `navigator.credentials.create()`; a `RegistrationResponseJSON`.
    ///
    /// # Errors
    /// [`PlatformError`].
    fn create(
        &self,
        req: &PlatformRequest,
        parent_window: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<Value, PlatformError>;
    /// `navigator.credentials.get()`; an `AuthenticationResponseJSON`.
    ///
    /// # Errors
    /// [`PlatformError`].
    fn get(
        &self,
        req: &PlatformRequest,
        parent_window: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<Value, PlatformError>;
}

/// No platform authenticator (Linux, macOS).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unsupported;

impl PlatformAuthenticator for Unsupported {
    fn availability(&self) -> Availability {
        Availability::Unsupported
    }
    fn create(
        &self,
        _: &PlatformRequest,
        _: Option<u64>,
        _: &CancelToken,
    ) -> Result<Value, PlatformError> {
        Err(PlatformError::Unsupported)
    }
    fn get(
        &self,
        _: &PlatformRequest,
        _: Option<u64>,
        _: &CancelToken,
    ) -> Result<Value, PlatformError> {
        Err(PlatformError::Unsupported)
    }
}

/// `WEBAUTHN_USER_VERIFICATION_REQUIREMENT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uv {
    /// `_REQUIRED`.
    Required,
    /// `_PREFERRED`.
    Preferred,
    /// `_DISCOURAGED`.
    Discouraged,
}

impl From<UserVerificationRequirement> for Uv {
    fn from(u: UserVerificationRequirement) -> Self {
        match u {
            UserVerificationRequirement::Required => Self::Required,
            UserVerificationRequirement::Preferred => Self::Preferred,
            UserVerificationRequirement::Discouraged => Self::Discouraged,
        }
    }
}

/// Everything `WebAuthNAuthenticatorMakeCredential` needs, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakeCredentialParams {
    /// `rp.id` (checked against the origin).
    pub rp_id: String,
    /// `rp.name`.
    pub rp_name: String,
    /// `user.id` bytes.
    pub user_id: Vec<u8>,
    /// `user.name`.
    pub user_name: String,
    /// `user.displayName`.
    pub user_display_name: String,
    /// COSE algorithms in preference order (public-key only; empty list → ES256, RS256).
    pub algs: Vec<i64>,
    /// The exact `clientDataJSON` bytes (hashed by the DLL).
    pub client_data_json: Vec<u8>,
    /// Milliseconds.
    pub timeout_ms: u32,
    /// Which authenticators.
    pub attachment: Attachment,
    /// `residentKey` is `required` (or `requireResidentKey`).
    pub require_resident_key: bool,
    /// `residentKey` is `preferred`.
    pub prefer_resident_key: bool,
    /// User verification.
    pub user_verification: Uv,
    /// `excludeCredentials` ids.
    pub exclude: Vec<Vec<u8>>,
}

/// Everything `WebAuthNAuthenticatorGetAssertion` needs, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAssertionParams {
    /// The RP ID (checked against the origin).
    pub rp_id: String,
    /// The exact `clientDataJSON` bytes.
    pub client_data_json: Vec<u8>,
    /// Milliseconds.
    pub timeout_ms: u32,
    /// Which authenticators.
    pub attachment: Attachment,
    /// User verification.
    pub user_verification: Uv,
    /// `allowCredentials` ids.
    pub allow: Vec<Vec<u8>>,
}

/// `WEBAUTHN_CREDENTIAL_ATTESTATION`, reduced to what the JSON needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAttestation {
    /// The credential id.
    pub credential_id: Vec<u8>,
    /// The CBOR attestation object.
    pub attestation_object: Vec<u8>,
    /// The authenticator data.
    pub authenticator_data: Vec<u8>,
    /// `"platform"` / `"cross-platform"` when the DLL says (API v3+).
    pub attachment: Option<&'static str>,
    /// Transports (`"usb"`, `"nfc"`, `"ble"`, `"internal"`, `"hybrid"`).
    pub transports: Vec<&'static str>,
}

/// `WEBAUTHN_ASSERTION`, reduced to what the JSON needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAssertion {
    /// The credential id used.
    pub credential_id: Vec<u8>,
    /// The authenticator data.
    pub authenticator_data: Vec<u8>,
    /// The signature.
    pub signature: Vec<u8>,
    /// The user handle, for discoverable credentials.
    pub user_handle: Option<Vec<u8>>,
    /// `"platform"` / `"cross-platform"` when known.
    pub attachment: Option<&'static str>,
}

/// The FFI surface of webauthn.dll (real: `crate::windows::webauthn::WebAuthnDll`).
pub trait WebAuthnApi: Send + Sync {
    /// `WebAuthNGetApiVersionNumber`, or `None` when the DLL is missing.
    fn api_version(&self) -> Option<u32>;
    /// `WebAuthNAuthenticatorMakeCredential`, cancellable through `WebAuthNCancelCurrentOperation`.
    ///
    /// # Errors
    /// [`PlatformError`] (an `HRESULT` mapped through `WebAuthNGetErrorName`).
    fn make_credential(
        &self,
        p: &MakeCredentialParams,
        hwnd: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<RawAttestation, PlatformError>;
    /// `WebAuthNAuthenticatorGetAssertion`.
    ///
    /// # Errors
    /// [`PlatformError`].
    fn get_assertion(
        &self,
        p: &GetAssertionParams,
        hwnd: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<RawAssertion, PlatformError>;
}

/// The lowest webauthn.dll API version used (1 = Windows 10 1903).
pub const MIN_API_VERSION: u32 = 1;

/// The page timeout clamped like the extension does: 10 s – 10 min, default 5 min.
#[must_use]
pub fn clamp_timeout(t: Option<u32>) -> u32 {
    t.unwrap_or(300_000).clamp(10_000, 600_000)
}

fn decode(field: &str, s: &str) -> Result<Vec<u8>, PlatformError> {
    b64url::decode(s).map_err(|_| type_error(&format!("{field} is not base64url")))
}

fn checked_origin(req: &PlatformRequest) -> Result<Origin, PlatformError> {
    let origin = Origin::parse(&req.origin).map_err(PlatformError::WebAuthn)?;
    if !origin.is_potentially_trustworthy() {
        return Err(PlatformError::WebAuthn(WebAuthnError::new(
            ErrorName::SecurityError,
            "the origin is not a secure context",
        )));
    }
    Ok(origin)
}

/// Turns creation options into [`MakeCredentialParams`] (origin and RP ID checked).
///
/// # Errors
/// `TypeError`/`SecurityError`/`NotSupportedError` as the WebAuthn client steps name them.
pub fn make_credential_params(
    req: &PlatformRequest,
) -> Result<MakeCredentialParams, PlatformError> {
    let origin = checked_origin(req)?;
    let o = parse_creation_options(&req.options.to_string()).map_err(PlatformError::WebAuthn)?;
    let rp_id = effective_rp_id(&origin, o.rp.id.as_deref()).map_err(PlatformError::WebAuthn)?;
    let user_id = decode("user.id", &o.user.id)?;
    if user_id.is_empty() || user_id.len() > 64 {
        return Err(type_error("user.id must be 1-64 bytes"));
    }
    decode("challenge", &o.challenge)?;
    let mut algs: Vec<i64> = o
        .pub_key_cred_params
        .iter()
        .filter(|p| p.type_ == "public-key")
        .map(|p| p.alg)
        .collect();
    if o.pub_key_cred_params.is_empty() {
        algs = vec![-7, -257];
    } else if algs.is_empty() {
        return Err(PlatformError::WebAuthn(WebAuthnError::new(
            ErrorName::NotSupportedError,
            "no supported credential type",
        )));
    }
    let sel = o.authenticator_selection.clone().unwrap_or_default();
    let rk = sel.resident_key.as_deref();
    let require_rk = rk == Some("required") || (rk.is_none() && sel.require_resident_key);
    let exclude = o
        .exclude_credentials
        .iter()
        .map(|d| decode("excludeCredentials[].id", &d.id))
        .collect::<Result<Vec<_>, _>>()?;
    let client_data = serialize_client_data(
        ClientDataType::Create,
        &o.challenge,
        &origin.serialize(),
        None,
    );
    Ok(MakeCredentialParams {
        rp_id,
        rp_name: o.rp.name.clone(),
        user_id,
        user_name: o.user.name.clone(),
        user_display_name: o.user.display_name.clone(),
        algs,
        client_data_json: client_data.into_bytes(),
        timeout_ms: clamp_timeout(o.timeout),
        attachment: req.attachment,
        require_resident_key: require_rk,
        prefer_resident_key: rk == Some("preferred"),
        user_verification: o.user_verification().into(),
        exclude,
    })
}

/// Turns request options into [`GetAssertionParams`] (origin and RP ID checked).
///
/// # Errors
/// `TypeError`/`SecurityError` as the WebAuthn client steps name them.
pub fn get_assertion_params(req: &PlatformRequest) -> Result<GetAssertionParams, PlatformError> {
    let origin = checked_origin(req)?;
    let o = parse_request_options(&req.options.to_string()).map_err(PlatformError::WebAuthn)?;
    let rp_id = effective_rp_id(&origin, o.rp_id.as_deref()).map_err(PlatformError::WebAuthn)?;
    decode("challenge", &o.challenge)?;
    let allow = o
        .allow_credentials
        .iter()
        .map(|d| decode("allowCredentials[].id", &d.id))
        .collect::<Result<Vec<_>, _>>()?;
    let client_data =
        serialize_client_data(ClientDataType::Get, &o.challenge, &origin.serialize(), None);
    Ok(GetAssertionParams {
        rp_id,
        client_data_json: client_data.into_bytes(),
        timeout_ms: clamp_timeout(o.timeout),
        attachment: req.attachment,
        user_verification: o.user_verification().into(),
        allow,
    })
}

/// The COSE public key in attested credential data (WebAuthn L3 §6.5.1): `(alg, SPKI DER if ES256)`.
fn public_key_of(auth_data: &[u8]) -> Option<(i64, Option<Vec<u8>>)> {
    const AT: u8 = 0x40;
    let flags = *auth_data.get(32)?;
    if flags & AT == 0 {
        return None;
    }
    let len_bytes = auth_data.get(53..55)?;
    let id_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    let cose = auth_data.get(55 + id_len..)?;
    let value: ciborium::Value = ciborium::de::from_reader(cose).ok()?;
    let map = value.as_map()?;
    let get = |label: i64| {
        map.iter().find_map(|(k, v)| {
            let k: i128 = k.as_integer()?.into();
            (k == i128::from(label)).then_some(v)
        })
    };
    let alg: i64 = i64::try_from(i128::from(get(3)?.as_integer()?)).ok()?;
    let kty: i128 = get(1)?.as_integer()?.into();
    if alg == -7 && kty == 2 {
        let x = get(-2)?.as_bytes()?;
        let y = get(-3)?.as_bytes()?;
        if x.len() != 32 || y.len() != 32 {
            return Some((alg, None));
        }
        // SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, uncompressed point.
        let mut spki = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ];
        spki.extend_from_slice(x);
        spki.extend_from_slice(y);
        return Some((alg, Some(spki)));
    }
    Some((alg, None))
}

/// `RegistrationResponseJSON` (WebAuthn L3 §5.1) from the DLL's attestation.
///
/// # Errors
/// `UnknownError` if the authenticator data carries no attested credential.
pub fn registration_json(
    p: &MakeCredentialParams,
    a: &RawAttestation,
) -> Result<Value, PlatformError> {
    let (alg, spki) = public_key_of(&a.authenticator_data).ok_or_else(|| {
        PlatformError::WebAuthn(WebAuthnError::new(
            ErrorName::UnknownError,
            "the authenticator returned no attested credential",
        ))
    })?;
    let id = b64url::encode(&a.credential_id);
    let mut response = Map::new();
    response.insert(
        "clientDataJSON".into(),
        b64url::encode(&p.client_data_json).into(),
    );
    response.insert(
        "attestationObject".into(),
        b64url::encode(&a.attestation_object).into(),
    );
    response.insert(
        "authenticatorData".into(),
        b64url::encode(&a.authenticator_data).into(),
    );
    response.insert("transports".into(), json!(a.transports));
    response.insert("publicKeyAlgorithm".into(), alg.into());
    if let Some(spki) = spki {
        response.insert("publicKey".into(), b64url::encode(&spki).into());
    }
    let mut out = json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": response, "clientExtensionResults": {},
    });
    if let Some(att) = a.attachment {
        out["authenticatorAttachment"] = att.into();
    }
    Ok(out)
}

/// `AuthenticationResponseJSON` (WebAuthn L3 §5.1) from the DLL's assertion.
#[must_use]
pub fn authentication_json(p: &GetAssertionParams, a: &RawAssertion) -> Value {
    let id = b64url::encode(&a.credential_id);
    let mut response = json!({
        "clientDataJSON": b64url::encode(&p.client_data_json),
        "authenticatorData": b64url::encode(&a.authenticator_data),
        "signature": b64url::encode(&a.signature),
    });
    if let Some(h) = a.user_handle.as_ref().filter(|h| !h.is_empty()) {
        response["userHandle"] = b64url::encode(h).into();
    }
    let mut out = json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": response, "clientExtensionResults": {},
    });
    if let Some(att) = a.attachment {
        out["authenticatorAttachment"] = att.into();
    }
    out
}

/// The platform authenticator over a [`WebAuthnApi`].
#[derive(Debug)]
pub struct WebAuthnPlatform<A> {
    api: A,
}

impl<A: WebAuthnApi> WebAuthnPlatform<A> {
    /// Over `api`.
    pub const fn new(api: A) -> Self {
        Self { api }
    }

    fn check_api(&self) -> Result<(), PlatformError> {
        match self.api.api_version() {
            Some(v) if v >= MIN_API_VERSION => Ok(()),
            Some(v) => Err(PlatformError::Unavailable(format!(
                "webauthn.dll API version {v} is too old"
            ))),
            None => Err(PlatformError::Unavailable(
                "webauthn.dll is not present".to_owned(),
            )),
        }
    }
}

impl<A: WebAuthnApi> PlatformAuthenticator for WebAuthnPlatform<A> {
    fn availability(&self) -> Availability {
        if self.check_api().is_ok() {
            Availability::Available
        } else {
            Availability::Unavailable
        }
    }

    fn create(
        &self,
        req: &PlatformRequest,
        parent: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<Value, PlatformError> {
        self.check_api()?;
        let p = make_credential_params(req)?;
        let a = self.api.make_credential(&p, parent, cancel)?;
        registration_json(&p, &a)
    }

    fn get(
        &self,
        req: &PlatformRequest,
        parent: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<Value, PlatformError> {
        self.check_api()?;
        let p = get_assertion_params(req)?;
        let a = self.api.get_assertion(&p, parent, cancel)?;
        Ok(authentication_json(&p, &a))
    }
}

/// Maps a `WebAuthNGetErrorName` name (the CTAP/DOM name webauthn.dll reports) to a DOMException name.
#[must_use]
pub fn error_name_from_dll(name: &str) -> ErrorName {
    match name {
        "InvalidStateError" => ErrorName::InvalidStateError,
        "ConstraintError" => ErrorName::ConstraintError,
        "NotSupportedError" => ErrorName::NotSupportedError,
        "AbortError" => ErrorName::AbortError,
        "UnknownError" => ErrorName::UnknownError,
        // "NotAllowedError" (cancelled, timed out, no credentials) and anything else.
        _ => ErrorName::NotAllowedError,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::sync::Mutex;

    fn req(options: Value) -> PlatformRequest {
        PlatformRequest {
            origin: "https://login.example.com".into(),
            options,
            attachment: Attachment::CrossPlatform,
            parent_window: None,
        }
    }

    fn creation() -> Value {
        json!({"challenge":"AAECAw","rp":{"id":"example.com","name":"Example"},
               "user":{"id":"AQID","name":"alice","displayName":"Alice"},
               "pubKeyCredParams":[{"type":"public-key","alg":-7},{"type":"public-key","alg":-257}],
               "excludeCredentials":[{"type":"public-key","id":"BAU"}],
               "authenticatorSelection":{"residentKey":"required","userVerification":"required"},
               "timeout":1000})
    }

    /// Authenticator data with an attested ES256 key: rpIdHash, flags UP|UV|AT, counter, AAGUID,
    /// credential id 0x0405, COSE key.
    fn auth_data() -> Vec<u8> {
        let mut a = vec![0u8; 32];
        a.push(0x45);
        a.extend([0, 0, 0, 1]);
        a.extend([0u8; 16]);
        a.extend([0, 2, 4, 5]);
        let cose = ciborium::Value::Map(vec![
            (1.into(), 2.into()),
            (3.into(), (-7).into()),
            ((-1).into(), 1.into()),
            ((-2).into(), ciborium::Value::Bytes(vec![0x11; 32])),
            ((-3).into(), ciborium::Value::Bytes(vec![0x22; 32])),
        ]);
        ciborium::ser::into_writer(&cose, &mut a).unwrap();
        a
    }

    #[derive(Default)]
    struct FakeDll {
        version: Option<u32>,
        seen_make: Mutex<Option<MakeCredentialParams>>,
        seen_get: Mutex<Option<GetAssertionParams>>,
        fail: Option<ErrorName>,
    }

    impl WebAuthnApi for FakeDll {
        fn api_version(&self) -> Option<u32> {
            self.version
        }
        fn make_credential(
            &self,
            p: &MakeCredentialParams,
            _: Option<u64>,
            _: &CancelToken,
        ) -> Result<RawAttestation, PlatformError> {
            *self.seen_make.lock().unwrap() = Some(p.clone());
            if let Some(n) = self.fail {
                return Err(PlatformError::WebAuthn(WebAuthnError::new(n, "fake")));
            }
            Ok(RawAttestation {
                credential_id: vec![4, 5],
                attestation_object: vec![0xa0],
                authenticator_data: auth_data(),
                attachment: Some("cross-platform"),
                transports: vec!["usb"],
            })
        }
        fn get_assertion(
            &self,
            p: &GetAssertionParams,
            _: Option<u64>,
            _: &CancelToken,
        ) -> Result<RawAssertion, PlatformError> {
            *self.seen_get.lock().unwrap() = Some(p.clone());
            Ok(RawAssertion {
                credential_id: vec![4, 5],
                authenticator_data: vec![1; 37],
                signature: vec![9, 9],
                user_handle: Some(vec![1, 2, 3]),
                attachment: Some("platform"),
            })
        }
    }

    #[test]
    fn create_maps_options_and_result() {
        let p = WebAuthnPlatform::new(FakeDll {
            version: Some(4),
            ..Default::default()
        });
        assert_eq!(p.availability(), Availability::Available);
        let out = p
            .create(&req(creation()), None, &CancelToken::new())
            .unwrap();
        let seen = p.api.seen_make.lock().unwrap().clone().unwrap();
        assert_eq!(seen.rp_id, "example.com");
        assert_eq!(seen.user_id, vec![1, 2, 3]);
        assert_eq!(seen.algs, vec![-7, -257]);
        assert_eq!(seen.exclude, vec![vec![4, 5]]);
        assert!(seen.require_resident_key);
        assert_eq!(seen.user_verification, Uv::Required);
        assert_eq!(seen.timeout_ms, 10_000);
        assert_eq!(seen.attachment, Attachment::CrossPlatform);
        assert_eq!(
            String::from_utf8(seen.client_data_json).unwrap(),
            r#"{"type":"webauthn.create","challenge":"AAECAw","origin":"https://login.example.com","crossOrigin":false}"#
        );
        assert_eq!(out["id"], "BAU");
        assert_eq!(out["authenticatorAttachment"], "cross-platform");
        assert_eq!(out["response"]["publicKeyAlgorithm"], -7);
        assert_eq!(out["response"]["transports"], json!(["usb"]));
        let spki = b64url::decode(out["response"]["publicKey"].as_str().unwrap()).unwrap();
        assert_eq!(spki.len(), 91);
        assert_eq!(out["clientExtensionResults"], json!({}));
    }

    #[test]
    fn get_maps_options_and_result() {
        let p = WebAuthnPlatform::new(FakeDll {
            version: Some(1),
            ..Default::default()
        });
        let out = p
            .get(&req(json!({"challenge":"AAECAw","allowCredentials":[{"type":"public-key","id":"BAU"}]})), Some(5), &CancelToken::new())
            .unwrap();
        let seen = p.api.seen_get.lock().unwrap().clone().unwrap();
        assert_eq!(seen.rp_id, "login.example.com");
        assert_eq!(seen.allow, vec![vec![4, 5]]);
        assert_eq!(seen.user_verification, Uv::Preferred);
        assert_eq!(seen.timeout_ms, 300_000);
        assert_eq!(out["response"]["userHandle"], "AQID");
        assert_eq!(out["response"]["signature"], "CQk");
        assert_eq!(out["authenticatorAttachment"], "platform");
    }

    #[test]
    fn origin_and_rp_id_are_checked_before_the_dll() {
        let p = WebAuthnPlatform::new(FakeDll {
            version: Some(4),
            ..Default::default()
        });
        let t = CancelToken::new();
        let mut r = req(creation());
        r.origin = "https://evil.example.org".into();
        assert!(
            matches!(p.create(&r, None, &t), Err(PlatformError::WebAuthn(e)) if e.name == ErrorName::SecurityError)
        );
        r.origin = "http://example.com".into();
        assert!(
            matches!(p.create(&r, None, &t), Err(PlatformError::WebAuthn(e)) if e.name == ErrorName::SecurityError)
        );
        let mut o = creation();
        o["rp"]["id"] = "com".into();
        assert!(p.create(&req(o), None, &t).is_err());
        let mut o = creation();
        o["user"]["id"] = "not base64!".into();
        assert!(
            matches!(p.create(&req(o), None, &t), Err(PlatformError::WebAuthn(e)) if e.name == ErrorName::TypeError)
        );
        let mut o = creation();
        o["pubKeyCredParams"] = json!([{"type":"other","alg":-7}]);
        assert!(
            matches!(p.create(&req(o), None, &t), Err(PlatformError::WebAuthn(e)) if e.name == ErrorName::NotSupportedError)
        );
        assert!(p.api.seen_make.lock().unwrap().is_none());
    }

    #[test]
    fn missing_dll_and_dll_errors() {
        let p = WebAuthnPlatform::new(FakeDll::default());
        assert_eq!(p.availability(), Availability::Unavailable);
        assert!(matches!(
            p.create(&req(creation()), None, &CancelToken::new()),
            Err(PlatformError::Unavailable(_))
        ));
        let p = WebAuthnPlatform::new(FakeDll {
            version: Some(4),
            fail: Some(ErrorName::InvalidStateError),
            ..Default::default()
        });
        assert!(
            matches!(p.create(&req(creation()), None, &CancelToken::new()), Err(PlatformError::WebAuthn(e)) if e.name == ErrorName::InvalidStateError)
        );
        assert_eq!(
            error_name_from_dll("NotAllowedError"),
            ErrorName::NotAllowedError
        );
        assert_eq!(error_name_from_dll("whatever"), ErrorName::NotAllowedError);
        assert_eq!(Unsupported.availability(), Availability::Unsupported);
    }
}
