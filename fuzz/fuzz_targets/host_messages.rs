//! Native host protocol messages: `parse_request` and `parse_result` on arbitrary bytes, with
//! round trips. See `latchkey_core::fuzzing::host_messages`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| latchkey_core::fuzzing::host_messages(data));
