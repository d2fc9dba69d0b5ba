//! The control calls' way onto the processor, in order with the blocks: the control
//! thread posts a call; the real-time thread runs it at the start of its next `process`,
//! between two blocks, and the control thread collects the outcome. When blocks are not
//! flowing, the control thread claims the call and runs it itself (blocks that arrive
//! meanwhile wait for it). Without a posted call the real-time side is one atomic load.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use pyproc_host::{Error, ShardedProcessor};

use crate::fresh::Fresh;
use crate::locks::lock;

/// A call on the processor from the control thread.
pub enum ControlCall {
    StartAcquisition,
    StopAcquisition,
    StartRecording(String),
    StopRecording,
    SetStream { num_channels: u32, sample_rate: f64 },
    SetBlockDeadline(Option<std::time::Duration>),
    /// A reload: the fresh processor goes in; the old one comes back in its place.
    Swap(Box<Fresh>),
}

impl ControlCall {
    /// Runs the call on `live`. What it leaves behind (a swapped-out processor, a folder
    /// name) stays in the call, to be freed by the control thread.
    pub fn run(&mut self, live: &mut ShardedProcessor) -> Result<(), Error> {
        match self {
            ControlCall::StartAcquisition => live.start_acquisition(),
            ControlCall::StopAcquisition => live.stop_acquisition(),
            ControlCall::StartRecording(dir) => live.start_recording(dir.as_str()),
            ControlCall::StopRecording => live.stop_recording(),
            ControlCall::SetStream { num_channels, sample_rate } => live.set_stream(*num_channels as usize, *sample_rate),
            ControlCall::SetBlockDeadline(deadline) => {
                live.set_block_deadline(*deadline);
                Ok(())
            }
            ControlCall::Swap(fresh) => fresh.swap_into(live),
        }
    }
}

const EMPTY: u8 = 0;
const POSTED: u8 = 1;
/// Being run, by whichever thread won the claim.
const TAKEN: u8 = 2;
const DONE: u8 = 3;

pub struct Mailbox {
    state: AtomicU8,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    call: Option<ControlCall>,
    outcome: Option<Result<(), Error>>,
}

impl Mailbox {
    pub fn new() -> Self {
        Mailbox { state: AtomicU8::new(EMPTY), slot: Mutex::new(Slot::default()) }
    }

    /// Control thread: leaves `call` for the next block.
    pub fn post(&self, call: ControlCall) {
        let mut slot = lock(&self.slot);
        slot.call = Some(call);
        slot.outcome = None;
        drop(slot);
        self.state.store(POSTED, Ordering::Release);
    }

    /// Real-time thread, before a block: runs the posted call, if there is one and the
    /// control thread has not claimed it. Allocates nothing of its own and frees nothing.
    pub fn run_posted(&self, run: impl FnOnce(&mut ControlCall) -> Result<(), Error>) {
        if self.state.load(Ordering::Acquire) != POSTED || !self.claim() {
            return;
        }
        self.run_claimed(run);
    }

    /// Takes the posted call to run; false when there is none or another thread has it.
    pub fn claim(&self) -> bool {
        self.state.compare_exchange(POSTED, TAKEN, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Runs the call this thread claimed and leaves the outcome for the control thread.
    pub fn run_claimed(&self, run: impl FnOnce(&mut ControlCall) -> Result<(), Error>) {
        // The control thread holds the slot only before posting and after DONE.
        let mut slot = lock(&self.slot);
        if let Some(call) = slot.call.as_mut() {
            let outcome = run(call);
            // `outcome` was taken by `collect`: nothing is freed here.
            slot.outcome = Some(outcome);
        }
        drop(slot);
        self.state.store(DONE, Ordering::Release);
    }

    pub fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// Control thread, once done: the call (with what it left behind) and its outcome.
    pub fn collect(&self) -> (Option<ControlCall>, Result<(), Error>) {
        let mut slot = lock(&self.slot);
        let call = slot.call.take();
        let outcome = slot.outcome.take().unwrap_or(Ok(()));
        drop(slot);
        self.state.store(EMPTY, Ordering::Release);
        (call, outcome)
    }
}
