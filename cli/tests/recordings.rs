//! `pyproc run --input/--output`: Open Ephys Binary recordings in and out.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cli_script, copy_dir, files_below, native_python, pyproc, pyproc_ok, repo, s, synthetic_recording, text, SYNTHETIC_DAT};
use ndarray::{s as sl, Array2};
use pyproc_oebin::{Recording, RecordingWriter};
use serde_json::{json, Value};

#[test]
fn a_pass_through_run_gives_back_the_input_byte_for_byte_with_events_and_spikes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let output = tmp.path().join("out");
    pyproc_ok(&["run", &cli_script("passthrough.py"), "--input", s(&input), "--output", s(&output)]);
    let out_rec = output.join("experiment1/recording1");
    for file in files_below(&input) {
        let rel = file.strip_prefix(&input).unwrap();
        if rel == Path::new("structure.oebin") {
            continue;
        }
        let copy = std::fs::read(out_rec.join(rel)).unwrap_or_else(|e| panic!("{} missing in the output: {e}", rel.display()));
        assert!(copy == std::fs::read(&file).unwrap(), "{} differs", rel.display());
    }
    let structure: Value = serde_json::from_str(&std::fs::read_to_string(out_rec.join("structure.oebin")).unwrap()).unwrap();
    assert!(structure["continuous"][0]["channels"][0]["history"].as_str().unwrap().ends_with("-> pyproc (passthrough.py)"));
    let names: Vec<&str> = structure["events"].as_array().unwrap().iter().map(|e| e["channel_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Synthetic TTL", "Python Processor Output"]);
}

#[test]
fn events_from_the_script_land_at_the_sample_numbers_it_gave_or_at_the_block_start() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let output = tmp.path().join("out");
    pyproc_ok(&["run", &cli_script("event_marker.py"), "--input", s(&input), "--output", s(&output), "--block-size", "1000"]);
    let rec = Recording::open(&output).unwrap();
    let ours: Vec<(i64, u8, bool)> =
        rec.ttl_events(0).unwrap().into_iter().filter(|e| e.channel == "Python Processor Output").map(|e| (e.sample_number, e.line, e.state)).collect();
    let mut expected = Vec::new();
    for first in (0..30_000).step_by(1000) {
        expected.extend([(first, 3, true), (first + 10, 2, true), (first + 20, 2, false)]);
    }
    assert_eq!(ours, expected);
}

#[test]
fn events_and_spikes_reach_the_script_before_the_block_they_fall_in() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let out = pyproc_ok(&["run", &cli_script("order_logger.py"), "--input", s(&input)]);
    let mut block_end = 0i64;
    let mut pending: Vec<i64> = Vec::new();
    let mut delivered = 0;
    for line in text(&out.stderr).lines().filter_map(|l| l.strip_prefix("[order_logger.py] ")) {
        let words: Vec<&str> = line.split(' ').collect();
        match words[0] {
            "ttl" | "spike" => pending.push(words[1].parse().unwrap()),
            "block" => {
                let (first, n): (i64, i64) = (words[1].parse().unwrap(), words[2].parse().unwrap());
                for sample in pending.drain(..) {
                    assert!(sample >= block_end && sample < first + n, "event at {sample} delivered before block {first}+{n}");
                    delivered += 1;
                }
                block_end = first + n;
            }
            _ => {}
        }
    }
    assert!(pending.is_empty());
    // 2 TTL edges and ~10 spikes (1 tetrode x 2 units x 5 Hz x 1 s).
    assert!(delivered > 5, "{delivered} delivered");
}

#[test]
fn samples_outside_int16_are_clipped_and_counted_never_wrapped() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let output = tmp.path().join("out");
    let out = pyproc_ok(&["run", &cli_script("amplifier.py"), "--input", s(&input), "--output", s(&output), "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let clipped = report["clipped_samples"].as_u64().unwrap();
    assert!(clipped > 1000, "{report}");
    let dat = std::fs::read(output.join(SYNTHETIC_DAT)).unwrap();
    let original = std::fs::read(input.join("continuous/Synthetic_Source-100.synthetic/continuous.dat")).unwrap();
    let values = |b: &[u8]| b.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>();
    let (out_v, in_v) = (values(&dat), values(&original));
    let mut counted = 0;
    for (o, i) in out_v.iter().zip(&in_v) {
        let ideal = *i as f64 * 1000.0;
        if ideal.abs() > 32767.0 {
            counted += 1;
            assert_eq!(*o, if ideal > 0.0 { i16::MAX } else { i16::MIN }, "clipped towards its sign");
        } else {
            assert_eq!(*o as f64, ideal);
        }
    }
    assert_eq!(counted as u64, clipped);
}

/// A recording with known spikes: zeros, and a -200 µV spike shape on given channels at
/// given samples, two of them across a block edge.
fn known_spikes(dir: &Path, spikes: &[(usize, i64)]) -> PathBuf {
    let (channels, samples) = (3, 4096);
    let mut data = Array2::<f32>::zeros((channels, samples));
    for &(c, at) in spikes {
        for k in 0..12i64 {
            data[[c, (at + k) as usize]] = -200.0 * (1.0 - (k as f32 - 2.0).abs() / 10.0);
        }
    }
    let writer = RecordingWriter::create(&dir.join("known"), Path::new("experiment1/recording1")).unwrap();
    let folder = "Known-100.known/";
    let mut cont = writer.continuous(folder, &[0.195; 3]).unwrap();
    cont.write_block(data.view()).unwrap();
    cont.finish().unwrap();
    writer.sample_index(folder, samples, |i| 5000 + i as i64, |i| i as f64 / 30_000.0).unwrap();
    let channel = |c: usize| json!({"channel_name": format!("CH{}", c + 1), "description": "", "history": "", "bit_volts": 0.195});
    let structure = json!({"GUI version": "1.0.1", "continuous": [{
        "folder_name": folder, "sample_rate": 30_000.0, "source_processor_name": "Known", "source_processor_id": 100,
        "stream_name": "known", "recorded_processor": "Record Node", "recorded_processor_id": 101, "num_channels": channels,
        "channels": (0..channels).map(channel).collect::<Vec<_>>()}], "events": [], "spikes": []});
    writer.finish(&structure).unwrap()
}

#[test]
fn the_spike_detector_example_finds_known_spikes_with_their_waveforms_across_block_edges() {
    let tmp = tempfile::tempdir().unwrap();
    // Block size 1024: 1020 and 2046 straddle edges. Sample numbers start at 5000.
    let spikes = [(0, 100), (2, 1020), (1, 2046), (0, 3000), (0, 3003)];
    let input = known_spikes(tmp.path(), &spikes);
    let output = tmp.path().join("out");
    pyproc_ok(&["run", s(&repo("examples/spike_detector.py")), "--input", s(&input), "--output", s(&output)]);
    let rec = Recording::open(&output).unwrap();
    let source = Recording::open(&input).unwrap().continuous(0).unwrap();
    let mut all = Vec::new();
    for channel in rec.spikes(0).unwrap() {
        let c: usize = channel.info.name.trim_start_matches("pyproc CH").parse::<usize>().unwrap() - 1;
        for i in 0..channel.len() {
            let sample = channel.sample_number(i);
            let waveform = channel.waveform(i).unwrap();
            // The reference: the input itself, 8 samples before the crossing to 32 after.
            let at = (sample - 5000) as usize;
            let mut expected = Array2::<f32>::zeros((3, 40));
            source.read_block(at - 8, &mut expected.view_mut()).unwrap();
            let expected = expected.slice(sl![c..c + 1, ..]).to_owned();
            assert!((&waveform - &expected).iter().all(|d| d.abs() < 0.2), "waveform of the spike at {sample} on channel {c}");
            all.push((c, sample - 5000));
        }
    }
    all.sort();
    // The crossing is the first sample below -60 µV: k = 0 is -160 µV. 3003 falls in the
    // refractory period of 3000 and is not a spike of its own.
    let mut expected: Vec<(usize, i64)> = spikes.iter().copied().filter(|&(_, at)| at != 3003).collect();
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn open_ephys_python_tools_and_neo_read_the_output() {
    let python = native_python();
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let output = tmp.path().join("out");
    pyproc_ok(&["run", &cli_script("event_marker.py"), "--input", s(&input), "--output", s(&output)]);
    let read = Command::new(&python)
        .arg(repo("cli/tests/python/read_with_open_ephys_tools.py"))
        .args([s(&output), s(&input)])
        .output()
        .unwrap();
    assert!(read.status.success(), "{}", text(&read.stderr));
    let seen: Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(seen["samples"], 30_000);
    assert_eq!(seen["channels"], 4);
    assert_eq!(seen["max_abs_difference_uv"], 0.0);
    assert_eq!(seen["sample_numbers_equal"], true);
    // open-ephys-python-tools reports lines as |state| = line + 1.
    let ours: Vec<(i64, i64, i64)> = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["processor_id"] != 100)
        .map(|e| (e["sample_number"].as_i64().unwrap(), e["line"].as_i64().unwrap() - 1, e["state"].as_i64().unwrap()))
        .take(3)
        .collect();
    assert_eq!(ours, [(0, 3, 1), (10, 2, 1), (20, 2, 0)]);
    let spikes = seen["spike_channels"].as_array().unwrap();
    let mine = spikes.iter().find(|c| c["name"] == "pyproc CH2").expect("the script's spike channel");
    assert_eq!(mine["count"], 30);
    assert_eq!(mine["waveform_shape"], json!([30, 1, 40]));
    assert_eq!(mine["sample_numbers"][1], 1029);
    assert_eq!(seen["neo_samples"], 30_000);
    assert_eq!(seen["neo_equal"], true);
    assert_eq!(seen["neo_event_channels"], json!(["Python Processor Output", "Synthetic TTL"]));
}

#[test]
fn a_folder_above_several_recordings_is_refused_with_the_choices() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let experiment = input.parent().unwrap();
    copy_dir(&input, &experiment.join("recording2"));
    let out = pyproc(&["run", &cli_script("passthrough.py"), "--input", s(experiment)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("holds 2 recordings") && stderr.contains("recording2"), "{stderr}");
}
