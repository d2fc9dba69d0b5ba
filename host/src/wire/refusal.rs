//! What the door does not take from the guest. A script can import `_host` and send
//! anything, or change the runtime's private objects so that the runtime sends it, so
//! the door checks each frame before it uses a byte of it, in two ways:
//!
//! - a [`Refusal`]: the frame does not decode, names memory the guest does not have, or
//!   is not an answer the command being run can have. Nothing on the host changes; the
//!   door returns [`REFUSED`] and `_host.call` raises `OSError` where it was called, with a
//!   note on the script's stderr saying why. The interpreter keeps running.
//! - a [`BadAnswer`]: the frame decodes and is an answer, but names what the stream cannot
//!   take (a spike on a channel it does not have). It ends the command as its outcome, as
//!   an exception would, and nothing of it is used.

use crate::published::PublishRefused;
use crate::wire::request::FrameError;

/// What the door returns for a refused frame. The interpreter's `_host` module raises
/// `OSError("host door returned 1")` for it; -1 and -2 would say that no host is bound or
/// that the host faulted, neither of which is true.
pub(crate) const REFUSED: i32 = 1;

/// Why the door refused a frame; the guest gets `OSError`, the host changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    OutsideMemory(#[from] OutsideMemory),
    #[error("a second HELLO: the runtime says hello once, when it starts")]
    HelloAgain,
    #[error("an area of {len} bytes; areas hold at least {} bytes", crate::wire::layout::AREA_MIN_BYTES)]
    AreaTooSmall { len: u32 },
    #[error("a NEXT frame while a command runs: the runtime asks for the next command when one is done")]
    NextMidCommand,
    #[error("an AREA frame before HELLO")]
    AreaBeforeHello,
    #[error("a BUFFER frame, but the host asked for no buffer")]
    UnaskedBuffer,
    #[error("a BUFFER of {got} floats, but the host asked for {asked}")]
    SmallBuffer { asked: u32, got: u32 },
    #[error(transparent)]
    Publish(#[from] PublishRefused),
}

/// A range the guest named that is not inside its linear memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guest range {addr:#x}+{len} is outside its memory ({size} bytes)")]
pub(crate) struct OutsideMemory {
    pub addr: u32,
    pub len: usize,
    pub size: usize,
}

/// Why an answer (DONE) was refused as a whole: it ends its command like an exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadAnswer {
    #[error("it emitted a spike on channel {channel}, but the stream has {}", channels_of(*.channels))]
    SpikeChannel { channel: u32, channels: u32 },
    #[error(
        "it emitted a spike without a waveform at sample {sample}, outside the block being processed \
         (samples {first} to {last}); the host cuts such a waveform from the block"
    )]
    SpikeOutsideBlock { sample: i64, first: i64, last: i64 },
    #[error(
        "it emitted a spike without a waveform (at sample {sample}) outside `process`; the host cuts \
         such a waveform from the block being processed, so only `process` may, or pass waveform="
    )]
    SpikeWithoutBlock { sample: i64 },
}

fn channels_of(channels: u32) -> String {
    match channels {
        0 => "no channels".to_owned(),
        1 => "1 channel (0)".to_owned(),
        n => format!("{n} channels (0 to {})", n - 1),
    }
}

/// The refusal `err` carries, if it is one; any other error stops the instance.
pub(crate) fn refusal_of(err: &wasmtime::Error) -> Option<Refusal> {
    if let Some(refusal) = err.downcast_ref::<Refusal>() {
        return Some(refusal.clone());
    }
    if let Some(frame) = err.downcast_ref::<FrameError>() {
        return Some(Refusal::Frame(frame.clone()));
    }
    err.downcast_ref::<OutsideMemory>().map(|outside| Refusal::OutsideMemory(outside.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_from_errors_that_stop_the_instance() {
        let decode = wasmtime::Error::new(FrameError::UnknownOp(0x7f));
        assert_eq!(refusal_of(&decode), Some(Refusal::Frame(FrameError::UnknownOp(0x7f))));
        let outside = wasmtime::Error::new(OutsideMemory { addr: 16, len: 4, size: 8 });
        assert!(matches!(refusal_of(&outside), Some(Refusal::OutsideMemory(_))));
        assert_eq!(refusal_of(&wasmtime::Error::new(Refusal::HelloAgain)), Some(Refusal::HelloAgain));
        assert_eq!(refusal_of(&wasmtime::format_err!("the guest could not allocate")), None);
    }

    #[test]
    fn a_bad_answer_names_the_channels_the_stream_has() {
        assert_eq!(BadAnswer::SpikeChannel { channel: 7, channels: 4 }.to_string(), "it emitted a spike on channel 7, but the stream has 4 channels (0 to 3)");
        assert!(BadAnswer::SpikeChannel { channel: 0, channels: 0 }.to_string().ends_with("no channels"));
    }
}
