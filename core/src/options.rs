//! The WebAuthn L3 JSON forms of the ceremony options:
//! [`PublicKeyCredentialCreationOptionsJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialcreationoptionsjson)
//! and [`PublicKeyCredentialRequestOptionsJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialrequestoptionsjson)
//! (§5.1.8, §5.1.9): every `BufferSource` is a base64url string.
//!
//! Parsing follows WebIDL dictionary conversion: a missing `required` member or a member of the
//! wrong type is a `TypeError`; unknown members are ignored; enumeration-like members are typed
//! `DOMString` in WebAuthn, so unknown values are kept as strings and treated as the default by the
//! accessors ([`AuthenticatorSelectionCriteria::user_verification`] …). `timeout` is an
//! `unsigned long` without `[EnforceRange]` and is never an error. Base64url *content* (e.g.
//! `user.id`) is checked by the ceremony in [`crate::client`], which also reports `TypeError`.

use crate::error::WebAuthnError;
use crate::json::{self, FirstError, JsonError, Object, Value};

/// The only [credential type](https://www.w3.org/TR/webauthn-3/#enumdef-publickeycredentialtype).
pub const PUBLIC_KEY: &str = "public-key";

// ---- member readers with WebIDL dictionary semantics (errors name the member) ----------------

/// A sequence member with a default: absent is empty, `null` or a non-array is an error.
fn seq_member<'a>(o: &'a Object, key: &str) -> Result<&'a [Value], JsonError> {
    match o.get(key) {
        None => Ok(&[]),
        Some(v) => v.as_array().map(Vec::as_slice).ok_or(JsonError::WrongType {
            member: key.to_owned(),
            expected: "an array",
        }),
    }
}

/// A `sequence<DOMString>` member with a default (absent: empty).
fn string_seq_member(o: &Object, key: &str) -> Result<Vec<String>, JsonError> {
    json::strings(seq_member(o, key)?).map_err(|e| e.within(key))
}

/// Item `i` of sequence `key`, which must be a dictionary.
fn dict_item<'a>(v: &'a Value, key: &str, i: usize) -> Result<&'a Object, JsonError> {
    v.as_object().ok_or_else(|| JsonError::WrongType {
        member: format!("{key}[{i}]"),
        expected: "an object",
    })
}

/// An owned optional string member (absent or `null`: `None`).
fn opt_string(o: &Object, key: &str) -> Result<Option<String>, JsonError> {
    Ok(o.opt_str(key)?.map(str::to_owned))
}

/// An owned required string member.
fn req_string(o: &Object, key: &str) -> Result<String, JsonError> {
    o.req_str(key).map(str::to_owned)
}

/// `unsigned long` conversion without `[EnforceRange]`: numbers are clamped (fractions cut),
/// anything else is ignored (WebIDL would turn it into 0 or NaN→0; the JS layer owns timeouts
/// anyway). Never an error. Decided on the number's text: no float parsing in the wasm module.
fn lenient_u32(o: &Object, key: &str) -> Option<u32> {
    let v = o.get(key)?;
    if let Some(u) = v.as_u64() {
        return Some(u32::try_from(u).unwrap_or(u32::MAX));
    }
    match v {
        Value::Number(_) => Some(json::clamp_to_u32(&v.to_json_string())),
        _ => None,
    }
}

/// A `sequence<PublicKeyCredentialDescriptorJSON>` member with a default (paths like
/// `excludeCredentials[2].id`).
fn descriptors_member(
    o: &Object,
    key: &str,
) -> Result<Vec<PublicKeyCredentialDescriptorJSON>, JsonError> {
    seq_member(o, key)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            PublicKeyCredentialDescriptorJSON::from_json(dict_item(v, key, i)?)
                .map_err(|e| e.within(&format!("{key}[{i}]")))
        })
        .collect()
}

fn strings_json(list: &[String]) -> Value {
    Value::Array(list.iter().map(Value::from).collect())
}

fn descriptors_json(list: &[PublicKeyCredentialDescriptorJSON]) -> Value {
    Value::Array(list.iter().map(|d| Value::Object(d.to_json())).collect())
}

/// [`PublicKeyCredentialRpEntity`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialrpentity).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicKeyCredentialRpEntity {
    /// `id`: the [RP ID](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialrpentity-id);
    /// defaults to the caller's effective domain.
    pub id: Option<String>,
    /// `name`: the RP's [name](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialentity-name) (required).
    pub name: String,
}

impl PublicKeyCredentialRpEntity {
    /// Reads the dictionary.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(o: &Object) -> Result<Self, JsonError> {
        let mut e = FirstError::default();
        let rp = Self {
            id: e.take(opt_string(o, "id")),
            name: e.take(req_string(o, "name")),
        };
        e.finish(rp)
    }

    /// The JSON object (`id` omitted when `None`).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(2)
            .with_some("id", self.id.as_ref())
            .with("name", &self.name)
    }
}

/// [`PublicKeyCredentialUserEntityJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialuserentityjson).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicKeyCredentialUserEntityJSON {
    /// `id`: the [user handle](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialuserentity-id), base64url.
    pub id: String,
    /// `name`: the user's [name](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialentity-name).
    pub name: String,
    /// `displayName`: the user's [display name](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialuserentity-displayname).
    pub display_name: String,
}

impl PublicKeyCredentialUserEntityJSON {
    /// Reads the dictionary (every member required).
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(o: &Object) -> Result<Self, JsonError> {
        let mut e = FirstError::default();
        let user = Self {
            id: e.take(req_string(o, "id")),
            name: e.take(req_string(o, "name")),
            display_name: e.take(req_string(o, "displayName")),
        };
        e.finish(user)
    }

    /// The JSON object.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(3)
            .with("id", &self.id)
            .with("name", &self.name)
            .with("displayName", &self.display_name)
    }
}

/// [`PublicKeyCredentialParameters`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialparameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyCredentialParameters {
    /// `type`: credential type; entries other than `"public-key"` are skipped.
    pub type_: String,
    /// `alg`: [COSE algorithm identifier](https://www.w3.org/TR/webauthn-3/#typedefdef-cosealgorithmidentifier)
    /// (an integer in `i64` range).
    pub alg: i64,
}

impl PublicKeyCredentialParameters {
    /// Reads one entry.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(o: &Object) -> Result<Self, JsonError> {
        Ok(Self {
            type_: req_string(o, "type")?,
            alg: o.req_i64("alg")?,
        })
    }

    /// The JSON object.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(2)
            .with("type", &self.type_)
            .with("alg", self.alg)
    }
}

/// [`PublicKeyCredentialDescriptorJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialdescriptorjson).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyCredentialDescriptorJSON {
    /// `type`: credential type; entries other than `"public-key"` are ignored.
    pub type_: String,
    /// `id`: the credential id, base64url.
    pub id: String,
    /// `transports`: [transports](https://www.w3.org/TR/webauthn-3/#enumdef-authenticatortransport)
    /// hints (absent or `null`: `None`).
    pub transports: Option<Vec<String>>,
}

impl PublicKeyCredentialDescriptorJSON {
    /// Reads one descriptor.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member (`transports[1]` …).
    pub fn from_json(o: &Object) -> Result<Self, JsonError> {
        // `transports` first, then the others ([`FirstError`]).
        let mut e = FirstError::default();
        let transports = e.take(o.opt_array("transports").and_then(|items| {
            items
                .map(|items| json::strings(items).map_err(|e| e.within("transports")))
                .transpose()
        }));
        let descriptor = Self {
            type_: e.take(req_string(o, "type")),
            id: e.take(req_string(o, "id")),
            transports,
        };
        e.finish(descriptor)
    }

    /// The JSON object (`transports` omitted when `None`).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(3)
            .with("type", &self.type_)
            .with("id", &self.id)
            .with_some("transports", self.transports.as_deref().map(strings_json))
    }
}

/// [`UserVerificationRequirement`](https://www.w3.org/TR/webauthn-3/#enumdef-userverificationrequirement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserVerificationRequirement {
    /// `"required"`: fail unless the user is verified.
    Required,
    /// `"preferred"` (the default, and what unknown values mean).
    #[default]
    Preferred,
    /// `"discouraged"`.
    Discouraged,
}

impl UserVerificationRequirement {
    /// From the DOMString member; absent or unknown values are `Preferred`.
    #[must_use]
    pub fn from_member(value: Option<&str>) -> Self {
        match value {
            Some("required") => Self::Required,
            Some("discouraged") => Self::Discouraged,
            _ => Self::Preferred,
        }
    }

    /// The string value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Preferred => "preferred",
            Self::Discouraged => "discouraged",
        }
    }
}

/// [`AuthenticatorSelectionCriteria`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticatorselectioncriteria).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthenticatorSelectionCriteria {
    /// `authenticatorAttachment`: `"platform"` or `"cross-platform"`.
    pub authenticator_attachment: Option<String>,
    /// `residentKey`: `"discouraged"`, `"preferred"` or `"required"`.
    pub resident_key: Option<String>,
    /// `requireResidentKey`: legacy form of `residentKey: "required"` (absent: `false`; `null` is
    /// a `TypeError`, as it was with serde).
    pub require_resident_key: bool,
    /// `userVerification`: see [`UserVerificationRequirement`].
    pub user_verification: Option<String>,
}

impl AuthenticatorSelectionCriteria {
    /// The effective user verification requirement.
    #[must_use]
    pub fn user_verification(&self) -> UserVerificationRequirement {
        UserVerificationRequirement::from_member(self.user_verification.as_deref())
    }

    /// Reads the dictionary.
    ///
    /// # Errors
    /// `WrongType` naming the member.
    pub fn from_json(o: &Object) -> Result<Self, JsonError> {
        let mut e = FirstError::default();
        let require_resident_key = e.take(o.default_false("requireResidentKey"));
        let criteria = Self {
            authenticator_attachment: e.take(opt_string(o, "authenticatorAttachment")),
            resident_key: e.take(opt_string(o, "residentKey")),
            require_resident_key,
            user_verification: e.take(opt_string(o, "userVerification")),
        };
        e.finish(criteria)
    }

    /// The JSON object (`None` members omitted).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(4)
            .with_some(
                "authenticatorAttachment",
                self.authenticator_attachment.as_ref(),
            )
            .with_some("residentKey", self.resident_key.as_ref())
            .with("requireResidentKey", self.require_resident_key)
            .with_some("userVerification", self.user_verification.as_ref())
    }
}

/// [`PublicKeyCredentialCreationOptionsJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialcreationoptionsjson).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKeyCredentialCreationOptionsJSON {
    /// `rp`: the relying party.
    pub rp: PublicKeyCredentialRpEntity,
    /// `user`: the user account.
    pub user: PublicKeyCredentialUserEntityJSON,
    /// `challenge`: the [challenge](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialcreationoptions-challenge), base64url.
    pub challenge: String,
    /// `pubKeyCredParams`: acceptable credential types and algorithms, most preferred first.
    pub pub_key_cred_params: Vec<PublicKeyCredentialParameters>,
    /// `timeout`: milliseconds (handled by the JS layer).
    pub timeout: Option<u32>,
    /// `excludeCredentials`: credentials that must not be created again on this authenticator.
    pub exclude_credentials: Vec<PublicKeyCredentialDescriptorJSON>,
    /// `authenticatorSelection`: authenticator requirements.
    pub authenticator_selection: Option<AuthenticatorSelectionCriteria>,
    /// `hints`: [hints](https://www.w3.org/TR/webauthn-3/#enumdef-publickeycredentialhint).
    pub hints: Vec<String>,
    /// `attestation`: [attestation conveyance](https://www.w3.org/TR/webauthn-3/#enumdef-attestationconveyancepreference); always answered with `none`.
    pub attestation: Option<String>,
    /// `attestationFormats`: preferred attestation formats (ignored; always `none`).
    pub attestation_formats: Vec<String>,
    /// `extensions`: [client extension inputs](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationextensionsclientinputsjson).
    pub extensions: Option<Object>,
}

impl PublicKeyCredentialCreationOptionsJSON {
    /// The effective user verification requirement (`preferred` when absent).
    #[must_use]
    pub fn user_verification(&self) -> UserVerificationRequirement {
        self.authenticator_selection
            .as_ref()
            .map(AuthenticatorSelectionCriteria::user_verification)
            .unwrap_or_default()
    }

    /// True when the [`credProps`](https://www.w3.org/TR/webauthn-3/#sctn-authenticator-credential-properties-extension)
    /// extension is requested (`extensions.credProps === true`).
    #[must_use]
    pub fn cred_props_requested(&self) -> bool {
        // `as_bool`, not `== Value::Bool(true)`: comparing values would link float parsing.
        self.extensions
            .as_ref()
            .and_then(|e| e.get("credProps"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    /// Reads the dictionary (WebIDL semantics: see the [module documentation](self)).
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member path (`user.name`, `excludeCredentials[2].id`).
    pub fn from_json(v: &Value) -> Result<Self, JsonError> {
        let o = v.expect_object("publicKey")?;
        // Members are read in the IDL declaration order and the first problem is the one named
        // ([`FirstError`]: one drop path for the partly read options, wasm size).
        let mut e = FirstError::default();
        let options = Self {
            rp: e.take(o.req_object("rp").and_then(|rp| {
                PublicKeyCredentialRpEntity::from_json(rp).map_err(|e| e.within("rp"))
            })),
            user: e.take(o.req_object("user").and_then(|user| {
                PublicKeyCredentialUserEntityJSON::from_json(user).map_err(|e| e.within("user"))
            })),
            challenge: e.take(req_string(o, "challenge")),
            pub_key_cred_params: e.take(o.req_array("pubKeyCredParams").and_then(|params| {
                params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let key = "pubKeyCredParams";
                        PublicKeyCredentialParameters::from_json(dict_item(p, key, i)?)
                            .map_err(|e| e.within(&format!("{key}[{i}]")))
                    })
                    .collect()
            })),
            timeout: lenient_u32(o, "timeout"),
            exclude_credentials: e.take(descriptors_member(o, "excludeCredentials")),
            authenticator_selection: e.take(o.opt_object("authenticatorSelection").and_then(|s| {
                s.map(|s| {
                    AuthenticatorSelectionCriteria::from_json(s)
                        .map_err(|e| e.within("authenticatorSelection"))
                })
                .transpose()
            })),
            hints: e.take(string_seq_member(o, "hints")),
            attestation: e.take(opt_string(o, "attestation")),
            attestation_formats: e.take(string_seq_member(o, "attestationFormats")),
            extensions: e.take(o.opt_object("extensions")).cloned(),
        };
        e.finish(options)
    }

    /// The JSON object, members in the dictionary's order (`None` members omitted).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(11)
            .with("rp", self.rp.to_json())
            .with("user", self.user.to_json())
            .with("challenge", &self.challenge)
            .with(
                "pubKeyCredParams",
                Value::Array(
                    self.pub_key_cred_params
                        .iter()
                        .map(|p| Value::Object(p.to_json()))
                        .collect(),
                ),
            )
            .with_some("timeout", self.timeout)
            .with(
                "excludeCredentials",
                descriptors_json(&self.exclude_credentials),
            )
            .with_some(
                "authenticatorSelection",
                self.authenticator_selection
                    .as_ref()
                    .map(AuthenticatorSelectionCriteria::to_json),
            )
            .with("hints", strings_json(&self.hints))
            .with_some("attestation", self.attestation.as_ref())
            .with(
                "attestationFormats",
                strings_json(&self.attestation_formats),
            )
            .with_some("extensions", self.extensions.clone())
    }
}

/// [`PublicKeyCredentialRequestOptionsJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialrequestoptionsjson).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKeyCredentialRequestOptionsJSON {
    /// `challenge`: the [challenge](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialrequestoptions-challenge), base64url.
    pub challenge: String,
    /// `timeout`: milliseconds (handled by the JS layer).
    pub timeout: Option<u32>,
    /// `rpId`: the RP ID; defaults to the caller's effective domain.
    pub rp_id: Option<String>,
    /// `allowCredentials`: acceptable credentials; empty means any discoverable credential for the RP ID.
    pub allow_credentials: Vec<PublicKeyCredentialDescriptorJSON>,
    /// `userVerification`: see [`UserVerificationRequirement`].
    pub user_verification: Option<String>,
    /// `hints`: [hints](https://www.w3.org/TR/webauthn-3/#enumdef-publickeycredentialhint).
    pub hints: Vec<String>,
    /// `extensions`: [client extension inputs](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationextensionsclientinputsjson).
    pub extensions: Option<Object>,
}

impl PublicKeyCredentialRequestOptionsJSON {
    /// The effective user verification requirement (`preferred` when absent or unknown).
    #[must_use]
    pub fn user_verification(&self) -> UserVerificationRequirement {
        UserVerificationRequirement::from_member(self.user_verification.as_deref())
    }

    /// Reads the dictionary (WebIDL semantics: see the [module documentation](self)).
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member path (`allowCredentials[0].id`).
    pub fn from_json(v: &Value) -> Result<Self, JsonError> {
        let o = v.expect_object("publicKey")?;
        let mut e = FirstError::default();
        let options = Self {
            challenge: e.take(req_string(o, "challenge")),
            timeout: lenient_u32(o, "timeout"),
            rp_id: e.take(opt_string(o, "rpId")),
            allow_credentials: e.take(descriptors_member(o, "allowCredentials")),
            user_verification: e.take(opt_string(o, "userVerification")),
            hints: e.take(string_seq_member(o, "hints")),
            extensions: e.take(o.opt_object("extensions")).cloned(),
        };
        e.finish(options)
    }

    /// The JSON object, members in the dictionary's order (`None` members omitted).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(7)
            .with("challenge", &self.challenge)
            .with_some("timeout", self.timeout)
            .with_some("rpId", self.rp_id.as_ref())
            .with(
                "allowCredentials",
                descriptors_json(&self.allow_credentials),
            )
            .with_some("userVerification", self.user_verification.as_ref())
            .with("hints", strings_json(&self.hints))
            .with_some("extensions", self.extensions.clone())
    }
}

/// The creation options the client works on.
pub type CreationOptions = PublicKeyCredentialCreationOptionsJSON;
/// The request options the client works on.
pub type RequestOptions = PublicKeyCredentialRequestOptionsJSON;

fn type_error(what: &str, e: &JsonError) -> WebAuthnError {
    WebAuthnError::type_error(format!("Failed to read the '{what}' options: {e}"))
}

/// Parses creation options JSON.
///
/// # Errors
/// `TypeError` if the text is not a JSON object or a required member is missing or mistyped; the
/// message names the member (`… required member 'user.name' is missing`).
pub fn parse_creation_options(text: &str) -> Result<CreationOptions, WebAuthnError> {
    json::parse(text)
        .and_then(|v| CreationOptions::from_json(&v))
        .map_err(|e| type_error("publicKey (create)", &e))
}

/// Parses request options JSON.
///
/// # Errors
/// `TypeError` if the text is not a JSON object or a required member is missing or mistyped; the
/// message names the member.
pub fn parse_request_options(text: &str) -> Result<RequestOptions, WebAuthnError> {
    json::parse(text)
        .and_then(|v| RequestOptions::from_json(&v))
        .map_err(|e| type_error("publicKey (get)", &e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::error::ErrorName;
    use serde_json::json;

    fn creation() -> serde_json::Value {
        json!({
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
            "challenge": "AAECAw",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
            "timeout": 60000,
            "excludeCredentials": [{"type": "public-key", "id": "AAAA", "transports": ["internal", "hybrid"]}],
            "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true, "userVerification": "required"},
            "hints": ["client-device"],
            "attestation": "direct",
            "attestationFormats": ["packed"],
            "extensions": {"credProps": true},
        })
    }

    #[test]
    fn parses_full_creation_options() {
        let o = parse_creation_options(&creation().to_string()).unwrap();
        assert_eq!(o.rp.id.as_deref(), Some("example.com"));
        assert_eq!(o.user.display_name, "Alice");
        assert_eq!(o.pub_key_cred_params.len(), 2);
        assert_eq!(o.timeout, Some(60000));
        assert_eq!(
            o.exclude_credentials[0].transports.as_ref().unwrap().len(),
            2
        );
        assert_eq!(o.user_verification(), UserVerificationRequirement::Required);
        assert!(o.cred_props_requested());
        assert_eq!(o.hints, ["client-device"]);
    }

    #[test]
    fn minimal_creation_options_use_defaults() {
        let o = parse_creation_options(
            r#"{"rp":{"name":"X"},"user":{"id":"AQ","name":"a","displayName":""},"challenge":"","pubKeyCredParams":[]}"#,
        )
        .unwrap();
        assert_eq!(o.rp.id, None);
        assert!(o.exclude_credentials.is_empty());
        assert_eq!(
            o.user_verification(),
            UserVerificationRequirement::Preferred
        );
        assert!(!o.cred_props_requested());
    }

    #[test]
    fn missing_or_mistyped_required_members_are_type_errors() {
        let removals: &[&[&str]] = &[
            &["rp"],
            &["rp", "name"],
            &["user"],
            &["user", "id"],
            &["user", "name"],
            &["user", "displayName"],
            &["challenge"],
            &["pubKeyCredParams"],
        ];
        for path in removals {
            let mut v = creation();
            let (last, parents) = path.split_last().unwrap();
            let mut target = &mut v;
            for p in parents {
                target = &mut target[*p];
            }
            target.as_object_mut().unwrap().remove(*last);
            let err = parse_creation_options(&v.to_string()).unwrap_err();
            assert_eq!(err.name, ErrorName::TypeError, "{path:?}");
        }
        let wrong_types = [
            ("challenge", json!(5)),
            ("rp", json!("example.com")),
            ("user", json!(null)),
            ("pubKeyCredParams", json!({"type": "public-key"})),
            ("excludeCredentials", json!([{"type": "public-key"}])),
            ("extensions", json!("credProps")),
            ("authenticatorSelection", json!(true)),
        ];
        for (member, value) in wrong_types {
            let mut v = creation();
            v[member] = value;
            assert_eq!(
                parse_creation_options(&v.to_string()).unwrap_err().name,
                ErrorName::TypeError,
                "{member}"
            );
        }
        let mut v = creation();
        v["pubKeyCredParams"] = json!([{"type": "public-key"}]);
        assert_eq!(
            parse_creation_options(&v.to_string()).unwrap_err().name,
            ErrorName::TypeError,
            "alg required"
        );
        for not_object in ["", "null", "[]", "\"x\"", "{", "not json"] {
            assert_eq!(
                parse_creation_options(not_object).unwrap_err().name,
                ErrorName::TypeError
            );
            assert_eq!(
                parse_request_options(not_object).unwrap_err().name,
                ErrorName::TypeError
            );
        }
    }

    #[test]
    fn unknown_members_and_enum_values_are_ignored() {
        let mut v = creation();
        v["somethingNew"] = json!({"a": 1});
        v["authenticatorSelection"]["userVerification"] = json!("foo");
        v["timeout"] = json!("soon");
        v["attestation"] = json!("bogus");
        let o = parse_creation_options(&v.to_string()).unwrap();
        assert_eq!(
            o.user_verification(),
            UserVerificationRequirement::Preferred
        );
        assert_eq!(o.timeout, None);
        let o = parse_request_options(
            r#"{"challenge":"AQID","userVerification":"sometimes","timeout":-5}"#,
        )
        .unwrap();
        assert_eq!(
            o.user_verification(),
            UserVerificationRequirement::Preferred
        );
        assert_eq!(o.timeout, Some(0));
    }

    #[test]
    fn parses_request_options() {
        let o = parse_request_options(
            r#"{"challenge":"AQID","rpId":"example.com","allowCredentials":[{"type":"public-key","id":"AAAA"}],"userVerification":"discouraged","hints":["security-key"],"extensions":{}}"#,
        )
        .unwrap();
        assert_eq!(o.rp_id.as_deref(), Some("example.com"));
        assert_eq!(o.allow_credentials.len(), 1);
        assert_eq!(
            o.user_verification(),
            UserVerificationRequirement::Discouraged
        );
        assert_eq!(
            parse_request_options(r#"{"rpId":"example.com"}"#)
                .unwrap_err()
                .name,
            ErrorName::TypeError
        );
        assert_eq!(
            parse_request_options(r#"{"challenge":"AQID","allowCredentials":[{"id":"AAAA"}]}"#)
                .unwrap_err()
                .name,
            ErrorName::TypeError
        );
    }

    fn create_error(v: &serde_json::Value) -> String {
        let e = parse_creation_options(&v.to_string()).unwrap_err();
        assert_eq!(e.name, ErrorName::TypeError);
        e.message
    }

    #[test]
    fn messages_name_the_member_path() {
        let prefix = "Failed to read the 'publicKey (create)' options: ";
        type Change = fn(&mut serde_json::Value);
        let cases: Vec<(Change, &str)> = vec![
            (
                |v| drop(v["user"].as_object_mut().unwrap().remove("name")),
                "required member 'user.name' is missing",
            ),
            (
                |v| drop(v["rp"].as_object_mut().unwrap().remove("name")),
                "required member 'rp.name' is missing",
            ),
            (|v| v["rp"]["id"] = json!(7), "'rp.id' must be a string"),
            (
                |v| v["user"]["displayName"] = json!(null),
                "'user.displayName' must be a string",
            ),
            (
                |v| v["challenge"] = json!(5),
                "'challenge' must be a string",
            ),
            (
                |v| {
                    v["pubKeyCredParams"] =
                        json!([{"type": "public-key", "alg": -7}, {"type": "public-key"}])
                },
                "required member 'pubKeyCredParams[1].alg' is missing",
            ),
            (
                |v| v["pubKeyCredParams"] = json!([{"type": "public-key", "alg": -7.0}]),
                "'pubKeyCredParams[0].alg' must be an integer",
            ),
            (
                |v| {
                    v["pubKeyCredParams"] =
                        json!([{"type": "public-key", "alg": 9_223_372_036_854_775_808u64}])
                },
                "'pubKeyCredParams[0].alg' must be an integer",
            ),
            (
                |v| v["pubKeyCredParams"] = json!(["public-key"]),
                "'pubKeyCredParams[0]' must be an object",
            ),
            (
                |v| v["pubKeyCredParams"] = json!(null),
                "'pubKeyCredParams' must be an array",
            ),
            (
                |v| v["excludeCredentials"] = json!([{"type": "public-key", "id": "AA"}, {"type": "public-key", "id": "AA"}, {"type": "public-key"}]),
                "required member 'excludeCredentials[2].id' is missing",
            ),
            (
                |v| v["excludeCredentials"][0]["transports"] = json!(["usb", 1]),
                "'excludeCredentials[0].transports[1]' must be a string",
            ),
            (
                |v| v["excludeCredentials"] = json!(null),
                "'excludeCredentials' must be an array",
            ),
            (
                |v| v["authenticatorSelection"]["requireResidentKey"] = json!(null),
                "'authenticatorSelection.requireResidentKey' must be a boolean",
            ),
            (
                |v| v["authenticatorSelection"]["residentKey"] = json!(1),
                "'authenticatorSelection.residentKey' must be a string",
            ),
            (
                |v| v["hints"] = json!(["a", null]),
                "'hints[1]' must be a string",
            ),
            (
                |v| v["attestationFormats"] = json!(null),
                "'attestationFormats' must be an array",
            ),
            (
                |v| v["extensions"] = json!([]),
                "'extensions' must be an object",
            ),
            (|v| *v = json!([1, 2]), "'publicKey' must be an object"),
        ];
        for (change, why) in cases {
            let mut v = creation();
            change(&mut v);
            assert_eq!(create_error(&v), format!("{prefix}{why}"));
        }
        assert_eq!(
            parse_request_options(r#"{"challenge":"AQID","allowCredentials":[{"type":"public-key","id":"AA"},{"id":"AAAA"}]}"#)
                .unwrap_err()
                .message,
            "Failed to read the 'publicKey (get)' options: required member 'allowCredentials[1].type' is missing"
        );
        assert!(parse_request_options("{\"challenge\":")
            .unwrap_err()
            .message
            .starts_with("Failed to read the 'publicKey (get)' options: invalid JSON at byte"));
    }

    /// serde's semantics, kept: `Option` members may be absent or null, defaulted sequences and
    /// `requireResidentKey` may be absent but not null, other members must not be null.
    #[test]
    fn absent_null_and_default_members() {
        let mut v = creation();
        v["rp"]["id"] = json!(null);
        v["authenticatorSelection"] = json!({});
        v["attestation"] = json!(null);
        v["extensions"] = json!(null);
        v["excludeCredentials"][0]["transports"] = json!(null);
        v["timeout"] = json!(null);
        let o = parse_creation_options(&v.to_string()).unwrap();
        assert_eq!(o.rp.id, None);
        assert_eq!(
            o.authenticator_selection,
            Some(AuthenticatorSelectionCriteria::default())
        );
        assert_eq!(o.attestation, None);
        assert_eq!(o.extensions, None);
        assert_eq!(o.exclude_credentials[0].transports, None);
        assert_eq!(o.timeout, None);
        v["authenticatorSelection"] = json!(null);
        let o = parse_creation_options(&v.to_string()).unwrap();
        assert_eq!(o.authenticator_selection, None);
        for member in ["hints", "attestationFormats", "excludeCredentials"] {
            let mut v = creation();
            v.as_object_mut().unwrap().remove(member);
            let o = parse_creation_options(&v.to_string()).unwrap();
            assert!(
                o.hints.len() + o.attestation_formats.len() + o.exclude_credentials.len() == 2,
                "{member}"
            );
            v[member] = json!(null);
            create_error(&v);
        }
        let r = parse_request_options(
            r#"{"challenge":"AQID","rpId":null,"userVerification":null,"extensions":null,"timeout":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(
            (r.rp_id, r.user_verification, r.extensions, r.timeout),
            (None, None, None, None)
        );
        for bad in [
            r#"{"challenge":null}"#,
            r#"{"challenge":"AQID","allowCredentials":null}"#,
            r#"{"challenge":"AQID","hints":null}"#,
            r#"{"challenge":"AQID","rpId":5}"#,
            r#"{"challenge":"AQID","userVerification":true}"#,
        ] {
            assert_eq!(
                parse_request_options(bad).unwrap_err().name,
                ErrorName::TypeError,
                "{bad}"
            );
        }
    }

    #[test]
    fn timeout_is_clamped_and_never_an_error() {
        for (timeout, expected) in [
            ("60000", Some(60000)),
            ("1.9", Some(1)),
            ("-5", Some(0)),
            ("1e300", Some(u32::MAX)),
            ("18446744073709551615", Some(u32::MAX)),
            ("\"soon\"", None),
            ("[1]", None),
            ("true", None),
        ] {
            let text = format!(r#"{{"challenge":"AQID","timeout":{timeout}}}"#);
            assert_eq!(
                parse_request_options(&text).unwrap().timeout,
                expected,
                "{timeout}"
            );
        }
    }

    /// The text rule agrees with WebIDL's float clamp for the shortest text of many doubles.
    #[test]
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn timeout_text_clamp_agrees_with_the_float_clamp() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            0.999_999_999_999_999_9,
            1.0,
            1.5,
            59_999.999,
            60_000.0,
            4_294_967_294.5,
            4_294_967_295.0,
            4_294_967_295.9,
            4_294_967_296.0,
            1e10,
            1e21,
            1.5e-7,
            5e-324,
            f64::MAX,
            -f64::MAX,
            -1.5,
            123_456.789e3,
        ];
        let mut x = 0.000_123_f64;
        while x < 1e12 {
            values.push(x);
            values.push(x * 1.37);
            x *= 3.1;
        }
        for v in values {
            let expected = v.clamp(0.0, f64::from(u32::MAX)) as u32;
            for text in [format!("{v}"), format!("{v:e}"), format!("{v:E}")] {
                if text.parse::<u64>().is_ok() || text.parse::<i64>().is_ok() {
                    continue; // integers take the exact path
                }
                assert_eq!(json::clamp_to_u32(&text), expected, "{text}");
            }
        }
        for (text, expected) in [
            ("0e999999999999999999", 0),
            ("1e999999999999999999", u32::MAX),
            ("0.0000e5", 0),
            ("12.5e-1", 1),
            ("-0", 0),
        ] {
            assert_eq!(json::clamp_to_u32(text), expected, "{text}");
        }
    }

    #[test]
    fn options_round_trip_through_to_json() {
        let o = parse_creation_options(&creation().to_string()).unwrap();
        let text = o.to_json().to_json_string();
        assert_eq!(parse_creation_options(&text).unwrap(), o);
        // Same members and values as the input (serde_json compares objects regardless of order).
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, creation());
        let r = parse_request_options(
            r#"{"challenge":"AQID","timeout":5,"rpId":"example.com","allowCredentials":[{"type":"public-key","id":"AAAA","transports":["usb"]}],"userVerification":"discouraged","hints":["security-key"],"extensions":{"a":[1.50,{"b":null}]}}"#,
        )
        .unwrap();
        assert_eq!(
            r.to_json().to_json_string(),
            r#"{"challenge":"AQID","timeout":5,"rpId":"example.com","allowCredentials":[{"type":"public-key","id":"AAAA","transports":["usb"]}],"userVerification":"discouraged","hints":["security-key"],"extensions":{"a":[1.50,{"b":null}]}}"#
        );
    }

    #[test]
    fn duplicate_members_answer_with_the_last_like_json_parse() {
        let o = parse_request_options(r#"{"challenge":"AA","challenge":"AQID","extensions":{"credProps":false,"credProps":true}}"#)
            .unwrap();
        assert_eq!(o.challenge, "AQID");
        let mut v = creation();
        v["extensions"] = json!({});
        let text = v.to_string().replace(
            r#""extensions":{}"#,
            r#""extensions":{"credProps":false,"credProps":true}"#,
        );
        assert!(parse_creation_options(&text)
            .unwrap()
            .cred_props_requested());
    }

    #[test]
    fn deep_nesting_in_extensions_is_a_type_error() {
        let deep = format!(
            r#"{{"challenge":"AQID","extensions":{{"x":{}{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(
            parse_request_options(&deep).unwrap_err().name,
            ErrorName::TypeError
        );
    }
}
