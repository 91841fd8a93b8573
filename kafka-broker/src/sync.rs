//! Locking shared state.
//!
//! Every lock in the broker guards data that stays consistent between statements (a request
//! either applies or does not), so a lock poisoned by a panicking task is recovered rather than
//! spread: refusing all further service would help nobody. This is the one place that says so.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering it if a panicking thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
