//! The credentials handed back to the page, in their WebAuthn L3 JSON forms
//! ([`RegistrationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-registrationresponsejson),
//! [`AuthenticationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationresponsejson),
//! §5.1.8/§5.1.9 `toJSON()`): all binary members are base64url without padding.
//!
//! `to_json` writes the members in the order below (the order the page and the tests have always
//! seen); `from_json` reads them back (every member required except `userHandle`, unknown members
//! ignored).

use crate::json::{self, JsonError, Object};

/// [`AuthenticatorAttestationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticatorattestationresponsejson).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorAttestationResponseJSON {
    /// `clientDataJSON`: the client data JSON bytes.
    pub client_data_json: String,
    /// `authenticatorData`: the authenticator data (also inside the attestation object).
    pub authenticator_data: String,
    /// `transports`: `["internal"]`.
    pub transports: Vec<String>,
    /// `publicKey`: the credential public key as DER SubjectPublicKeyInfo.
    pub public_key: String,
    /// `publicKeyAlgorithm`: the COSE algorithm, -7.
    pub public_key_algorithm: i64,
    /// `attestationObject`: the CBOR attestation object.
    pub attestation_object: String,
}

impl AuthenticatorAttestationResponseJSON {
    /// The JSON object.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(6)
            .with("clientDataJSON", &self.client_data_json)
            .with("authenticatorData", &self.authenticator_data)
            .with(
                "transports",
                json::Value::Array(self.transports.iter().map(json::Value::from).collect()),
            )
            .with("publicKey", &self.public_key)
            .with("publicKeyAlgorithm", self.public_key_algorithm)
            .with("attestationObject", &self.attestation_object)
    }

    /// Reads [`Self::to_json`]'s form.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        Ok(Self {
            client_data_json: o.req_str("clientDataJSON")?.to_owned(),
            authenticator_data: o.req_str("authenticatorData")?.to_owned(),
            transports: json::strings(o.req_array("transports")?)
                .map_err(|e| e.within("transports"))?,
            public_key: o.req_str("publicKey")?.to_owned(),
            public_key_algorithm: o.req_i64("publicKeyAlgorithm")?,
            attestation_object: o.req_str("attestationObject")?.to_owned(),
        })
    }
}

/// [`RegistrationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-registrationresponsejson).
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationResponseJSON {
    /// `id`: the credential id, base64url.
    pub id: String,
    /// `rawId`: the credential id, base64url (same as `id`).
    pub raw_id: String,
    /// `response`: the attestation response.
    pub response: AuthenticatorAttestationResponseJSON,
    /// `authenticatorAttachment`: `"platform"`.
    pub authenticator_attachment: String,
    /// `clientExtensionResults`: [client extension outputs](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationextensionsclientoutputsjson).
    pub client_extension_results: Object,
    /// `type`: `"public-key"`.
    pub type_: String,
}

impl RegistrationResponseJSON {
    /// The JSON object.
    #[must_use]
    pub fn to_json(&self) -> Object {
        credential_json(
            &self.id,
            &self.raw_id,
            self.response.to_json(),
            &self.authenticator_attachment,
            &self.client_extension_results,
            &self.type_,
        )
    }

    /// Reads [`Self::to_json`]'s form.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member (`response.publicKey` …).
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        Ok(Self {
            id: o.req_str("id")?.to_owned(),
            raw_id: o.req_str("rawId")?.to_owned(),
            response: AuthenticatorAttestationResponseJSON::from_json(o.req("response")?)
                .map_err(|e| e.within("response"))?,
            authenticator_attachment: o.req_str("authenticatorAttachment")?.to_owned(),
            client_extension_results: o.req_object("clientExtensionResults")?.clone(),
            type_: o.req_str("type")?.to_owned(),
        })
    }
}

/// The members every `PublicKeyCredential` JSON form shares, in order.
fn credential_json(
    id: &str,
    raw_id: &str,
    response: Object,
    authenticator_attachment: &str,
    client_extension_results: &Object,
    type_: &str,
) -> Object {
    Object::with_capacity(6)
        .with("id", id)
        .with("rawId", raw_id)
        .with("response", response)
        .with("authenticatorAttachment", authenticator_attachment)
        .with("clientExtensionResults", client_extension_results.clone())
        .with("type", type_)
}

/// [`AuthenticatorAssertionResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticatorassertionresponsejson).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorAssertionResponseJSON {
    /// `clientDataJSON`: the client data JSON bytes.
    pub client_data_json: String,
    /// `authenticatorData`: the authenticator data.
    pub authenticator_data: String,
    /// `signature`: the DER ECDSA signature over `authenticatorData || SHA-256(clientDataJSON)`.
    pub signature: String,
    /// `userHandle` (always present: every Latchkey credential is discoverable; omitted when `None`).
    pub user_handle: Option<String>,
}

impl AuthenticatorAssertionResponseJSON {
    /// The JSON object.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(4)
            .with("clientDataJSON", &self.client_data_json)
            .with("authenticatorData", &self.authenticator_data)
            .with("signature", &self.signature)
            .with_some("userHandle", self.user_handle.as_ref())
    }

    /// Reads [`Self::to_json`]'s form (`userHandle` may be absent or `null`).
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        Ok(Self {
            client_data_json: o.req_str("clientDataJSON")?.to_owned(),
            authenticator_data: o.req_str("authenticatorData")?.to_owned(),
            signature: o.req_str("signature")?.to_owned(),
            user_handle: o.opt_str("userHandle")?.map(str::to_owned),
        })
    }
}

/// [`AuthenticationResponseJSON`](https://www.w3.org/TR/webauthn-3/#dictdef-authenticationresponsejson).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticationResponseJSON {
    /// `id`: the credential id, base64url.
    pub id: String,
    /// `rawId`: the credential id, base64url (same as `id`).
    pub raw_id: String,
    /// `response`: the assertion response.
    pub response: AuthenticatorAssertionResponseJSON,
    /// `authenticatorAttachment`: `"platform"`.
    pub authenticator_attachment: String,
    /// `clientExtensionResults`: client extension outputs.
    pub client_extension_results: Object,
    /// `type`: `"public-key"`.
    pub type_: String,
}

impl AuthenticationResponseJSON {
    /// The JSON object.
    #[must_use]
    pub fn to_json(&self) -> Object {
        credential_json(
            &self.id,
            &self.raw_id,
            self.response.to_json(),
            &self.authenticator_attachment,
            &self.client_extension_results,
            &self.type_,
        )
    }

    /// Reads [`Self::to_json`]'s form.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        Ok(Self {
            id: o.req_str("id")?.to_owned(),
            raw_id: o.req_str("rawId")?.to_owned(),
            response: AuthenticatorAssertionResponseJSON::from_json(o.req("response")?)
                .map_err(|e| e.within("response"))?,
            authenticator_attachment: o.req_str("authenticatorAttachment")?.to_owned(),
            client_extension_results: o.req_object("clientExtensionResults")?.clone(),
            type_: o.req_str("type")?.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn registration() -> RegistrationResponseJSON {
        RegistrationResponseJSON {
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
            client_extension_results: Object::new()
                .with("credProps", Object::new().with("rk", true)),
            type_: "public-key".into(),
        }
    }

    fn assertion(user_handle: Option<&str>) -> AuthenticationResponseJSON {
        AuthenticationResponseJSON {
            id: "AA".into(),
            raw_id: "AA".into(),
            response: AuthenticatorAssertionResponseJSON {
                client_data_json: "e30".into(),
                authenticator_data: "AQ".into(),
                signature: "Ag".into(),
                user_handle: user_handle.map(Into::into),
            },
            authenticator_attachment: "platform".into(),
            client_extension_results: Object::new(),
            type_: "public-key".into(),
        }
    }

    /// The exact text serde's derives wrote (field order, `userHandle` omitted when `None`).
    #[test]
    fn member_names_and_order_follow_the_spec_and_the_old_output() {
        assert_eq!(
            registration().to_json().to_json_string(),
            r#"{"id":"AA","rawId":"AA","response":{"clientDataJSON":"e30","authenticatorData":"AQ","transports":["internal"],"publicKey":"Ag","publicKeyAlgorithm":-7,"attestationObject":"Aw"},"authenticatorAttachment":"platform","clientExtensionResults":{"credProps":{"rk":true}},"type":"public-key"}"#
        );
        assert_eq!(
            assertion(Some("Aw")).to_json().to_json_string(),
            r#"{"id":"AA","rawId":"AA","response":{"clientDataJSON":"e30","authenticatorData":"AQ","signature":"Ag","userHandle":"Aw"},"authenticatorAttachment":"platform","clientExtensionResults":{},"type":"public-key"}"#
        );
        assert_eq!(
            assertion(None).to_json().to_json_string(),
            r#"{"id":"AA","rawId":"AA","response":{"clientDataJSON":"e30","authenticatorData":"AQ","signature":"Ag"},"authenticatorAttachment":"platform","clientExtensionResults":{},"type":"public-key"}"#
        );
    }

    #[test]
    fn responses_read_back() {
        let r = registration();
        let v = json::Value::Object(r.to_json());
        assert_eq!(RegistrationResponseJSON::from_json(&v), Ok(r));
        for a in [assertion(Some("Aw")), assertion(None)] {
            let v = json::Value::Object(a.to_json());
            assert_eq!(AuthenticationResponseJSON::from_json(&v), Ok(a));
        }
        let read = |t: &str| RegistrationResponseJSON::from_json(&json::parse(t).unwrap());
        let text = registration().to_json().to_json_string();
        for (from, to, why) in [
            (
                r#""publicKeyAlgorithm":-7"#,
                r#""publicKeyAlgorithm":-7.5"#,
                "'response.publicKeyAlgorithm' must be an integer",
            ),
            (
                r#"["internal"]"#,
                r#"["internal",3]"#,
                "'response.transports[1]' must be a string",
            ),
            (r#""rawId":"AA","#, "", "required member 'rawId' is missing"),
            (
                r#"{"credProps":{"rk":true}}"#,
                "null",
                "'clientExtensionResults' must be an object",
            ),
        ] {
            let bad = text.replace(from, to);
            assert_ne!(bad, text);
            assert_eq!(read(&bad).unwrap_err().to_string(), why);
        }
    }
}
