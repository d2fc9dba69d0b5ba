//! The native side of `pyproc compare`: the user's own CPython running the script
//! unsandboxed, driven by `native_driver.py` over its stdin and stdout (the frames are
//! described there), one frame and its answer at a time.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{bail, Context};
use ndarray::{ArrayView2, ArrayViewMut2};
use pyproc_host::{SpikeIn, TtlEventIn};

use super::difference::{Event, Spike};

const DRIVER: &str = include_str!("native_driver.py");


pub struct NativeSide {
    child: Child,
    to: BufWriter<ChildStdin>,
    from: BufReader<ChildStdout>,
    /// Holds the driver script for as long as the child runs.
    _driver: tempfile::NamedTempFile,
}

/// What the native side's `__init__` (or a later callback) raised, as its traceback.
pub type Raised = Option<String>;

impl NativeSide {
    /// Starts `python` (checked with [`probe`]) on the driver, which imports `script` and
    /// constructs its `PyProcessor`; returns the side and what the construction raised, if
    /// anything.
    pub fn start(python: &Path, script: &Path, num_channels: usize, sample_rate: f64) -> anyhow::Result<(NativeSide, Raised)> {
        // The child runs in the script's folder: a relative path to the Python must not
        // change meaning (a bare name is looked up on PATH as before).
        let python = &if python.components().count() > 1 { std::path::absolute(python).context("resolving --python")? } else { python.to_path_buf() };
        let script = &std::path::absolute(script).context("resolving the script's path")?;
        let mut driver = tempfile::Builder::new().prefix("pyproc-compare-").suffix(".py").tempfile().context("writing the native driver")?;
        driver.write_all(DRIVER.as_bytes()).context("writing the native driver")?;
        let folder = script.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut child = Command::new(python)
            .arg(driver.path())
            .arg(script)
            .arg(num_channels.to_string())
            .arg(sample_rate.to_string())
            .current_dir(folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let to = BufWriter::with_capacity(1 << 20, child.stdin.take().expect("piped"));
        let from = BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
        let mut side = NativeSide { child, to, from, _driver: driver };
        let raised = side.status()?;
        Ok((side, raised))
    }

    pub fn start_acquisition(&mut self) -> anyhow::Result<Raised> {
        self.control(b"S", &[])
    }

    pub fn stop_acquisition(&mut self) -> anyhow::Result<Raised> {
        self.control(b"s", &[])
    }

    pub fn start_recording(&mut self, dir: &Path) -> anyhow::Result<Raised> {
        let dir = dir.to_string_lossy();
        let mut payload = (dir.len() as u32).to_le_bytes().to_vec();
        payload.extend_from_slice(dir.as_bytes());
        self.control(b"R", &payload)
    }

    pub fn stop_recording(&mut self) -> anyhow::Result<Raised> {
        self.control(b"r", &[])
    }

    /// Hands over the block with the events and spikes that fall in it; `block` becomes
    /// what the script left in its array. Returns what it raised and the events it sent.
    pub fn process(&mut self, block: &mut ArrayViewMut2<'_, f32>, first_sample: i64, events: &[TtlEventIn<'_>], spikes: &[SpikeIn<'_>]) -> anyhow::Result<(Raised, Vec<Event>, Vec<Spike>)> {
        let (channels, samples) = block.dim();
        let w = &mut self.to;
        w.write_all(b"B").map_err(stopped)?;
        for word in [&first_sample.to_le_bytes()[..], &(channels as u32).to_le_bytes(), &(samples as u32).to_le_bytes(), &(events.len() as u32).to_le_bytes(), &(spikes.len() as u32).to_le_bytes()] {
            w.write_all(word).map_err(stopped)?;
        }
        for e in events {
            w.write_all(&e.source_node.to_le_bytes()).map_err(stopped)?;
            w.write_all(&e.sample_number.to_le_bytes()).map_err(stopped)?;
            w.write_all(&[e.line, e.state as u8]).map_err(stopped)?;
            write_str(w, e.channel).map_err(stopped)?;
        }
        for s in spikes {
            let (nch, ns) = s.waveform.dim();
            w.write_all(&s.source_node.to_le_bytes()).map_err(stopped)?;
            w.write_all(&s.sample_number.to_le_bytes()).map_err(stopped)?;
            for word in [s.sorted_id as u32, nch as u32, ns as u32] {
                w.write_all(&word.to_le_bytes()).map_err(stopped)?;
            }
            write_str(w, s.electrode_name).map_err(stopped)?;
            write_floats(w, s.waveform).map_err(stopped)?;
        }
        write_floats(w, block.view()).map_err(stopped)?;
        w.flush().map_err(stopped)?;
        let raised = self.status()?;
        let mut values = vec![0u8; channels * samples * 4];
        self.from.read_exact(&mut values).map_err(stopped)?;
        for (to, bytes) in block.iter_mut().zip(values.chunks_exact(4)) {
            *to = f32::from_le_bytes(bytes.try_into().expect("4 bytes"));
        }
        let n = self.u32()?;
        let mut sent = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let mut record = [0u8; 10];
            self.from.read_exact(&mut record).map_err(stopped)?;
            sent.push((i64::from_le_bytes(record[..8].try_into().expect("8 bytes")), record[8], record[9] != 0));
        }
        let m = self.u32()?;
        let mut spikes = Vec::with_capacity(m as usize);
        for _ in 0..m {
            let mut record = [0u8; 17];
            self.from.read_exact(&mut record).map_err(stopped)?;
            let word = |at: usize| u32::from_le_bytes(record[at..at + 4].try_into().expect("4 bytes"));
            let waveform = if record[16] == 1 {
                let len = self.u32()? as usize;
                let mut bytes = vec![0u8; len * 4];
                self.from.read_exact(&mut bytes).map_err(stopped)?;
                Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
            } else {
                None
            };
            spikes.push(Spike { sample_number: i64::from_le_bytes(record[..8].try_into().expect("8 bytes")), channel: word(8), sorted_id: word(12) as u16, waveform });
        }
        Ok((raised, sent, spikes))
    }

    fn control(&mut self, kind: &[u8], payload: &[u8]) -> anyhow::Result<Raised> {
        self.to.write_all(kind).map_err(stopped)?;
        self.to.write_all(payload).map_err(stopped)?;
        self.to.flush().map_err(stopped)?;
        self.status()
    }

    fn status(&mut self) -> anyhow::Result<Raised> {
        let mut status = [0u8; 1];
        self.from.read_exact(&mut status).map_err(stopped)?;
        if status[0] == 0 {
            return Ok(None);
        }
        let n = self.u32()? as usize;
        let mut text = vec![0u8; n];
        self.from.read_exact(&mut text).map_err(stopped)?;
        Ok(Some(String::from_utf8_lossy(&text).into_owned()))
    }

    fn u32(&mut self) -> anyhow::Result<u32> {
        let mut word = [0u8; 4];
        self.from.read_exact(&mut word).map_err(stopped)?;
        Ok(u32::from_le_bytes(word))
    }
}

impl Drop for NativeSide {
    fn drop(&mut self) {
        let _ = self.to.write_all(b"Q").and_then(|()| self.to.flush());
        let _ = self.child.wait();
    }
}

fn write_str(w: &mut impl Write, text: &str) -> std::io::Result<()> {
    w.write_all(&(text.len() as u32).to_le_bytes())?;
    w.write_all(text.as_bytes())
}

fn write_floats(w: &mut impl Write, values: ArrayView2<'_, f32>) -> std::io::Result<()> {
    for row in values.rows() {
        for v in row {
            w.write_all(&v.to_le_bytes())?;
        }
    }
    Ok(())
}

/// The Python a comparison runs on, if the user named none: `python3` on PATH.
pub fn default_python() -> PathBuf {
    PathBuf::from("python3")
}

/// `python`'s versions ("CPython 3.11.7, numpy 2.4.0, scipy 1.17.0"), for the report; refuses a
/// Python that cannot run the original plugin's scripts, saying how to fix it.
pub fn probe(python: &Path) -> anyhow::Result<String> {
    let probe = Command::new(python)
        .args(["-c", "import sys, numpy, scipy; print(f'CPython {sys.version.split()[0]}, numpy {numpy.__version__}, scipy {scipy.__version__}')"])
        .output();
    let out = match probe {
        Ok(out) => out,
        Err(e) => bail!("cannot run {} ({e}): name a Python 3 with numpy and scipy with --python PATH", python.display()),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let missing = stderr.lines().rev().find(|l| l.contains("ModuleNotFoundError")).unwrap_or(stderr.trim());
        bail!(
            "{} cannot import numpy and scipy ({missing}): install them with `{} -m pip install numpy scipy`, or name another Python with --python PATH",
            python.display(),
            python.display()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A broken pipe to or from the native side: its Python ended (its stderr said why).
fn stopped(e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("the native Python stopped: {e}")
}
