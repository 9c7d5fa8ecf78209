//! Vault header and entry decoding and the whole load/unlock path over mutated storage
//! snapshots (fast Argon2 parameters only). See `latchkey_core::fuzzing::vault`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| latchkey_core::fuzzing::vault(data));
