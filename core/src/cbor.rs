//! A minimal deterministic CBOR ([RFC 8949](https://www.rfc-editor.org/rfc/rfc8949)) encoder for
//! the structures this authenticator emits (COSE keys, attestation objects), following
//! the [CTAP2 canonical CBOR encoding form](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#ctap2-canonical-cbor-encoding-form)
//! (CTAP "Message Encoding"; unchanged in CTAP 2.2), which WebAuthn requires for the
//! [attestation object](https://www.w3.org/TR/webauthn-3/#sctn-attestation):
//! shortest-form integers and lengths, definite lengths only, and map keys sorted by major type,
//! then by encoded length, then byte-wise.
//!
//! Encoding cannot fail. Duplicate map keys are the caller's bug and are not checked.

/// A CBOR data item (only the kinds WebAuthn needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Major type 0: an unsigned integer.
    Unsigned(u64),
    /// Major type 1: the integer `-1 - n`.
    Negative(u64),
    /// Major type 2: a byte string.
    Bytes(Vec<u8>),
    /// Major type 3: a UTF-8 text string.
    Text(String),
    /// Major type 4: an array.
    Array(Vec<Value>),
    /// Major type 5: a map, written in canonical key order whatever the order here.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// An integer of either sign.
    #[must_use]
    pub fn int(i: i64) -> Self {
        if i >= 0 {
            Self::Unsigned(i.unsigned_abs())
        } else {
            // -1 - n = i  =>  n = -(i + 1) = |i| - 1, which cannot overflow.
            Self::Negative(i.unsigned_abs() - 1)
        }
    }

    /// A text string.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// A byte string.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Self {
        Self::Bytes(b.into())
    }

    /// The canonical encoding.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::Unsigned(n) => head(out, 0, *n),
            Self::Negative(n) => head(out, 1, *n),
            Self::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Self::Text(s) => {
                head(out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Self::Array(items) => {
                head(out, 4, items.len() as u64);
                for item in items {
                    item.encode_into(out);
                }
            }
            Self::Map(entries) => {
                head(out, 5, entries.len() as u64);
                let mut encoded: Vec<(Vec<u8>, &Value)> =
                    entries.iter().map(|(k, v)| (k.to_vec(), v)).collect();
                // An insertion sort (stable, so the same order as `sort_by`): these maps have at most
                // a handful of entries, and it saves the wasm module a 3.6 KB copy of the slice sort.
                for i in 1..encoded.len() {
                    let mut j = i;
                    while j > 0 && canonical_key_order(&encoded[j - 1].0, &encoded[j].0).is_gt() {
                        encoded.swap(j - 1, j);
                        j -= 1;
                    }
                }
                for (key, value) in encoded {
                    out.extend_from_slice(&key);
                    value.encode_into(out);
                }
            }
        }
    }
}

/// CTAP2 canonical key order over encoded keys: major type, then length, then bytes.
fn canonical_key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let major = |k: &[u8]| k.first().map_or(0, |b| b >> 5);
    major(a)
        .cmp(&major(b))
        .then(a.len().cmp(&b.len()))
        .then_with(|| a.cmp(b))
}

/// Writes an initial byte and argument in shortest form.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let mt = major << 5;
    if n < 24 {
        out.push(mt | n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[mt | 24, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(mt | 25);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(mt | 26);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(mt | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::test_hex::to_hex as hex;

    #[test]
    fn rfc8949_appendix_a_integers() {
        let cases: &[(i64, &str)] = &[
            (0, "00"),
            (1, "01"),
            (10, "0a"),
            (23, "17"),
            (24, "1818"),
            (25, "1819"),
            (100, "1864"),
            (1000, "1903e8"),
            (1_000_000, "1a000f4240"),
            (1_000_000_000_000, "1b000000e8d4a51000"),
            (i64::MAX, "1b7fffffffffffffff"),
            (-1, "20"),
            (-10, "29"),
            (-100, "3863"),
            (-1000, "3903e7"),
            (-257, "390100"),
            (i64::MIN, "3b7fffffffffffffff"),
        ];
        for &(i, expected) in cases {
            assert_eq!(hex(&Value::int(i).to_vec()), expected, "{i}");
        }
        assert_eq!(
            hex(&Value::Unsigned(u64::MAX).to_vec()),
            "1bffffffffffffffff"
        );
    }

    #[test]
    fn strings_and_arrays() {
        assert_eq!(hex(&Value::bytes(vec![]).to_vec()), "40");
        assert_eq!(hex(&Value::bytes(vec![1, 2, 3, 4]).to_vec()), "4401020304");
        assert_eq!(hex(&Value::text("").to_vec()), "60");
        assert_eq!(hex(&Value::text("IETF").to_vec()), "6449455446");
        assert_eq!(hex(&Value::text("ü").to_vec()), "62c3bc");
        assert_eq!(hex(&Value::bytes(vec![0; 24]).to_vec())[..4], *"5818");
        assert_eq!(hex(&Value::bytes(vec![0; 256]).to_vec())[..6], *"590100");
        let array = Value::Array(vec![
            Value::int(1),
            Value::Array(vec![Value::int(2), Value::int(3)]),
        ]);
        assert_eq!(hex(&array.to_vec()), "8201820203");
    }

    #[test]
    fn map_order_is_the_sorted_order_for_any_input_order() {
        let keys: Vec<Value> = [0i64, 1, 23, 24, 255, 256, -1, -24, -25, -1000]
            .into_iter()
            .map(Value::int)
            .chain(["", "a", "b", "aa", "fmt"].into_iter().map(Value::text))
            .chain(
                [vec![], vec![0u8], vec![1, 2]]
                    .into_iter()
                    .map(Value::bytes),
            )
            .collect();
        let mut seed = 7u64;
        for round in 0..200 {
            let mut entries: Vec<(Value, Value)> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), Value::int(i as i64)))
                .collect();
            for i in (1..entries.len()).rev() {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                entries.swap(i, (seed >> 33) as usize % (i + 1));
            }
            entries.truncate(1 + round % entries.len());
            let mut expected: Vec<(Vec<u8>, Vec<u8>)> = entries
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            expected.sort_by(|(a, _), (b, _)| canonical_key_order(a, b));
            let mut want = Vec::new();
            head(&mut want, 5, expected.len() as u64);
            for (k, v) in expected {
                want.extend_from_slice(&k);
                want.extend_from_slice(&v);
            }
            assert_eq!(Value::Map(entries).to_vec(), want, "round {round}");
        }
    }

    #[test]
    fn map_keys_are_sorted_ctap2_canonically() {
        // Given out of order on purpose.
        let map = Value::Map(vec![
            (Value::text("authData"), Value::int(0)),
            (Value::int(-2), Value::int(0)),
            (Value::text("fmt"), Value::int(0)),
            (Value::int(1000), Value::int(0)),
            (Value::int(3), Value::int(0)),
            (Value::int(-1), Value::int(0)),
            (Value::text("attStmt"), Value::int(0)),
            (Value::int(1), Value::int(0)),
        ]);
        let encoded = map.to_vec();
        // 1, 3, 1000 (major 0, by length), -1, -2 (major 1), "fmt", "attStmt", "authData" (major 3).
        assert_eq!(
            hex(&encoded),
            "a8\
             0100\
             0300\
             1903e800\
             2000\
             2100\
             63666d7400\
             6761747453746d7400\
             68617574684461746100"
        );
        // ciborium agrees that it is one well-formed map.
        let decoded: ciborium::Value = ciborium::from_reader(encoded.as_slice()).unwrap();
        assert_eq!(decoded.as_map().unwrap().len(), 8);
    }
}
