//! The CBOR encoder, COSE keys, authenticator data and attestation objects, checked with
//! ciborium as an independent decoder. See `latchkey_core::fuzzing::cbor_cose`.
#![no_main]

use latchkey_core::cbor::Value as CborValue;
use libfuzzer_sys::fuzz_target;

include!("../src/ciborium_decoder.rs");

fuzz_target!(|data: &[u8]| latchkey_core::fuzzing::cbor_cose(data, &ciborium_decode));
