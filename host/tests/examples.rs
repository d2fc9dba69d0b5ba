//! The shipped examples do what their headers promise, checked against native references.

mod common;

use common::{builder, Done, example};
use ndarray::{s, Array2};
use ndarray_npy::read_npy;
use pyproc_host::TtlEvent;

const BLOCK: usize = 1024;

fn reference(name: &str) -> Array2<f32> {
    read_npy(format!("{}/tests/reference/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn bandpass_filter_block_by_block_matches_native_scipy_on_the_whole_signal() {
    let input = reference("bandpass_input.npy");
    let expected = reference("bandpass_expected.npy");
    let (channels, samples) = input.dim();
    let mut p = builder(example("bandpass_filter.py")).stream(channels, 30_000.0).build().unwrap();
    p.start_acquisition().unwrap();
    let mut output = input.clone();
    for start in (0..samples).step_by(BLOCK) {
        let end = (start + BLOCK).min(samples); // the last block is shorter
        p.process(output.slice_mut(s![.., start..end]), start as i64).done();
    }
    let worst = (&output - &expected).iter().fold(0f32, |m, d| m.max(d.abs()));
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 10.0, "the in-band tone survives the filter");
    assert!(worst <= 1e-5 * scale + 1e-4, "max |pyproc - scipy| = {worst} (signal scale {scale})");
    assert_ne!(output, input, "the filter did something");
}

#[test]
fn threshold_events_fire_at_the_exact_crossing_samples_across_block_edges() {
    // Crossings at known samples, two of them on a block edge (1023 -> 1024).
    let mut signal = Array2::<f32>::zeros((2, 3 * BLOCK));
    let high = [(100, 200), (1024, 1500), (2047, 2048)];
    for (on, off) in high {
        signal.slice_mut(s![0, on..off]).fill(150.0);
    }
    signal.slice_mut(s![1, ..]).fill(500.0); // other channels are ignored
    let mut p = builder(example("threshold_events.py")).stream(2, 30_000.0).build().unwrap();
    let first = 40_000i64;
    let mut events: Vec<TtlEvent> = Vec::new();
    for b in 0..3 {
        let mut block = signal.slice(s![.., b * BLOCK..(b + 1) * BLOCK]).to_owned();
        events.extend_from_slice(p.process(block.view_mut(), first + (b * BLOCK) as i64).done().events);
    }
    let expected: Vec<TtlEvent> = high
        .iter()
        .flat_map(|&(on, off)| {
            [
                TtlEvent { sample_number: first + on as i64, line: 1, state: true },
                TtlEvent { sample_number: first + off as i64, line: 1, state: false },
            ]
        })
        .collect();
    assert_eq!(events, expected);
}
