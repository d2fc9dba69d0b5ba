//! What one interpreter's `Store` holds, at the bottom of the host's graph: WASI's context,
//! the memory limiter, the door's state, the recording gate and the sockets the host
//! serves. Each capability links
//! itself generically ([`DoorHost`], [`GateHost`]); this file is the one place that knows
//! they all live in the same store.

use std::path::PathBuf;

use wasmtime::{Linker, StoreLimits};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::denied::DenialLog;
use crate::net::service::NetService;
use crate::net::wait::Turn;
use crate::sandbox::recording_gate::{self, GateHost, RecordingGate};
use crate::wire::command::Command;
use crate::wire::door::{self, DoorHost, DoorState};

/// What the store holds.
pub(crate) struct HostState {
    pub wasi: WasiP1Ctx,
    pub limits: StoreLimits,
    pub door: DoorState,
    /// Keeps the recording roots shut outside a recording.
    pub gate: RecordingGate,
    /// Refused accesses, for the processor's report.
    pub denials: DenialLog,
    /// The interpreter's sockets, closed when the store is dropped.
    pub net: NetService,
}

impl DoorHost for HostState {
    fn door(&mut self) -> &mut DoorState {
        &mut self.door
    }

    fn command_starts(&mut self, command: &Command) {
        self.gate.command_starts(command);
    }

    fn network(&mut self, mem: &mut [u8], ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>> {
        let turn = Turn { deadline: self.door.deadline, cancel: &self.door.cancel, running: self.door.running };
        self.net.serve(mem, ptr, len, turn, &self.denials)
    }
}

impl GateHost for HostState {
    fn gate(&self) -> &RecordingGate {
        &self.gate
    }

    fn gate_and_wasi(&mut self) -> (&mut RecordingGate, &mut WasiP1Ctx) {
        (&mut self.gate, &mut self.wasi)
    }
}

/// Links every import the interpreter needs: WASI preview 1, the recording gate in front of
/// it, and the door.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |state: &mut HostState| &mut state.wasi)?;
    recording_gate::add_to_linker(linker)?;
    door::add_to_linker(linker)
}

/// The host folders every interpreter sees besides its grants (see `preopens.rs`).
#[derive(Debug, Clone)]
pub(crate) struct GuestFolders {
    /// Holds `python315.zip`, shown read-only at `/usr/local/lib`.
    pub stdlib: PathBuf,
    /// An empty folder, shown read-only where a recording root is not granted.
    pub empty: PathBuf,
}
