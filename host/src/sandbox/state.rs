//! What one interpreter's `Store` holds, at the bottom of the host's graph: WASI's context,
//! the memory limiter, the door's state, the recording gate, the path grants and the
//! sockets the host serves. Each capability links itself generically ([`DoorHost`],
//! [`ShadowHost`]); this file is the one place that knows they all live in the same store.

use std::path::PathBuf;

use wasmtime::{Linker, StoreLimits};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::denied::{Denial, DenialLog};
use crate::grants::Need;
use crate::net::service::NetService;
use crate::net::wait::Turn;
use crate::sandbox::guest_paths::{GuestPaths, Resolved};
use crate::sandbox::preopens;
use crate::sandbox::recording_gate::RecordingGate;
use crate::sandbox::wasi_shadow::{self, ShadowHost};
use crate::wire::command::Command;
use crate::wire::door::{self, DoorHost, DoorState};

/// What the store holds.
pub(crate) struct HostState {
    pub wasi: WasiP1Ctx,
    pub limits: StoreLimits,
    pub door: DoorState,
    /// Keeps the recording roots shut outside a recording.
    pub gate: RecordingGate,
    /// The path grants under `/`.
    pub paths: GuestPaths,
    /// Refused accesses, for the processor's report.
    pub denials: DenialLog,
    /// The interpreter's sockets, closed when the store is dropped.
    pub net: NetService,
}

impl HostState {
    fn record(&self, what: String, fix: String) {
        self.denials.record(Denial { callback: self.door.running, what, fix });
    }
}

impl DoorHost for HostState {
    fn door(&mut self) -> &mut DoorState {
        &mut self.door
    }

    fn command_starts(&mut self, command: &Command) {
        self.gate.command_starts(command);
    }

    fn access(&mut self, need: Need, path: &str, report: bool) -> Option<String> {
        // Relative paths are relative to `/`, the guest's working folder.
        let absolute = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        if preopens::reserved(&absolute) {
            return None;
        }
        match self.paths.resolve(&absolute, need) {
            Resolved::Denied { what, fix, listed } => {
                let message = format!("not granted: {what} (allow with {fix})");
                if report && listed {
                    self.record(what, fix);
                }
                Some(message)
            }
            _ => None,
        }
    }

    fn network(&mut self, mem: &mut [u8], ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>> {
        let turn = Turn { deadline: self.door.deadline, cancel: &self.door.cancel, running: self.door.running };
        self.net.serve(mem, ptr, len, turn, &self.denials)
    }
}

impl ShadowHost for HostState {
    fn gate(&self) -> &RecordingGate {
        &self.gate
    }

    fn paths(&self) -> &GuestPaths {
        &self.paths
    }

    fn gate_and_wasi(&mut self) -> (&mut RecordingGate, &mut WasiP1Ctx) {
        (&mut self.gate, &mut self.wasi)
    }

    fn path_scratch(&self) -> Option<(u32, u32)> {
        // Two slots, one per path of a rename or a link.
        self.door.path_scratch.map(|(addr, len)| (addr, len / 2))
    }

    fn denied(&mut self, what: String, fix: String) {
        self.record(what, fix);
    }
}

/// Links every import the interpreter needs: WASI preview 1, the sandbox's shadow in front
/// of it, and the door (synchronous when the engine compiled epoch checks: `epochs`).
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>, epochs: bool) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |state: &mut HostState| &mut state.wasi)?;
    wasi_shadow::add_to_linker(linker)?;
    door::add_to_linker(linker, epochs)
}

/// The host folders every interpreter sees besides its grants (see `preopens.rs`).
#[derive(Debug, Clone)]
pub(crate) struct GuestFolders {
    /// Holds `python315.zip`, shown read-only at `/usr/local/lib`.
    pub stdlib: PathBuf,
    /// An empty folder, shown read-only at `/` and where a recording root is not granted.
    pub empty: PathBuf,
}
