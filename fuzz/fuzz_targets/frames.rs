//! Any byte string as a stream of native messaging frames into the host's serve loop (and
//! straight into the request parser): no panic, and every answer a well-formed frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_ne!(latchkey_host::fuzz::fuzz_one(data), usize::MAX);
});
