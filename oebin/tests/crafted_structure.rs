//! A crafted or damaged `structure.oebin`, read and written the way `pyproc run` does it.
//! Whatever its fields say, either the run goes through on sane metadata with everything it
//! wrote inside the output, or it fails with an error naming structure.oebin and a field
//! that was changed, leaving no output and no staging folder. Either way no input file
//! changes and nothing appears outside the output.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{write_recording, STREAM_FOLDER};
use ndarray::{Array1, Array2, Array3};
use proptest::prelude::*;
use pyproc_oebin::{Recording, RecordingWriter, Result, SpikesOut, TtlOut};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
enum Kind {
    Path,
    Name,
    Number,
    Count,
    Channels,
}

/// The fields mutated: (JSON pointer, the name an error must use for it, what it holds).
const FIELDS: &[(&str, &str, Kind)] = &[
    ("/continuous/0/folder_name", "folder_name", Kind::Path),
    ("/continuous/0/stream_name", "stream_name", Kind::Name),
    ("/continuous/0/sample_rate", "sample_rate", Kind::Number),
    ("/continuous/0/num_channels", "num_channels", Kind::Count),
    ("/continuous/0/channels", "channels", Kind::Channels),
    ("/continuous/0/channels/1/bit_volts", "bit_volts", Kind::Number),
    ("/continuous/0/channels/0/channel_name", "channel_name", Kind::Name),
    ("/events/0/folder_name", "folder_name", Kind::Path),
    ("/events/0/stream_name", "stream_name", Kind::Name),
    ("/spikes/0/folder", "folder", Kind::Path),
    ("/spikes/0/num_channels", "num_channels", Kind::Count),
    ("/spikes/0/source_channels/0/bit_volts", "bit_volts", Kind::Number),
];

/// Stands for the absolute path of the input's own stream folder.
const INPUT_STREAM: &str = "<input stream>";
/// Stands for the absolute path of a copy of that folder outside the recording.
const OUTSIDE_STREAM: &str = "<outside stream>";

fn path() -> BoxedStrategy<Value> {
    prop_oneof![
        prop::sample::select(vec![
            INPUT_STREAM, OUTSIDE_STREAM, "../../../../outside/continuous/S-100.s/", "S-100.s/../../..", "..", "../", "/", "", ".", "./S-100.s",
            "escape/", "alias/", "S-100.s/", "S-100.s", "S-100.s/TTL/", "S-100.s/T1/", "S-100.s//", "a\0b", "s/../../x",
        ])
        .prop_map(|s| json!(s)),
        "[a-zA-Z0-9._/-]{0,24}".prop_map(|s| json!(s)),
    ]
    .boxed()
}

fn name() -> BoxedStrategy<Value> {
    prop_oneof![prop::sample::select(vec!["s", "t", "", "..", "a/b", "../../x", "s\0"]).prop_map(|s| json!(s)), "[a-zA-Z0-9 ._/-]{0,12}".prop_map(|s| json!(s))].boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        prop::sample::select(vec![0.0, -0.0, -1.0, -0.195, -30000.0, 1e-300, 5e-324, 1e308, f64::MAX, 0.195, 30000.0]).prop_map(|f| json!(f)),
        any::<f64>().prop_map(|f| json!(f)),
        (-3i64..10).prop_map(|i| json!(i)),
    ]
    .boxed()
}

fn count() -> BoxedStrategy<Value> {
    prop_oneof![(-2i64..6).prop_map(|i| json!(i)), prop::sample::select(vec![i64::MAX, u32::MAX as i64, 1 << 40]).prop_map(|i| json!(i)), Just(json!(2.0))].boxed()
}

fn channels() -> BoxedStrategy<Value> {
    prop::collection::vec(number(), 0..5)
        .prop_map(|scales| json!(scales.into_iter().enumerate().map(|(i, b)| json!({"channel_name": format!("CH{i}"), "bit_volts": b})).collect::<Vec<_>>()))
        .boxed()
}

fn of_kind(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Path => path(),
        Kind::Name => name(),
        Kind::Number => number(),
        Kind::Count => count(),
        Kind::Channels => channels(),
    }
}

/// Mostly a value of the field's kind; sometimes one of another type.
fn mutation() -> impl Strategy<Value = (usize, Value)> {
    let any_type = prop_oneof![path(), number(), prop::sample::select(vec![json!(null), json!(true), json!([]), json!({})])];
    (0..FIELDS.len()).prop_flat_map(move |i| (Just(i), prop_oneof![6 => of_kind(FIELDS[i].2), 1 => any_type.clone()]))
}

fn mutations() -> impl Strategy<Value = Vec<(usize, Value)>> {
    prop::collection::vec(mutation(), 1..=3)
}

/// What `pyproc run` does with a recording: read everything, then write the output.
fn run_like_pyproc(input: &Path, output: &Path) -> Result<(Recording, PathBuf)> {
    let recording = Recording::open(input)?;
    let stream = recording.structure.stream_index(None)?;
    let continuous = recording.continuous(stream)?;
    let ttl = recording.ttl_events(stream)?;
    let spike_channels = recording.spikes(stream)?;
    let info = continuous.info.clone();
    let mut writer = RecordingWriter::for_input(output, &recording)?;
    let folder = info.folder_name.trim_end_matches('/');
    writer.copy_recording(&recording.dir, &[Path::new("continuous").join(folder).join("continuous.dat")])?;
    let mut block = Array2::<f32>::zeros((info.num_channels, continuous.len()));
    continuous.read_block(0, &mut block.view_mut())?;
    let mut out = writer.continuous(folder, &info.channels.iter().map(|c| c.bit_volts).collect::<Vec<_>>())?;
    out.write_block(block.view())?;
    out.finish()?;
    let (numbers, times) = (continuous.sample_numbers()?, continuous.timestamps()?);
    writer.sample_index(folder, continuous.len(), |i| numbers[i], |i| times[i])?;
    let node = format!("Python_Processor-101.{}", info.stream_name);
    let edges: Vec<TtlOut> = ttl.iter().map(|e| TtlOut { sample_number: e.sample_number, timestamp: 0.0, line: e.line, state: e.state }).collect();
    writer.ttl_channel(&format!("{node}/TTL/"), &edges)?;
    for (c, channel) in spike_channels.iter().enumerate() {
        let n = channel.len();
        let waveforms: Vec<_> = (0..n).map(|i| channel.waveform(i)).collect::<Result<_>>()?;
        let spikes = SpikesOut {
            waveforms: Array3::from_shape_fn((n, 1, 40), |(i, _, s)| waveforms[i][[0, s]] as i16),
            sample_numbers: (0..n).map(|i| channel.sample_number(i)).collect(),
            timestamps: Array1::zeros(n),
            electrode_indices: Array1::zeros(n),
            clusters: (0..n).map(|i| channel.cluster(i) as u16).collect(),
        };
        writer.spike_channel(&format!("{node}/pyproc_{c}/"), &spikes)?;
    }
    let written = writer.finish(&recording.structure.json)?;
    Ok((recording, written))
}

/// Every entry below `dir` (links not followed): file bytes, link targets, folders.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut all = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        let what = if entry.file_type().is_file() {
            format!("{:?}", std::fs::read(entry.path()).unwrap())
        } else if entry.file_type().is_symlink() {
            format!("link to {}", std::fs::read_link(entry.path()).unwrap().display())
        } else {
            "folder".into()
        };
        all.insert(entry.path().to_path_buf(), what);
    }
    all
}

/// What the test demands of metadata that a run went through on.
fn assert_sane(recording: &Recording) {
    let real = recording.dir.canonicalize().unwrap();
    let inside = |section: &str, folder: &str| {
        let relative = Path::new(folder);
        assert!(relative.is_relative() && !relative.components().any(|c| c == std::path::Component::ParentDir), "{folder:?} used");
        if let Ok(resolved) = recording.dir.join(section).join(folder).canonicalize() {
            assert!(resolved.starts_with(&real), "{folder:?} read through a link out of the recording");
        }
    };
    for c in &recording.structure.continuous {
        inside("continuous", &c.folder_name);
        assert!(c.sample_rate.is_finite() && c.sample_rate > 0.0, "sample_rate {} used", c.sample_rate);
        assert!(c.num_channels > 0 && c.num_channels == c.channels.len(), "num_channels {} used", c.num_channels);
        assert!(c.channels.iter().all(|ch| ch.bit_volts.is_finite() && ch.bit_volts > 0.0), "bit_volts used: {:?}", c.channels);
        assert!(!c.stream_name.contains('/'), "stream_name {:?} used", c.stream_name);
    }
    for e in &recording.structure.events {
        inside("events", &e.folder_name);
    }
    for s in &recording.structure.spikes {
        inside("spikes", &s.folder);
        assert!(s.source_channels.iter().all(|ch| ch.bit_volts.is_finite() && ch.bit_volts > 0.0), "spike bit_volts used");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn whatever_structure_oebin_says_inputs_stay_intact_and_output_stays_inside(changes in mutations()) {
        let tmp = tempfile::tempdir().unwrap();
        let rec = write_recording(&tmp.path().join("input"));
        let outside = tmp.path().join("outside/continuous/S-100.s");
        std::fs::create_dir_all(&outside).unwrap();
        for file in ["continuous.dat", "sample_numbers.npy", "timestamps.npy"] {
            std::fs::copy(rec.join("continuous").join(STREAM_FOLDER).join(file), outside.join(file)).unwrap();
        }
        std::os::unix::fs::symlink("../../../../outside/continuous/S-100.s", rec.join("continuous/escape")).unwrap();
        std::os::unix::fs::symlink("S-100.s", rec.join("continuous/alias")).unwrap();

        let path = rec.join("structure.oebin");
        let mut structure: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut changed = Vec::new();
        for (field, value) in &changes {
            let (pointer, name, _) = FIELDS[*field];
            let value = match value.as_str() {
                Some(INPUT_STREAM) => json!(rec.join("continuous/S-100.s").to_str().unwrap()),
                Some(OUTSIDE_STREAM) => json!(outside.to_str().unwrap()),
                _ => value.clone(),
            };
            if let Some(slot) = structure.pointer_mut(pointer) {
                *slot = value;
                changed.push(name);
            }
        }
        std::fs::write(&path, structure.to_string()).unwrap();
        let before = snapshot(tmp.path());

        let output = tmp.path().join("out");
        match run_like_pyproc(&rec, &output) {
            Ok((recording, written)) => {
                assert_sane(&recording);
                prop_assert!(written.starts_with(&output));
                let mut after = snapshot(tmp.path());
                after.retain(|p, _| !p.starts_with(&output));
                prop_assert_eq!(after, before, "only the output is new");
            }
            Err(err) => {
                let message = err.to_string();
                prop_assert!(message.contains("structure.oebin"), "{} does not name the file", message);
                prop_assert!(changed.iter().any(|name| message.contains(name)), "{} names none of {:?}", message, changed);
                prop_assert!(!output.exists(), "an output after {}", message);
                prop_assert_eq!(snapshot(tmp.path()), before, "nothing changed, no staging folder left");
            }
        }
    }
}
