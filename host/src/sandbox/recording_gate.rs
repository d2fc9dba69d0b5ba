//! The recording folder is reachable only between `start_recording` and `stop_recording`.
//!
//! wasmtime-wasi's preview 1 fixes the preopened folders when an interpreter is created
//! and gives no way to add or withdraw one later, so the granted recording roots are
//! preopened from the start and this gate stands in front of them: every WASI call that
//! takes a descriptor is checked against the descriptors that lead into a recording root
//! (the preopens themselves and everything opened through them). While no recording is
//! running, those calls answer `EACCES` without reaching the filesystem. Closing such a
//! descriptor is always allowed, and so is asking a preopen its name (wasi-libc does that
//! when it starts).
//!
//! A descriptor opened during a recording stays in the set after it ends: the script keeps
//! the number but cannot use it.

use std::collections::HashSet;

use wasmtime::{AsContextMut, Caller, Linker};
use wasmtime_wasi::p1::{wasi_snapshot_preview1 as wasi, WasiP1Ctx};

use crate::callback::Callback;
use crate::sandbox::symlink_target;
use crate::wire::command::Command;

/// What the gate needs from the store's data.
pub(crate) trait GateHost: Send + 'static {
    fn gate(&self) -> &RecordingGate;
    fn gate_and_wasi(&mut self) -> (&mut RecordingGate, &mut WasiP1Ctx);
}

const MODULE: &str = "wasi_snapshot_preview1";
/// WASI preview 1 `errno::acces`.
const EACCES: i32 = 2;
/// WASI preview 1 `errno::perm`: Python raises `PermissionError` for it.
const EPERM: i32 = 63;

/// Which descriptors lead into a recording root, and whether a recording is running.
#[derive(Debug, Default)]
pub(crate) struct RecordingGate {
    open: bool,
    /// The last command was `stop_recording`: close when the next one starts.
    closing: bool,
    fds: HashSet<u32>,
}

impl RecordingGate {
    /// The preopens for the recording roots are these descriptor numbers.
    pub fn new(preopen_fds: impl IntoIterator<Item = u32>) -> Self {
        RecordingGate { open: false, closing: false, fds: preopen_fds.into_iter().collect() }
    }

    /// Called by the door as it hands the guest its next command: `start_recording` opens
    /// the gate before the script's callback runs; `stop_recording` closes it after.
    pub fn command_starts(&mut self, command: &Command) {
        if std::mem::take(&mut self.closing) {
            self.open = false;
        }
        match command {
            Command::StartRecording { .. } => self.open = true,
            Command::Call(Callback::StopRecording) => self.closing = true,
            _ => {}
        }
    }

    fn allows(&self, fd: i32) -> bool {
        self.open || !self.fds.contains(&(fd as u32))
    }

    fn opened(&mut self, base: i32, new: u32) {
        if self.fds.contains(&(base as u32)) {
            self.fds.insert(new);
        } else {
            self.fds.remove(&new);
        }
    }

    fn renumbered(&mut self, from: i32, to: i32) {
        if self.fds.remove(&(from as u32)) {
            self.fds.insert(to as u32);
        } else {
            self.fds.remove(&(to as u32));
        }
    }
}

/// Runs wasmtime-wasi's own implementation of a preview 1 function, the way its linker
/// glue does. `$block` is `in_tokio` for the functions wasmtime-wasi implements as async.
macro_rules! original {
    ($caller:ident, $name:ident, $($block:path)?, $($arg:ident),*) => {{
        let memory = match $caller.get_export("memory") {
            Some(wasmtime::Extern::Memory(memory)) => memory,
            _ => wasmtime::bail!("the interpreter exports no memory"),
        };
        let fuel = $caller.as_context_mut().hostcall_fuel();
        let (mem, state) = memory.data_and_store_mut(&mut $caller);
        let (_, ctx) = state.gate_and_wasi();
        wasi::WasiSnapshotPreview1::set_hostcall_fuel(ctx, fuel);
        let mut mem = wiggle::GuestMemory::Unshared(mem);
        let errno = $($block)?(wasi::$name(ctx, &mut mem, $($arg),*))?;
        errno
    }};
}

/// Shadows `$name` with a version that answers `EACCES` when one of `$fd`s leads into a
/// closed recording root.
macro_rules! gated {
    ($linker:ident, $name:ident, $($block:path)?, [$($fd:ident),+], ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(MODULE, stringify!($name), |mut caller: Caller<'_, T>, $($arg: $ty),*| -> wasmtime::Result<i32> {
            let gate = caller.data().gate();
            if !($(gate.allows($fd))&&+) {
                return Ok(EACCES);
            }
            Ok(original!(caller, $name, $($block)?, $($arg),*))
        })?;
    };
}

use wasmtime_wasi::runtime::in_tokio;

/// Puts the gate in front of every preview 1 function that takes a descriptor. Call after
/// wasmtime-wasi's `add_to_linker_sync`.
pub(crate) fn add_to_linker<T: GateHost>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    gated!(linker, fd_advise, in_tokio, [fd], (fd: i32, offset: i64, len: i64, advice: i32));
    gated!(linker, fd_allocate, , [fd], (fd: i32, offset: i64, len: i64));
    gated!(linker, fd_datasync, in_tokio, [fd], (fd: i32));
    gated!(linker, fd_fdstat_set_flags, , [fd], (fd: i32, flags: i32));
    gated!(linker, fd_fdstat_set_rights, , [fd], (fd: i32, base: i64, inheriting: i64));
    gated!(linker, fd_filestat_get, in_tokio, [fd], (fd: i32, buf: i32));
    gated!(linker, fd_filestat_set_size, in_tokio, [fd], (fd: i32, size: i64));
    gated!(linker, fd_filestat_set_times, in_tokio, [fd], (fd: i32, atim: i64, mtim: i64, flags: i32));
    gated!(linker, fd_pread, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32));
    gated!(linker, fd_pwrite, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32));
    gated!(linker, fd_read, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, nread: i32));
    gated!(linker, fd_readdir, in_tokio, [fd], (fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32));
    gated!(linker, fd_seek, in_tokio, [fd], (fd: i32, offset: i64, whence: i32, newoffset: i32));
    gated!(linker, fd_sync, in_tokio, [fd], (fd: i32));
    gated!(linker, fd_tell, , [fd], (fd: i32, offset: i32));
    gated!(linker, fd_write, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, nwritten: i32));
    gated!(linker, path_create_directory, in_tokio, [fd], (fd: i32, path: i32, path_len: i32));
    gated!(linker, path_filestat_get, in_tokio, [fd], (fd: i32, flags: i32, path: i32, path_len: i32, buf: i32));
    gated!(linker, path_filestat_set_times, in_tokio, [fd], (fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32));
    gated!(linker, path_link, in_tokio, [old_fd, new_fd], (old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32));
    gated!(linker, path_readlink, in_tokio, [fd], (fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32));
    gated!(linker, path_remove_directory, in_tokio, [fd], (fd: i32, path: i32, path_len: i32));
    gated!(linker, path_rename, in_tokio, [old_fd, new_fd], (old_fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32));
    // A link whose target could lead out of the folder is refused in every folder (see
    // `symlink_target.rs`), behind the gate like every other call.
    linker.func_wrap(
        MODULE,
        "path_symlink",
        |mut caller: Caller<'_, T>, old_path: i32, old_len: i32, fd: i32, new_path: i32, new_len: i32| -> wasmtime::Result<i32> {
            if !caller.data().gate().allows(fd) {
                return Ok(EACCES);
            }
            let target = read_string(&mut caller, old_path, old_len)?;
            if !symlink_target::allowed(&target) {
                return Ok(EPERM);
            }
            Ok(original!(caller, path_symlink, in_tokio, old_path, old_len, fd, new_path, new_len))
        },
    )?;
    gated!(linker, path_unlink_file, in_tokio, [fd], (fd: i32, path: i32, path_len: i32));

    // Opening through a recording descriptor makes another one.
    linker.func_wrap(
        MODULE,
        "path_open",
        |mut caller: Caller<'_, T>, fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, opened: i32| -> wasmtime::Result<i32> {
            if !caller.data().gate().allows(fd) {
                return Ok(EACCES);
            }
            let errno = original!(caller, path_open, in_tokio, fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, opened);
            if errno == 0 {
                let new = read_u32(&mut caller, opened)?;
                caller.data_mut().gate_and_wasi().0.opened(fd, new);
            }
            Ok(errno)
        },
    )?;
    linker.func_wrap(MODULE, "fd_renumber", |mut caller: Caller<'_, T>, from: i32, to: i32| -> wasmtime::Result<i32> {
        if !caller.data().gate().allows(from) {
            return Ok(EACCES);
        }
        let errno = original!(caller, fd_renumber, in_tokio, from, to);
        if errno == 0 {
            caller.data_mut().gate_and_wasi().0.renumbered(from, to);
        }
        Ok(errno)
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

fn read_u32<T>(caller: &mut Caller<'_, T>, addr: i32) -> wasmtime::Result<u32> {
    let mut bytes = [0u8; 4];
    read_into(caller, addr, &mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

/// A path argument, as text. A path that is not UTF-8, or longer than any the host takes,
/// reads as "/", which no rule accepts.
fn read_string<T>(caller: &mut Caller<'_, T>, addr: i32, len: i32) -> wasmtime::Result<String> {
    const PATH_MAX: usize = 4096;
    let len = len as u32 as usize;
    if len > PATH_MAX {
        return Ok("/".to_owned());
    }
    let mut bytes = vec![0u8; len];
    read_into(caller, addr, &mut bytes)?;
    Ok(String::from_utf8(bytes).unwrap_or_else(|_| "/".to_owned()))
}

fn read_into<T>(caller: &mut Caller<'_, T>, addr: i32, out: &mut [u8]) -> wasmtime::Result<()> {
    match caller.get_export("memory") {
        Some(wasmtime::Extern::Memory(memory)) => Ok(memory.read(&mut *caller, addr as u32 as usize, out)?),
        _ => wasmtime::bail!("the interpreter exports no memory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_until_start_recording_and_after_stop_recording() {
        let mut gate = RecordingGate::new([4]);
        assert!(!gate.allows(4));
        assert!(gate.allows(3), "other descriptors are not the gate's business");
        gate.command_starts(&Command::StartRecording { dir: "/r".into() });
        assert!(gate.allows(4));
        gate.command_starts(&Command::Call(Callback::StopRecording));
        assert!(gate.allows(4), "stop_recording itself may still flush its files");
        gate.command_starts(&Command::Call(Callback::StopAcquisition));
        assert!(!gate.allows(4));
    }

    #[test]
    fn descriptors_opened_through_the_root_and_renumbered_stay_behind_the_gate() {
        let mut gate = RecordingGate::new([4]);
        gate.opened(4, 9);
        gate.opened(3, 10);
        assert!(!gate.allows(9));
        assert!(gate.allows(10));
        gate.renumbered(9, 12);
        assert!(gate.allows(9) && !gate.allows(12));
        gate.renumbered(10, 12);
        assert!(gate.allows(12), "renumbering over a recording descriptor replaces it");
        gate.opened(3, 4);
        assert!(gate.allows(4), "a reused number belongs to the new file");
    }
}
