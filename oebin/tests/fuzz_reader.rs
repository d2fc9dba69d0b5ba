//! Recordings are user input: whatever is on disk, opening and reading it returns data or
//! an error, never a panic, and never allocates more than the files hold.

mod common;

use std::path::Path;

use common::{structure_json, STREAM_FOLDER};
use ndarray::Array2;
use proptest::prelude::*;
use pyproc_oebin::Recording;

/// A `.npy` file: a valid header for `dtype` with `len` elements of random bytes, or junk.
fn npy(valid: bool, dtype: &str, len: usize, junk: &[u8]) -> Vec<u8> {
    if !valid {
        return junk.to_vec();
    }
    let width: usize = dtype[2..].parse().unwrap();
    let header = format!("{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({len},), }}");
    let pad = 64 - (10 + header.len() + 1) % 64;
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&((header.len() + pad + 1) as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out.extend((0..len * width).map(|i| junk.get(i % junk.len().max(1)).copied().unwrap_or(0)));
    out
}

#[derive(Debug, Clone)]
struct Case {
    declared_channels: usize,
    listed_channels: usize,
    dat_bytes: usize,
    samples_valid: bool,
    samples_len: usize,
    states_valid: bool,
    states_len: usize,
    json_junk: bool,
    junk: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..5, 0usize..5, 0usize..300, any::<bool>(), 0usize..80, any::<bool>(), 0usize..20, proptest::bool::weighted(0.2), proptest::collection::vec(any::<u8>(), 0..64))
        .prop_map(|(declared_channels, listed_channels, dat_bytes, samples_valid, samples_len, states_valid, states_len, json_junk, junk)| Case {
            declared_channels, listed_channels, dat_bytes, samples_valid, samples_len, states_valid, states_len, json_junk, junk,
        })
}

fn write_case(dir: &Path, c: &Case) {
    let cont = dir.join("continuous").join(STREAM_FOLDER);
    let events = dir.join("events").join(STREAM_FOLDER).join("TTL");
    std::fs::create_dir_all(&cont).unwrap();
    std::fs::create_dir_all(&events).unwrap();
    let structure = structure_json(c.declared_channels, c.listed_channels);
    let json = if c.json_junk { c.junk.clone() } else { structure.to_string().into_bytes() };
    std::fs::write(dir.join("structure.oebin"), json).unwrap();
    std::fs::write(cont.join("continuous.dat"), (0..c.dat_bytes).map(|i| i as u8).collect::<Vec<_>>()).unwrap();
    std::fs::write(cont.join("sample_numbers.npy"), npy(c.samples_valid, "<i8", c.samples_len, &c.junk)).unwrap();
    std::fs::write(cont.join("timestamps.npy"), npy(c.samples_valid, "<f8", c.samples_len, &c.junk)).unwrap();
    std::fs::write(events.join("states.npy"), npy(c.states_valid, "<i2", c.states_len, &c.junk)).unwrap();
    std::fs::write(events.join("sample_numbers.npy"), npy(c.states_valid, "<i8", c.states_len, &c.junk)).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_recording_on_disk_reads_or_errors_without_panicking(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        write_case(dir.path(), &c);
        let Ok(rec) = Recording::open(dir.path()) else { return Ok(()) };
        let Ok(stream) = rec.structure.stream_index(None) else { return Ok(()) };
        if let Ok(cont) = rec.continuous(stream) {
            let mut block = Array2::<f32>::zeros((cont.info.num_channels, 7.min(cont.len())));
            let mut start = 0;
            while start + block.ncols() <= cont.len() && block.ncols() > 0 {
                cont.read_block(start, &mut block.view_mut()).unwrap();
                start += block.ncols();
            }
            prop_assert!(cont.len() * cont.info.num_channels * 2 <= c.dat_bytes);
        }
        let _ = rec.ttl_events(stream);
        let _ = rec.spikes(stream);
    }
}
