//! The credential private key: ES256 ([RFC 9053 §2.1](https://www.rfc-editor.org/rfc/rfc9053#section-2.1),
//! ECDSA on P-256 with SHA-256) over RustCrypto's `p256`, and its storage form, PKCS#8
//! ([RFC 5958](https://www.rfc-editor.org/rfc/rfc5958)) wrapping an `ECPrivateKey`
//! ([RFC 5915](https://www.rfc-editor.org/rfc/rfc5915)), the form WebCrypto's `exportKey("pkcs8")`
//! and the FIDO Credential Exchange Format use.
//!
//! The DER is written from a fixed template and read by a small strict reader, so no ASN.1
//! dependency reaches the wasm build.

use crate::cose::CoseKey;
use crate::rng::{Rng, RngError};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{Field, Group, PrimeField};
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, SecretKey};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// A failure to create, load or use a private key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// The random source failed while generating a key.
    #[error(transparent)]
    Rng(#[from] RngError),
    /// The random source kept producing invalid scalars (it is broken).
    #[error("the random source produced no valid P-256 scalar")]
    NoValidScalar,
    /// The PKCS#8 document is not well-formed DER of the expected shape.
    #[error("malformed PKCS#8 private key: {0}")]
    MalformedPkcs8(&'static str),
    /// The PKCS#8 document is for another algorithm or curve.
    #[error("the PKCS#8 private key is not an EC P-256 key")]
    WrongAlgorithm,
    /// The private scalar is zero or not below the group order.
    #[error("the private key is not a valid P-256 scalar")]
    InvalidScalar,
    /// The embedded public key does not belong to the private key.
    #[error("the PKCS#8 public key does not match the private key")]
    PublicKeyMismatch,
}

/// `id-ecPublicKey` (1.2.840.10045.2.1), DER content bytes.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `prime256v1` / `secp256r1` (1.2.840.10045.3.1.7), DER content bytes.
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// `SubjectPublicKeyInfo` ([RFC 5480](https://www.rfc-editor.org/rfc/rfc5480)) header for an
/// uncompressed P-256 point: SEQUENCE { SEQUENCE { ecPublicKey, prime256v1 }, BIT STRING (0 unused) }.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// PKCS#8 v1 header up to the private scalar:
/// SEQUENCE(135) { INTEGER 0, AlgorithmIdentifier { ecPublicKey, prime256v1 },
/// OCTET STRING(109) { ECPrivateKey SEQUENCE(107) { INTEGER 1, OCTET STRING(32) …
const PKCS8_PREFIX: [u8; 36] = [
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02,
    0x01, 0x01, 0x04, 0x20,
];
/// … then `[1] { BIT STRING (0 unused) 04 || x || y } } }`.
const PKCS8_PUBLIC_KEY_HEADER: [u8; 5] = [0xa1, 0x44, 0x03, 0x42, 0x00];
/// Length of the PKCS#8 document [`PrivateKey::to_pkcs8_der`] writes.
pub const PKCS8_LEN: usize = PKCS8_PREFIX.len() + 32 + PKCS8_PUBLIC_KEY_HEADER.len() + 65;

/// A P-256 private key for ES256. The scalar is zeroized on drop (by `p256`'s `SecretKey`), and
/// `Debug` prints no key material.
///
/// The public key (one scalar multiplication) is derived on first use and then kept: unlocking a
/// vault of thousands of passkeys does not pay for keys it never uses, and signing with a
/// [`SignatureNonce`] ([`PrivateKey::sign_with_nonce`]) needs no public key at all.
#[derive(Clone)]
pub struct PrivateKey {
    secret: SecretKey,
    public: OnceLock<AffinePoint>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl PrivateKey {
    /// Generates a key from 32 bytes of `rng`, drawing again if they are not a valid scalar
    /// (probability about 2^-32 per draw).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the random source fails; [`CryptoError::NoValidScalar`] if 64
    /// draws in a row are invalid.
    pub fn from_random_bytes(rng: &mut impl Rng) -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        for _ in 0..64 {
            rng.fill_bytes(bytes.as_mut_slice())?;
            if let Ok(key) = Self::from_scalar_bytes(bytes.as_slice()) {
                return Ok(key);
            }
        }
        Err(CryptoError::NoValidScalar)
    }

    /// A key from its 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`CryptoError::InvalidScalar`] unless `bytes` is exactly 32 bytes encoding a scalar in `[1, n)`.
    pub fn from_scalar_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            // `SigningKey::from_slice` would zero-pad shorter input.
            return Err(CryptoError::InvalidScalar);
        }
        SecretKey::from_slice(bytes)
            .map(|secret| Self {
                secret,
                public: OnceLock::new(),
            })
            .map_err(|_| CryptoError::InvalidScalar)
    }

    /// The public point, derived on first use.
    fn public_point(&self) -> &AffinePoint {
        self.public
            .get_or_init(|| *self.secret.public_key().as_affine())
    }

    /// Derives the public key now (one scalar multiplication) if it is not yet, so a later
    /// [`PrivateKey::cose_key`] or [`PrivateKey::public_key_spki_der`] is cheap.
    pub fn derive_public_key(&self) {
        self.public_point();
    }

    /// `p256`'s signing key for this scalar (derives the public key again: a scalar multiplication).
    fn signing_key(&self) -> SigningKey {
        SigningKey::from(&self.secret)
    }

    /// Signs `message` with ES256: ECDSA P-256 over SHA-256(`message`), with the deterministic
    /// nonce of [RFC 6979](https://www.rfc-editor.org/rfc/rfc6979), DER-encoded as WebAuthn's
    /// [ES256 signature format](https://www.w3.org/TR/webauthn-3/#sctn-signature-attestation-types)
    /// requires. The reference path (known answers, tests): assertions are signed with
    /// [`PrivateKey::sign_with_nonce`], which does the scalar multiplication ahead of the request.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        // Signed as the fixed `r || s` form and DER-encoded here rather than through `p256`'s
        // `DerSignature`: that path links the `der` crate and its error formatting (`expect`) into the
        // wasm (about 10 KB of module); the bytes are the same (see the tests).
        let signature: Signature = self.signing_key().sign(message);
        let (r, s) = signature.split_bytes();
        der_ecdsa_signature(&r, &s)
    }

    /// Signs `message` with ES256 (ECDSA P-256 over SHA-256(`message`), DER-encoded like
    /// [`PrivateKey::sign`]) using a per-message secret drawn ahead ([`SignatureNonce`]): only
    /// `s = k⁻¹(z + r·d) mod n` is left to do, a few scalar multiplications modulo `n`
    /// ([FIPS 186-5 §6.4.1](https://doi.org/10.6028/NIST.FIPS.186-5) step 5–6).
    ///
    /// The nonce is consumed (and zeroized) whatever happens. `None` when `s` came out zero
    /// (probability about 2⁻²⁵⁶): sign again with another nonce, as FIPS 186-5 requires.
    #[must_use]
    pub fn sign_with_nonce(&self, message: &[u8], nonce: SignatureNonce) -> Option<Vec<u8>> {
        let digest = Sha256::digest(message);
        // z: the leftmost 256 bits of the hash (all of them for SHA-256), reduced modulo n.
        let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(<[u8; 32]>::from(digest)));
        let mut d: Scalar = *self.secret.to_nonzero_scalar();
        let s = nonce.k_inv * (z + nonce.r * d);
        d.zeroize();
        if bool::from(s.is_zero()) {
            return None;
        }
        Some(der_ecdsa_signature(&nonce.r.to_repr(), &s.to_repr()))
    }

    /// The public key as an uncompressed SEC1 point `04 || x || y`.
    #[must_use]
    pub fn public_key_sec1_uncompressed(&self) -> [u8; 65] {
        // Written from the affine coordinates rather than through `to_sec1_point`: `EncodedPoint`'s
        // accessors `expect` a valid tag, which links `sec1`'s and `der`'s error formatting into the
        // wasm (about 8 KB of module).
        let point = self.public_point();
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&point.x());
        out[33..].copy_from_slice(&point.y());
        out
    }

    /// The public key as a DER `SubjectPublicKeyInfo` (91 bytes), the form of
    /// [`getPublicKey()`](https://www.w3.org/TR/webauthn-3/#dom-authenticatorattestationresponse-getpublickey).
    #[must_use]
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SPKI_PREFIX.len() + 65);
        out.extend_from_slice(&SPKI_PREFIX);
        out.extend_from_slice(&self.public_key_sec1_uncompressed());
        out
    }

    /// The public key as a COSE EC2 key for ES256.
    #[must_use]
    pub fn cose_key(&self) -> CoseKey {
        let point = self.public_key_sec1_uncompressed();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&point[1..33]);
        y.copy_from_slice(&point[33..65]);
        CoseKey { x, y }
    }

    /// PKCS#8 v1 DER with the public key inside the `ECPrivateKey` (138 bytes; the same bytes as
    /// WebCrypto's `exportKey("pkcs8")`).
    #[must_use]
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(PKCS8_LEN));
        out.extend_from_slice(&PKCS8_PREFIX);
        let mut scalar = self.secret.to_bytes();
        out.extend_from_slice(scalar.as_slice());
        scalar.as_mut_slice().zeroize();
        out.extend_from_slice(&PKCS8_PUBLIC_KEY_HEADER);
        out.extend_from_slice(&self.public_key_sec1_uncompressed());
        out
    }

    /// Reads a PKCS#8 (v1 or v2) EC P-256 private key. Accepts the optional `parameters` and
    /// `publicKey` fields of `ECPrivateKey` (checking that they match) and ignores PKCS#8
    /// attributes; anything else is an error, never a panic.
    ///
    /// # Errors
    /// A [`CryptoError`] naming what is wrong.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let (key, public_key) = Self::parse_pkcs8_der(der)?;
        if let Some(point) = public_key {
            if point != key.public_key_sec1_uncompressed().as_slice() {
                return Err(CryptoError::PublicKeyMismatch);
            }
        }
        Ok(key)
    }

    /// [`PrivateKey::from_pkcs8_der`] for a document this code wrote and an authenticated
    /// encryption has vouched for since (a vault entry): the same strict parse, but the embedded
    /// public key is not re-derived now (a scalar multiplication per key), so loading stays cheap.
    /// The key derives its public key on first use, as any other.
    ///
    /// # Errors
    /// As [`PrivateKey::from_pkcs8_der`], except [`CryptoError::PublicKeyMismatch`].
    pub fn from_trusted_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::parse_pkcs8_der(der).map(|(key, _)| key)
    }

    /// The key and the embedded public point (`04 || x || y`), if any.
    fn parse_pkcs8_der(der: &[u8]) -> Result<(Self, Option<&[u8]>), CryptoError> {
        let mut outer = DerReader::new(der);
        let mut info = DerReader::new(outer.expect(TAG_SEQUENCE)?);
        outer.finish()?;

        let version = info.expect(TAG_INTEGER)?;
        if version != [0] && version != [1] {
            return Err(CryptoError::MalformedPkcs8("unsupported PKCS#8 version"));
        }
        let mut algorithm = DerReader::new(info.expect(TAG_SEQUENCE)?);
        if algorithm.expect(TAG_OID)? != OID_EC_PUBLIC_KEY {
            return Err(CryptoError::WrongAlgorithm);
        }
        if algorithm.expect(TAG_OID)? != OID_P256 {
            return Err(CryptoError::WrongAlgorithm);
        }
        algorithm.finish()?;
        let mut ec = DerReader::new(info.expect(TAG_OCTET_STRING)?);
        // Optional attributes [0] and (v2) publicKey [1] may follow; they must be well-formed.
        while !info.is_empty() {
            let (tag, _) = info.next()?;
            if tag != 0xa0 && tag != 0x80 && tag != 0xa1 && tag != 0x81 {
                return Err(CryptoError::MalformedPkcs8(
                    "unexpected field after the private key",
                ));
            }
        }

        let mut ec_key = DerReader::new(ec.expect(TAG_SEQUENCE)?);
        ec.finish()?;
        if ec_key.expect(TAG_INTEGER)? != [1] {
            return Err(CryptoError::MalformedPkcs8("ECPrivateKey version is not 1"));
        }
        let scalar = ec_key.expect(TAG_OCTET_STRING)?;
        if scalar.len() != 32 {
            return Err(CryptoError::MalformedPkcs8(
                "the private scalar is not 32 bytes",
            ));
        }
        let key = Self::from_scalar_bytes(scalar)?;
        let mut public_key = None;
        if ec_key.peek_tag() == Some(0xa0) {
            let mut params = DerReader::new(ec_key.expect(0xa0)?);
            if params.expect(TAG_OID)? != OID_P256 {
                return Err(CryptoError::WrongAlgorithm);
            }
            params.finish()?;
        }
        if ec_key.peek_tag() == Some(0xa1) {
            let mut wrapper = DerReader::new(ec_key.expect(0xa1)?);
            public_key = Some(wrapper.expect(TAG_BIT_STRING)?);
            wrapper.finish()?;
        }
        ec_key.finish()?;
        let point = match public_key {
            Some(bits) => {
                let (unused, point) = bits
                    .split_first()
                    .ok_or(CryptoError::MalformedPkcs8("empty public key bit string"))?;
                if *unused != 0 || point.len() != 65 || point.first() != Some(&0x04) {
                    return Err(CryptoError::PublicKeyMismatch);
                }
                Some(point)
            }
            None => None,
        };
        Ok((key, point))
    }
}

/// A per-message secret for one ECDSA P-256 signature, computed ahead of the request that uses it
/// ("offline/online" ECDSA): `k` is uniformly random in `[1, n)` by rejection sampling
/// ([FIPS 186-5 §6.4.2](https://doi.org/10.6028/NIST.FIPS.186-5), "Per-Message Secret Number
/// Generation"), and what is kept is `k⁻¹ mod n` and `r = x(k·G) mod n`, so the signature costs no
/// scalar multiplication of a point.
///
/// Used at most once: [`PrivateKey::sign_with_nonce`] takes it by value. Zeroized on drop (`k⁻¹`
/// reveals the private key together with the signature it made); `Debug` prints no bytes. Not
/// `Clone`.
pub struct SignatureNonce {
    k_inv: Scalar,
    r: Scalar,
}

impl SignatureNonce {
    /// Draws `k` from `rng` (again when it is not in `[1, n)`, probability about 2⁻³² per draw, or
    /// when `r` is zero) and computes `k·G`.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the random source fails; [`CryptoError::NoValidScalar`] if 64 draws
    /// in a row give no usable `k`.
    pub fn generate(rng: &mut impl Rng) -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        for _ in 0..64 {
            rng.fill_bytes(bytes.as_mut_slice())?;
            let candidate: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*bytes)).into();
            let Some(mut k) = candidate else { continue };
            let nonce = Self::from_k(&k);
            k.zeroize();
            if let Some(nonce) = nonce {
                return Ok(nonce);
            }
        }
        Err(CryptoError::NoValidScalar)
    }

    /// `(k⁻¹, x(k·G) mod n)`; `None` for `k = 0` or `r = 0`.
    fn from_k(k: &Scalar) -> Option<Self> {
        let k_inv: Option<Scalar> = k.invert().into();
        let point = ProjectivePoint::mul_by_generator(k).to_affine();
        Self::from_parts(k_inv?, <Scalar as Reduce<FieldBytes>>::reduce(&point.x()))
    }

    /// Refuses `r = 0` (FIPS 186-5 §6.4.1 step 4: draw another `k`).
    fn from_parts(mut k_inv: Scalar, r: Scalar) -> Option<Self> {
        if bool::from(r.is_zero()) {
            k_inv.zeroize();
            return None;
        }
        Some(Self { k_inv, r })
    }

    /// Moves the secret out, leaving zeros behind (a slot in a pool's buffer keeps no copy).
    #[must_use]
    pub fn take(&mut self) -> Self {
        let taken = Self {
            k_inv: self.k_inv,
            r: self.r,
        };
        self.zeroize();
        taken
    }
}

impl Zeroize for SignatureNonce {
    fn zeroize(&mut self) {
        self.k_inv.zeroize();
        self.r.zeroize();
    }
}

impl Drop for SignatureNonce {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl std::fmt::Debug for SignatureNonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignatureNonce(..)")
    }
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`
/// ([RFC 3279 §2.2.3](https://www.rfc-editor.org/rfc/rfc3279#section-2.2.3)) in DER, from the
/// big-endian 32-byte `r` and `s`: each INTEGER minimal (leading zero bytes dropped) and positive (a
/// zero byte prepended when the high bit is set). At most 72 bytes, so every length is one byte.
fn der_ecdsa_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, bytes: &[u8]) {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let magnitude = bytes.get(start..).unwrap_or_default();
        let pad = magnitude.first().is_none_or(|&b| b & 0x80 != 0);
        out.push(TAG_INTEGER);
        // r and s are 32 bytes: the content is at most 33 bytes, a short-form length.
        out.push((magnitude.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(magnitude);
    }
    let mut body = Vec::with_capacity(72);
    integer(&mut body, r);
    integer(&mut body, s);
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(TAG_SEQUENCE);
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    out
}

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// A strict DER reader: single-byte tags, definite minimal lengths, no reading past the end.
struct DerReader<'a> {
    rest: &'a [u8],
}

impl<'a> DerReader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn next(&mut self) -> Result<(u8, &'a [u8]), CryptoError> {
        let truncated = CryptoError::MalformedPkcs8("truncated");
        let (&tag, rest) = self.rest.split_first().ok_or(truncated.clone())?;
        if tag & 0x1f == 0x1f {
            return Err(CryptoError::MalformedPkcs8(
                "multi-byte tags are not used here",
            ));
        }
        let (&first, rest) = rest.split_first().ok_or(truncated.clone())?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81 => {
                let (&n, rest) = rest.split_first().ok_or(truncated.clone())?;
                if n < 0x80 {
                    return Err(CryptoError::MalformedPkcs8("non-minimal length"));
                }
                (usize::from(n), rest)
            }
            0x82 => {
                let bytes = rest.get(..2).ok_or(truncated.clone())?;
                let n = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
                if n < 0x100 {
                    return Err(CryptoError::MalformedPkcs8("non-minimal length"));
                }
                (n, &rest[2..])
            }
            _ => return Err(CryptoError::MalformedPkcs8("unsupported length form")),
        };
        let content = rest.get(..len).ok_or(truncated)?;
        self.rest = &rest[len..];
        Ok((tag, content))
    }

    fn expect(&mut self, tag: u8) -> Result<&'a [u8], CryptoError> {
        match self.next()? {
            (t, content) if t == tag => Ok(content),
            _ => Err(CryptoError::MalformedPkcs8("unexpected tag")),
        }
    }

    fn finish(&self) -> Result<(), CryptoError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(CryptoError::MalformedPkcs8("trailing data"))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::rng::TestRng;
    use crate::test_hex::{from_hex as hex, to_hex};
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    /// The "none.ES256" credential private key from WebAuthn L3 §16 test vectors.
    const SPEC_KEY: &str = "6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee";

    #[test]
    fn trusted_pkcs8_defers_the_public_key_check() {
        let key = PrivateKey::from_random_bytes(&mut TestRng::new(3)).unwrap();
        let der = key.to_pkcs8_der();
        let lazy = PrivateKey::from_trusted_pkcs8_der(&der).unwrap();
        // Signing derives the key on first use: the signature verifies under the stored public key.
        let sig = Signature::from_der(&lazy.sign(b"hello")).unwrap();
        let vk = VerifyingKey::from_sec1_bytes(&key.public_key_sec1_uncompressed()).unwrap();
        vk.verify(b"hello", &sig).unwrap();
        assert_eq!(
            lazy.public_key_sec1_uncompressed(),
            key.public_key_sec1_uncompressed()
        );
        // An embedded public key of another scalar: only the strict parse notices.
        let mut other = der.to_vec();
        let last = other.len() - 1;
        other[last] ^= 1;
        assert_eq!(
            PrivateKey::from_pkcs8_der(&other).unwrap_err(),
            CryptoError::PublicKeyMismatch
        );
        assert!(PrivateKey::from_trusted_pkcs8_der(&other).is_ok());
        // Its form is still checked.
        let mut short = der.to_vec();
        short.truncate(PKCS8_LEN - 1);
        assert!(PrivateKey::from_trusted_pkcs8_der(&short).is_err());
    }

    #[test]
    fn signature_der_matches_p256s_encoder() {
        // The hand-written encoding gives the bytes `p256`'s `DerSignature` gives, over enough
        // signatures that r or s with leading zero bytes and with the high bit set all occur.
        let mut rng = TestRng::new(7);
        let (mut leading_zero, mut high_bit) = (0, 0);
        for i in 0u32..3000 {
            let key = PrivateKey::from_random_bytes(&mut rng).unwrap();
            let message = i.to_be_bytes();
            let fixed: Signature = key.signing_key().sign(&message);
            let expected: p256::ecdsa::DerSignature = key.signing_key().sign(&message);
            assert_eq!(key.sign(&message), expected.as_bytes(), "message {i}");
            let (r, s) = fixed.split_bytes();
            for part in [&r, &s] {
                leading_zero += usize::from(part[0] == 0);
                high_bit += usize::from(part[0] & 0x80 != 0);
            }
        }
        assert!(
            leading_zero > 0 && high_bit > 0,
            "{leading_zero} {high_bit}"
        );
    }

    #[test]
    fn signature_der_edge_cases() {
        let mut r = [0u8; 32];
        r[31] = 1;
        let mut s = [0xffu8; 32];
        s[0] = 0x80;
        let der = der_ecdsa_signature(&r, &s);
        let mut expected = vec![0x30, 3 + 35, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00];
        expected.extend_from_slice(&s);
        assert_eq!(der, expected);
        // A high bit after dropped zero bytes is padded again; the longest form is 72 bytes.
        r[30] = 0x80;
        assert_eq!(
            &der_ecdsa_signature(&r, &r)[..6],
            &[0x30, 10, 0x02, 0x03, 0x00, 0x80]
        );
        assert_eq!(der_ecdsa_signature(&s, &s).len(), 72);
    }

    #[test]
    fn sign_verifies_and_is_deterministic() {
        let key = PrivateKey::from_random_bytes(&mut TestRng::new(1)).unwrap();
        let sig = key.sign(b"hello");
        assert_eq!(sig, key.sign(b"hello"), "RFC 6979 nonces are deterministic");
        let vk = VerifyingKey::from_sec1_bytes(&key.public_key_sec1_uncompressed()).unwrap();
        let parsed = Signature::from_der(&sig).unwrap();
        vk.verify(b"hello", &parsed).unwrap();
        assert!(vk.verify(b"hellO", &parsed).is_err());
    }

    #[test]
    fn public_key_forms() {
        let key = PrivateKey::from_scalar_bytes(&hex(SPEC_KEY)).unwrap();
        let point = key.public_key_sec1_uncompressed();
        assert_eq!(point[0], 4);
        let spki = key.public_key_spki_der();
        assert_eq!(spki.len(), 91);
        assert_eq!(&spki[..26], &SPKI_PREFIX);
        assert_eq!(&spki[26..], &point);
        let cose = key.cose_key();
        assert_eq!(&cose.x, &point[1..33]);
        assert_eq!(&cose.y, &point[33..]);
        // From the spec vector's attested credential data.
        assert_eq!(
            to_hex(&cose.x),
            "afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61"
        );
        assert_eq!(
            to_hex(&cose.y),
            "930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220"
        );
    }

    #[test]
    fn invalid_scalars_are_rejected() {
        assert_eq!(
            PrivateKey::from_scalar_bytes(&[0; 32]).unwrap_err(),
            CryptoError::InvalidScalar
        );
        assert_eq!(
            PrivateKey::from_scalar_bytes(&[0xff; 32]).unwrap_err(),
            CryptoError::InvalidScalar
        );
        assert_eq!(
            PrivateKey::from_scalar_bytes(&[1; 31]).unwrap_err(),
            CryptoError::InvalidScalar
        );
        assert_eq!(
            PrivateKey::from_scalar_bytes(&[1; 24]).unwrap_err(),
            CryptoError::InvalidScalar
        );
        assert_eq!(
            PrivateKey::from_scalar_bytes(&[1; 33]).unwrap_err(),
            CryptoError::InvalidScalar
        );
        // n - 1 is the largest valid scalar, n is not.
        let n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        assert_eq!(
            PrivateKey::from_scalar_bytes(&n).unwrap_err(),
            CryptoError::InvalidScalar
        );
        let mut n_minus_1 = n;
        n_minus_1[31] -= 1;
        assert!(PrivateKey::from_scalar_bytes(&n_minus_1).is_ok());
    }

    struct ConstRng(u8);
    impl Rng for ConstRng {
        fn fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), RngError> {
            buf.fill(self.0);
            Ok(())
        }
    }
    struct FailingRng;
    impl Rng for FailingRng {
        fn fill_bytes(&mut self, _: &mut [u8]) -> Result<(), RngError> {
            Err(RngError::Os("no entropy".into()))
        }
    }

    #[test]
    fn generation_reports_broken_random_sources() {
        assert_eq!(
            PrivateKey::from_random_bytes(&mut ConstRng(0)).unwrap_err(),
            CryptoError::NoValidScalar
        );
        assert_eq!(
            PrivateKey::from_random_bytes(&mut ConstRng(0xff)).unwrap_err(),
            CryptoError::NoValidScalar
        );
        assert!(matches!(
            PrivateKey::from_random_bytes(&mut FailingRng).unwrap_err(),
            CryptoError::Rng(_)
        ));
        assert!(PrivateKey::from_random_bytes(&mut ConstRng(7)).is_ok());
    }

    /// PKCS#8 of the spec key as exported by Node.js 20, both through OpenSSL 3
    /// (`crypto.createPrivateKey({format: "jwk", …}).export({type: "pkcs8", format: "der"})`) and
    /// through WebCrypto (`crypto.subtle.exportKey("pkcs8", key)`): the same 138 bytes.
    const SPEC_KEY_PKCS8_OPENSSL: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104206e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2eea14403420004afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220";

    #[test]
    fn pkcs8_round_trip_and_matches_openssl() {
        let key = PrivateKey::from_scalar_bytes(&hex(SPEC_KEY)).unwrap();
        let der = key.to_pkcs8_der();
        assert_eq!(der.len(), PKCS8_LEN);
        assert_eq!(to_hex(&der), SPEC_KEY_PKCS8_OPENSSL);
        let back = PrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(
            back.public_key_sec1_uncompressed(),
            key.public_key_sec1_uncompressed()
        );
    }

    #[test]
    fn pkcs8_variants_are_accepted() {
        let key = PrivateKey::from_scalar_bytes(&hex(SPEC_KEY)).unwrap();
        // Without the public key (RFC 5915 minimal form).
        let minimal = hex(&format!(
            "3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420{SPEC_KEY}"
        ));
        let loaded = PrivateKey::from_pkcs8_der(&minimal).unwrap();
        assert_eq!(
            loaded.public_key_sec1_uncompressed(),
            key.public_key_sec1_uncompressed()
        );
        // With the curve repeated in [0] parameters.
        let with_params = hex(&format!(
            "304d020100301306072a8648ce3d020106082a8648ce3d0301070433303102010104 20{SPEC_KEY} a00a06082a8648ce3d030107"
        ));
        assert!(PrivateKey::from_pkcs8_der(&with_params).is_ok());
    }

    #[test]
    fn malformed_pkcs8_is_a_typed_error_never_a_panic() {
        let good = PrivateKey::from_scalar_bytes(&hex(SPEC_KEY))
            .unwrap()
            .to_pkcs8_der();
        // Every truncation and every single-byte corruption must return (not panic).
        for len in 0..good.len() {
            assert!(
                PrivateKey::from_pkcs8_der(&good[..len]).is_err(),
                "truncated to {len}"
            );
        }
        let public = PrivateKey::from_pkcs8_der(&good)
            .unwrap()
            .public_key_sec1_uncompressed();
        for i in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = good.to_vec();
                bad[i] ^= flip;
                // The only accepted corruption is version 0 -> 1 (PKCS#8 v2), which is the same key;
                // a flipped scalar or point is caught by the public key check.
                if let Ok(key) = PrivateKey::from_pkcs8_der(&bad) {
                    assert_eq!((i, flip), (5, 0x01));
                    assert_eq!(key.public_key_sec1_uncompressed(), public);
                }
            }
        }
        let mut trailing = good.to_vec();
        trailing.push(0);
        assert!(PrivateKey::from_pkcs8_der(&trailing).is_err());
        assert!(PrivateKey::from_pkcs8_der(&[]).is_err());
        assert!(PrivateKey::from_pkcs8_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());

        // An Ed25519 PKCS#8 key (RFC 8410 §10.3 example) is the wrong algorithm.
        let ed25519 =
            hex("302e020100300506032b657004220420d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842");
        assert!(PrivateKey::from_pkcs8_der(&ed25519).is_err());
        // Another curve (P-384 OID) is the wrong algorithm.
        let mut p384 = good.to_vec();
        p384[19..27].copy_from_slice(&[0x2b, 0x81, 0x04, 0x00, 0x22, 0x00, 0x00, 0x00]);
        assert!(PrivateKey::from_pkcs8_der(&p384).is_err());
        // A public key of another private key.
        let other = PrivateKey::from_random_bytes(&mut TestRng::new(3)).unwrap();
        let mut mismatched = good.to_vec();
        mismatched[PKCS8_LEN - 65..].copy_from_slice(&other.public_key_sec1_uncompressed());
        assert_eq!(
            PrivateKey::from_pkcs8_der(&mismatched).unwrap_err(),
            CryptoError::PublicKeyMismatch
        );
    }

    /// A nonce made from a given `k` (the known-answer vectors fix it).
    fn nonce_from_hex(k: &str) -> SignatureNonce {
        let k = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(
            <[u8; 32]>::try_from(hex(k)).unwrap(),
        )))
        .unwrap();
        SignatureNonce::from_k(&k).unwrap()
    }

    /// RFC 6979 §A.2.5 (P-256, SHA-256): with the vector's `k`, the precomputed-nonce signature
    /// is the vector's `(r, s)` byte for byte; and it is what `p256`'s RFC 6979 signer gives.
    #[test]
    fn nonce_signatures_match_rfc_6979_vectors() {
        let key = PrivateKey::from_scalar_bytes(&hex(
            "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        ))
        .unwrap();
        let vectors = [
            (
                "sample",
                "a6e3c57dd01abe90086538398355dd4c3b17aa873382b0f24d6129493d8aad60",
                "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
                "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
            ),
            (
                "test",
                "d16b6ae827f17175e040871a1c7ec3500192c4c92677336ec2537acaee0008e0",
                "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
                "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083",
            ),
        ];
        for (message, k, r, s) in vectors {
            let signature = key
                .sign_with_nonce(message.as_bytes(), nonce_from_hex(k))
                .unwrap();
            assert_eq!(
                signature,
                der_ecdsa_signature(&hex(r), &hex(s)),
                "{message}"
            );
            assert_eq!(signature, key.sign(message.as_bytes()), "{message}");
        }
    }

    #[test]
    fn nonce_signatures_verify_for_random_keys_and_messages() {
        let mut rng = TestRng::new(11);
        let mut rs = std::collections::HashSet::new();
        for i in 0u32..2000 {
            let key = PrivateKey::from_random_bytes(&mut rng).unwrap();
            let mut message = vec![0u8; (i % 300) as usize];
            rng.fill_bytes(&mut message).unwrap();
            let nonce = SignatureNonce::generate(&mut rng).unwrap();
            let signature = key.sign_with_nonce(&message, nonce).unwrap();
            let parsed = Signature::from_der(&signature).unwrap();
            assert_eq!(parsed.to_der().as_bytes(), signature.as_slice(), "DER {i}");
            let vk = VerifyingKey::from_sec1_bytes(&key.public_key_sec1_uncompressed()).unwrap();
            vk.verify(&message, &parsed).unwrap();
            message.push(1);
            assert!(vk.verify(&message, &parsed).is_err(), "message {i}");
            assert!(rs.insert(parsed.split_bytes().0), "r repeats at {i}");
        }
        // One key, one message, two nonces: two different valid signatures.
        let key = PrivateKey::from_random_bytes(&mut rng).unwrap();
        let a = key.sign_with_nonce(b"m", SignatureNonce::generate(&mut rng).unwrap());
        let b = key.sign_with_nonce(b"m", SignatureNonce::generate(&mut rng).unwrap());
        assert_ne!(a, b);
    }

    #[test]
    fn a_zero_r_or_s_asks_for_another_nonce() {
        // r = 0 (x(k·G) ≡ 0 mod n has no known k): refused where it is checked.
        assert!(SignatureNonce::from_parts(Scalar::ONE, Scalar::ZERO).is_none());
        assert!(SignatureNonce::from_k(&Scalar::ZERO).is_none());
        // s = 0: the key d = -z/r makes z + r·d = 0 for this nonce and message.
        let nonce = SignatureNonce::generate(&mut TestRng::new(5)).unwrap();
        let digest = Sha256::digest(b"zero");
        let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(<[u8; 32]>::from(digest)));
        let r_inv = Option::<Scalar>::from(nonce.r.invert()).unwrap();
        let d = -(z * r_inv);
        let key = PrivateKey::from_scalar_bytes(&d.to_repr()).unwrap();
        assert_eq!(key.sign_with_nonce(b"zero", nonce), None);
        // Any other message signs normally with that key.
        let other = SignatureNonce::generate(&mut TestRng::new(6)).unwrap();
        assert!(key.sign_with_nonce(b"nonzero", other).is_some());
    }

    #[test]
    fn a_taken_nonce_leaves_zeros_and_debug_shows_nothing() {
        let mut slot = SignatureNonce::generate(&mut TestRng::new(8)).unwrap();
        let (k_inv, r) = (slot.k_inv, slot.r);
        let taken = slot.take();
        assert_eq!((taken.k_inv, taken.r), (k_inv, r));
        assert!(bool::from(slot.k_inv.is_zero()) && bool::from(slot.r.is_zero()));
        let debug = format!("{taken:?} {taken:#?}");
        assert_eq!(debug, "SignatureNonce(..) SignatureNonce(..)");
        // The random source failing is an error, not a nonce.
        struct Broken;
        impl Rng for Broken {
            fn fill_bytes(&mut self, _: &mut [u8]) -> Result<(), RngError> {
                Err(RngError::Os("gone".into()))
            }
        }
        assert!(matches!(
            SignatureNonce::generate(&mut Broken),
            Err(CryptoError::Rng(_))
        ));
        // Nor do out-of-range draws (all ones is above n) ever become one.
        struct Ones;
        impl Rng for Ones {
            fn fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), RngError> {
                buf.fill(0xff);
                Ok(())
            }
        }
        assert_eq!(
            SignatureNonce::generate(&mut Ones).unwrap_err(),
            CryptoError::NoValidScalar
        );
    }

    #[test]
    fn debug_prints_no_key_material() {
        let key = PrivateKey::from_scalar_bytes(&hex(SPEC_KEY)).unwrap();
        let debug = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "PrivateKey(..)");
        assert!(!debug.contains(SPEC_KEY));
        assert!(!debug.contains("6e68e7a5"));
        assert!(
            !debug.to_lowercase().contains("110, 104"),
            "no decimal byte lists either"
        );
    }
}
