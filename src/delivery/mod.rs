//! Delivery of logged email and hard-copy entries: the outbox that logging fills in its
//! transaction (`entry_deliveries` rows with a due time), and the worker inside each server
//! process that drains it after commit.

pub mod mail;
pub mod outbox;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A nudge for the delivery worker: logging and resend call `wake` after their commit so the
/// worker does not wait out its poll interval.
#[derive(Debug, Default)]
pub struct Wakeup {
    woken: Mutex<bool>,
    signal: Condvar,
    stopped: AtomicBool,
}

impl Wakeup {
    /// Asks the worker to stop after its current batch (at shutdown).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub fn wake(&self) {
        if let Ok(mut woken) = self.woken.lock() {
            *woken = true;
            self.signal.notify_all();
        }
    }

    /// Waits until woken or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let Ok(woken) = self.woken.lock() else { return };
        if let Ok((mut woken, _)) = self.signal.wait_timeout_while(woken, timeout, |woken| !*woken) {
            *woken = false;
        }
    }
}
