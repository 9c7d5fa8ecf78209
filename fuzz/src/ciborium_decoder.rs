// The independent CBOR decoder of the `cbor_cose` target, shared (by `include!`) between
// fuzz/fuzz_targets/cbor_cose.rs and the stable replay in core/src/fuzzing.rs. The includer
// brings `CborValue` (latchkey_core::cbor::Value) into scope.

/// Decodes exactly one item with ciborium (trailing bytes are an error) and returns it as a
/// `CborValue` with maps in wire order, together with ciborium's own encoding of that item.
fn ciborium_decode(bytes: &[u8]) -> Result<(CborValue, Vec<u8>), String> {
    let mut rest = bytes;
    let item: ciborium::Value = ciborium::from_reader(&mut rest).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{} trailing bytes", rest.len()));
    }
    let mut reencoded = Vec::new();
    ciborium::into_writer(&item, &mut reencoded).map_err(|e| e.to_string())?;
    Ok((from_ciborium(&item)?, reencoded))
}

fn from_ciborium(item: &ciborium::Value) -> Result<CborValue, String> {
    use ciborium::Value as V;
    Ok(match item {
        V::Integer(i) => {
            let i = i128::from(*i);
            if i >= 0 {
                CborValue::Unsigned(u64::try_from(i).map_err(|e| e.to_string())?)
            } else {
                CborValue::Negative(u64::try_from(-1 - i).map_err(|e| e.to_string())?)
            }
        }
        V::Bytes(b) => CborValue::Bytes(b.clone()),
        V::Text(t) => CborValue::Text(t.clone()),
        V::Array(items) => {
            CborValue::Array(items.iter().map(from_ciborium).collect::<Result<_, _>>()?)
        }
        V::Map(entries) => CborValue::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((from_ciborium(k)?, from_ciborium(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("an item this encoder never writes: {other:?}")),
    })
}
