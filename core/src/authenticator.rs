//! The authenticator's data structures: [authenticator data](https://www.w3.org/TR/webauthn-3/#sctn-authenticator-data)
//! (§6.1), [attested credential data](https://www.w3.org/TR/webauthn-3/#sctn-attested-credential-data)
//! (§6.5.1) and the [`none` attestation](https://www.w3.org/TR/webauthn-3/#sctn-none-attestation)
//! [attestation object](https://www.w3.org/TR/webauthn-3/#sctn-attestation) (§6.5, §8.7), as
//! produced by [authenticatorMakeCredential](https://www.w3.org/TR/webauthn-3/#sctn-op-make-cred)
//! and [authenticatorGetAssertion](https://www.w3.org/TR/webauthn-3/#sctn-op-get-assertion).

use crate::cbor::Value;
use crate::cose::CoseKey;
use crate::rng::{Rng, RngError};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Latchkey's [AAGUID](https://www.w3.org/TR/webauthn-3/#aaguid),
/// `4c6b4b79-2d4c-6174-6368-6b6579000001` ("LkKy-Latchkey" + 1).
pub const AAGUID: [u8; 16] = [
    0x4c, 0x6b, 0x4b, 0x79, 0x2d, 0x4c, 0x61, 0x74, 0x63, 0x68, 0x6b, 0x65, 0x79, 0x00, 0x00, 0x01,
];

/// Length of credential ids this authenticator creates.
pub const CREDENTIAL_ID_LEN: usize = 16;

/// [Authenticator data flags](https://www.w3.org/TR/webauthn-3/#authdata-flags).
pub mod flags {
    /// [User Present](https://www.w3.org/TR/webauthn-3/#authdata-flags-up) (bit 0).
    pub const UP: u8 = 0x01;
    /// [User Verified](https://www.w3.org/TR/webauthn-3/#authdata-flags-uv) (bit 2).
    pub const UV: u8 = 0x04;
    /// [Backup Eligibility](https://www.w3.org/TR/webauthn-3/#authdata-flags-be) (bit 3).
    pub const BE: u8 = 0x08;
    /// [Backup State](https://www.w3.org/TR/webauthn-3/#authdata-flags-bs) (bit 4).
    pub const BS: u8 = 0x10;
    /// [Attested credential data included](https://www.w3.org/TR/webauthn-3/#authdata-flags-at) (bit 6).
    pub const AT: u8 = 0x40;
    /// [Extension data included](https://www.w3.org/TR/webauthn-3/#authdata-flags-ed) (bit 7).
    pub const ED: u8 = 0x80;
}

/// Authenticator data cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthenticatorError {
    /// Credential ids are 1–1023 bytes.
    #[error("invalid credential id length ({0} bytes)")]
    InvalidCredentialId(usize),
    /// The random source failed.
    #[error(transparent)]
    Rng(#[from] RngError),
}

/// [Attested credential data](https://www.w3.org/TR/webauthn-3/#attested-credential-data).
#[derive(Debug, Clone, Copy)]
pub struct AttestedCredentialData<'a> {
    /// The authenticator's AAGUID ([`AAGUID`] for Latchkey).
    pub aaguid: [u8; 16],
    /// The credential id.
    pub credential_id: &'a [u8],
    /// The credential public key.
    pub public_key: &'a CoseKey,
}

/// [`rpIdHash`](https://www.w3.org/TR/webauthn-3/#authdata-rpidhash): SHA-256 of the UTF-8 RP ID.
#[must_use]
pub fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    Sha256::digest(rp_id.as_bytes()).into()
}

/// Builds authenticator data: `rpIdHash (32) || flags (1) || signCount (4, big-endian) ||
/// [attestedCredentialData]`. The AT flag is set here exactly when `attested` is given.
///
/// # Errors
/// [`AuthenticatorError::InvalidCredentialId`] for an empty or over-long credential id.
pub fn authenticator_data(
    rp_id: &str,
    flags: u8,
    sign_count: u32,
    attested: Option<&AttestedCredentialData<'_>>,
) -> Result<Vec<u8>, AuthenticatorError> {
    let mut out = Vec::with_capacity(37 + attested.map_or(0, |a| 18 + a.credential_id.len() + 77));
    out.extend_from_slice(&rp_id_hash(rp_id));
    let flags = if attested.is_some() {
        flags | flags::AT
    } else {
        flags & !flags::AT
    };
    out.push(flags);
    out.extend_from_slice(&sign_count.to_be_bytes());
    if let Some(a) = attested {
        let len = a.credential_id.len();
        if len == 0 || len > crate::passkey::MAX_CREDENTIAL_ID_LEN {
            return Err(AuthenticatorError::InvalidCredentialId(len));
        }
        let len16 = u16::try_from(len).map_err(|_| AuthenticatorError::InvalidCredentialId(len))?;
        out.extend_from_slice(&a.aaguid);
        out.extend_from_slice(&len16.to_be_bytes());
        out.extend_from_slice(a.credential_id);
        a.public_key.to_cbor_value().encode_into(&mut out);
    }
    Ok(out)
}

/// The attestation object for [`none` attestation](https://www.w3.org/TR/webauthn-3/#sctn-none-attestation):
/// `{"fmt": "none", "attStmt": {}, "authData": bytes}` in CTAP2 canonical order.
#[must_use]
pub fn attestation_object_none(auth_data: &[u8]) -> Vec<u8> {
    Value::Map(vec![
        (Value::text("fmt"), Value::text("none")),
        (Value::text("attStmt"), Value::Map(vec![])),
        (Value::text("authData"), Value::bytes(auth_data.to_vec())),
    ])
    .to_vec()
}

/// A fresh random credential id ([`CREDENTIAL_ID_LEN`] bytes).
///
/// # Errors
/// [`RngError`] if the random source fails.
pub fn new_credential_id(rng: &mut impl Rng) -> Result<[u8; CREDENTIAL_ID_LEN], RngError> {
    let mut id = [0u8; CREDENTIAL_ID_LEN];
    rng.fill_bytes(&mut id)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::crypto::PrivateKey;
    use crate::test_hex::from_hex as hex;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    #[test]
    fn aaguid_is_the_documented_uuid() {
        let uuid = "4c6b4b79-2d4c-6174-6368-6b6579000001".replace('-', "");
        assert_eq!(AAGUID.to_vec(), hex(&uuid));
    }

    #[test]
    fn assertion_authenticator_data_layout() {
        let data = authenticator_data("example.com", flags::UP | flags::BE, 0, None).unwrap();
        assert_eq!(data.len(), 37);
        assert_eq!(data[..32], rp_id_hash("example.com"));
        assert_eq!(
            data[..32],
            hex("a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947")[..],
            "SHA-256(\"example.com\")"
        );
        assert_eq!(data[32], 0x09);
        assert_eq!(data[33..], [0, 0, 0, 0]);
        let counted =
            authenticator_data("example.com", flags::UP | flags::AT, 0x0102_0304, None).unwrap();
        assert_eq!(
            counted[32],
            flags::UP,
            "AT only with attested credential data"
        );
        assert_eq!(counted[33..], [1, 2, 3, 4]);
    }

    #[test]
    fn rejects_bad_credential_ids() {
        let key = CoseKey {
            x: [0; 32],
            y: [0; 32],
        };
        for id in [vec![], vec![0; 1024]] {
            let attested = AttestedCredentialData {
                aaguid: AAGUID,
                credential_id: &id,
                public_key: &key,
            };
            assert_eq!(
                authenticator_data("a", 0, 0, Some(&attested)).unwrap_err(),
                AuthenticatorError::InvalidCredentialId(id.len())
            );
        }
    }

    /// WebAuthn L3 §16 test vectors. For each registration, the private key, AAGUID, credential
    /// id and flags of the vector must reproduce the vector's attestation object byte for byte
    /// (COSE key encoding, authenticator data layout, canonical CBOR).
    #[test]
    fn reproduces_spec_none_es256_attestation_objects() {
        // (name, private key, aaguid, credential id, flags byte, attestationObject)
        let vectors = [
            (
                "none.ES256 (example-0acd8a1f)",
                "6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee",
                "8446ccb9ab1db374750b2367ff6f3a1f",
                "f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4",
                0x59,
                "a363666d74646e6f6e656761747453746d74a068617574684461746158a4bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b559000000008446ccb9ab1db374750b2367ff6f3a1f0020f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220",
            ),
            (
                "none.ES256.topOrigin (example-2a557330)",
                "a2d6de40ab974b80d8c1ef78c6d4300097754f7e016afe7f8ea0ad9798b0d420",
                "97586fd09799a76401c200455099ef2a",
                "b8ad59b996047ab18e2ceb57206c362da57458793481f4a8ebf101c7ca7cc0f1",
                0x41,
                "a363666d74646e6f6e656761747453746d74a068617574684461746158a4bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b5410000000097586fd09799a76401c200455099ef2a0020b8ad59b996047ab18e2ceb57206c362da57458793481f4a8ebf101c7ca7cc0f1a5010203262001215820a1c47c1d82da4ebe82cd72207102b380670701993bc35398ae2e5726427fe01d22582086c1080d82987028c7f54ecb1b01185de243b359294a0ed210cd47480f0adc88",
            ),
        ];
        for (name, key, aaguid, credential_id, flags_byte, expected) in vectors {
            let key = PrivateKey::from_scalar_bytes(&hex(key)).unwrap();
            let cose = key.cose_key();
            let credential_id = hex(credential_id);
            let attested = AttestedCredentialData {
                aaguid: hex(aaguid).try_into().unwrap(),
                credential_id: &credential_id,
                public_key: &cose,
            };
            let auth_data =
                authenticator_data("example.org", flags_byte, 0, Some(&attested)).unwrap();
            let object = attestation_object_none(&auth_data);
            assert_eq!(object, hex(expected), "{name}");
        }
    }

    /// WebAuthn L3 §16 "none.ES256" authentication (example-6179f191): the vector's signature
    /// verifies with the public key derived from the vector's private key, over
    /// `authenticatorData || SHA-256(clientDataJSON)`; and the authenticator data is what
    /// [`authenticator_data`] builds for its flags.
    #[test]
    fn spec_none_es256_assertion_verifies() {
        let key = PrivateKey::from_scalar_bytes(&hex(
            "6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee",
        ))
        .unwrap();
        let auth_data =
            hex("bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b51900000000");
        assert_eq!(
            authenticator_data("example.org", 0x19, 0, None).unwrap(),
            auth_data
        );
        let client_data = hex("7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a224f63446e55685158756c5455506f334a5558543049393770767a7a59425039745a63685879617630314167222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73657d");
        let signature = hex("3046022100f50a4e2e4409249c4a853ba361282f09841df4dd4547a13a87780218deffcd380221008480ac0f0b93538174f575bf11a1dd5d78c6e486013f937295ea13653e331e87");
        let mut message = auth_data.clone();
        message.extend_from_slice(&Sha256::digest(&client_data));
        let vk = VerifyingKey::from_sec1_bytes(&key.public_key_sec1_uncompressed()).unwrap();
        vk.verify(&message, &Signature::from_der(&signature).unwrap())
            .unwrap();
        // And our own signature over the same message verifies too.
        vk.verify(&message, &Signature::from_der(&key.sign(&message)).unwrap())
            .unwrap();
        // A one-bit change in the client data does not.
        let mut tampered = auth_data;
        tampered.extend_from_slice(&Sha256::digest(b"{}"));
        assert!(vk
            .verify(&tampered, &Signature::from_der(&signature).unwrap())
            .is_err());
    }

    #[test]
    fn credential_ids_are_sixteen_random_bytes() {
        let mut rng = crate::rng::TestRng::new(9);
        let a = new_credential_id(&mut rng).unwrap();
        let b = new_credential_id(&mut rng).unwrap();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
    }
}
