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
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The only [credential type](https://www.w3.org/TR/webauthn-3/#enumdef-publickeycredentialtype).
pub const PUBLIC_KEY: &str = "public-key";

/// [`PublicKeyCredentialRpEntity`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialrpentity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyCredentialRpEntity {
    /// The [RP ID](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialrpentity-id); defaults
    /// to the caller's effective domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The RP's [name](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialentity-name) (required).
    pub name: String,
}

/// [`PublicKeyCredentialUserEntityJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialuserentityjson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyCredentialUserEntityJSON {
    /// The [user handle](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialuserentity-id), base64url.
    pub id: String,
    /// The user's [name](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialentity-name).
    pub name: String,
    /// The user's [display name](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialuserentity-displayname).
    pub display_name: String,
}

/// [`PublicKeyCredentialParameters`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialparameters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyCredentialParameters {
    /// Credential type; entries other than `"public-key"` are skipped.
    #[serde(rename = "type")]
    pub type_: String,
    /// [COSE algorithm identifier](https://www.w3.org/TR/webauthn-3/#typedefdef-cosealgorithmidentifier).
    pub alg: i64,
}

/// [`PublicKeyCredentialDescriptorJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialdescriptorjson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyCredentialDescriptorJSON {
    /// Credential type; entries other than `"public-key"` are ignored.
    #[serde(rename = "type")]
    pub type_: String,
    /// The credential id, base64url.
    pub id: String,
    /// [Transports](https://www.w3.org/TR/webauthn-3/#enumdef-authenticatortransport) hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<String>>,
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
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelectionCriteria {
    /// `"platform"` or `"cross-platform"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    /// `"discouraged"`, `"preferred"` or `"required"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_key: Option<String>,
    /// Legacy form of `residentKey: "required"`.
    #[serde(default)]
    pub require_resident_key: bool,
    /// See [`UserVerificationRequirement`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<String>,
}

impl AuthenticatorSelectionCriteria {
    /// The effective user verification requirement.
    #[must_use]
    pub fn user_verification(&self) -> UserVerificationRequirement {
        UserVerificationRequirement::from_member(self.user_verification.as_deref())
    }
}

/// `unsigned long` conversion without `[EnforceRange]`: numbers are clamped, anything else is
/// ignored (WebIDL would turn it into 0 or NaN→0; the JS layer owns timeouts anyway).
fn lenient_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value
        .and_then(|v| v.as_f64())
        .filter(|n| n.is_finite())
        .map(|n| n.clamp(0.0, f64::from(u32::MAX)) as u32))
}

/// [`PublicKeyCredentialCreationOptionsJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialcreationoptionsjson).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyCredentialCreationOptionsJSON {
    /// The relying party.
    pub rp: PublicKeyCredentialRpEntity,
    /// The user account.
    pub user: PublicKeyCredentialUserEntityJSON,
    /// The [challenge](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialcreationoptions-challenge), base64url.
    pub challenge: String,
    /// Acceptable credential types and algorithms, most preferred first.
    pub pub_key_cred_params: Vec<PublicKeyCredentialParameters>,
    /// Milliseconds (handled by the JS layer).
    #[serde(
        default,
        deserialize_with = "lenient_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<u32>,
    /// Credentials that must not be created again on this authenticator.
    #[serde(default)]
    pub exclude_credentials: Vec<PublicKeyCredentialDescriptorJSON>,
    /// Authenticator requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_selection: Option<AuthenticatorSelectionCriteria>,
    /// [Hints](https://www.w3.org/TR/webauthn-3/#enumdef-publickeycredentialhint).
    #[serde(default)]
    pub hints: Vec<String>,
    /// [Attestation conveyance](https://www.w3.org/TR/webauthn-3/#enumdef-attestationconveyancepreference); always answered with `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
    /// Preferred attestation formats (ignored; always `none`).
    #[serde(default)]
    pub attestation_formats: Vec<String>,
    /// [Client extension inputs](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationextensionsclientinputsjson).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
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
        self.extensions.as_ref().and_then(|e| e.get("credProps")) == Some(&Value::Bool(true))
    }
}

/// [`PublicKeyCredentialRequestOptionsJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialrequestoptionsjson).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyCredentialRequestOptionsJSON {
    /// The [challenge](https://www.w3.org/TR/webauthn-3/#dom-publickeycredentialrequestoptions-challenge), base64url.
    pub challenge: String,
    /// Milliseconds (handled by the JS layer).
    #[serde(
        default,
        deserialize_with = "lenient_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<u32>,
    /// The RP ID; defaults to the caller's effective domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp_id: Option<String>,
    /// Acceptable credentials; empty means any discoverable credential for the RP ID.
    #[serde(default)]
    pub allow_credentials: Vec<PublicKeyCredentialDescriptorJSON>,
    /// See [`UserVerificationRequirement`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<String>,
    /// [Hints](https://www.w3.org/TR/webauthn-3/#enumdef-publickeycredentialhint).
    #[serde(default)]
    pub hints: Vec<String>,
    /// [Client extension inputs](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationextensionsclientinputsjson).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

impl PublicKeyCredentialRequestOptionsJSON {
    /// The effective user verification requirement (`preferred` when absent or unknown).
    #[must_use]
    pub fn user_verification(&self) -> UserVerificationRequirement {
        UserVerificationRequirement::from_member(self.user_verification.as_deref())
    }
}

/// The creation options the client works on.
pub type CreationOptions = PublicKeyCredentialCreationOptionsJSON;
/// The request options the client works on.
pub type RequestOptions = PublicKeyCredentialRequestOptionsJSON;

fn type_error(what: &str, e: &serde_json::Error) -> WebAuthnError {
    WebAuthnError::type_error(format!("Failed to read the '{what}' options: {e}"))
}

/// Parses creation options JSON.
///
/// # Errors
/// `TypeError` if the text is not a JSON object or a required member is missing or mistyped.
pub fn parse_creation_options(json: &str) -> Result<CreationOptions, WebAuthnError> {
    serde_json::from_str(json).map_err(|e| type_error("publicKey (create)", &e))
}

/// Parses request options JSON.
///
/// # Errors
/// `TypeError` if the text is not a JSON object or a required member is missing or mistyped.
pub fn parse_request_options(json: &str) -> Result<RequestOptions, WebAuthnError> {
    serde_json::from_str(json).map_err(|e| type_error("publicKey (get)", &e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::error::ErrorName;
    use serde_json::json;

    fn creation() -> Value {
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
}
