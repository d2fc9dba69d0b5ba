//! The C++ options' grants, as the host's [`Grants`]: the same flags' syntax and the same
//! errors (`Error::BadGrant`, naming the flag) as `pyproc run`.

use pyproc_host::{Error, Grants};

use crate::ffi::ProcessorOptions;

/// The grants `options` name, checked.
pub fn grants_of(options: &ProcessorOptions) -> Result<Grants, Error> {
    let mut grants = Grants { script_folder: options.script_folder, ..Grants::default() };
    for spec in &options.allow_read {
        grants = grants.allow_read(spec)?;
    }
    for spec in &options.allow_write {
        grants = grants.allow_write(spec)?;
    }
    for spec in &options.allow_net {
        grants = grants.allow_net(spec)?;
    }
    for &port in &options.allow_listen {
        grants = grants.allow_listen(port);
    }
    Ok(grants)
}

pub fn check_grants(options: &ProcessorOptions) -> Result<(), Error> {
    grants_of(options).map(drop)
}
