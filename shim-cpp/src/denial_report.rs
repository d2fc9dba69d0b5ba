//! A processor's refused accesses, kept across the interpreters a C++ processor goes
//! through (every reload starts a new host `Processor` with its own denial log).

use pyproc_host::{Denials, KEPT_DENIALS};

use crate::ffi::DenialReport;

/// Adds `later` to `total`, keeping the first [`KEPT_DENIALS`] distinct ones as the host
/// does.
pub fn merge(total: &mut Denials, later: Denials) {
    total.count += later.count;
    for denial in later.first {
        if total.first.len() < KEPT_DENIALS && !total.first.contains(&denial) {
            total.first.push(denial);
        }
    }
}

pub fn report(denials: &Denials) -> DenialReport {
    DenialReport { count: denials.count, kept: denials.first.iter().map(ToString::to_string).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyproc_host::{Callback, Denial};

    #[test]
    fn merged_denials_add_up_and_keep_each_once() {
        let read = Denial { callback: Some(Callback::StopAcquisition), what: "read /lab/cfg.json".into(), fix: "--allow-read /lab".into() };
        let net = Denial { callback: None, what: "connect 10.0.0.5:5555".into(), fix: "--allow-net 10.0.0.5:5555".into() };
        let mut total = Denials { count: 2, first: vec![read.clone()] };
        merge(&mut total, Denials { count: 3, first: vec![read, net] });
        let shown = report(&total);
        assert_eq!(shown.count, 5);
        assert_eq!(
            shown.kept,
            ["stop_acquisition: read /lab/cfg.json (allow with --allow-read /lab)", "connect 10.0.0.5:5555 (allow with --allow-net 10.0.0.5:5555)"]
        );
    }
}
