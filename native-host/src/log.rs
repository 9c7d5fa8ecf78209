//! Logging to stderr (stdout carries protocol frames only). Never log secrets, key bytes, or a
//! frame's payload: only kinds, ids, codes and lengths.

/// Writes one line to stderr: `latchkey-host[pid]: message`.
pub fn log(message: &str) {
    eprintln!("latchkey-host[{}]: {message}", std::process::id());
}
