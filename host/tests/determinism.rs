//! Same script, same input, same seed: the same bytes out, whatever runs beside it.

mod common;

use common::{builder, Done, test_script};
use ndarray::Array2;

fn run(label: &str, seed: u64) -> Array2<f32> {
    let mut p = builder(test_script("random_writer.py")).stream(4, 30_000.0).label(label).seed(seed).build().unwrap();
    let mut out = Array2::<f32>::zeros((4, 256));
    for b in 0..4 {
        p.process(out.slice_mut(ndarray::s![.., b * 64..(b + 1) * 64]), (b * 64) as i64).done();
    }
    out
}

#[test]
fn the_same_seed_and_label_give_the_same_numbers_from_every_source() {
    let a = run("unit", 7);
    assert_eq!(a, run("unit", 7));
    for row in 0..4 {
        let r = a.row(row);
        assert!(r.iter().any(|v| *v != r[0]), "row {row} is random, not constant");
    }
}

#[test]
fn another_label_or_seed_gives_other_numbers_in_every_source() {
    let a = run("unit", 7);
    for other in [run("unit#2", 7), run("unit", 8)] {
        for row in 0..4 {
            assert_ne!(a.row(row), other.row(row), "row {row}");
        }
    }
}

#[test]
fn eight_instances_in_parallel_match_the_same_eight_run_one_by_one() {
    let labels: Vec<String> = (0..8).map(|i| format!("instance {i}")).collect();
    let sequential: Vec<_> = labels.iter().map(|l| run(l, 1)).collect();
    let parallel: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = labels.iter().map(|l| s.spawn(move || run(l, 1))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sequential, parallel);
}
