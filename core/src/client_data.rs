//! [`CollectedClientData`](https://www.w3.org/TR/webauthn-3/#dictdef-collectedclientdata) and its
//! [serialization](https://www.w3.org/TR/webauthn-3/#clientdatajson-serialization) (§5.8.1.1), the
//! exact byte layout that the
//! [limited verification algorithm](https://www.w3.org/TR/webauthn-3/#clientdatajson-verification)
//! relies on: `{"type":…,"challenge":…,"origin":…,"crossOrigin":…[,"topOrigin":…]}` with
//! [`CCDToString`](https://www.w3.org/TR/webauthn-3/#ccdtostring) escaping.
//!
//! Written by hand (never through a general JSON writer): the bytes are signed, and a relying party
//! may compare them as text. [`CollectedClientData::from_json`] reads them back (tests, fuzzing).

use crate::json::{self, JsonError};
use std::fmt::Write as _;

/// The [`type`](https://www.w3.org/TR/webauthn-3/#dom-collectedclientdata-type) member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientDataType {
    /// `"webauthn.create"`, for registration.
    Create,
    /// `"webauthn.get"`, for authentication.
    Get,
}

impl ClientDataType {
    /// The string value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }

    /// The type for its string value; `None` for any other string.
    #[must_use]
    pub fn from_name(value: &str) -> Option<Self> {
        match value {
            "webauthn.create" => Some(Self::Create),
            "webauthn.get" => Some(Self::Get),
            _ => None,
        }
    }
}

/// The client data a ceremony signs over (this authenticator never adds other members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedClientData {
    /// `webauthn.create` or `webauthn.get`.
    pub type_: ClientDataType,
    /// The RP's challenge, base64url without padding.
    pub challenge: String,
    /// The caller's serialized origin.
    pub origin: String,
    /// True when the caller is not same-origin with its ancestors.
    pub cross_origin: bool,
    /// The top-level origin, present only when `cross_origin` is true.
    pub top_origin: Option<String>,
}

impl CollectedClientData {
    /// The serialized bytes (UTF-8), per §5.8.1.1.
    #[must_use]
    pub fn to_json(&self) -> String {
        serialize(
            self.type_,
            &self.challenge,
            &self.origin,
            self.cross_origin,
            self.top_origin.as_deref(),
        )
    }

    /// Reads client data JSON: `type` (`webauthn.create`/`webauthn.get`), `challenge`, `origin`
    /// and `crossOrigin` are required, `topOrigin` may be absent or `null`; other members (such as
    /// another client's `extraData`) are ignored.
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        let type_ = ClientDataType::from_name(o.req_str("type")?).ok_or(JsonError::WrongType {
            member: "type".to_owned(),
            expected: "\"webauthn.create\" or \"webauthn.get\"",
        })?;
        Ok(Self {
            type_,
            challenge: o.req_str("challenge")?.to_owned(),
            origin: o.req_str("origin")?.to_owned(),
            cross_origin: o.req_bool("crossOrigin")?,
            top_origin: o.opt_str("topOrigin")?.map(str::to_owned),
        })
    }
}

/// [`CCDToString`](https://www.w3.org/TR/webauthn-3/#ccdtostring): a JSON string with only `"`, `\`
/// and code points outside U+0020–U+10FFFF escaped (`\u` + four lower-case hex digits).
fn ccd_to_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '.. => out.push(c),
            _ => {
                // Only U+0000–U+001F reach here; a Rust `char` is never a lone surrogate.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
    }
    out.push('"');
}

/// Serializes client data exactly per WebAuthn L3 §5.8.1.1. `top_origin` being `Some` means the
/// call is cross-origin (`"crossOrigin":true,"topOrigin":…`); `None` gives `"crossOrigin":false`.
#[must_use]
pub fn serialize_client_data(
    type_: ClientDataType,
    challenge_b64url: &str,
    origin: &str,
    top_origin: Option<&str>,
) -> String {
    serialize(
        type_,
        challenge_b64url,
        origin,
        top_origin.is_some(),
        top_origin,
    )
}

fn serialize(
    type_: ClientDataType,
    challenge_b64url: &str,
    origin: &str,
    cross_origin: bool,
    top_origin: Option<&str>,
) -> String {
    let mut out = String::with_capacity(96 + challenge_b64url.len() + origin.len());
    out.push_str("{\"type\":");
    ccd_to_string(&mut out, type_.as_str());
    out.push_str(",\"challenge\":");
    ccd_to_string(&mut out, challenge_b64url);
    out.push_str(",\"origin\":");
    ccd_to_string(&mut out, origin);
    out.push_str(if cross_origin {
        ",\"crossOrigin\":true"
    } else {
        ",\"crossOrigin\":false"
    });
    if let Some(top) = top_origin {
        out.push_str(",\"topOrigin\":");
        ccd_to_string(&mut out, top);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::b64url;
    use crate::test_hex::from_hex as hex;

    #[test]
    fn matches_a_chrome_capture() {
        let json = serialize_client_data(
            ClientDataType::Create,
            "AAECAw",
            "http://localhost:3000",
            None,
        );
        assert_eq!(
            json,
            r#"{"type":"webauthn.create","challenge":"AAECAw","origin":"http://localhost:3000","crossOrigin":false}"#
        );
    }

    /// WebAuthn L3 §16 test vectors ("none.ES256" authentication, example-6179f191, and
    /// "none.ES256.topOrigin" registration, example-2a557330): these two carry no `extraData`,
    /// so the serializer must reproduce them byte for byte.
    #[test]
    fn matches_the_spec_test_vectors() {
        let challenge = hex("39c0e7521417ba54d43e8dc95174f423dee9bf3cd804ff6d65c857c9abf4d408");
        let expected = hex("7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a224f63446e55685158756c5455506f334a5558543049393770767a7a59425039745a63685879617630314167222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73657d");
        let json = serialize_client_data(
            ClientDataType::Get,
            &b64url::encode(&challenge),
            "https://example.org",
            None,
        );
        assert_eq!(json.as_bytes(), expected.as_slice());

        let challenge = hex("4e1f4c6198699e33c14f192153f49d7e0e8e3577d5ac416c5f3adc92a41f27e5");
        let expected = hex("7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a225468394d595a68706e6a504254786b68555f53646667364f4e58665672454673587a72636b7151664a2d55222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a747275652c22746f704f726967696e223a2268747470733a2f2f6578616d706c652e636f6d227d");
        let json = serialize_client_data(
            ClientDataType::Create,
            &b64url::encode(&challenge),
            "https://example.org",
            Some("https://example.com"),
        );
        assert_eq!(json.as_bytes(), expected.as_slice());
    }

    #[test]
    fn ccd_to_string_escapes_only_quote_backslash_and_controls() {
        let json = serialize_client_data(
            ClientDataType::Get,
            "c",
            "https://a\"b\\c\u{1}d\u{1f}e\u{7f}é😀",
            None,
        );
        assert_eq!(
            json,
            "{\"type\":\"webauthn.get\",\"challenge\":\"c\",\"origin\":\"https://a\\\"b\\\\c\\u0001d\\u001fe\u{7f}é😀\",\"crossOrigin\":false}"
        );
        // Still valid JSON that round-trips (and that serde_json reads the same way).
        let parsed = CollectedClientData::from_json(&json::parse(&json).unwrap()).unwrap();
        assert_eq!(parsed.origin, "https://a\"b\\c\u{1}d\u{1f}e\u{7f}é😀");
        let reference: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(reference["origin"], parsed.origin.as_str());
        let newline = serialize_client_data(ClientDataType::Get, "c", "a\nb\tc\0", None);
        assert!(
            newline.contains(r#""origin":"a\u000ab\u0009c\u0000""#),
            "{newline}"
        );
    }

    #[test]
    fn cross_origin_adds_top_origin() {
        let data = CollectedClientData {
            type_: ClientDataType::Get,
            challenge: "AQID".into(),
            origin: "https://rp.example".into(),
            cross_origin: true,
            top_origin: Some("https://top.example".into()),
        };
        assert_eq!(
            data.to_json(),
            r#"{"type":"webauthn.get","challenge":"AQID","origin":"https://rp.example","crossOrigin":true,"topOrigin":"https://top.example"}"#
        );
        let parsed = CollectedClientData::from_json(&json::parse(&data.to_json()).unwrap());
        assert_eq!(parsed, Ok(data));
    }

    #[test]
    fn from_json_requires_the_members_and_ignores_others() {
        let read = |t: &str| CollectedClientData::from_json(&json::parse(t).unwrap());
        let ok = read(
            r#"{"type":"webauthn.create","challenge":"c","origin":"o","crossOrigin":false,"topOrigin":null,"extraData":"x"}"#,
        )
        .unwrap();
        assert_eq!(ok.type_, ClientDataType::Create);
        assert_eq!(ok.top_origin, None);
        for (bad, why) in [
            (
                r#"{"challenge":"c","origin":"o","crossOrigin":false}"#,
                "required member 'type' is missing",
            ),
            (
                r#"{"type":"webauthn.other","challenge":"c","origin":"o","crossOrigin":false}"#,
                "'type' must be \"webauthn.create\" or \"webauthn.get\"",
            ),
            (
                r#"{"type":"webauthn.get","challenge":1,"origin":"o","crossOrigin":false}"#,
                "'challenge' must be a string",
            ),
            (
                r#"{"type":"webauthn.get","challenge":"c","origin":"o","crossOrigin":null}"#,
                "'crossOrigin' must be a boolean",
            ),
            (
                r#"{"type":"webauthn.get","challenge":"c","origin":"o","crossOrigin":true,"topOrigin":1}"#,
                "'topOrigin' must be a string",
            ),
            (
                r#"["webauthn.get","c","o",false]"#,
                "'value' must be an object",
            ),
        ] {
            assert_eq!(read(bad).unwrap_err().to_string(), why, "{bad}");
        }
    }
}
