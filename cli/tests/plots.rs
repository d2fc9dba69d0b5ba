//! `pyproc run --plots DIR`: the example's PyVisualizer draws what its PyProcessor
//! published, and the frames are PNG files numbered with the samples they show.

mod common;

use common::{pyproc, repo, s, text};

#[test]
fn plots_writes_png_frames_of_the_viewer_named_by_sample_and_a_final_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("frames");
    let example = repo("examples/threshold_plot.py");
    let out = pyproc(&["run", s(&example), "--seconds", "2", "--channels", "4", "--plots", s(&dir), "--plot-rate", "1000"]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}\n{}", text(&out.stderr));
    let mut frames: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.starts_with("frame-")).collect();
    frames.sort();
    assert!(!frames.is_empty(), "no frames in {}: {report}", dir.display());
    assert!(report.contains(&format!("plots         {} frames written to", frames.len())), "{report}");
    // frame-000000-s000001024.png: its index, then the first sample of the block it shows.
    let name = &frames[0];
    assert!(name.len() == "frame-000000-s000000000.png".len() && name.starts_with("frame-000000-s"), "{name}");
    let sample: u64 = name[14..23].parse().unwrap();
    assert_eq!(sample % 1024, 0, "{name}: the sample number of a block's start");
    for file in [dir.join(name), dir.join("final.png")] {
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&file).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (800, 300, png::ColorType::Rgba), "{}", file.display());
        let first = &pixels[..4];
        let differing = pixels.chunks_exact(4).filter(|px| px != &first).count();
        assert!(differing > 5_000, "{}: only {differing} pixels differ from the corner", file.display());
    }
}

#[test]
fn plots_with_a_script_without_pyvisualizer_says_how_to_fix_it() {
    let tmp = tempfile::tempdir().unwrap();
    let example = repo("examples/threshold_events.py");
    let out = pyproc(&["run", s(&example), "--seconds", "0.1", "--channels", "2", "--plots", s(&tmp.path().join("f"))]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("--plots") && err.contains("defines no class PyVisualizer") && err.contains("run without --plots"), "{err}");
}
