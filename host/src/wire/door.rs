//! The host side of `host::call`, the guest's only way out besides WASI.
//!
//! The guest's dispatch loop calls the door with the outcome of the last command and asks
//! for the next one. The door is a plain synchronous host function: every answer goes into
//! one of the guest's own areas (the command area for commands, the reply area for answers
//! to questions) and the call itself answers `b''`, so nothing is allocated on either side
//! per call. When the guest waits for a command the processor has not placed yet, the door
//! answers `WAIT` and makes the guest yield to its host at its next epoch check (its epoch
//! deadline set to now); the processor's poll of the store's future then returns, and the
//! next poll resumes the guest, which asks again (`NEXT`) and finds the command. So each
//! command is one resumption of the store on the caller's own thread: no Python source
//! compiled per call, no thread hand-off, no heap allocation. An engine built without
//! deadline checks has no epochs to yield at: there the door is an async host function that
//! yields itself (wasmtime boxes its future on each call).
//!
//! An answer larger than its area is kept by the host while the guest makes a larger area
//! (`GROW`, answered by the guest with `AREA`), then written there.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use wasmtime::{AsContextMut, Caller, Linker, Memory};

use crate::callback::Callback;
use crate::grants::Need;
use crate::supervise::cancel::CancelFlag;
use crate::wire::batch::Batch;
use crate::wire::command::Command;
use crate::wire::in_flight::InFlight;
use crate::wire::layout::{self, op};
use crate::wire::mailbox::{Mailbox, Outcome};
use crate::wire::output::LineSplitter;
use crate::wire::refusal::{refusal_of, OutsideMemory, Refusal, REFUSED};
use crate::wire::request::{AreaKind, Request};

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
    /// The guest's command area: (address, length).
    pub command_area: Option<(u32, u32)>,
    /// The guest's area for answers to its questions (`ACCESS`, `NET_*`): (address, length).
    pub reply_area: Option<(u32, u32)>,
    /// The guest's area for paths the sandbox rewrites: (address, length).
    pub path_scratch: Option<(u32, u32)>,
    /// An answer too large for its area, kept until the guest has made a larger one.
    pub pending: Option<(AreaKind, Vec<u8>)>,
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

/// Links the door: synchronous when the engine has epochs to yield at (`epochs`), async
/// otherwise.
pub(crate) fn add_to_linker<T: DoorHost>(linker: &mut Linker<T>, epochs: bool) -> wasmtime::Result<()> {
    if epochs {
        linker.func_wrap("host", "call", |mut caller: Caller<'_, T>, ptr: u32, len: u32, out_ptr: u32, out_len: u32| {
            let (code, wait) = door_call(&mut caller, ptr, len, out_ptr, out_len)?;
            if wait {
                // Yield at the guest's next epoch check: the processor's poll returns there.
                caller.as_context_mut().set_epoch_deadline(0);
            }
            Ok(code)
        })?;
    } else {
        linker.func_wrap_async("host", "call", |mut caller: Caller<'_, T>, (ptr, len, out_ptr, out_len): (u32, u32, u32, u32)| {
            Box::new(async move {
                let (code, wait) = door_call(&mut caller, ptr, len, out_ptr, out_len)?;
                if wait {
                    YieldOnce(false).await;
                }
                Ok(code)
            })
        })?;
    }
    Ok(())
}

/// What a frame asks of the door once it has been acted on.
enum Next {
    /// Answer at once; what there is to say is in the guest's areas already.
    Answer,
    /// Answer this in the reply area.
    Reply(String),
    /// A socket operation: serve it and answer in the reply area.
    Network,
    /// The command is finished, or the guest asks for the next: hand over the next one,
    /// or make the guest wait for it.
    NextCommand,
}

/// Serves one call of the door; returns the code `host::call` returns and whether the
/// guest must now wait for the processor's next command.
fn door_call<T: DoorHost>(caller: &mut Caller<'_, T>, ptr: u32, len: u32, out_ptr: u32, out_len: u32) -> wasmtime::Result<(i32, bool)> {
    let next = match receive(caller, ptr, len) {
        Ok(next) => next,
        Err(err) => return refuse(caller, err).map(|code| (code, false)),
    };
    // Every answer is in an area: the call itself answers `b''`.
    write_answer(caller, out_ptr, out_len, 0, 0)?;
    match next {
        Next::Answer => Ok((0, false)),
        Next::Reply(text) => {
            reply(caller, text.as_bytes())?;
            Ok((0, false))
        }
        Next::Network => {
            let memory = memory(caller)?;
            let (mem, state) = memory.data_and_store_mut(&mut *caller);
            let answer = match state.network(mem, ptr, len) {
                Ok(answer) => answer,
                Err(err) => return refuse(caller, err).map(|code| (code, false)),
            };
            reply(caller, &answer)?;
            Ok((0, false))
        }
        Next::NextCommand => {
            let taken = {
                let mut slot = caller.data_mut().door().mailbox.lock();
                // NEXT while a command runs would let the script overwrite the area the
                // runtime is reading the command from.
                if slot.command.is_none() && slot.outcome.is_none() {
                    drop(slot);
                    return refuse(caller, Refusal::NextMidCommand.into()).map(|code| (code, false));
                }
                // A command placed without a deadline has none left.
                slot.command.take().map(|command| (command, slot.deadline.take().unwrap_or_else(Instant::now)))
            };
            let Some((command, deadline)) = taken else {
                let (mem, state) = memory(caller)?.data_and_store_mut(&mut *caller);
                let (area, _) = state.door().command_area.ok_or_else(|| wasmtime::format_err!("no command area"))?;
                guest_slice_mut(mem, area, 1)?[0] = op::WAIT;
                return Ok((0, true));
            };
            let state = caller.data_mut();
            state.door().deadline = deadline;
            state.door().running = command.callback();
            state.door().in_flight.starts(&command);
            state.command_starts(&command);
            deliver(caller, command)?;
            Ok((0, false))
        }
    }
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
    // Asking for the next command, or registering a larger area, is between callbacks.
    let answers = !matches!(
        request,
        Request::Log { .. } | Request::Handles { .. } | Request::Dropped { .. } | Request::Next | Request::Area { .. }
    );
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
        Request::Hello { mailbox_addr, mailbox_len, reply_addr, reply_len, scratch_addr, scratch_len } => {
            if door.command_area.is_some() {
                return Err(Refusal::HelloAgain.into());
            }
            for (addr, len) in [(mailbox_addr, mailbox_len), (reply_addr, reply_len), (scratch_addr, scratch_len)] {
                guest_slice(mem, addr, len as usize)?;
                if (len as usize) < layout::AREA_MIN_BYTES {
                    return Err(Refusal::AreaTooSmall { len }.into());
                }
            }
            door.command_area = Some((mailbox_addr, mailbox_len));
            door.reply_area = Some((reply_addr, reply_len));
            door.path_scratch = Some((scratch_addr, scratch_len));
            slot.outcome = Some(Outcome::Done);
            Next::NextCommand
        }
        Request::Next => return Ok(Next::NextCommand),
        Request::Area { kind, addr, len } => {
            guest_slice(mem, addr, len as usize)?;
            if (len as usize) < layout::AREA_MIN_BYTES {
                return Err(Refusal::AreaTooSmall { len }.into());
            }
            match kind {
                AreaKind::Command if door.command_area.is_some() => door.command_area = Some((addr, len)),
                AreaKind::Reply if door.reply_area.is_some() => door.reply_area = Some((addr, len)),
                _ => return Err(Refusal::AreaBeforeHello.into()),
            }
            // What waited for the larger area goes there now (the guest makes it as large
            // as GROW asked).
            if let Some((_, bytes)) = door.pending.take_if(|(k, _)| *k == kind) {
                let out = guest_slice_mut(mem, addr, len as usize)?;
                match out.get_mut(..bytes.len()) {
                    Some(out) => out.copy_from_slice(&bytes),
                    None => return Err(Refusal::AreaTooSmall { len }.into()),
                }
            }
            return Ok(Next::Answer);
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
                return Ok(Next::NextCommand);
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
            Next::NextCommand
        }
        Request::Buffer { addr, capacity } => {
            door.in_flight.check_buffer(capacity)?;
            guest_slice(mem, addr, capacity as usize * 4)?;
            door.in_flight.done();
            slot.buffer = Some((addr, capacity));
            slot.outcome = Some(Outcome::Done);
            Next::NextCommand
        }
        Request::Publish { frame, addr, len } => {
            let data = guest_slice(mem, addr, len as usize)?;
            slot.published.store(&frame, data).map_err(Refusal::from)?;
            return Ok(Next::Answer);
        }
        Request::Access { .. } => unreachable!("answered above"),
        Request::Net => return Ok(Next::Network),
        Request::Failed(failed) => {
            // The block is left exactly as it came in: nothing is copied back.
            slot.block = None;
            door.in_flight.failed();
            let exception = slot.failures.record(&failed);
            slot.outcome = Some(Outcome::Failed(exception));
            Next::NextCommand
        }
    };
    slot.dropped.output_bytes += door.output.end_callback() as u64;
    Ok(next)
}

/// Hands `command` to the guest: the block first for `Process`, then the frame in the
/// command area, followed for `Process` and `Events` by the mailbox's batch of queued
/// events and spikes (emptied here: they are the guest's now).
fn deliver<T: DoorHost>(caller: &mut Caller<'_, T>, command: Command) -> wasmtime::Result<()> {
    let len = {
        let batch = caller.data_mut().door().mailbox.lock().batch.summary();
        command.encoded_len() + if command.carries_batch() { batch.encoded_len() } else { 0 }
    };
    if let Command::Process { .. } = command {
        let memory = memory(caller)?;
        let (mem, state) = memory.data_and_store_mut(&mut *caller);
        let door = state.door();
        let (_, area_len) = door.command_area.ok_or_else(|| wasmtime::format_err!("no command area"))?;
        if len > area_len as usize {
            // The processor queues no more than fits beside a block's header.
            wasmtime::bail!("a block's command with its queued events ({len} bytes) exceeds the command area of {area_len} bytes");
        }
        let slot = door.mailbox.lock();
        let block = slot.block.as_ref().ok_or_else(|| wasmtime::format_err!("process command without a block"))?;
        let (addr, capacity) = slot.buffer.ok_or_else(|| wasmtime::format_err!("process command before a buffer"))?;
        if block.channels() * block.samples() > capacity as usize {
            wasmtime::bail!("block of {} floats exceeds the guest buffer of {capacity}", block.channels() * block.samples());
        }
        // SAFETY: as in `receive`.
        unsafe { block.copy_to_guest(guest_slice_mut(mem, addr, block.guest_bytes())?) };
    }
    place(caller, AreaKind::Command, len, |out, door| write_command(&command, &mut door.mailbox.lock().batch, out))
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

/// Writes an answer of `len` bytes with `write` into the guest's area of `kind`, or, when
/// it does not fit, keeps it and asks the guest for a larger area (`GROW`).
fn place<T: DoorHost>(
    caller: &mut Caller<'_, T>,
    kind: AreaKind,
    len: usize,
    write: impl FnOnce(&mut [u8], &mut DoorState),
) -> wasmtime::Result<()> {
    let memory = memory(caller)?;
    let (mem, state) = memory.data_and_store_mut(&mut *caller);
    let door = state.door();
    let (addr, area_len) = match kind {
        AreaKind::Command => door.command_area,
        AreaKind::Reply => door.reply_area,
    }
    .ok_or_else(|| wasmtime::format_err!("the guest has no area for answers yet"))?;
    if len <= area_len as usize {
        write(guest_slice_mut(mem, addr, len)?, door);
        return Ok(());
    }
    let needed = u32::try_from(len).map_err(|_| wasmtime::format_err!("an answer of {len} bytes is too large"))?;
    let mut bytes = vec![0; len];
    write(&mut bytes, door);
    door.pending = Some((kind, bytes));
    write_area_header(guest_slice_mut(mem, addr, layout::AREA_HEADER_BYTES)?, op::GROW, needed);
    Ok(())
}

/// Answers a question (`ACCESS`, `NET_*`) with `bytes`, in the reply area: `REPLY`, their
/// length, then them.
fn reply<T: DoorHost>(caller: &mut Caller<'_, T>, bytes: &[u8]) -> wasmtime::Result<()> {
    place(caller, AreaKind::Reply, layout::AREA_HEADER_BYTES + bytes.len(), |out, _| {
        let (header, rest) = out.split_at_mut(layout::AREA_HEADER_BYTES);
        write_area_header(header, op::REPLY, bytes.len() as u32);
        rest.copy_from_slice(bytes);
    })
}

/// An area's header (`layout::AREA_HEADER_FORMAT`): opcode, three zero bytes, a length.
fn write_area_header(out: &mut [u8], op: u8, len: u32) {
    out[..4].copy_from_slice(&[op, 0, 0, 0]);
    out[4..8].copy_from_slice(&len.to_le_bytes());
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

/// Pending once, then ready: the async door's way to hand control back to the processor
/// (its poll returns) until the processor polls again with the next command in place.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        Poll::Pending
    }
}
