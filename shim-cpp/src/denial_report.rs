//! A processor's refused accesses as the C++ API reports them: the count, and one line for
//! each kept refusal. (The handle adds up the interpreters a reload went through with
//! `Denials::merge`.)

use pyproc_host::Denials;

use crate::ffi::DenialReport;

pub fn report(denials: &Denials) -> DenialReport {
    DenialReport { count: denials.count, kept: denials.first.iter().map(ToString::to_string).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyproc_host::{Callback, Denial};

    #[test]
    fn merged_denials_are_reported_in_order_with_their_fix() {
        let read = Denial { callback: Some(Callback::StopAcquisition), what: "read /lab/cfg.json".into(), fix: "--allow-read /lab".into() };
        let net = Denial { callback: None, what: "connect 10.0.0.5:5555".into(), fix: "--allow-net 10.0.0.5:5555".into() };
        let mut total = Denials { count: 2, first: vec![read.clone()] };
        total.merge(Denials { count: 3, first: vec![read, net] });
        let shown = report(&total);
        assert_eq!(shown.count, 5);
        assert_eq!(
            shown.kept,
            ["stop_acquisition: read /lab/cfg.json (allow with --allow-read /lab)", "connect 10.0.0.5:5555 (allow with --allow-net 10.0.0.5:5555)"]
        );
    }
}
