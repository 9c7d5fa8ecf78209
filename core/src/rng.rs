//! Randomness through a trait the core owns, so tests are deterministic.
//!
//! [`Rng::fill_bytes`] returns a `Result`: the operating system's source can fail (in a browser,
//! `crypto.getRandomValues` missing), and the core must report that as an `UnknownError` rather than
//! panic or continue with predictable bytes.

use sha2::{Digest, Sha256};
use thiserror::Error;
use zeroize::Zeroize;

/// The random source failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RngError {
    /// The operating system (or `crypto.getRandomValues` in wasm) returned an error.
    #[error("the system random source failed: {0}")]
    Os(String),
}

/// A cryptographically secure random source (or a deterministic one in tests).
pub trait Rng {
    /// Fills `buf` entirely with random bytes.
    ///
    /// # Errors
    /// [`RngError`] when no random bytes can be produced; `buf` must then not be used.
    fn fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), RngError>;
}

impl<R: Rng + ?Sized> Rng for &mut R {
    fn fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), RngError> {
        (**self).fill_bytes(buf)
    }
}

/// The operating system's random source through `getrandom` (on wasm32:
/// `crypto.getRandomValues`, via getrandom's `wasm_js` backend).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), RngError> {
        getrandom::fill(buf).map_err(|e| {
            buf.zeroize();
            RngError::Os(e.to_string())
        })
    }
}

/// A deterministic generator for tests and known-answer vectors: block `i` is
/// `SHA-256("latchkey-test-rng" || seed as u64 LE || i as u64 LE)`. Not for real keys.
#[derive(Debug, Clone)]
pub struct TestRng {
    seed: u64,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl TestRng {
    /// A generator whose whole output is fixed by `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut hasher = Sha256::new();
        hasher.update(b"latchkey-test-rng");
        hasher.update(self.seed.to_le_bytes());
        hasher.update(self.counter.to_le_bytes());
        self.block.copy_from_slice(&hasher.finalize());
        self.counter = self.counter.wrapping_add(1);
        self.used = 0;
    }
}

impl Rng for TestRng {
    fn fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), RngError> {
        for byte in buf.iter_mut() {
            if self.used >= self.block.len() {
                self.refill();
            }
            *byte = self.block.get(self.used).copied().unwrap_or(0);
            self.used += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn test_rng_is_deterministic_and_seed_dependent() {
        let mut a = TestRng::new(1);
        let mut b = TestRng::new(1);
        let mut c = TestRng::new(2);
        let (mut x, mut y, mut z) = ([0u8; 80], [0u8; 80], [0u8; 80]);
        a.fill_bytes(&mut x).unwrap();
        b.fill_bytes(&mut y[..7]).unwrap();
        b.fill_bytes(&mut y[7..]).unwrap();
        c.fill_bytes(&mut z).unwrap();
        assert_eq!(x, y, "chunking does not change the stream");
        assert_ne!(x, z);
        assert_ne!(x[..32], x[32..64]);
    }

    #[test]
    fn os_rng_fills() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRng.fill_bytes(&mut a).unwrap();
        OsRng.fill_bytes(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
