//! [`ViewerThread`]: a [`Viewer`] on a thread of its own, fed without ever waiting.

use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::error::Error;
use crate::published::Published;
use crate::viewer::{Frame, Viewer};

/// What one `update` gave.
#[derive(Debug)]
pub enum Rendered {
    Frame(Frame),
    /// `update` returned None.
    Unchanged,
    Failed(Error),
}

/// Runs a viewer on its own thread. [`offer`](Self::offer) never waits: while the viewer
/// draws, one set of values waits for it and later offers are refused, so a slow or stuck
/// viewer costs the caller nothing but the values it skips.
///
/// ```no_run
/// # fn go(viewer: pyproc_host::Viewer, processor: &pyproc_host::Processor) {
/// let plots = pyproc_host::ViewerThread::spawn(viewer);
/// plots.offer(processor.published());
/// for rendered in plots.finish(None) {
///     println!("{rendered:?}");
/// }
/// # }
/// ```
pub struct ViewerThread {
    offers: SyncSender<Arc<Published>>,
    rendered: Receiver<Rendered>,
    thread: JoinHandle<()>,
}

impl ViewerThread {
    pub fn spawn(mut viewer: Viewer) -> ViewerThread {
        let (offers, incoming) = sync_channel::<Arc<Published>>(1);
        let (done, rendered) = channel();
        let thread = std::thread::Builder::new()
            .name("pyproc-viewer".into())
            .spawn(move || {
                for published in incoming {
                    let result = match viewer.render_shared(published) {
                        Ok(Some(frame)) => Rendered::Frame(frame),
                        Ok(None) => Rendered::Unchanged,
                        Err(error) => Rendered::Failed(error),
                    };
                    if done.send(result).is_err() {
                        return;
                    }
                }
            })
            .expect("starting the viewer thread");
        ViewerThread { offers, rendered, thread }
    }

    /// Hands the viewer these values unless it still has earlier ones waiting; returns
    /// whether it took them. Never waits.
    pub fn offer(&self, published: Published) -> bool {
        match self.offers.try_send(Arc::new(published)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// What the viewer has drawn since the last call, without waiting.
    pub fn rendered(&self) -> Vec<Rendered> {
        self.rendered.try_iter().collect()
    }

    /// Waits for the viewer to draw what it was offered and, with `last`, these values
    /// too; returns everything drawn since the last [`rendered`](Self::rendered), in order.
    pub fn finish(self, last: Option<Published>) -> Vec<Rendered> {
        if let Some(last) = last {
            let _ = self.offers.send(Arc::new(last));
        }
        drop(self.offers);
        let _ = self.thread.join();
        self.rendered.try_iter().collect()
    }
}
