//! Plots: what `publish` adds to a block beside a plain copy of the same array in the
//! script, and how many figures a second a viewer draws in its sandbox beside the same
//! matplotlib code in native CPython (which hands the pixels over the same way: a copy of
//! `buffer_rgba()`).

use pyproc_host::{Engine, Processor};

use crate::bench::Bench;
use crate::measure::head_to_head;
use crate::native::NativeViewer;
use crate::row::{Row, Unit};
use crate::us;
use crate::workloads::{block, script, RATE};

const CHANNELS: usize = 64;

pub fn publish(bench: &mut Bench, engine: &Engine) {
    let workload = format!("publish {CHANNELS} x 1024 float32 per block");
    if !bench.wants(&workload) {
        return;
    }
    let build = |name: &str| Processor::builder(engine, script(name)).stream(CHANNELS, RATE).build().expect("the bench script loads");
    let (mut publishing, mut copying) = (build("publish64.py"), build("copy64.py"));
    let (mut a, mut b) = (block(CHANNELS), block(CHANNELS));
    let (ours, theirs) = head_to_head(
        || {
            publishing.process(a.view_mut(), 0).expect("publish runs");
        },
        || {
            copying.process(b.view_mut(), 0).expect("the copy runs");
        },
    );
    bench.record(Row::beside(workload, Unit::Micros, us(ours), "np.copyto in process", us(theirs)));
}

pub fn viewer(bench: &mut Bench, engine: &Engine) {
    let workload = format!("viewer frame, {CHANNELS} lines x 1024 points, 800 x 600 px");
    if !bench.wants(&workload) {
        return;
    }
    let path = script("plot64.py");
    let builder = || Processor::builder(engine, &path).stream(CHANNELS, RATE);
    let mut processor = builder().build().expect("plot64.py loads");
    let mut viewer = builder().build_viewer().expect("plot64.py's PyVisualizer constructs");
    let mut native = NativeViewer::new(&path, CHANNELS, RATE).expect("the native viewer constructs (pip installs matplotlib once)");
    let mut data = block(CHANNELS);
    processor.process(data.view_mut(), 0).expect("publishes");
    let published = processor.published();
    let (ours, theirs) = head_to_head(
        || {
            viewer.render(&published).expect("the viewer draws").expect("a figure");
        },
        || {
            native.render(&data).expect("the native viewer draws");
        },
    );
    let rate = |d: std::time::Duration| 1.0 / d.as_secs_f64();
    bench.record(Row::versus(workload, Unit::FramesPerSecond, rate(ours), rate(theirs)));
}
