//! PKCS#8 private key import and base64url: canonical decoding, round trips, and no changed
//! document loading as another key. See `latchkey_core::fuzzing::keys`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| latchkey_core::fuzzing::keys(data));
