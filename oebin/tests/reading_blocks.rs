//! Reading a continuous stream block by block.

mod common;

use common::{write_recording, SAMPLES, STREAM_FOLDER};
use ndarray::Array2;
use pyproc_oebin::{OebinError, Recording};

#[test]
fn blocks_hold_each_channels_samples_in_physical_units() {
    let root = tempfile::tempdir().unwrap();
    let recording = Recording::open(&write_recording(&root.path().join("rec"))).unwrap();
    let continuous = recording.continuous(0).unwrap();
    let mut block = Array2::<f32>::zeros((2, 7));
    continuous.read_block(100, &mut block.view_mut()).unwrap();
    // Written as (c * 100 + s) x 0.195 µV: int16 steps of 0.195.
    let expected = Array2::from_shape_fn((2, 7), |(c, s)| (c * 100 + 100 + s) as f32 * 0.195);
    assert!((&block - &expected).iter().all(|d| d.abs() < 1e-3), "{block}");
}

#[test]
fn a_data_file_cut_short_after_opening_is_an_error_naming_it_not_a_crash() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_recording(&root.path().join("rec"));
    let recording = Recording::open(&dir).unwrap();
    let continuous = recording.continuous(0).unwrap();
    let dat = dir.join("continuous").join(STREAM_FOLDER).join("continuous.dat");
    std::fs::OpenOptions::new().write(true).open(&dat).unwrap().set_len(100).unwrap();
    let mut block = Array2::<f32>::zeros((2, SAMPLES));
    let err = continuous.read_block(0, &mut block.view_mut()).unwrap_err();
    assert!(matches!(&err, OebinError::Io { path, .. } if *path == dat), "{err}");
}
