//! Time as the core sees it: milliseconds since the Unix epoch, through a trait so tests fix it.

use std::cell::Cell;

/// A source of wall-clock time (the `created`/`lastUsed` fields of stored passkeys).
pub trait Clock {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> u64;
}

/// A clock that says what it is told; for tests. `set`/`advance` take `&self` so a clock owned by
/// [`crate::client::Latchkey`] can still be moved forward.
#[derive(Debug, Clone, Default)]
pub struct FixedClock {
    now_ms: Cell<u64>,
}

impl FixedClock {
    /// A clock stopped at `now_ms`.
    #[must_use]
    pub fn new(now_ms: u64) -> Self {
        Self {
            now_ms: Cell::new(now_ms),
        }
    }

    /// Moves the clock to `now_ms`.
    pub fn set(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get().saturating_add(ms));
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_is_fixed_until_moved() {
        let c = FixedClock::new(5);
        assert_eq!(c.now_ms(), 5);
        c.advance(10);
        assert_eq!(c.now_ms(), 15);
        c.set(1);
        assert_eq!(c.now_ms(), 1);
    }
}
