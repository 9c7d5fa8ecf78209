//! The credentials handed back to the page, in their WebAuthn L3 JSON forms
//! ([`RegistrationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-registrationresponsejson),
//! [`AuthenticationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationresponsejson),
//! §5.1.8/§5.1.9 `toJSON()`): all binary members are base64url without padding.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// [`AuthenticatorAttestationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticatorattestationresponsejson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorAttestationResponseJSON {
    /// The client data JSON bytes.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// The authenticator data (also inside the attestation object).
    pub authenticator_data: String,
    /// `["internal"]`.
    pub transports: Vec<String>,
    /// The credential public key as DER SubjectPublicKeyInfo.
    pub public_key: String,
    /// The COSE algorithm, -7.
    pub public_key_algorithm: i64,
    /// The CBOR attestation object.
    pub attestation_object: String,
}

/// [`RegistrationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-registrationresponsejson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponseJSON {
    /// The credential id, base64url.
    pub id: String,
    /// The credential id, base64url (same as `id`).
    pub raw_id: String,
    /// The attestation response.
    pub response: AuthenticatorAttestationResponseJSON,
    /// `"platform"`.
    pub authenticator_attachment: String,
    /// [Client extension outputs](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationextensionsclientoutputsjson).
    pub client_extension_results: Map<String, Value>,
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub type_: String,
}

/// [`AuthenticatorAssertionResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticatorassertionresponsejson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorAssertionResponseJSON {
    /// The client data JSON bytes.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// The authenticator data.
    pub authenticator_data: String,
    /// The DER ECDSA signature over `authenticatorData || SHA-256(clientDataJSON)`.
    pub signature: String,
    /// The user handle (always present: every Latchkey credential is discoverable).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_handle: Option<String>,
}

/// [`AuthenticationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationresponsejson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponseJSON {
    /// The credential id, base64url.
    pub id: String,
    /// The credential id, base64url (same as `id`).
    pub raw_id: String,
    /// The assertion response.
    pub response: AuthenticatorAssertionResponseJSON,
    /// `"platform"`.
    pub authenticator_attachment: String,
    /// Client extension outputs.
    pub client_extension_results: Map<String, Value>,
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub type_: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn member_names_follow_the_spec() {
        let r = RegistrationResponseJSON {
            id: "AA".into(),
            raw_id: "AA".into(),
            response: AuthenticatorAttestationResponseJSON {
                client_data_json: "e30".into(),
                authenticator_data: "AQ".into(),
                transports: vec!["internal".into()],
                public_key: "Ag".into(),
                public_key_algorithm: -7,
                attestation_object: "Aw".into(),
            },
            authenticator_attachment: "platform".into(),
            client_extension_results: Map::new(),
            type_: "public-key".into(),
        };
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "id",
            "rawId",
            "response",
            "authenticatorAttachment",
            "clientExtensionResults",
            "type",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        for key in [
            "clientDataJSON",
            "authenticatorData",
            "transports",
            "publicKey",
            "publicKeyAlgorithm",
            "attestationObject",
        ] {
            assert!(v["response"].get(key).is_some(), "{key}");
        }
        let a = AuthenticatorAssertionResponseJSON {
            client_data_json: "e30".into(),
            authenticator_data: "AQ".into(),
            signature: "Ag".into(),
            user_handle: Some("Aw".into()),
        };
        let v = serde_json::to_value(&a).unwrap();
        for key in [
            "clientDataJSON",
            "authenticatorData",
            "signature",
            "userHandle",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }
}
