//! `pyproc run` over damaged or crafted recordings: each is refused before the script runs,
//! with exit status 1 and an error naming the file and the field at fault; no output and no
//! staging folder appear, and no file of the input (or anywhere near it) changes.

mod common;

use std::path::Path;

use common::{cli_script, copy_of_synthetic_recording, pyproc, pyproc_ok, s, text, tree_state};
use ndarray::Array1;
use serde_json::{json, Value};

const STREAM: &str = "Synthetic_Source-100.synthetic";

/// One damaged recording. Paths in `says` may use `{case}` (the case's folder), `{rec}`
/// (the recording), `{dat}` (its stream's folder) and `{ttl}` (its TTL folder).
struct Case {
    what: &'static str,
    /// Breaks the recording (`rec`, inside `case`).
    damage: fn(rec: &Path, case: &Path),
    /// `--input` and `--output`, relative to the case's folder.
    input: &'static str,
    output: &'static str,
    says: &'static [&'static str],
}

const REC: &str = "input/experiment1/recording1";

const fn case(what: &'static str, damage: fn(&Path, &Path), says: &'static [&'static str]) -> Case {
    Case { what, damage, input: REC, output: "out", says }
}

fn edit(rec: &Path, change: impl FnOnce(&mut Value)) {
    let path = rec.join("structure.oebin");
    let mut structure: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut structure);
    std::fs::write(&path, structure.to_string()).unwrap();
}

fn npy<T: ndarray_npy::WritableElement>(path: &Path, values: Vec<T>) {
    ndarray_npy::write_npy(path, &Array1::from(values)).unwrap();
}

fn dat(rec: &Path) -> std::path::PathBuf {
    rec.join("continuous").join(STREAM)
}

fn ttl(rec: &Path) -> std::path::PathBuf {
    rec.join("events").join(STREAM).join("TTL")
}

/// A copy of the stream's folder outside the recording, where a crafted path could lead.
fn outside_copy(rec: &Path, case: &Path) -> std::path::PathBuf {
    let outside = case.join("outside/continuous").join(STREAM);
    common::copy_dir(&dat(rec), &outside);
    outside
}

const CASES: &[Case] = &[
    case("structure.oebin that is not JSON", |rec, _| std::fs::write(rec.join("structure.oebin"), "{\"continuous\": [").unwrap(), &[
        "{rec}/structure.oebin is not valid structure.oebin JSON: EOF while parsing a list at line 1 column 16",
    ]),
    case("no structure.oebin", |rec, _| std::fs::remove_file(rec.join("structure.oebin")).unwrap(), &["{rec} has no structure.oebin"]),
    case("a sample_rate of the wrong type", |rec, _| edit(rec, |s| s["continuous"][0]["sample_rate"] = json!("30 kHz")), &[
        "{rec}/structure.oebin: continuous[0].sample_rate: invalid type: string \"30 kHz\", expected f64",
    ]),
    case("num_channels not the length of the channel list", |rec, _| edit(rec, |s| s["continuous"][0]["num_channels"] = json!(5)), &[
        "{rec}/structure.oebin: continuous[0].num_channels 5: does not match the 4 channels listed in continuous[0].channels",
    ]),
    case(
        "num_channels 0",
        |rec, _| edit(rec, |s| (s["continuous"][0]["num_channels"], s["continuous"][0]["channels"]) = (json!(0), json!([]))),
        &["{rec}/structure.oebin: continuous[0].num_channels 0: a stream needs at least one channel"],
    ),
    case(
        "num_channels that does not fit the .dat",
        |rec, _| {
            edit(rec, |s| {
                s["continuous"][0]["num_channels"] = json!(3);
                s["continuous"][0]["channels"].as_array_mut().unwrap().truncate(3);
            })
        },
        &["{dat}/sample_numbers.npy has 30000 entries but {dat}/continuous.dat holds 40000 samples of 3 channels (num_channels in structure.oebin)"],
    ),
    case(
        "a truncated continuous.dat",
        |rec, _| {
            let file = std::fs::OpenOptions::new().write(true).open(dat(rec).join("continuous.dat")).unwrap();
            file.set_len(240_000 - 3).unwrap();
        },
        &["{dat}/continuous.dat has 239997 bytes, which is not a whole number of samples of 4 int16 channels", "num_channels in structure.oebin"],
    ),
    case("sample_numbers.npy shorter than the .dat", |rec, _| npy(&dat(rec).join("sample_numbers.npy"), (0..100i64).collect()), &[
        "{dat}/sample_numbers.npy has 100 entries but {dat}/continuous.dat holds 30000 samples",
    ]),
    case("a garbage timestamps.npy", |rec, _| std::fs::write(dat(rec).join("timestamps.npy"), "not numpy").unwrap(), &["{dat}/timestamps.npy: "]),
    case("no sample_numbers.npy", |rec, _| std::fs::remove_file(dat(rec).join("sample_numbers.npy")).unwrap(), &[
        "{dat}/sample_numbers.npy does not exist; its folder is continuous[0].folder_name in {rec}/structure.oebin",
    ]),
    case("TTL arrays of different lengths", |rec, _| npy(&ttl(rec).join("sample_numbers.npy"), vec![10i64]), &[
        "{ttl}/sample_numbers.npy has 1 entries but {ttl}/states.npy has 2",
    ]),
    case("a TTL state beyond line 255", |rec, _| npy(&ttl(rec).join("states.npy"), vec![300i16, -300]), &[
        "{ttl}/states.npy: state 300 is not ±(line + 1) for a line 0-255",
    ]),
    case("a TTL state 0", |rec, _| npy(&ttl(rec).join("states.npy"), vec![0i16, -1]), &["{ttl}/states.npy: state 0 is not ±(line + 1)"]),
    case("bit_volts 0", |rec, _| edit(rec, |s| s["continuous"][0]["channels"][2]["bit_volts"] = json!(0.0)), &[
        "{rec}/structure.oebin: continuous[0].channels[2].bit_volts 0: must be a finite number of µV per int16 step above 0",
    ]),
    case("bit_volts below 0", |rec, _| edit(rec, |s| s["continuous"][0]["channels"][0]["bit_volts"] = json!(-0.195)), &[
        "{rec}/structure.oebin: continuous[0].channels[0].bit_volts -0.195: must be",
    ]),
    case("a spike channel's bit_volts below 0", |rec, _| edit(rec, |s| s["spikes"][0]["source_channels"][0]["bit_volts"] = json!(-1.0)), &[
        "{rec}/structure.oebin: spikes[0].source_channels[0].bit_volts -1: must be",
    ]),
    case("sample_rate 0", |rec, _| edit(rec, |s| s["continuous"][0]["sample_rate"] = json!(0.0)), &[
        "{rec}/structure.oebin: continuous[0].sample_rate 0: must be a finite number of samples per second above 0",
    ]),
    case("sample_rate below 0", |rec, _| edit(rec, |s| s["continuous"][0]["sample_rate"] = json!(-30000.0)), &[
        "{rec}/structure.oebin: continuous[0].sample_rate -30000: must be",
    ]),
    case(
        "folder_name: the input's own stream folder, as an absolute path",
        |rec, _| edit(rec, |s| s["continuous"][0]["folder_name"] = json!(dat(rec).to_str().unwrap())),
        &["{rec}/structure.oebin: continuous[0].folder_name \"{dat}\": is an absolute path; it must be relative to the recording"],
    ),
    case(
        "folder_name climbing out with ..",
        |rec, case| {
            outside_copy(rec, case);
            edit(rec, |s| s["continuous"][0]["folder_name"] = json!(format!("../../../../outside/continuous/{STREAM}/")));
        },
        &["{rec}/structure.oebin: continuous[0].folder_name \"../../../../outside/continuous/Synthetic_Source-100.synthetic/\": climbs out of its folder with \"..\""],
    ),
    case(
        "folder_name naming a link out of the recording",
        |rec, case| {
            std::os::unix::fs::symlink(outside_copy(rec, case), rec.join("continuous/link")).unwrap();
            edit(rec, |s| s["continuous"][0]["folder_name"] = json!("link/"));
        },
        &["{rec}/structure.oebin: continuous[0].folder_name \"link/\": {rec}/continuous/link leads outside the recording, to {case}/outside/continuous/Synthetic_Source-100.synthetic"],
    ),
    case(
        "a data file that is a link out of the recording",
        |rec, case| {
            let outside = outside_copy(rec, case);
            std::fs::remove_file(dat(rec).join("timestamps.npy")).unwrap();
            std::os::unix::fs::symlink(outside.join("timestamps.npy"), dat(rec).join("timestamps.npy")).unwrap();
        },
        &["{dat}/timestamps.npy leads outside {rec} (to {case}/outside/continuous/Synthetic_Source-100.synthetic/timestamps.npy)"],
    ),
    case(
        "a continuous.dat that is a FIFO",
        |rec, _| {
            std::fs::remove_file(dat(rec).join("continuous.dat")).unwrap();
            assert!(std::process::Command::new("mkfifo").arg(dat(rec).join("continuous.dat")).status().unwrap().success());
        },
        &["{dat}/continuous.dat is not a regular file"],
    ),
    case("folder_name of no folder", |rec, _| edit(rec, |s| s["continuous"][0]["folder_name"] = json!("Elsewhere-100.x/")), &[
        "{rec}/structure.oebin: continuous[0].folder_name \"Elsewhere-100.x/\": {rec}/continuous/Elsewhere-100.x does not exist",
    ]),
    case("an event folder_name climbing out", |rec, _| edit(rec, |s| s["events"][0]["folder_name"] = json!("../../../TTL/")), &[
        "{rec}/structure.oebin: events[0].folder_name \"../../../TTL/\": climbs out",
    ]),
    case("an event folder_name that is absolute", |rec, _| edit(rec, |s| s["events"][0]["folder_name"] = json!("/tmp/TTL/")), &[
        "{rec}/structure.oebin: events[0].folder_name \"/tmp/TTL/\": is an absolute path",
    ]),
    case("a spike folder that is absolute", |rec, _| edit(rec, |s| s["spikes"][0]["folder"] = json!(rec.join("spikes").to_str().unwrap())), &[
        "{rec}/structure.oebin: spikes[0].folder \"{rec}/spikes\": is an absolute path",
    ]),
    case("a stream_name with a slash", |rec, _| edit(rec, |s| s["continuous"][0]["stream_name"] = json!("../../../../escape")), &[
        "{rec}/structure.oebin: continuous[0].stream_name \"../../../../escape\": contains \"/\" or NUL; a stream name is part of folder names",
    ]),
    Case { output: "input/experiment1/recording1/out", ..case("--output inside the recording", |_, _| {}, &["the output {rec}/out would be inside the input {rec}"]) },
    Case {
        input: "input",
        output: "input/filtered",
        ..case("--output inside the folder given as --input", |_, _| {}, &["the output {case}/input/filtered would be inside the input {case}/input"])
    },
    Case { output: "", ..case("--input inside --output", |_, _| {}, &["the input {rec} is inside the output {case}"]) },
];

/// What is wrong with how `pyproc run` handled `case`, if anything.
fn check(case: &Case) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let rec = copy_of_synthetic_recording(&root);
    (case.damage)(&rec, &root);
    let (input, output) = (root.join(case.input), root.join(case.output));
    let output_existed = output.exists();
    let before = tree_state(&root);
    let out = pyproc(&["run", &cli_script("passthrough.py"), "--input", s(&input), "--output", s(&output)]);
    let stderr = text(&out.stderr);
    let place = |text: &str| {
        let (dat, ttl) = (dat(&rec), ttl(&rec));
        text.replace("{case}", s(&root)).replace("{rec}", s(&rec)).replace("{dat}", s(&dat)).replace("{ttl}", s(&ttl))
    };
    let mut wrong = Vec::new();
    if out.status.code() != Some(1) {
        wrong.push(format!("exit status {:?}, not 1", out.status.code()));
    }
    wrong.extend(case.says.iter().map(|said| place(said)).filter(|said| !stderr.contains(said)).map(|said| format!("does not say {said:?}")));
    if !output_existed && output.exists() {
        wrong.push("an output folder appeared".into());
    }
    let after = tree_state(&root);
    if after.keys().any(|p| p.to_string_lossy().contains("pyproc-partial")) {
        wrong.push("a staging folder was left".into());
    }
    let changed: Vec<_> = after.iter().filter(|(p, what)| before.get(*p) != Some(what)).map(|(p, _)| p).chain(before.keys().filter(|p| !after.contains_key(*p))).collect();
    if !changed.is_empty() {
        wrong.push(format!("changed, created or removed: {changed:?}"));
    }
    match wrong.is_empty() {
        true => Ok(()),
        false => Err(format!("{}: {}\n  stderr: {stderr}", case.what, wrong.join("; "))),
    }
}

#[test]
fn every_damaged_recording_is_refused_naming_file_and_field_and_nothing_is_written() {
    let failures: Vec<String> = CASES.iter().filter_map(|case| check(case).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn sample_numbers_that_jump_are_reported_with_where_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = copy_of_synthetic_recording(tmp.path());
    let path = dat(&rec).join("sample_numbers.npy");
    npy(&path, (0..30_000i64).map(|i| if i < 1000 { i } else { i + 4000 }).collect());
    let out = pyproc_ok(&["run", &cli_script("passthrough.py"), "--input", s(&rec)]);
    let stderr = text(&out.stderr);
    let warning = format!("pyproc: warning: {}: sample numbers jump at 1 place: from 999 to 5000 at index 1000", path.display());
    assert!(stderr.contains(&warning), "{stderr}");
}
