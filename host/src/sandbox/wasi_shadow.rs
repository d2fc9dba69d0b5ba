//! The sandbox's own front to WASI preview 1: every function that takes a descriptor or a
//! path is shadowed, checked, and then handed to wasmtime-wasi's implementation.
//!
//! Three rules are applied here, each decided elsewhere:
//! - the recording gate (`recording_gate.rs`): descriptors into a recording root answer
//!   `EACCES` outside a recording;
//! - the path grants (`guest_paths.rs`): a path under the placeholder `/` is sent to the
//!   grant that covers it, rewritten relative to the grant's descriptor, or refused with
//!   `EACCES` (recorded as a denial, but for a stat, which the runtime reports); the grants' descriptors themselves answer `EBADF`
//!   when the guest names them by number;
//! - symlink targets (`symlink_target.rs`): never absolute, empty or with `..`.
//!
//! A rewritten path must be in guest memory for wasmtime-wasi to read it: it is written to
//! the scratch area the guest runtime announced in its HELLO frame (two slots, for the two
//! paths of a rename or a link).

use wasmtime::{AsContextMut, Caller, Linker};
use wasmtime_wasi::p1::{wasi_snapshot_preview1 as wasi, WasiP1Ctx};
use wasmtime_wasi::runtime::in_tokio;

use crate::grants::Need;
use crate::sandbox::guest_paths::{GuestPaths, Resolved};
use crate::sandbox::preopens::SLASH_FD;
use crate::sandbox::recording_gate::RecordingGate;
use crate::sandbox::symlink_target;

/// What the shadow needs from the store's data.
pub(crate) trait ShadowHost: Send + 'static {
    fn gate(&self) -> &RecordingGate;
    fn paths(&self) -> &GuestPaths;
    fn gate_and_wasi(&mut self) -> (&mut RecordingGate, &mut WasiP1Ctx);
    /// The guest's area for rewritten paths: address and length of each of its two slots.
    fn path_scratch(&self) -> Option<(u32, u32)>;
    /// Records a refused access (`what`, and the flag that would allow it).
    fn denied(&mut self, what: String, fix: String);
}

const MODULE: &str = "wasi_snapshot_preview1";
/// WASI preview 1 errno values.
const EACCES: i32 = 2;
const EBADF: i32 = 8;
const ENAMETOOLONG: i32 = 37;
const ENOTDIR: i32 = 54;
/// Python raises `PermissionError` for it.
const EPERM: i32 = 63;

/// `oflags`, `rights` and `fdflags` bits that make an open a write.
const O_CREAT_EXCL_TRUNC: i32 = 1 | 4 | 8;
const RIGHTS_WRITE: i64 = 1 | (1 << 6) | (1 << 8) | (1 << 22); // datasync, write, allocate, filestat_set_size
const FDFLAGS_APPEND: i32 = 1;

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

/// The errno for a descriptor the guest may not use now, if any.
fn refused<T: ShadowHost>(caller: &Caller<'_, T>, fd: i32) -> Option<i32> {
    if caller.data().paths().is_hidden(fd) {
        Some(EBADF)
    } else if !caller.data().gate().allows(fd) {
        Some(EACCES)
    } else {
        None
    }
}

/// Shadows `$name`, which takes descriptors `$fd` and no path.
macro_rules! by_fd {
    ($linker:ident, $name:ident, $($block:path)?, [$($fd:ident),+], ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(MODULE, stringify!($name), |mut caller: Caller<'_, T>, $($arg: $ty),*| -> wasmtime::Result<i32> {
            $(if let Some(errno) = refused(&caller, $fd) {
                return Ok(errno);
            })+
            Ok(original!(caller, $name, $($block)?, $($arg),*))
        })?;
    };
}

/// Shadows `$name`, which takes paths `($fd, $path, $len)` relative to descriptors, each
/// needing `$need`.
macro_rules! by_path {
    ($linker:ident, $name:ident, $($block:path)?, [$(($fd:ident, $path:ident, $len:ident, $need:expr, $slot:literal)),+], ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(MODULE, stringify!($name), |mut caller: Caller<'_, T>, $(#[allow(unused_mut)] mut $arg: $ty),*| -> wasmtime::Result<i32> {
            $(if let Some(errno) = refused(&caller, $fd) {
                return Ok(errno);
            })+
            $(match route(&mut caller, $fd, $path, $len, $need, $slot)? {
                Ok(Some((fd, path, len))) => ($fd, $path, $len) = (fd, path, len),
                Ok(None) => {}
                Err(errno) => return Ok(errno),
            })+
            Ok(original!(caller, $name, $($block)?, $($arg),*))
        })?;
    };
}

/// For a path under `/`: the descriptor, path and length to use instead (`Ok(None)`: not
/// under `/`, leave it), or the errno that refuses it.
fn route<T: ShadowHost>(caller: &mut Caller<'_, T>, fd: i32, path: i32, len: i32, need: Need, slot: u32) -> wasmtime::Result<Result<Option<(i32, i32, i32)>, i32>> {
    if fd as u32 != SLASH_FD {
        return Ok(Ok(None));
    }
    let raw = read_string(caller, path, len)?;
    let (fd, rewritten) = match caller.data().paths().resolve(&raw, need) {
        Resolved::Granted { fd, path } => (fd as i32, path),
        Resolved::Above => (fd, ".".to_owned()),
        Resolved::NotADirectory => return Ok(Err(ENOTDIR)),
        Resolved::Denied { what, fix, listed } => {
            // A look (stat) is reported by the runtime, which knows whose look it was (the
            // script's, or a library's at import: matplotlib searching for fonts).
            if listed && need != Need::Look {
                caller.data_mut().denied(what, fix);
            }
            return Ok(Err(EACCES));
        }
    };
    let Some((scratch, slot_len)) = caller.data().path_scratch() else {
        // Before the runtime's HELLO nothing of the script runs: nothing to route.
        return Ok(Err(EACCES));
    };
    if rewritten.len() > slot_len as usize {
        return Ok(Err(ENAMETOOLONG));
    }
    let at = scratch + slot * slot_len;
    write_into(caller, at, rewritten.as_bytes())?;
    Ok(Ok(Some((fd, at as i32, rewritten.len() as i32))))
}

/// Whether a `path_open` with these flags changes anything.
fn open_need(oflags: i32, base: i64, fdflags: i32) -> Need {
    if oflags & O_CREAT_EXCL_TRUNC != 0 || base & RIGHTS_WRITE != 0 || fdflags & FDFLAGS_APPEND != 0 {
        Need::Write
    } else {
        Need::Read
    }
}

/// Puts the shadow in front of every preview 1 function that takes a descriptor or a
/// path. Call after wasmtime-wasi's `add_to_linker_sync`.
pub(crate) fn add_to_linker<T: ShadowHost>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    use Need::{Look, MakeFolder, Write};
    linker.allow_shadowing(true);
    by_fd!(linker, fd_advise, in_tokio, [fd], (fd: i32, offset: i64, len: i64, advice: i32));
    by_fd!(linker, fd_allocate, , [fd], (fd: i32, offset: i64, len: i64));
    by_fd!(linker, fd_datasync, in_tokio, [fd], (fd: i32));
    by_fd!(linker, fd_fdstat_set_flags, , [fd], (fd: i32, flags: i32));
    by_fd!(linker, fd_fdstat_set_rights, , [fd], (fd: i32, base: i64, inheriting: i64));
    by_fd!(linker, fd_filestat_get, in_tokio, [fd], (fd: i32, buf: i32));
    by_fd!(linker, fd_filestat_set_size, in_tokio, [fd], (fd: i32, size: i64));
    by_fd!(linker, fd_filestat_set_times, in_tokio, [fd], (fd: i32, atim: i64, mtim: i64, flags: i32));
    by_fd!(linker, fd_pread, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32));
    by_fd!(linker, fd_pwrite, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32));
    by_fd!(linker, fd_read, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, nread: i32));
    by_fd!(linker, fd_readdir, in_tokio, [fd], (fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32));
    by_fd!(linker, fd_seek, in_tokio, [fd], (fd: i32, offset: i64, whence: i32, newoffset: i32));
    by_fd!(linker, fd_sync, in_tokio, [fd], (fd: i32));
    by_fd!(linker, fd_tell, , [fd], (fd: i32, offset: i32));
    by_fd!(linker, fd_write, in_tokio, [fd], (fd: i32, iovs: i32, iovs_len: i32, nwritten: i32));
    // Closing and describing are not the gate's business, but a grant's descriptor is
    // not the guest's to close, look at or discover.
    hidden_only(linker)?;
    by_path!(linker, path_create_directory, in_tokio, [(fd, path, path_len, MakeFolder, 0)], (fd: i32, path: i32, path_len: i32));
    by_path!(linker, path_filestat_get, in_tokio, [(fd, path, path_len, Look, 0)], (fd: i32, flags: i32, path: i32, path_len: i32, buf: i32));
    by_path!(linker, path_filestat_set_times, in_tokio, [(fd, path, path_len, Write, 0)], (fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32));
    // A hard link makes the old file writable through the new name: both sides write.
    by_path!(linker, path_link, in_tokio, [(old_fd, old_path, old_len, Write, 0), (new_fd, new_path, new_len, Write, 1)], (old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32));
    by_path!(linker, path_readlink, in_tokio, [(fd, path, path_len, Look, 0)], (fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32));
    by_path!(linker, path_remove_directory, in_tokio, [(fd, path, path_len, Write, 0)], (fd: i32, path: i32, path_len: i32));
    by_path!(linker, path_rename, in_tokio, [(old_fd, old_path, old_len, Write, 0), (new_fd, new_path, new_len, Write, 1)], (old_fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32));
    by_path!(linker, path_unlink_file, in_tokio, [(fd, path, path_len, Write, 0)], (fd: i32, path: i32, path_len: i32));
    linker.func_wrap(
        MODULE,
        "path_symlink",
        |mut caller: Caller<'_, T>, old_path: i32, old_len: i32, mut fd: i32, mut new_path: i32, mut new_len: i32| -> wasmtime::Result<i32> {
            if let Some(errno) = refused(&caller, fd) {
                return Ok(errno);
            }
            // A link whose target could lead out of the folder is refused in every folder.
            let target = read_string(&mut caller, old_path, old_len)?;
            if !symlink_target::allowed(&target) {
                return Ok(EPERM);
            }
            match route(&mut caller, fd, new_path, new_len, Write, 1)? {
                Ok(Some(routed)) => (fd, new_path, new_len) = routed,
                Ok(None) => {}
                Err(errno) => return Ok(errno),
            }
            Ok(original!(caller, path_symlink, in_tokio, old_path, old_len, fd, new_path, new_len))
        },
    )?;
    // Opening through a recording descriptor makes another one.
    linker.func_wrap(
        MODULE,
        "path_open",
        |mut caller: Caller<'_, T>, mut fd: i32, dirflags: i32, mut path: i32, mut path_len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, opened: i32| -> wasmtime::Result<i32> {
            if let Some(errno) = refused(&caller, fd) {
                return Ok(errno);
            }
            match route(&mut caller, fd, path, path_len, open_need(oflags, base, fdflags), 0)? {
                Ok(Some(routed)) => (fd, path, path_len) = routed,
                Ok(None) => {}
                Err(errno) => return Ok(errno),
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
        if caller.data().paths().is_hidden(from) || caller.data().paths().is_hidden(to) {
            return Ok(EBADF);
        }
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

/// The functions only a grant's own descriptor is refused.
fn hidden_only<T: ShadowHost>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    macro_rules! hidden {
        ($name:ident, $($block:path)?, ($fd:ident: i32 $(, $arg:ident: $ty:ty)*)) => {
            linker.func_wrap(MODULE, stringify!($name), |mut caller: Caller<'_, T>, $fd: i32 $(, $arg: $ty)*| -> wasmtime::Result<i32> {
                if caller.data().paths().is_hidden($fd) {
                    return Ok(EBADF);
                }
                Ok(original!(caller, $name, $($block)?, $fd $(, $arg)*))
            })?;
        };
    }
    hidden!(fd_close, in_tokio, (fd: i32));
    hidden!(fd_fdstat_get, in_tokio, (fd: i32, buf: i32));
    hidden!(fd_prestat_get, , (fd: i32, buf: i32));
    hidden!(fd_prestat_dir_name, , (fd: i32, path: i32, path_len: i32));
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

fn write_into<T>(caller: &mut Caller<'_, T>, addr: u32, bytes: &[u8]) -> wasmtime::Result<()> {
    match caller.get_export("memory") {
        Some(wasmtime::Extern::Memory(memory)) => Ok(memory.write(&mut *caller, addr as usize, bytes)?),
        _ => wasmtime::bail!("the interpreter exports no memory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_that_creates_truncates_appends_or_writes_is_a_write() {
        assert_eq!(open_need(0, 1 << 1, 0), Need::Read);
        assert_eq!(open_need(1, 1 << 1, 0), Need::Write, "O_CREAT");
        assert_eq!(open_need(8, 1 << 1, 0), Need::Write, "O_TRUNC");
        assert_eq!(open_need(0, 1 << 6, 0), Need::Write, "FD_WRITE");
        assert_eq!(open_need(0, 1 << 1, FDFLAGS_APPEND), Need::Write, "append");
    }
}
