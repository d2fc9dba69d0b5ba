//! The C++ options' grants, as the host's [`Grants`]: the same flags' syntax and the same
//! errors (`Error::BadGrant`, naming the flag) as `pyproc run`.

use pyproc_host::{Error, Grants};

use crate::ffi::ProcessorOptions;

/// The grants `options` name, checked.
pub fn grants_of(options: &ProcessorOptions) -> Result<Grants, Error> {
    Grants::from_flags(options.script_folder, &options.allow_read, &options.allow_write, &options.allow_net, &options.allow_listen)
}

pub fn check_grants(options: &ProcessorOptions) -> Result<(), Error> {
    grants_of(options).map(drop)
}
