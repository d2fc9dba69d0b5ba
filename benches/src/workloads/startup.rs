//! From nothing to the first processed block: what a scientist waits for at a start.

use std::process::Command;
use std::time::Instant;

use pyproc_host::Processor;

use crate::bench::Bench;
use crate::median;
use crate::native::ensure_venv;
use crate::row::{Row, Unit};
use crate::workloads::{block, script, RATE};

/// pyproc: a processor built from the cached interpreter and its first block. Native: a
/// fresh interpreter process from its start to the first processed block.
pub fn instance_ready(bench: &mut Bench) {
    let workload = "instance ready: numpy + scipy.signal, 1st block";
    if !bench.wants(workload) {
        return;
    }
    let script = script("imports.py");
    let engine = bench.engine();
    let ours = median((0..3).map(|_| {
        let start = Instant::now();
        let mut p = Processor::builder(&engine, &script).stream(64, RATE).build().unwrap();
        p.process(block(64).view_mut(), 0).unwrap();
        start.elapsed()
    }));
    let python = ensure_venv().ancestors().find(|p| p.join("bin/python").exists()).map(|p| p.join("bin/python")).expect("venv python");
    let probe = format!(
        "import sys; sys.modules['oe_pyprocessor'] = type(sys)('oe_pyprocessor')\n\
         import numpy as np\nsrc = open({:?}).read(); ns = {{}}; exec(compile(src, 'imports.py', 'exec'), ns)\n\
         p = ns['PyProcessor'](None, 64, 30000.0); p.process(np.zeros((64, 1024), np.float32))",
        script.display().to_string()
    );
    let theirs = median((0..3).map(|_| {
        let start = Instant::now();
        let ok = Command::new(&python).args(["-c", &probe]).status().map(|s| s.success()).unwrap_or(false);
        assert!(ok, "native start-up probe failed");
        start.elapsed()
    }));
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    bench.record(Row::versus(workload, Unit::Millis, ms(ours), ms(theirs)));
}
