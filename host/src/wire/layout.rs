//! The numbers both sides of the door must agree on, written down once: opcodes, callback
//! codes and the packed formats of events and spikes. The host encodes and decodes with
//! these constants; the guest runtime imports the same table as the module `_pyproc_wire`,
//! generated from it ([`python_module`]), so no number is typed twice.

use crate::callback::Callback;
use crate::events::SPIKE_SAMPLES;
use crate::grants::Need;
use crate::published::{Dtype, PUBLISH_MAX_BYTES, PUBLISH_MAX_DIMS, PUBLISH_MAX_NAMES, PUBLISH_MAX_NAME_BYTES};

/// Defines each opcode as a constant and lists them all for the generated module.
macro_rules! opcodes {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        $($(#[$doc])* pub(crate) const $name: u8 = $value;)*
        /// Every opcode with its name, in the order above.
        pub(crate) const ALL: &[(&str, u8)] = &[$((stringify!($name), $value)),*];
    };
}

/// Opcodes: host -> guest below 0x80, guest -> host from 0x81. `guest-runtime/README.md`
/// gives each frame's fields.
pub(crate) mod op {
    opcodes! {
        LOAD = 1,
        SET_STREAM = 2,
        RESERVE = 3,
        PROCESS = 4,
        /// The kinds of the records in a batch of queued events (`TTL_RECORD_FORMAT`,
        /// `SPIKE_RECORD_FORMAT`); never a command of their own.
        TTL = 5,
        SPIKE = 6,
        CALL = 7,
        START_RECORDING = 8,
        QUIT = 9,
        /// Queued TTL events and spikes alone, without a block: `PROCESS_FORMAT` with
        /// first sample and samples 0.
        EVENTS = 10,
        /// In the command area after a command is done, or when the guest asks for the
        /// next: none is there yet; ask again with `NEXT` (the guest yields first).
        WAIT = 11,
        /// In the reply area: the answer to a question (`AREA_HEADER_FORMAT`, its bytes after).
        REPLY = 12,
        /// In either area: the answer needs an area of this many bytes; make one and say
        /// where with `AREA`, and the answer is written there.
        GROW = 13,
        /// The latest published values for a `PyVisualizer`'s `update` (a viewer's command).
        VIEW = 14,
        HELLO = 0x81,
        DONE = 0x82,
        BUFFER = 0x83,
        FAILED = 0x84,
        LOG = 0x85,
        STAGE = 0x86,
        HANDLES = 0x87,
        NET_OPEN = 0x88,
        NET_CONNECT = 0x89,
        NET_BIND = 0x8a,
        NET_LISTEN = 0x8b,
        NET_ACCEPT = 0x8c,
        NET_SEND = 0x8d,
        NET_RECV = 0x8e,
        NET_CLOSE = 0x8f,
        NET_SHUTDOWN = 0x90,
        NET_SELECT = 0x91,
        NET_RESOLVE = 0x92,
        NET_INFO = 0x93,
        ACCESS = 0x94,
        /// Events the script emitted outside acquisition, which the runtime dropped.
        DROPPED = 0x95,
        /// Ready for the next command (after `WAIT`).
        NEXT = 0x96,
        /// A new command or reply area, made after `GROW`.
        AREA = 0x97,
        /// `self.processor.publish(name, value)`: the latest value under a name, for plots.
        PUBLISH = 0x98,
    }

    /// The network service's frames (`NET_OPEN` … `NET_INFO`), served by `net/`.
    pub(crate) fn is_net(op: u8) -> bool {
        (NET_OPEN..=NET_INFO).contains(&op)
    }
}

/// The small numbers inside network frames. Each answer starts with a status: `OK`, then
/// the operation's fields, or one of the failures, then `str errno_name`, `str message`.
pub(crate) mod net {
    /// Defines each constant and lists them for the generated module (as `NET_<NAME>`).
    macro_rules! constants {
        ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
            $($(#[$doc])* pub(crate) const $name: u8 = $value;)*
            pub(crate) const ALL: &[(&str, u8)] = &[$((stringify!($name), $value)),*];
        };
    }
    constants! {
        OK = 0,
        /// An operating-system error: `OSError(errno.<errno_name>, message)` in the script.
        OS_ERROR = 1,
        /// Refused by the grants: `PermissionError(message)`.
        DENIED = 2,
        /// The socket's own timeout ran out: `TimeoutError("timed out")` (`socket.timeout`).
        TIMED_OUT = 3,
        /// The wait reached the running callback's deadline: `TimeoutError(message)`.
        DEADLINE = 4,
        /// `NET_OPEN` kinds (0: anything else, refused).
        TCP = 1,
        UDP = 2,
        /// `NET_SELECT` interest and readiness bits.
        READ = 1,
        WRITE = 2,
        EXCEPT = 4,
        /// `NET_RECV` flags.
        PEEK = 1,
        /// `NET_INFO` questions.
        LOCAL_ADDRESS = 1,
        PEER_ADDRESS = 2,
        PENDING_ERROR = 3,
    }
}

/// Bits of the `traits` byte in a HANDLES frame: what the new `PyProcessor` declares about
/// itself through class attributes.
pub(crate) mod traits {
    /// `channel_independent = True`: each channel is processed on its own, so the channels
    /// may be split between several interpreters (`shards/`).
    pub(crate) const CHANNEL_INDEPENDENT: u8 = 1;
}

/// One emitted TTL event in a DONE frame (Python `struct` notation): sample number, line,
/// state.
pub(crate) const EVENT_FORMAT: &str = "<qBB";
pub(crate) const EVENT_BYTES: usize = struct_size(EVENT_FORMAT);

/// The fixed part of one emitted spike in a DONE frame: sample number, channel, sorted id,
/// waveform length (0, or [`SPIKE_SAMPLES`] float32 values follow).
pub(crate) const SPIKE_HEADER_FORMAT: &str = "<qIqI";
pub(crate) const SPIKE_HEADER_BYTES: usize = struct_size(SPIKE_HEADER_FORMAT);

/// A PROCESS command: opcode, first sample, samples, then what follows it for the
/// script's handlers to see before `process`: the number of queued TTL events and spikes,
/// the bytes of their records (a multiple of 4), the float32 values of the spikes'
/// waveforms after the records, and the waveforms' shape (channels, samples) when every
/// spike has the same one (else 0, 0). Aligned 8-byte words, so the guest reads them from a
/// `memoryview.cast("q")` without unpacking.
pub(crate) const PROCESS_FORMAT: &str = "<Bxxxxxxxqqqqqqq";
pub(crate) const PROCESS_BYTES: usize = struct_size(PROCESS_FORMAT);

/// One queued TTL event: kind (`op::TTL`), line, state, channel name's byte length, source
/// node, sample number; the name's UTF-8 follows. A length of [`SAME_NAME`] means the
/// previous TTL record's channel, and no bytes follow (events come from few channels; the
/// guest then reuses the `str` it made).
pub(crate) const TTL_RECORD_FORMAT: &str = "<BBBIqq";
pub(crate) const TTL_RECORD_BYTES: usize = struct_size(TTL_RECORD_FORMAT);
pub(crate) const SAME_NAME: u32 = u32::MAX;

/// One queued spike: kind (`op::SPIKE`), electrode name's byte length ([`SAME_NAME`]: the
/// previous spike's), channels, samples, source node, sample number, sorted id; the name's
/// UTF-8 follows. The waveforms (channels x samples each) are not in the records: they
/// follow all of them, one after the other, so the guest copies them out in one piece.
pub(crate) const SPIKE_RECORD_FORMAT: &str = "<BIIIqqq";
pub(crate) const SPIKE_RECORD_BYTES: usize = struct_size(SPIKE_RECORD_FORMAT);

/// The fixed part of a PUBLISH frame after its opcode: sample number, dtype code (index in
/// `Dtype::ALL`), dimensions, the address and byte length of the values in the guest's
/// memory; then `ndim` u32 sizes, then the name's UTF-8 (the rest of the frame).
pub(crate) const PUBLISH_FORMAT: &str = "<qBBII";

/// The guest's command area: every command is written there (a block's PROCESS with its
/// queued events always fits; a larger one makes the guest grow the area first).
pub(crate) const COMMAND_AREA_BYTES: usize = 64 * 1024;

/// The guest's reply area, for the answers to its questions (`ACCESS`, `NET_*`), grown
/// the same way when an answer is larger.
pub(crate) const REPLY_AREA_BYTES: usize = 4 * 1024;

/// The header of `WAIT`, `REPLY` and `GROW` in an area: opcode, a length.
pub(crate) const AREA_HEADER_FORMAT: &str = "<BxxxI";
pub(crate) const AREA_HEADER_BYTES: usize = struct_size(AREA_HEADER_FORMAT);

/// No area is smaller: a block's header fits in every command area.
pub(crate) const AREA_MIN_BYTES: usize = PROCESS_BYTES;

/// Bytes of a little-endian Python `struct` format made of the codes used here.
const fn struct_size(format: &str) -> usize {
    let bytes = format.as_bytes();
    assert!(bytes[0] == b'<', "little-endian, no padding");
    let mut size = 0;
    let mut i = 1;
    while i < bytes.len() {
        size += match bytes[i] {
            b'x' | b'B' => 1,
            b'H' => 2,
            b'I' => 4,
            b'q' | b'Q' | b'd' => 8,
            _ => panic!("a struct code this table does not use"),
        };
        i += 1;
    }
    size
}

/// The name the generated module gives a callback's code: `CB_` and the Python name in
/// capitals, without underscores around it (`CB_INIT`, `CB_HANDLE_TTL_EVENT`).
fn callback_constant(callback: Callback) -> String {
    format!("CB_{}", callback.python_name().trim_matches('_').to_ascii_uppercase())
}

/// The source of the guest's `_pyproc_wire` module: this table as Python constants.
pub(crate) fn python_module() -> String {
    let mut src = String::from("# Generated by the host from host/src/wire/layout.rs: do not edit.\n");
    for (name, value) in op::ALL {
        src.push_str(&format!("{name} = {value:#04x}\n"));
    }
    for callback in Callback::ALL {
        src.push_str(&format!("{} = {}\n", callback_constant(callback), callback.code()));
    }
    for (code, (_, name)) in Need::ALL.iter().enumerate() {
        src.push_str(&format!("{name} = {code}\n"));
    }
    let formats = [
        ("EVENT_FORMAT", EVENT_FORMAT),
        ("SPIKE_HEADER_FORMAT", SPIKE_HEADER_FORMAT),
        ("PROCESS_FORMAT", PROCESS_FORMAT),
        ("TTL_RECORD_FORMAT", TTL_RECORD_FORMAT),
        ("SPIKE_RECORD_FORMAT", SPIKE_RECORD_FORMAT),
        ("AREA_HEADER_FORMAT", AREA_HEADER_FORMAT),
        ("PUBLISH_FORMAT", PUBLISH_FORMAT),
    ];
    for (name, value) in formats {
        src.push_str(&format!("{name} = {value:?}\n"));
    }
    for (name, value) in [("COMMAND_AREA_BYTES", COMMAND_AREA_BYTES), ("REPLY_AREA_BYTES", REPLY_AREA_BYTES), ("SAME_NAME", SAME_NAME as usize)] {
        src.push_str(&format!("{name} = {value}\n"));
    }
    for (name, value) in net::ALL {
        src.push_str(&format!("NET_{name} = {value}\n"));
    }
    src.push_str(&format!("SPIKE_SAMPLES = {SPIKE_SAMPLES}\n"));
    let dtypes: Vec<String> = Dtype::ALL.iter().map(|d| format!("{:?}", d.numpy())).collect();
    src.push_str(&format!("PUBLISH_DTYPES = ({},)\n", dtypes.join(", ")));
    for (name, value) in [
        ("PUBLISH_MAX_BYTES", PUBLISH_MAX_BYTES),
        ("PUBLISH_MAX_NAMES", PUBLISH_MAX_NAMES),
        ("PUBLISH_MAX_NAME_BYTES", PUBLISH_MAX_NAME_BYTES),
        ("PUBLISH_MAX_DIMS", PUBLISH_MAX_DIMS),
    ] {
        src.push_str(&format!("{name} = {value}\n"));
    }
    src.push_str(&format!("TRAIT_CHANNEL_INDEPENDENT = {}\n", traits::CHANNEL_INDEPENDENT));
    src
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_have_the_sizes_the_decoder_reads() {
        assert_eq!((EVENT_BYTES, SPIKE_HEADER_BYTES, PROCESS_BYTES), (10, 24, 64));
        assert_eq!((TTL_RECORD_BYTES, SPIKE_RECORD_BYTES), (23, 37));
    }

    #[test]
    fn opcodes_and_callback_codes_are_unique() {
        let mut codes: Vec<u8> = op::ALL.iter().map(|(_, v)| *v).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), op::ALL.len());
        let mut callbacks: Vec<u8> = Callback::ALL.iter().map(|c| c.code()).collect();
        callbacks.dedup();
        assert_eq!(callbacks.len(), Callback::ALL.len());
    }

    #[test]
    fn the_generated_module_names_every_opcode_and_callback() {
        let src = python_module();
        assert!(src.contains("FAILED = 0x84\n") && src.contains("PROCESS = 0x04\n"), "{src}");
        assert!(src.contains("CB_INIT = 2\n") && src.contains("CB_HANDLE_TTL_EVENT = 4\n"), "{src}");
        assert!(src.contains("EVENT_FORMAT = \"<qBB\"\n"), "{src}");
        assert!(src.contains("NEED_LOOK = 0\n") && src.contains("NEED_MAKE_FOLDER = 3\n"), "{src}");
        assert!(src.contains("TRAIT_CHANNEL_INDEPENDENT = 1\n"), "{src}");
    }

    /// guest-runtime/README.md documents every frame by number and name, written by hand:
    /// each row must say what this table says, and every opcode must have its row (a frame's,
    /// or a queued record kind's).
    #[test]
    fn the_guest_runtime_readme_gives_every_opcode_its_number() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-runtime/README.md")).unwrap();
        let number = |cell: &str| match cell.strip_prefix("0x") {
            Some(hex) => u8::from_str_radix(hex, 16).ok(),
            None => cell.parse::<u8>().ok(),
        };
        let mut rows = Vec::new();
        for line in readme.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if let [_, value, name, ..] = cells[..] {
                if let Some(value) = number(value) {
                    rows.push((value, name.to_owned()));
                }
            }
        }
        for (value, name) in &rows {
            if let Some((_, code)) = op::ALL.iter().find(|(n, _)| format!("`{n}`") == *name) {
                assert_eq!(code, value, "guest-runtime/README.md gives {name} as {value:#04x}; layout.rs says {code:#04x}");
            }
        }
        for (name, code) in op::ALL {
            // A frame's row names it; a record kind's row (TTL, SPIKE) describes it in words.
            let documented = rows.iter().any(|(value, row)| value == code && (*row == format!("`{name}`") || !row.starts_with('`')));
            assert!(documented, "guest-runtime/README.md has no row for {name} ({code:#04x})");
        }
    }
}
