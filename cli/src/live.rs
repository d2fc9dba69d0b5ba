//! `pyproc run --live`: a page on 127.0.0.1 that shows the viewer's latest figure, the
//! run's progress and its per-block latency while the run goes, and the result once it is
//! over.
//!
//! The server ([`LiveServer`], axum on a single-threaded tokio runtime) runs on a thread
//! of its own. The block loop hands it the newest state through a [`LiveFeed`] (a tokio
//! `watch` channel: replacing the value waits at most while a request clones it, a few
//! numbers and a pointer to the frame, never for the browser or the network), so a slow or
//! absent browser costs the run nothing. Figures cross as the viewer's
//! RGBA pixels and are encoded as PNG by the server when the page asks for them.

mod page;
mod state;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use pyproc_host::Frame;
use tokio::sync::{oneshot, watch};

pub use state::{LiveState, Progress, ShownFrame};

use crate::report::Report;

/// The progress on the page is refreshed this often at most (a long-polling page sees no
/// more than this many updates a second).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// The page's server, listening on 127.0.0.1 until [`stop`](Self::stop) (or drop).
pub struct LiveServer {
    url: String,
    feed: LiveFeed,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LiveServer {
    /// Listens on 127.0.0.1:`port` (0: a free port the system picks) and serves the page
    /// from a thread of its own.
    pub fn start(port: u16) -> anyhow::Result<LiveServer> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).with_context(|| match port {
            0 => "--live: cannot listen on 127.0.0.1 (no free port?)".to_owned(),
            _ => format!("--live-port {port}: cannot listen on 127.0.0.1:{port}; choose another port, or leave --live-port out for one the system picks"),
        })?;
        listener.set_nonblocking(true).context("--live: making the listening socket non-blocking")?;
        let url = format!("http://{}/", listener.local_addr().context("--live: reading the listening address")?);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().context("--live: starting the server's runtime")?;
        let (sender, receiver) = watch::channel(LiveState::default());
        let (shutdown, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("pyproc-live".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => return tracing::warn!("--live: the page cannot be served: {error}"),
                    };
                    tokio::select! {
                        served = axum::serve(listener, page::router(receiver)) => {
                            if let Err(error) = served {
                                tracing::warn!("--live: the page's server stopped: {error}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here ends the connections still open (long polls).
            })
            .context("--live: starting the server's thread")?;
        let feed = LiveFeed(Arc::new(FeedInner { url: url.clone(), sender, started: Instant::now(), last_progress_ns: AtomicU64::new(0) }));
        Ok(LiveServer { url, feed, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the run hands the page.
    pub fn feed(&self) -> LiveFeed {
        self.feed.clone()
    }

    /// Keeps serving the finished run for `linger`, or until `interrupted` is set (Ctrl-C),
    /// whichever comes first.
    pub fn linger(&self, linger: Linger, interrupted: &AtomicBool) {
        let until = match linger {
            Linger::For(d) => Some(Instant::now() + d),
            Linger::UntilInterrupted => None,
        };
        while !interrupted.load(Ordering::Relaxed) && until.is_none_or(|t| Instant::now() < t) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes the page's connections and stops listening.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// How long the page stays up once the run is over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Linger {
    For(Duration),
    UntilInterrupted,
}

/// The run's side of the page: hands over the newest figure and progress without waiting
/// for the browser.
/// Cloning gives another handle to the same page.
#[derive(Clone)]
pub struct LiveFeed(Arc<FeedInner>);

struct FeedInner {
    url: String,
    sender: watch::Sender<LiveState>,
    started: Instant,
    /// When the progress was last handed over, in nanoseconds since `started`.
    last_progress_ns: AtomicU64,
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed").field("url", &self.0.url).finish()
    }
}

impl LiveFeed {
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// The viewer drew frame `number` (counted from 0, as `--plots` names its files).
    pub fn frame(&self, number: usize, frame: Arc<Frame>) {
        self.update(|s| s.frame = Some(ShownFrame { number, frame }));
    }

    /// The viewer's `update` failed.
    pub fn viewer_failed(&self, error: &str) {
        self.update(|s| {
            s.viewer_errors += 1;
            s.last_viewer_error = Some(error.lines().next().unwrap_or_default().to_owned());
        });
    }

    /// After a block: the run's counts and latencies, handed over at most every
    /// [`PROGRESS_INTERVAL`].
    pub fn progress(&self, report: &Report, total_samples: usize, sample_rate: f64) {
        let now = self.0.started.elapsed().as_nanos() as u64;
        let last = self.0.last_progress_ns.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < PROGRESS_INTERVAL.as_nanos() as u64 {
            return;
        }
        self.0.last_progress_ns.store(now.max(1), Ordering::Relaxed);
        let progress = Progress::of(report, total_samples, sample_rate, self.0.started.elapsed());
        self.update(|s| s.progress = progress);
    }

    /// The run is over (`interrupted`: by Ctrl-C): the final counts, and the page stops
    /// waiting for more.
    pub fn finished(&self, report: &Report, total_samples: usize, sample_rate: f64) {
        let progress = Progress::of(report, total_samples, sample_rate, report.wall);
        self.update(|s| {
            s.progress = progress;
            s.finished = Some(if report.interrupted { "interrupted" } else { "finished" });
        });
    }

    fn update(&self, change: impl FnOnce(&mut LiveState)) {
        // Nobody listening (the server stopped) is not the run's concern.
        self.0.sender.send_modify(|s| {
            change(s);
            s.version += 1;
        });
    }
}
