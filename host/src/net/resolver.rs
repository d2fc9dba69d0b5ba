//! Looking granted names up, within the running callback's time.
//!
//! The system's resolver blocks for as long as it likes and cannot be interrupted, so each
//! lookup runs on a thread of its own while the door waits for it in short slices (a
//! cancel is seen, the deadline holds). A lookup that outlives the wait keeps running and
//! a later call picks up its answer; there is at most one per name, and only granted names
//! are ever looked up, so the threads are as few as the grants. Answers are kept for the
//! interpreter's life: a name keeps the addresses the script was given.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};

use crate::net::error::NetError;
use crate::net::wait::Until;

/// One name's lookup: `None` while it runs.
#[derive(Default)]
struct Pending {
    answer: Mutex<Option<Result<Vec<Ipv4Addr>, String>>>,
    done: Condvar,
}

#[derive(Default)]
pub(crate) struct Resolver {
    lookups: HashMap<String, Arc<Pending>>,
}

impl Resolver {
    /// The IPv4 addresses of `name` (a name the policy allows looking up).
    pub fn lookup(&mut self, name: &str, until: &Until<'_>) -> Result<Vec<Ipv4Addr>, NetError> {
        let pending = match self.lookups.get(name) {
            Some(pending) => pending.clone(),
            None => {
                let pending = Arc::new(Pending::default());
                let (for_thread, owned) = (pending.clone(), name.to_owned());
                std::thread::Builder::new()
                    .name("pyproc-lookup".into())
                    .spawn(move || {
                        let answer = resolve(&owned);
                        *for_thread.answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
                        for_thread.done.notify_all();
                    })
                    .map_err(NetError::io)?;
                self.lookups.insert(name.to_owned(), pending.clone());
                pending
            }
        };
        let mut answer = pending.answer.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match answer.as_ref() {
                Some(Ok(addresses)) => return Ok(addresses.clone()),
                Some(Err(why)) => {
                    let error = NetError::os("EAI_NONAME", format!("{name}: {why}"));
                    drop(answer);
                    // A failed lookup is not kept: the network may be back next time.
                    self.lookups.remove(name);
                    return Err(error);
                }
                None => {
                    let slice = until.slice()?;
                    answer = pending.done.wait_timeout(answer, slice).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        }
    }
}

/// The system resolver's IPv4 answers for `name` (IPv6 is not served).
fn resolve(name: &str) -> Result<Vec<Ipv4Addr>, String> {
    let addresses: Vec<Ipv4Addr> = (name, 0)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
        .fold(Vec::new(), |mut unique, ip| {
            if !unique.contains(&ip) {
                unique.push(ip);
            }
            unique
        });
    if addresses.is_empty() {
        return Err("no IPv4 address".into());
    }
    Ok(addresses)
}
