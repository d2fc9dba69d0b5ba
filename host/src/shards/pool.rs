//! [`Pool`]: worker threads that each own one shard and run a task on it when told, while
//! the caller's thread runs the first shard itself.
//!
//! The hand-off happens once per block, so it allocates nothing and takes no lock: each
//! worker has a slot with an atomic state. The caller writes the task's address into the
//! slot, sets the state to `RUN` and unparks the worker; the worker runs the task on its
//! shard, sets `IDLE` and unparks the caller. Either side, finding nothing to do yet,
//! spins for [`SPIN`] (a block often ends on both threads within that) and then parks.
//! A shard is touched only by its worker while the slot says `RUN`, and only by the
//! caller otherwise.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long a waiting thread spins before it parks: long enough for a worker to catch the
/// next block when blocks come back to back (a wake-up from park costs tens of µs on a VM,
/// measured: 64-channel band-pass at 2 shards, p50 310 µs with 200 µs of spin, 360–540 µs
/// with 50 µs), and for the caller to catch a shard finishing just after its own; short
/// enough to cost little at real-time block rates (1024 samples at 30 kHz: 34 ms).
const SPIN: Duration = Duration::from_micros(200);

const IDLE: u8 = 0;
const RUN: u8 = 1;
const QUIT: u8 = 2;

/// What a worker runs: a task borrowed from the caller's stack for the length of
/// [`Pool::run`], which waits for every worker before it returns.
type Task<'a, S> = dyn Fn(usize, &mut S) + Sync + 'a;

/// K-1 threads each owning one `S`, and the caller's own `S`.
pub(crate) struct Pool<S: Send + 'static> {
    local: S,
    workers: Vec<Worker<S>>,
}

struct Worker<S: Send + 'static> {
    slot: Arc<Slot<S>>,
    thread: Option<JoinHandle<()>>,
}

struct Slot<S> {
    state: AtomicU8,
    /// Written by the caller before `RUN`, read by the worker after it.
    task: UnsafeCell<Option<*const Task<'static, S>>>,
    /// The thread to unpark when the task is done (the caller may change threads between
    /// runs, so it is given with each task).
    waiter: UnsafeCell<Option<Thread>>,
    /// The worker's shard, built on its thread.
    shard: UnsafeCell<Option<S>>,
    /// What a panicking task left; the caller panics with it.
    panic: UnsafeCell<Option<Box<dyn Any + Send>>>,
}

// SAFETY: every field behind an UnsafeCell is accessed by one side at a time, handed over
// by `state` with release/acquire ordering (see the module doc). `S: Send` because the
// caller reads a shard that lives on a worker.
unsafe impl<S: Send> Sync for Slot<S> {}
unsafe impl<S: Send> Send for Slot<S> {}

impl<S: Send + 'static> Pool<S> {
    /// Starts `shards - 1` workers, each building its shard with `make(index)` on its own
    /// thread, while the caller builds shard 0; shards are built in parallel. The first
    /// failure (by index) is returned after every worker has stopped; a `make` that
    /// panicked on a worker panics here.
    pub fn start<E: Send + 'static>(shards: usize, make: impl Fn(usize) -> Result<S, E> + Send + Sync + 'static) -> Result<Pool<S>, StartError<E>> {
        let make = Arc::new(make);
        let (built, results) = mpsc::channel();
        let mut workers = Vec::with_capacity(shards.saturating_sub(1));
        for index in 1..shards {
            let slot = Arc::new(Slot {
                state: AtomicU8::new(IDLE),
                task: UnsafeCell::new(None),
                waiter: UnsafeCell::new(None),
                shard: UnsafeCell::new(None),
                panic: UnsafeCell::new(None),
            });
            let (make, built, worker_slot) = (make.clone(), built.clone(), slot.clone());
            let spawned = thread::Builder::new().name(format!("pyproc-shard-{index}")).spawn(move || serve(index, &worker_slot, &*make, built));
            match spawned {
                Ok(thread) => workers.push(Worker { slot, thread: Some(thread) }),
                // Dropping the workers started so far stops them.
                Err(e) => return Err(StartError::Spawn(e)),
            }
        }
        drop(built);
        let local = make(0);
        // Waits for every worker's report (each drops its sender once it has sent it).
        let mut failures = Vec::new();
        let mut panic = None;
        for (index, report) in results.iter() {
            match report {
                Built::Ok => {}
                Built::Failed(e) => failures.push((index, e)),
                Built::Panicked(payload) => panic = Some(payload),
            }
        }
        if let Some(payload) = panic {
            drop(workers);
            resume_unwind(payload);
        }
        match local {
            Ok(local) if failures.is_empty() => return Ok(Pool { local, workers }),
            Ok(_) => {}
            Err(e) => failures.push((0, e)),
        }
        // Dropping the workers stops them (and drops the shards that were built).
        drop(workers);
        failures.sort_by_key(|(index, _)| *index);
        Err(StartError::Build(failures.remove(0).1))
    }

    /// A pool of one shard, run on the caller's thread: no workers.
    pub fn single(local: S) -> Pool<S> {
        Pool { local, workers: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.workers.len() + 1
    }

    /// Runs `task(index, shard)` on every shard at once — shard 0 on this thread — and
    /// returns when all are done. A panic in any task is resumed here, after the others
    /// have finished.
    pub fn run(&mut self, task: &Task<'_, S>) {
        if self.workers.is_empty() {
            // One shard: nothing to hand off or wait for.
            return task(0, &mut self.local);
        }
        let me = thread::current();
        // SAFETY (of erasing the task's lifetime): every worker is waited for below before
        // this function returns, even if the local task panics, so none uses the pointer
        // after the borrow ends.
        let erased: *const Task<'static, S> = unsafe { std::mem::transmute::<&Task<'_, S>, &'static Task<'static, S>>(task) };
        for worker in &self.workers {
            // SAFETY: the slot is IDLE, so the caller owns these fields.
            unsafe {
                *worker.slot.task.get() = Some(erased);
                *worker.slot.waiter.get() = Some(me.clone());
            }
            worker.slot.state.store(RUN, Ordering::Release);
            if let Some(thread) = &worker.thread {
                thread.thread().unpark();
            }
        }
        let local = catch_unwind(AssertUnwindSafe(|| task(0, &mut self.local)));
        let mut panic = local.err();
        for worker in &self.workers {
            wait_until(|| worker.slot.state.load(Ordering::Acquire) == IDLE);
            // SAFETY: IDLE again: the caller owns the slot.
            if let Some(payload) = unsafe { (*worker.slot.panic.get()).take() } {
                panic.get_or_insert(payload);
            }
        }
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
    }

    /// Every shard, in order (the caller's first), while no task runs.
    pub fn shards_mut(&mut self) -> impl Iterator<Item = &mut S> {
        // SAFETY: `&mut self` means no `run` is in progress, so every slot is IDLE and
        // its shard is the caller's to touch.
        let workers = self.workers.iter().filter_map(|w| unsafe { (*w.slot.shard.get()).as_mut() });
        std::iter::once(&mut self.local).chain(workers)
    }

    pub fn shards(&self) -> impl Iterator<Item = &S> {
        // SAFETY: as in `shards_mut`; `&self` rules out a concurrent `run`.
        let workers = self.workers.iter().filter_map(|w| unsafe { (*w.slot.shard.get()).as_ref() });
        std::iter::once(&self.local).chain(workers)
    }
}

/// Why a pool did not start.
#[derive(Debug)]
pub(crate) enum StartError<E> {
    /// `make(index)` failed: the error of the lowest such index.
    Build(E),
    /// The operating system would not start another thread.
    Spawn(std::io::Error),
}

/// A worker's report on building its shard.
enum Built<E> {
    Ok,
    Failed(E),
    Panicked(Box<dyn Any + Send>),
}

impl<S: Send + 'static> Drop for Worker<S> {
    fn drop(&mut self) {
        self.slot.state.store(QUIT, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // A worker that panicked outside a task has nothing more to report.
            let _ = thread.join();
        }
    }
}

/// A worker's life: build the shard, report, then run tasks until told to quit. The
/// shard is dropped on this thread.
fn serve<S, E>(index: usize, slot: &Slot<S>, make: &(dyn Fn(usize) -> Result<S, E> + Sync), built: mpsc::Sender<(usize, Built<E>)>) {
    let failed = match catch_unwind(AssertUnwindSafe(|| make(index))) {
        // SAFETY: the caller does not look at the shard until `start` has heard from every
        // worker, which happens after this write.
        Ok(Ok(shard)) => {
            unsafe { *slot.shard.get() = Some(shard) };
            None
        }
        Ok(Err(e)) => Some(Built::Failed(e)),
        Err(payload) => Some(Built::Panicked(payload)),
    };
    if let Some(report) = failed {
        let _ = built.send((index, report));
        drop(built);
        wait_until(|| slot.state.load(Ordering::Acquire) == QUIT);
        return;
    }
    let _ = built.send((index, Built::Ok));
    drop(built);
    loop {
        let mut state = IDLE;
        wait_until(|| {
            state = slot.state.load(Ordering::Acquire);
            state != IDLE
        });
        if state == QUIT {
            // SAFETY: after QUIT the caller never touches the slot's shard again.
            drop(unsafe { (*slot.shard.get()).take() });
            return;
        }
        // SAFETY: RUN: the worker owns the slot until it stores IDLE.
        let (task, waiter) = unsafe { ((*slot.task.get()).take(), (*slot.waiter.get()).take()) };
        let shard = unsafe { (*slot.shard.get()).as_mut() };
        if let (Some(task), Some(shard)) = (task, shard) {
            // SAFETY: the caller's `run` keeps the task alive until this slot is IDLE.
            let task = unsafe { &*task };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| task(index, shard))) {
                unsafe { *slot.panic.get() = Some(payload) };
            }
        }
        slot.state.store(IDLE, Ordering::Release);
        if let Some(waiter) = waiter {
            waiter.unpark();
        }
    }
}

/// Spins for [`SPIN`], then parks until `ready` (an unpark, or a spurious wake-up, makes
/// it look again).
fn wait_until(mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        if started.elapsed() < SPIN {
            std::hint::spin_loop();
        } else {
            thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_gives_every_shard_its_own_index_once() {
        let mut pool = Pool::start(4, |index| Ok::<_, ()>(vec![index])).unwrap();
        for round in 0..100 {
            pool.run(&|index, shard: &mut Vec<usize>| {
                assert_eq!(shard[0], index);
                shard.push(round);
            });
        }
        for (index, shard) in pool.shards().enumerate() {
            assert_eq!(shard[0], index);
            assert_eq!(shard[1..], (0..100).collect::<Vec<_>>()[..]);
        }
    }

    #[test]
    fn workers_run_on_their_own_threads() {
        let mut pool = Pool::start(3, |_| Ok::<_, ()>(None)).unwrap();
        pool.run(&|_, shard: &mut Option<thread::ThreadId>| *shard = Some(thread::current().id()));
        let ids: Vec<_> = pool.shards().map(|s| s.unwrap()).collect();
        assert_eq!(ids[0], thread::current().id());
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{ids:?}");
    }

    #[test]
    fn the_lowest_failing_shard_is_reported_after_all_were_built() {
        let failure = Pool::start(4, |index| if index >= 2 { Err(index * 10) } else { Ok(index) }).err();
        assert!(matches!(failure, Some(StartError::Build(20))), "{failure:?}");
    }

    #[test]
    fn a_build_that_panics_on_a_worker_panics_in_start() {
        let started = catch_unwind(|| Pool::start(3, |index| if index == 2 { panic!("shard 2 cannot be built") } else { Ok::<_, ()>(index) }));
        assert!(started.is_err());
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller_after_the_others_finished() {
        let mut pool = Pool::start(3, |_| Ok::<_, ()>(0u32)).unwrap();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            pool.run(&|index, shard: &mut u32| {
                *shard += 1;
                assert_ne!(index, 2, "shard 2 fails");
            })
        }));
        assert!(caught.is_err());
        assert_eq!(pool.shards().copied().collect::<Vec<_>>(), vec![1, 1, 1]);
        // The pool still works afterwards.
        pool.run(&|_, shard: &mut u32| *shard += 1);
        assert_eq!(pool.shards().copied().collect::<Vec<_>>(), vec![2, 2, 2]);
    }
}
