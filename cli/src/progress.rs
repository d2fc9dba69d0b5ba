//! The progress bar of the long steps: a run over a recording, and generating the
//! synthetic one.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Samples done (after `prefix`), speed as a multiple of real time and ETA; drawn only on
/// a terminal, and only once the work has lasted a second.
pub fn samples_bar(total_samples: u64, sample_rate: f64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(total_samples);
    let style = ProgressStyle::with_template("{prefix}{bar:30} {pos}/{len} samples  {msg}  eta {eta}")
        .expect("valid template")
        .with_key("msg", move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let elapsed = state.elapsed().as_secs_f64().max(1e-9);
            let _ = write!(w, "{:.1}x real time", state.pos() as f64 / sample_rate / elapsed);
        });
    bar.set_style(style);
    bar.set_prefix(prefix.to_owned());
    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let visible = bar.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        if !visible.is_finished() && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            visible.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    });
    bar
}

