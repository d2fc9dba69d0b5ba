//! Plots: what `self.processor.publish` sends reaches `Processor::published` exactly, the
//! latest per name, within its caps; hostile PUBLISH frames are refused; a `PyVisualizer`
//! in its own interpreter draws figures whose pixels the host gets, and its failures and
//! slowness reach no processor.

mod common;

use std::time::Duration;

use common::{builder, engine, example, Done, Printed};
use ndarray::Array2;
use pyproc_host::{Dtype, Error, Limits, Processor, Rendered, ViewerThread};

const PUBLISHER: &str = r#"
import numpy as np

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.n = 0

    def process(self, data):
        self.n += 1
        self.processor.publish("block", data)
        self.processor.publish("count", self.n)
        self.processor.publish("ramp", np.arange(-3, 3, dtype=np.int16).reshape(2, 3))
        self.processor.publish("gain", np.float64(0.1) * self.n)
        self.processor.publish("flags", np.array([True, False, True]))
        self.processor.publish("strided", data[:, ::2])
"#;

fn publisher() -> Processor {
    pyproc_host::Processor::builder_for_source(&engine(), "publisher.py", PUBLISHER).stream(3, 1000.0).build().unwrap()
}

#[test]
fn published_values_reach_the_host_exactly() {
    let mut p = publisher();
    let block = Array2::from_shape_fn((3, 5), |(c, s)| c as f32 * 10.0 + s as f32 + 0.25);
    let mut data = block.clone();
    p.process(data.view_mut(), 4096).done();
    let published = p.published();
    let b = published.get("block").unwrap();
    assert_eq!((b.dtype(), b.shape(), b.sample_number()), (Dtype::F32, &[3u32, 5][..], 4096));
    assert_eq!(b.f32s().unwrap(), block.iter().copied().collect::<Vec<_>>());
    let strided = published.get("strided").unwrap();
    assert_eq!(strided.shape(), [3, 3]);
    assert_eq!(strided.f32s().unwrap(), block.slice(ndarray::s![.., ..;2]).iter().copied().collect::<Vec<_>>());
    let ramp = published.get("ramp").unwrap();
    assert_eq!((ramp.dtype(), ramp.shape()), (Dtype::I16, &[2u32, 3][..]));
    assert_eq!(ramp.bytes(), (-3i16..3).flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>());
    let count = published.get("count").unwrap();
    assert_eq!((count.dtype(), count.shape(), count.bytes()), (Dtype::I64, &[][..], &1i64.to_le_bytes()[..]));
    assert_eq!(published.get("gain").unwrap().bytes(), 0.1f64.to_le_bytes());
    assert_eq!(published.get("flags").unwrap().bytes(), [1, 0, 1]);
    assert_eq!(published.iter().map(|v| v.name()).collect::<Vec<_>>(), ["block", "count", "ramp", "gain", "flags", "strided"]);
}

#[test]
fn the_latest_value_under_a_name_wins() {
    let mut p = publisher();
    let mut data = Array2::<f32>::zeros((3, 4));
    for block in 0..3 {
        data.fill(block as f32);
        p.process(data.view_mut(), block * 4).done();
    }
    let published = p.published();
    let b = published.get("block").unwrap();
    assert_eq!((b.sample_number(), b.updates()), (8, 3));
    assert_eq!(b.f32s().unwrap(), vec![2.0; 12]);
    assert_eq!(published.get("count").unwrap().bytes(), 3i64.to_le_bytes());
    assert_eq!(published.len(), 6);
}

const OVER_THE_CAPS: &str = r#"
import numpy as np

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        for what, call in [
            ("big", lambda: self.processor.publish("big", np.zeros(4 * 1024 * 1024 + 1, np.uint8))),
            ("dims", lambda: self.processor.publish("dims", np.zeros((1, 1, 1, 1, 1)))),
            ("name", lambda: self.processor.publish("n" * 65, 1)),
            ("dtype", lambda: self.processor.publish("complex", np.zeros(2, np.complex64))),
        ]:
            try:
                call()
                print(what, "sent")
            except (ValueError, TypeError) as e:
                print(what, type(e).__name__)
        for i in range(32):
            self.processor.publish(f"v{i}", i)
        try:
            self.processor.publish("v32", 32)
        except ValueError as e:
            print("names ValueError")
        self.processor.publish("v3", 33)  # a known name is still taken
"#;

#[test]
fn publishes_past_the_caps_raise_in_the_script_and_reach_nothing() {
    let printed = Printed::default();
    let mut p = Processor::builder_for_source(&engine(), "caps.py", OVER_THE_CAPS).stream(1, 1000.0).output(printed.sink()).build().unwrap();
    p.process(Array2::<f32>::zeros((1, 4)).view_mut(), 0).done();
    assert_eq!(printed.take(), ["big ValueError", "dims ValueError", "name ValueError", "dtype TypeError", "names ValueError"]);
    let published = p.published();
    assert_eq!(published.len(), 32);
    assert_eq!(published.get("v3").unwrap().bytes(), 33i64.to_le_bytes());
    assert_eq!(p.stats().frames_refused, 0);
}

const HOSTILE: &str = r#"
import struct, _host
from _pyproc_wire import PUBLISH

def frame(code, dims, addr, nbytes, name):
    return struct.pack(f"<BqBBII{len(dims)}I", PUBLISH, 0, code, len(dims), addr, nbytes, *dims) + name

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        for f in [
            frame(9, [4], 0xFFFFFFF0, 16, b"outside"),      # past the end of memory
            frame(9, [4], 0, 12, b"short"),                 # shape says 16 bytes
            frame(99, [4], 0, 16, b"dtype"),
            frame(2, [5 * 1024 * 1024], 0, 5 * 1024 * 1024, b"big"),
            frame(9, [1], 0, 4, b""),
        ]:
            try:
                _host.call(f)
                print("taken")
            except OSError:
                print("refused")
"#;

#[test]
fn hostile_publish_frames_are_refused_and_change_nothing() {
    let printed = Printed::default();
    let mut p = Processor::builder_for_source(&engine(), "hostile.py", HOSTILE).stream(1, 1000.0).output(printed.sink()).build().unwrap();
    p.process(Array2::<f32>::zeros((1, 4)).view_mut(), 0).done();
    let answers: Vec<String> = printed.take().into_iter().filter(|l| !l.starts_with("pyproc: the host refused")).collect();
    assert_eq!(answers, ["refused"; 5]);
    assert!(p.published().is_empty());
    assert_eq!(p.stats().frames_refused, 5);
}

const VIEWER: &str = r#"
import numpy as np

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        self.processor.publish("signal", data)

class PyVisualizer:
    def __init__(self, num_channels, sample_rate):
        from matplotlib.figure import Figure
        self.figure = Figure(figsize=(3, 2), dpi=50)
        self.axes = self.figure.add_subplot()
        self.calls = 0

    def update(self, published):
        self.calls += 1
        if MODE == "raise" and self.calls > 1:
            raise RuntimeError("the viewer broke")
        if MODE == "none":
            return None
        if MODE == "slow":
            while True:
                pass
        self.axes.clear()
        self.axes.plot(published["signal"].T)
        return self.figure
"#;

fn viewer_source(mode: &str) -> String {
    format!("MODE = {mode:?}\n{VIEWER}")
}

fn signal() -> Array2<f32> {
    Array2::from_shape_fn((2, 200), |(c, s)| ((s as f32) / 10.0 + c as f32).sin() * 50.0)
}

#[test]
fn a_viewer_draws_a_figure_the_host_gets_as_rgba_pixels() {
    let source = viewer_source("draw");
    let mut p = Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).build().unwrap();
    let mut viewer = Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).build_viewer().unwrap();
    p.process(signal().view_mut(), 777).done();
    let frame = viewer.render(&p.published()).unwrap().expect("update returned a figure");
    assert_eq!((frame.width, frame.height, frame.sample_number), (150, 100, 777));
    assert_eq!(frame.rgba.len(), 150 * 100 * 4);
    let first = &frame.rgba[..4];
    let differing = frame.rgba.chunks_exact(4).filter(|px| *px != first).count();
    assert!(differing > 500, "only {differing} pixels differ from the corner: the figure is blank");
}

#[test]
fn a_viewer_that_returns_none_leaves_the_frame_unchanged() {
    let source = viewer_source("none");
    let mut viewer = Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).build_viewer().unwrap();
    assert_eq!(viewer.render(&Default::default()).unwrap(), None);
}

#[test]
fn a_script_without_pyvisualizer_cannot_make_a_viewer_and_the_error_names_the_fix() {
    let err = builder(common::example("threshold_events.py")).stream(2, 1000.0).build_viewer().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("defines no class PyVisualizer") && text.contains("update(self, published)"), "{text}");
}

#[test]
fn an_exception_in_update_is_reported_and_processing_is_unchanged() {
    let source = viewer_source("raise");
    let run = |with_viewer: bool| {
        let mut p = Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).build().unwrap();
        let viewer = with_viewer.then(|| ViewerThread::spawn(Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).build_viewer().unwrap()));
        let mut out = Vec::new();
        for i in 0..5 {
            let mut block = signal();
            p.process(block.view_mut(), i * 200).done();
            out.push(block);
            if let Some(v) = &viewer {
                v.offer(p.published());
            }
        }
        let rendered = viewer.map(|v| v.finish(Some(p.published()))).unwrap_or_default();
        (out, rendered)
    };
    let (alone, _) = run(false);
    let (beside, rendered) = run(true);
    assert_eq!(alone, beside);
    assert!(matches!(rendered.first(), Some(Rendered::Frame(_))), "{rendered:?}");
    let failures: Vec<String> = rendered.iter().filter_map(|r| match r {
        Rendered::Failed(err) => Some(err.to_string()),
        _ => None,
    }).collect();
    assert!(!failures.is_empty() && failures.iter().all(|f| f.contains("the viewer broke") && f.contains("update")), "{failures:?}");
}

#[test]
fn a_slow_viewer_past_its_deadline_takes_no_blocks_from_the_processor() {
    let source = viewer_source("slow");
    let limits = Limits { callback_deadline: Duration::from_millis(100), init_deadline: Duration::from_secs(3), ..Default::default() };
    let mut p = Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).build().unwrap();
    let viewer = Processor::builder_for_source(&engine(), "viewer.py", source.as_str()).stream(2, 1000.0).limits(limits).build_viewer().unwrap();
    let plots = ViewerThread::spawn(viewer);
    const BLOCKS: usize = 300;
    let (mut done, mut taken) = (0, 0);
    for i in 0..BLOCKS {
        let mut block = signal();
        if p.process(block.view_mut(), (i * 200) as i64).is_ok() {
            done += 1;
        }
        taken += usize::from(plots.offer(p.published()));
    }
    let so_far = plots.rendered().len();
    let rendered = plots.finish(None);
    // Every block ran; the viewer took one set of values per render it finished, plus the
    // one it was stuck in and the one waiting for it: the rest were skipped, not queued.
    assert_eq!(done, BLOCKS);
    assert!(taken <= so_far + 2, "the viewer took {taken} sets of values but finished only {so_far} renders");
    assert!(taken < BLOCKS / 2, "the viewer took {taken} of {BLOCKS} offers: it was not slow");
    assert!(rendered.iter().all(|r| matches!(r, Rendered::Failed(Error::DeadlineExceeded { .. }))), "{rendered:?}");
}

#[test]
fn the_threshold_plot_example_runs_as_a_processor_and_draws_as_a_viewer() {
    let mut p = builder(example("threshold_plot.py")).stream(4, 30_000.0).build().unwrap();
    let mut viewer = builder(example("threshold_plot.py")).stream(4, 30_000.0).build_viewer().unwrap();
    let mut block = Array2::from_shape_fn((4, 1024), |(_, s)| if s % 300 == 0 { -500.0 } else { ((s * 7919) % 13) as f32 - 6.0 });
    let emitted = p.process(block.view_mut(), 0).done();
    assert_eq!(emitted.events.len(), 2 * 4, "{:?}", emitted.events);
    let frame = viewer.render(&p.published()).unwrap().unwrap();
    assert_eq!((frame.width, frame.height), (800, 300));
}
