//! Locking that treats a poisoned lock as usable: a panic elsewhere leaves a processor
//! that still works or reports its own errors. Every wait for a lock another thread holds
//! is counted on the waiting thread, so a test can say the real-time thread never waits.

use std::cell::Cell;
use std::sync::{Mutex, MutexGuard, TryLockError};

thread_local! {
    // `const`: reading or bumping the counter never allocates.
    static WAITS: Cell<u64> = const { Cell::new(0) };
}

/// The lock if nobody holds it; never waits.
pub fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The lock, at once when nobody holds it, else after waiting for it (counted).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    if let Some(guard) = try_lock(mutex) {
        return guard;
    }
    // During a thread's teardown the counter may be gone: nothing to count then.
    let _ = WAITS.try_with(|n| n.set(n.get() + 1));
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How many times this thread has waited in [`lock`] for a lock another thread held.
pub fn lock_waits_on_this_thread() -> u64 {
    WAITS.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_lock_is_no_wait() {
        let mutex = Mutex::new(0);
        let before = lock_waits_on_this_thread();
        drop(lock(&mutex));
        drop(try_lock(&mutex));
        assert_eq!(lock_waits_on_this_thread(), before);
    }

    #[test]
    fn a_held_lock_is_one_wait_on_the_waiting_thread_only() {
        let mutex = Mutex::new(0);
        let before = lock_waits_on_this_thread();
        // Whether the other thread tries before the lock is let go is up to the scheduler:
        // try until it did (it then waited exactly once).
        let waited = (0..1000).map(|_| {
            let held = lock(&mutex);
            std::thread::scope(|scope| {
                let waiter = scope.spawn(|| {
                    *lock(&mutex) += 1;
                    lock_waits_on_this_thread()
                });
                std::thread::sleep(std::time::Duration::from_millis(1));
                drop(held);
                waiter.join().unwrap()
            })
        });
        let first_wait = waited.into_iter().find(|&w| w != 0);
        assert_eq!(first_wait, Some(1), "a thread that found the lock held counted one wait");
        assert_eq!(lock_waits_on_this_thread(), before, "the waits are counted on the waiting thread only");
    }
}
