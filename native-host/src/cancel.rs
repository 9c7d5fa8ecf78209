//! Cancellation of a pending request (`cancel`, or the port closing).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A shared flag that a backend polls or waits on.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<(Mutex<bool>, Condvar)>,
    by_request: Arc<AtomicBool>,
}

impl CancelToken {
    /// A token that is not cancelled.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels (wakes every waiter).
    pub fn cancel(&self) {
        let (lock, cv) = &*self.inner;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
    }

    /// Cancels because of a `cancel` request (not because the port closed).
    pub fn cancel_by_request(&self) {
        self.by_request.store(true, Ordering::Release);
        self.cancel();
    }

    /// Whether a `cancel` request (rather than the port closing) cancelled it.
    #[must_use]
    pub fn cancelled_by_request(&self) -> bool {
        self.by_request.load(Ordering::Acquire)
    }

    /// Whether it was cancelled.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout`; `true` if cancelled meanwhile.
    #[must_use]
    pub fn wait(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.inner;
        let deadline = Instant::now() + timeout;
        let mut cancelled = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !*cancelled {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            cancelled = match cv.wait_timeout(cancelled, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_wakes_a_waiter() {
        let t = CancelToken::new();
        assert!(!t.wait(Duration::from_millis(5)));
        let t2 = t.clone();
        let h = std::thread::spawn(move || t2.wait(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        t.cancel();
        assert!(matches!(h.join(), Ok(true)));
        assert!(t.is_cancelled());
    }
}
