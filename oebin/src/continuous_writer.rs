//! Writing `continuous.dat` block by block, on a thread of its own: a block is copied and
//! handed over, and the conversion to int16 frames and the write to disk run while the
//! caller goes on with the next block (a script, reading the input). The copies go back and
//! forth through two channels, so a run allocates a few blocks' worth of memory, whatever
//! its length.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use ndarray::ArrayView2;

use crate::error::{io, Result};
use crate::frames::block_to_frames;

/// Blocks handed over and not yet written: enough to ride out a slow write, few enough
/// that memory stays a handful of blocks.
const IN_FLIGHT: usize = 2;

/// A block on its way to the writing thread: channels x `samples` values, row by row.
struct Handed {
    values: Vec<f32>,
    samples: usize,
}

/// Writes `continuous.dat` block by block: physical units back to int16, clipped (never
/// wrapped) and counted.
pub struct ContinuousWriter {
    path: PathBuf,
    channels: usize,
    to_thread: Option<SyncSender<Handed>>,
    recycled: Receiver<Vec<f32>>,
    thread: Option<JoinHandle<Result<u64>>>,
    samples: u64,
    clipped: u64,
}

impl ContinuousWriter {
    /// Starts writing into `file` (at `path`) a stream whose channels have `bit_volts`.
    pub(crate) fn start(file: File, path: &Path, bit_volts: &[f64]) -> ContinuousWriter {
        let (to_thread, handed) = sync_channel::<Handed>(IN_FLIGHT);
        let (give_back, recycled) = channel();
        let scale: Vec<f64> = bit_volts.iter().map(|b| 1.0 / *b).collect();
        let channels = scale.len();
        let thread_path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("continuous.dat writer".into())
            .spawn(move || -> Result<u64> {
                let mut out = BufWriter::with_capacity(1 << 20, file);
                let (mut frames, mut clipped) = (Vec::new(), 0);
                for block in handed {
                    let view = ArrayView2::from_shape((channels, block.samples), &block.values).expect("handed blocks are channels x samples");
                    frames.clear();
                    clipped += block_to_frames(view, &scale, &mut frames);
                    out.write_all(&frames).map_err(io("write", &thread_path))?;
                    // The caller may be gone already (it stopped early); then the copy is dropped.
                    let _ = give_back.send(block.values);
                }
                out.flush().map_err(io("write", &thread_path))?;
                Ok(clipped)
            })
            .expect("the system can start a thread");
        ContinuousWriter { path: path.to_path_buf(), channels, to_thread: Some(to_thread), recycled, thread: Some(thread), samples: 0, clipped: 0 }
    }

    /// Appends a block (channels x samples, physical units). A failed write of an earlier
    /// block is reported here, or by [`ContinuousWriter::finish`].
    pub fn write_block(&mut self, block: ArrayView2<'_, f32>) -> Result<()> {
        assert_eq!(block.nrows(), self.channels, "block has the stream's channel count");
        let mut values = self.recycled.try_recv().unwrap_or_default();
        values.clear();
        match block.as_slice() {
            Some(all) => values.extend_from_slice(all),
            None => values.extend(block.iter()),
        }
        let handed = Handed { values, samples: block.ncols() };
        let sent = self.to_thread.as_ref().map(|to| to.send(handed).is_ok());
        if sent != Some(true) {
            // The thread ended early, so its write failed: that is the error to report.
            self.stop()?;
            panic!("{}: the writing thread stopped without an error", self.path.display());
        }
        self.samples += block.ncols() as u64;
        Ok(())
    }

    /// Waits for every block to be written; returns (samples per channel written, values
    /// clipped).
    pub fn finish(&mut self) -> Result<(u64, u64)> {
        self.stop()?;
        Ok((self.samples, self.clipped))
    }

    /// Lets the thread write what it holds and end, and takes its result.
    fn stop(&mut self) -> Result<()> {
        self.to_thread = None;
        if let Some(thread) = self.thread.take() {
            self.clipped = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        }
        Ok(())
    }
}

impl Drop for ContinuousWriter {
    /// The file is closed before the writer is gone (and its folder perhaps removed).
    fn drop(&mut self) {
        self.to_thread = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
