//! Shows the one-time set-up (download, unpack, compile) on the terminal.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use pyproc_host::{Progress, SetupEvent};

/// A spinner for each long step; plain lines on stderr when it is not a terminal.
pub fn setup_progress() -> Progress {
    let spinner: Mutex<Option<ProgressBar>> = Mutex::new(None);
    Progress::new(move |event| {
        let message = event.to_string();
        let mut slot = spinner.lock().unwrap();
        if let Some(previous) = slot.take() {
            previous.finish_and_clear();
        }
        let bar = ProgressBar::new_spinner();
        if bar.is_hidden() {
            eprintln!("pyproc: {message}");
            return;
        }
        eprintln!("pyproc: {message}");
        if !matches!(event, SetupEvent::CompilingFinished { .. }) {
            bar.set_style(ProgressStyle::with_template("  {spinner} {elapsed}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(200));
            *slot = Some(bar);
        }
    })
}
