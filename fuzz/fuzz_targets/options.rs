//! Arbitrary text as `publicKey` options for `create()`/`get()`: typed errors, round trips, and
//! the client steps (`inspect_*` agreeing with `create`/`get`). See `latchkey_core::fuzzing::options`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| latchkey_core::fuzzing::options(data));
