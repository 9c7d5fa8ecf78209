//! Base64url without padding ([RFC 4648 §5](https://www.rfc-editor.org/rfc/rfc4648#section-5)), the
//! encoding of every binary member in the WebAuthn L3 JSON forms
//! ([`Base64URLString`](https://www.w3.org/TR/webauthn-3/#typedefdef-base64urlstring)).
//!
//! Decoding is strict: only the URL-safe alphabet, no padding, no whitespace, and the unused low
//! bits of the last character must be zero, so every byte string has exactly one encoding.

use thiserror::Error;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a string is not canonical base64url without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum B64Error {
    /// A character outside `A–Z a–z 0–9 - _` (this includes `=`, `+`, `/` and whitespace).
    #[error("invalid base64url character at position {0}")]
    InvalidCharacter(usize),
    /// The length leaves a single dangling character (length ≡ 1 mod 4).
    #[error("invalid base64url length")]
    InvalidLength,
    /// The last character carries non-zero bits that encode no byte.
    #[error("non-canonical base64url: trailing bits are not zero")]
    NonCanonical,
}

/// Encodes bytes as base64url without padding.
#[must_use]
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// The 6-bit value of every byte, `0xff` where the byte is not in the alphabet (the fast path of
/// [`decode`]: vault entries are mostly base64url, decoded at every unlock).
const DECODE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn value_of(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes base64url without padding.
///
/// # Errors
/// [`B64Error`] for any character outside the URL-safe alphabet (padding included), a length
/// of 1 mod 4, or non-zero trailing bits.
pub fn decode(text: &str) -> Result<Vec<u8>, B64Error> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return Err(B64Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    // Whole groups of four characters through the table; the last partial group below.
    let (whole, rest) = bytes.split_at(bytes.len() / 4 * 4);
    for (chunk_index, chunk) in whole.chunks_exact(4).enumerate() {
        let &[c0, c1, c2, c3] = chunk else {
            continue;
        };
        let v = [c0, c1, c2, c3].map(|c| DECODE[usize::from(c)]);
        if let Some(i) = v.iter().position(|&x| x == 0xff) {
            return Err(B64Error::InvalidCharacter(chunk_index * 4 + i));
        }
        let n = v.iter().fold(0u32, |n, &x| (n << 6) | u32::from(x));
        let [_, b0, b1, b2] = n.to_be_bytes();
        out.extend_from_slice(&[b0, b1, b2]);
    }
    for (chunk_index, chunk) in rest.chunks(4).enumerate() {
        let chunk_index = chunk_index + whole.len() / 4;
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = value_of(c).ok_or(B64Error::InvalidCharacter(chunk_index * 4 + i))?;
            n |= v << (18 - 6 * i);
        }
        let [_, b0, b1, b2] = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&[b0, b1, b2]),
            3 => {
                if b2 != 0 {
                    return Err(B64Error::NonCanonical);
                }
                out.extend_from_slice(&[b0, b1]);
            }
            _ => {
                // Two characters: one byte.
                if b1 != 0 || b2 != 0 {
                    return Err(B64Error::NonCanonical);
                }
                out.push(b0);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rfc4648_vectors_round_trip() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff, 0xfe], "-__-"),
            (&[0, 1, 2, 3], "AAECAw"),
        ];
        for (bytes, text) in cases {
            assert_eq!(encode(bytes), *text);
            assert_eq!(decode(text).unwrap(), *bytes, "{text}");
        }
    }

    #[test]
    fn all_byte_values_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        for len in 0..bytes.len() {
            assert_eq!(decode(&encode(&bytes[..len])).unwrap(), &bytes[..len]);
        }
    }

    #[test]
    fn rejects_padding_standard_alphabet_whitespace_and_bad_lengths() {
        assert_eq!(decode("Zg=="), Err(B64Error::InvalidCharacter(2)));
        assert_eq!(decode("Zm9v+w"), Err(B64Error::InvalidCharacter(4)));
        assert_eq!(decode("Zm9v/w"), Err(B64Error::InvalidCharacter(4)));
        assert_eq!(decode("Zm 9vYg"), Err(B64Error::InvalidCharacter(2)));
        assert_eq!(decode("Zm9v\n"), Err(B64Error::InvalidLength));
        assert_eq!(decode("Zm9\n"), Err(B64Error::InvalidCharacter(3)));
        assert_eq!(decode("Zm9vY"), Err(B64Error::InvalidLength));
        assert_eq!(decode("ü"), Err(B64Error::InvalidCharacter(0)));
        // Positions inside whole groups (the table path) and in the last partial group.
        assert_eq!(decode("Zm9vZm9+"), Err(B64Error::InvalidCharacter(7)));
        assert_eq!(decode("Zm9vZ.9vYg"), Err(B64Error::InvalidCharacter(5)));
        assert_eq!(decode("Zm9vZm9vY."), Err(B64Error::InvalidCharacter(9)));
        assert_eq!(decode("Zm9vZm9vYü"), Err(B64Error::InvalidCharacter(9)));
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        assert_eq!(decode("Zh"), Err(B64Error::NonCanonical));
        assert_eq!(decode("Zm9"), Err(B64Error::NonCanonical));
        assert_eq!(decode("AB"), Err(B64Error::NonCanonical));
    }
}
