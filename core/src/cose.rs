//! [COSE](https://www.rfc-editor.org/rfc/rfc9052) public keys in the form WebAuthn puts into
//! [attested credential data](https://www.w3.org/TR/webauthn-3/#sctn-encoded-credPubKey-examples)
//! (§6.5.1.1 "Examples of credentialPublicKey Values Encoded in COSE_Key Format").

use crate::cbor::Value;

/// [COSE algorithm](https://www.iana.org/assignments/cose/cose.xhtml#algorithms) ES256: ECDSA
/// with SHA-256 (on P-256 for WebAuthn).
pub const ES256: i64 = -7;
/// COSE algorithm RS256: RSASSA-PKCS1-v1_5 with SHA-256 (not supported by this authenticator).
pub const RS256: i64 = -257;
/// COSE algorithm EdDSA (not supported by this authenticator).
pub const EDDSA: i64 = -8;

/// COSE key type EC2 (`kty` = 2).
pub const KTY_EC2: i64 = 2;
/// COSE elliptic curve P-256 (`crv` = 1).
pub const CRV_P256: i64 = 1;

/// An EC2 P-256 public key for ES256: `{1: 2, 3: -7, -1: 1, -2: x, -3: y}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseKey {
    /// The affine x coordinate, big-endian.
    pub x: [u8; 32],
    /// The affine y coordinate, big-endian.
    pub y: [u8; 32],
}

impl CoseKey {
    /// From an uncompressed SEC1 point `0x04 || x || y`; `None` for any other shape.
    #[must_use]
    pub fn from_sec1_uncompressed(point: &[u8]) -> Option<Self> {
        let (&tag, rest) = point.split_first()?;
        if tag != 0x04 || rest.len() != 64 {
            return None;
        }
        let (x, y) = rest.split_at(32);
        Some(Self {
            x: x.try_into().ok()?,
            y: y.try_into().ok()?,
        })
    }

    /// The CBOR value, written in canonical order 1, 3, -1, -2, -3.
    #[must_use]
    pub fn to_cbor_value(&self) -> Value {
        Value::Map(vec![
            (Value::int(1), Value::int(KTY_EC2)),
            (Value::int(3), Value::int(ES256)),
            (Value::int(-1), Value::int(CRV_P256)),
            (Value::int(-2), Value::bytes(self.x.to_vec())),
            (Value::int(-3), Value::bytes(self.y.to_vec())),
        ])
    }

    /// The canonical CBOR encoding (77 bytes).
    #[must_use]
    pub fn to_cbor(&self) -> Vec<u8> {
        self.to_cbor_value().to_vec()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn encodes_in_canonical_order() {
        let key = CoseKey {
            x: [0x11; 32],
            y: [0x22; 32],
        };
        let encoded = key.to_cbor();
        assert_eq!(encoded.len(), 77);
        let mut expected = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        expected.extend_from_slice(&[0x11; 32]);
        expected.extend_from_slice(&[0x22, 0x58, 0x20]);
        expected.extend_from_slice(&[0x22; 32]);
        assert_eq!(encoded, expected);
    }

    #[test]
    fn from_sec1_requires_uncompressed_65_bytes() {
        let mut point = vec![0x04];
        point.extend_from_slice(&[1; 32]);
        point.extend_from_slice(&[2; 32]);
        let key = CoseKey::from_sec1_uncompressed(&point).unwrap();
        assert_eq!(key.x, [1; 32]);
        assert_eq!(key.y, [2; 32]);
        assert!(CoseKey::from_sec1_uncompressed(&point[..64]).is_none());
        point[0] = 0x02;
        assert!(CoseKey::from_sec1_uncompressed(&point).is_none());
        assert!(CoseKey::from_sec1_uncompressed(&[]).is_none());
    }

    #[test]
    fn algorithm_constants() {
        assert_eq!((ES256, RS256, EDDSA), (-7, -257, -8));
    }
}
