//! The host side of `host::call`, the guest's only way out besides WASI.
//!
//! The guest's dispatch loop calls the door with the outcome of the last command and gets
//! the next command back. Waiting for that next command is an async host function that
//! stays `Pending` until the sandbox's `GuestInstance::run` has put
//! a command in the [`Mailbox`] and polled the store's future again. So each command is one
//! door round trip on the caller's own thread: no Python source compiled per call, no
//! thread hand-off.
//!
//! Small commands are written into the guest's own command area (answer `b''`, no
//! allocation); larger ones into memory from the guest's `host_alloc`, which the guest frees.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use wasmtime::{Caller, Linker, Memory, TypedFunc};

use crate::callback::Callback;
use crate::grants::Need;
use crate::python_exception::PythonException;
use crate::supervise::cancel::CancelFlag;
use crate::wire::batch::Batch;
use crate::wire::command::Command;
use crate::wire::in_flight::InFlight;
use crate::wire::layout;
use crate::wire::mailbox::{Mailbox, Outcome};
use crate::wire::output::LineSplitter;
use crate::wire::refusal::{refusal_of, OutsideMemory, Refusal, REFUSED};
use crate::wire::request::Request;

/// What the door needs from the store's data; the sandbox's state implements it, so the
/// door names no type above it.
pub(crate) trait DoorHost: Send + 'static {
    fn door(&mut self) -> &mut DoorState;
    /// Called as each command is handed to the guest, before the guest sees it.
    fn command_starts(&mut self, command: &Command);
    /// The refusal, naming the flag that would allow it, if the script may not use `path`
    /// for `need`; `None` when it may, or when the path is not the grants' to judge. With
    /// `report`, a refusal is also recorded for the processor's report.
    fn access(&mut self, need: Need, path: &str, report: bool) -> Option<String>;
    /// Serves the network frame at `[ptr, ptr + len)` of the guest's memory `mem` (which a
    /// receive writes into) and returns the answer frame. An error stops the instance.
    fn network(&mut self, mem: &mut [u8], ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>>;
}

/// The door's state inside the store.
pub(crate) struct DoorState {
    pub mailbox: Arc<Mailbox>,
    pub memory: Option<Memory>,
    pub host_alloc: Option<TypedFunc<u32, u32>>,
    /// The guest's command area: (address, length).
    pub command_area: Option<(u32, u32)>,
    /// The guest's area for paths the sandbox rewrites: (address, length).
    pub path_scratch: Option<(u32, u32)>,
    pub output: LineSplitter,
    /// When the command running now must be done (checked here, and by the instance's
    /// poll loop).
    pub deadline: Instant,
    /// Set from another thread to stop the command running now.
    pub cancel: CancelFlag,
    /// The script entry point running now, for reports of what it did (None: the
    /// runtime's own start).
    pub running: Option<Callback>,
    /// What the command running now lets the guest answer.
    pub in_flight: InFlight,
}

pub(crate) fn add_to_linker<T: DoorHost>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.func_wrap_async("host", "call", |caller: Caller<'_, T>, (ptr, len, out_ptr, out_len): (u32, u32, u32, u32)| {
        Box::new(door_call(caller, ptr, len, out_ptr, out_len))
    })?;
    Ok(())
}

enum Next {
    /// Answer `b''` at once (a log line).
    Answer,
    /// Answer these bytes at once.
    Reply(String),
    /// A socket operation: serve it and answer at once.
    Network,
    /// The command is finished: wait for the next one.
    AwaitCommand,
}

async fn door_call<T: DoorHost>(mut caller: Caller<'_, T>, ptr: u32, len: u32, out_ptr: u32, out_len: u32) -> wasmtime::Result<i32> {
    let next = match receive(&mut caller, ptr, len) {
        Ok(next) => next,
        Err(err) => return refuse(&mut caller, err),
    };
    match next {
        Next::Answer => {
            write_answer(&mut caller, out_ptr, out_len, 0, 0)?;
            return Ok(0);
        }
        Next::Reply(text) => {
            answer_with(&mut caller, text.as_bytes(), out_ptr, out_len).await?;
            return Ok(0);
        }
        Next::Network => {
            let memory = memory(&mut caller)?;
            let (mem, state) = memory.data_and_store_mut(&mut caller);
            let answer = match state.network(mem, ptr, len) {
                Ok(answer) => answer,
                Err(err) => return refuse(&mut caller, err),
            };
            answer_with(&mut caller, &answer, out_ptr, out_len).await?;
            return Ok(0);
        }
        Next::AwaitCommand => {}
    }
    let mailbox = caller.data_mut().door().mailbox.clone();
    let (command, deadline) = NextCommand(&mailbox).await;
    let state = caller.data_mut();
    state.door().deadline = deadline;
    state.door().running = command.callback();
    state.door().in_flight.starts(&command);
    state.command_starts(&command);
    deliver(&mut caller, command, out_ptr, out_len).await?;
    Ok(0)
}

/// Answers a refused frame: the guest's `_host.call` raises `OSError`, the script's
/// stderr says why, and nothing else changes. Any other error stops the instance.
fn refuse<T: DoorHost>(caller: &mut Caller<'_, T>, err: wasmtime::Error) -> wasmtime::Result<i32> {
    let Some(refusal) = refusal_of(&err) else { return Err(err) };
    let door = caller.data_mut().door();
    let note = format!(
        "pyproc: the host refused a frame sent through _host.call ({refusal}); _host is pyproc's own \
         channel to the host: use the processor's methods (add_python_event, add_python_spike) instead\n"
    );
    door.output.write(2, note.as_bytes());
    door.mailbox.lock().dropped.frames_refused += 1;
    Ok(REFUSED)
}

/// Events (and, separately, spikes) that may wait for the next block that succeeds, in
/// callbacks' worth: while `process` keeps failing, what the other callbacks emit (the
/// handlers of queued events, timers, start/stop) waits, and past this it is dropped and
/// counted like what one callback emits past its cap.
pub(crate) const PENDING_CALLBACKS: usize = 4;

/// Appends the first `cap` items to `into`; returns how many were left out.
fn keep_at_most<T>(cap: usize, items: impl Iterator<Item = T>, into: &mut Vec<T>) -> u64 {
    let mut dropped = 0;
    for (i, item) in items.enumerate() {
        if i < cap {
            into.push(item);
        } else {
            dropped += 1;
        }
    }
    dropped
}

/// The error a command answered after its deadline (or after it was cancelled) stops the
/// guest with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Late {
    #[error("it answered after its deadline")]
    PastDeadline,
    #[error("it was cancelled")]
    Cancelled,
}

/// Acts on the guest's frame.
fn receive<T: DoorHost>(caller: &mut Caller<'_, T>, ptr: u32, len: u32) -> wasmtime::Result<Next> {
    let memory = memory(caller)?;
    let (mem, state) = memory.data_and_store_mut(caller);
    let request = Request::decode(guest_slice(mem, ptr, len as usize)?)?;
    if let Request::Access { need, report, path } = request {
        return Ok(Next::Reply(state.access(need, path, report).unwrap_or_default()));
    }
    let door = state.door();
    // Deadlines are checked when the guest yields at an epoch tick, which a long host call (a
    // `time.sleep`) does not do: an answer that comes too late is refused here, before the
    // block is copied back, and the interpreter stops as at any deadline.
    // A socket operation is refused the same way: nothing reaches the network once the
    // command's time is up. So is a move to the next entry point (a handler's to
    // `process`): the time ran out in the one before, which is blamed.
    let answers = !matches!(request, Request::Log { .. } | Request::Handles { .. } | Request::Dropped { .. });
    if answers && door.cancel.is_set() {
        return Err(wasmtime::Error::new(Late::Cancelled));
    }
    if answers && Instant::now() >= door.deadline {
        return Err(wasmtime::Error::new(Late::PastDeadline));
    }
    let mut slot = door.mailbox.lock();
    slot.memory_bytes = mem.len();
    let next = match request {
        Request::Log { stream, text } => {
            door.output.write(stream, text);
            return Ok(Next::Answer);
        }
        Request::Stage { callback } => {
            slot.stage = Some(callback);
            door.running = Some(callback);
            return Ok(Next::Answer);
        }
        Request::Dropped { events } => {
            slot.dropped.outside_acquisition += u64::from(events);
            return Ok(Next::Answer);
        }
        Request::Handles { mask, traits } => {
            slot.handles = Some(mask);
            slot.channel_independent = traits & layout::traits::CHANNEL_INDEPENDENT != 0;
            return Ok(Next::Answer);
        }
        Request::Hello { mailbox_addr, mailbox_len, scratch_addr, scratch_len } => {
            if door.command_area.is_some() {
                return Err(Refusal::HelloAgain.into());
            }
            guest_slice(mem, mailbox_addr, mailbox_len as usize)?;
            guest_slice(mem, scratch_addr, scratch_len as usize)?;
            door.command_area = Some((mailbox_addr, mailbox_len));
            door.path_scratch = Some((scratch_addr, scratch_len));
            slot.outcome = Some(Outcome::Done);
            Next::AwaitCommand
        }
        Request::Done { events, spikes } => {
            // Nothing of an answer the stream cannot take is used: not the block, not what
            // it emitted.
            if let Some(bad) = spikes.peaks().find_map(|(sample, channel, waveform)| door.in_flight.check_spike(sample, channel, waveform).err()) {
                if door.in_flight.makes_stream() {
                    wasmtime::bail!("the host refused the new PyProcessor's answer: {bad}");
                }
                slot.block = None;
                door.in_flight.failed();
                slot.outcome = Some(Outcome::Refused(bad));
                slot.dropped.output_bytes += door.output.end_callback() as u64;
                return Ok(Next::AwaitCommand);
            }
            if let Some(block) = slot.block.take() {
                let (addr, _) = slot.buffer.ok_or_else(|| wasmtime::format_err!("the guest processed a block without a buffer"))?;
                let src = guest_slice(mem, addr, block.guest_bytes())?;
                // SAFETY: the block is in the slot only while `process` holds its borrow.
                unsafe { block.copy_from_guest(src) };
            }
            door.in_flight.done();
            let cap = slot.emitted_cap;
            let pending = cap.saturating_mul(PENDING_CALLBACKS);
            let slot = &mut *slot;
            let room = |held: usize| cap.min(pending.saturating_sub(held));
            slot.dropped.events += keep_at_most(room(slot.events.len()), events.iter(), &mut slot.events);
            slot.dropped.spikes += keep_at_most(room(slot.spikes.len()), spikes.iter(), &mut slot.spikes);
            slot.outcome = Some(Outcome::Done);
            Next::AwaitCommand
        }
        Request::Buffer { addr, capacity } => {
            door.in_flight.check_buffer(capacity)?;
            guest_slice(mem, addr, capacity as usize * 4)?;
            door.in_flight.done();
            slot.buffer = Some((addr, capacity));
            slot.outcome = Some(Outcome::Done);
            Next::AwaitCommand
        }
        Request::Access { .. } => unreachable!("answered above"),
        Request::Net => return Ok(Next::Network),
        Request::Failed(failed) => {
            // The block is left exactly as it came in: nothing is copied back.
            slot.block = None;
            door.in_flight.failed();
            let exception = PythonException {
                callback: failed.callback,
                type_name: failed.type_name.to_owned(),
                message: failed.message.to_owned(),
                line: failed.line,
                frames: failed.frames,
                traceback: failed.traceback.to_owned(),
            };
            slot.outcome = Some(Outcome::Failed(exception));
            Next::AwaitCommand
        }
    };
    slot.dropped.output_bytes += door.output.end_callback() as u64;
    Ok(next)
}

/// Hands `command` to the guest: the block first for `Process`, then the frame, followed
/// for `Process` and `Events` by the mailbox's batch of queued events and spikes (emptied
/// here: they are the guest's now).
async fn deliver<T: DoorHost>(caller: &mut Caller<'_, T>, command: Command, out_ptr: u32, out_len: u32) -> wasmtime::Result<()> {
    let memory = memory(caller)?;
    let (area, area_len) = caller.data_mut().door().command_area.ok_or_else(|| wasmtime::format_err!("no command area"))?;
    let len = {
        let (mem, state) = memory.data_and_store_mut(&mut *caller);
        let mut slot = state.door().mailbox.lock();
        if let Command::Process { .. } = command {
            let block = slot.block.as_ref().ok_or_else(|| wasmtime::format_err!("process command without a block"))?;
            let (addr, capacity) = slot.buffer.ok_or_else(|| wasmtime::format_err!("process command before a buffer"))?;
            if block.channels() * block.samples() > capacity as usize {
                wasmtime::bail!("block of {} floats exceeds the guest buffer of {capacity}", block.channels() * block.samples());
            }
            // SAFETY: as in `receive`.
            unsafe { block.copy_to_guest(guest_slice_mut(mem, addr, block.guest_bytes())?) };
        }
        let len = command.encoded_len() + if command.carries_batch() { slot.batch.summary().encoded_len() } else { 0 };
        if len <= area_len as usize {
            write_command(&command, &mut slot.batch, guest_slice_mut(mem, area, len)?);
            None
        } else if let Command::Process { .. } = command {
            // The processor queues no more than fits beside a block's header.
            wasmtime::bail!("a block's command with its queued events ({len} bytes) exceeds the command area of {area_len} bytes");
        } else {
            Some(len)
        }
    };
    let Some(len) = len else {
        return write_answer(caller, out_ptr, out_len, 0, 0);
    };
    let ptr = alloc_in_guest(caller, len).await?;
    {
        let (mem, state) = memory.data_and_store_mut(&mut *caller);
        write_command(&command, &mut state.door().mailbox.lock().batch, guest_slice_mut(mem, ptr, len)?);
    }
    write_answer(caller, out_ptr, out_len, ptr, len as u32)
}

/// Encodes `command` into `out` (exactly its length), followed by the batch when the
/// command carries it; the batch is the guest's from then on, so it is emptied.
fn write_command(command: &Command, batch: &mut Batch, out: &mut [u8]) {
    let header = command.encode(out);
    if command.carries_batch() {
        batch.encode(&mut out[header..]);
        batch.clear();
    }
}

/// `len` bytes from the guest's own allocator, for an answer the guest frees itself.
async fn alloc_in_guest<T: DoorHost>(caller: &mut Caller<'_, T>, len: usize) -> wasmtime::Result<u32> {
    let host_alloc = caller.data_mut().door().host_alloc.clone().ok_or_else(|| wasmtime::format_err!("no host_alloc"))?;
    let len32 = u32::try_from(len).map_err(|_| wasmtime::format_err!("an answer of {len} bytes is too large"))?;
    let ptr = host_alloc.call_async(&mut *caller, len32).await?;
    if ptr == 0 {
        wasmtime::bail!("the guest could not allocate {len} bytes for an answer");
    }
    Ok(ptr)
}

/// Answers `bytes`, in memory from the guest's `host_alloc` (the guest frees it); nothing
/// is allocated for an empty answer.
async fn answer_with<T: DoorHost>(caller: &mut Caller<'_, T>, bytes: &[u8], out_ptr: u32, out_len: u32) -> wasmtime::Result<()> {
    if bytes.is_empty() {
        return write_answer(caller, out_ptr, out_len, 0, 0);
    }
    let memory = memory(caller)?;
    let ptr = alloc_in_guest(caller, bytes.len()).await?;
    guest_slice_mut(memory.data_mut(&mut *caller), ptr, bytes.len())?.copy_from_slice(bytes);
    write_answer(caller, out_ptr, out_len, ptr, bytes.len() as u32)
}

/// Stores the answer's pointer and length at the guest's two out-pointers.
fn write_answer<T: DoorHost>(caller: &mut Caller<'_, T>, out_ptr: u32, out_len: u32, ptr: u32, len: u32) -> wasmtime::Result<()> {
    let mem = memory(caller)?.data_mut(&mut *caller);
    guest_slice_mut(mem, out_ptr, 4)?.copy_from_slice(&ptr.to_le_bytes());
    guest_slice_mut(mem, out_len, 4)?.copy_from_slice(&len.to_le_bytes());
    Ok(())
}

fn memory<T: DoorHost>(caller: &mut Caller<'_, T>) -> wasmtime::Result<Memory> {
    caller.data_mut().door().memory.ok_or_else(|| wasmtime::format_err!("the door was called before the instance was ready"))
}

/// The guest's bytes at `[addr, addr + len)`, refusing ranges outside its memory.
pub(crate) fn guest_slice(mem: &[u8], addr: u32, len: usize) -> wasmtime::Result<&[u8]> {
    let start = addr as usize;
    start
        .checked_add(len)
        .and_then(|end| mem.get(start..end))
        .ok_or_else(|| wasmtime::Error::new(OutsideMemory { addr, len, size: mem.len() }))
}

pub(crate) fn guest_slice_mut(mem: &mut [u8], addr: u32, len: usize) -> wasmtime::Result<&mut [u8]> {
    let size = mem.len();
    let start = addr as usize;
    start
        .checked_add(len)
        .and_then(|end| mem.get_mut(start..end))
        .ok_or_else(|| wasmtime::Error::new(OutsideMemory { addr, len, size }))
}

/// Ready, with the command and its deadline, when the processor has placed one.
/// Nothing wakes it: the processor polls the store's future itself right after placing one.
struct NextCommand<'a>(&'a Mailbox);

impl Future for NextCommand<'_> {
    type Output = (Command, Instant);

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.0.lock();
        match slot.command.take() {
            // A command placed without a deadline has none left.
            Some(command) => Poll::Ready((command, slot.deadline.take().unwrap_or_else(Instant::now))),
            None => Poll::Pending,
        }
    }
}
