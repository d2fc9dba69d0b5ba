//! What one interpreter's `Store` holds, at the bottom of the host's graph: WASI's context,
//! the memory limiter, the door's state, the recording gate and the path grants. Each
//! capability links itself generically ([`DoorHost`], [`ShadowHost`]); this file is the one
//! place that knows they all live in the same store.

use std::path::PathBuf;

use wasmtime::{Linker, StoreLimits};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::denied::{Denial, DenialLog};
use crate::sandbox::guest_paths::{GuestPaths, Need, Resolved};
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

    fn access(&mut self, write: bool, path: &str) -> Option<String> {
        // Relative paths are relative to `/`, the guest's working folder.
        let absolute = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        if preopens::reserved(&absolute) {
            return None;
        }
        let need = if write { Need::Write } else { Need::Read };
        match self.paths.resolve(&absolute, need) {
            Resolved::Denied { what, fix } => {
                let message = format!("not granted: {what} (allow with {fix})");
                self.record(what, fix);
                Some(message)
            }
            _ => None,
        }
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
/// of it, and the door.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |state: &mut HostState| &mut state.wasi)?;
    wasi_shadow::add_to_linker(linker)?;
    door::add_to_linker(linker)
}

/// The host folders every interpreter sees besides its grants (see `preopens.rs`).
#[derive(Debug, Clone)]
pub(crate) struct GuestFolders {
    /// Holds `python315.zip`, shown read-only at `/usr/local/lib`.
    pub stdlib: PathBuf,
    /// An empty folder, shown read-only at `/` and where a recording root is not granted.
    pub empty: PathBuf,
}
