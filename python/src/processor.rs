//! `pyproc._native.Processor`: one script in its own interpreter, driven from Python.
//!
//! The processor sits behind a mutex and every call into the script locks it with the GIL
//! released, so processors on several Python threads run their scripts at the same time
//! (and two threads sharing one processor take turns). A block is a float32 numpy array
//! the script changes in place: it is checked here (dtype, shape, layout, writeable) and
//! handed to the host as a view of the array's own memory, never copied on the Python side.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use ndarray::Array2;
use numpy::{dtype, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyproc_host::{Grants, Limits, OutputSink, OutputStream, Processed, Processor, SpikeIn, TtlEventIn};

use crate::{engine, errors};

/// A printed line waiting to reach Python's `sys.stdout` (true) or `sys.stderr`.
type Printed = Arc<Mutex<Vec<(bool, String)>>>;

/// An emitted spike: sample number, channel, sorted id, the script's waveform if it gave one.
type SpikeTuple = (i64, u32, u16, Option<Vec<f32>>);

#[pyclass(module = "pyproc._native", name = "Processor")]
pub struct NativeProcessor {
    inner: Mutex<Processor>,
    printed: Printed,
    num_channels: usize,
    recording_root: PathBuf,
    /// The recording root made for a processor built without one; removed with it.
    _scratch: Option<tempfile::TempDir>,
}

#[pymethods]
impl NativeProcessor {
    /// `source`: the script as text (then `script` is only the name Python shows for it).
    #[new]
    #[pyo3(signature = (script, source, num_channels, sample_rate, allow_read, allow_write, allow_net, allow_listen, script_folder, recording_root, seed, deadline_ms, label))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        script: PathBuf,
        source: Option<String>,
        num_channels: usize,
        sample_rate: f64,
        allow_read: Vec<String>,
        allow_write: Vec<String>,
        allow_net: Vec<String>,
        allow_listen: Vec<u16>,
        script_folder: bool,
        recording_root: Option<PathBuf>,
        seed: u64,
        deadline_ms: Option<u64>,
        label: Option<String>,
    ) -> PyResult<Self> {
        if num_channels == 0 {
            return Err(PyValueError::new_err("num_channels must be at least 1"));
        }
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(PyValueError::new_err(format!("sample_rate must be a number above 0, not {sample_rate}")));
        }
        let grants = Grants::from_flags(script_folder, &allow_read, &allow_write, &allow_net, &allow_listen).map_err(|e| errors::host_error(py, e))?;
        let (recording_root, scratch) = match recording_root {
            Some(dir) => (dir, None),
            None => {
                let tmp = tempfile::Builder::new().prefix("pyproc-recording-").tempdir().map_err(|e| errors::pyproc_error(py, format!("cannot create a temporary recording folder: {e}")))?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        let engine = engine::engine(py)?;
        let printed: Printed = Arc::default();
        let sink = {
            let printed = printed.clone();
            OutputSink::new(move |line| {
                let to_stdout = matches!(line.stream, OutputStream::Stdout);
                printed.lock().unwrap_or_else(|p| p.into_inner()).push((to_stdout, line.text.to_owned()));
            })
        };
        let mut limits = Limits::default();
        if let Some(ms) = deadline_ms {
            limits.callback_deadline = std::time::Duration::from_millis(ms.max(1));
        }
        let mut builder = match source {
            Some(text) => Processor::builder_for_source(&engine, script, text),
            None => Processor::builder(&engine, script),
        }
        .stream(num_channels, sample_rate)
        .grants(grants)
        .seed(seed)
        .limits(limits)
        .output(sink)
        .recording_root(&recording_root);
        if let Some(label) = label {
            builder = builder.label(label);
        }
        let built = py.detach(|| builder.build());
        let native = NativeProcessor { inner: Mutex::new(built.map_err(|e| { flush(py, &printed); errors::host_error(py, e) })?), printed, num_channels, recording_root, _scratch: scratch };
        flush(py, &native.printed);
        Ok(native)
    }

    /// Runs `process` on `block` in place. Returns (why the block passed through, or None;
    /// events as (sample_number, line, state); spikes as (sample_number, channel,
    /// sorted_id, waveform or None)).
    fn process<'py>(&self, py: Python<'py>, block: &Bound<'py, PyAny>, first_sample: i64) -> PyResult<(Option<String>, Vec<(i64, u8, bool)>, Vec<(i64, u32, u16, Option<Bound<'py, PyArray1<f32>>>)>)> {
        let array = float32_block(py, block, "block")?;
        if array.shape()[0] != self.num_channels {
            return Err(PyValueError::new_err(format!(
                "block has {} channels (rows); this processor was built for num_channels={}: pass a ({}, samples) array",
                array.shape()[0],
                self.num_channels,
                self.num_channels
            )));
        }
        let mut guard = array.try_readwrite().map_err(|e| PyValueError::new_err(format!("block cannot be written in place ({e}): pass a writeable array (block.copy())")))?;
        let mut view = guard.as_array_mut();
        let outcome = py.detach(|| {
            let mut p = lock(&self.inner);
            p.process(view.view_mut(), first_sample).map(|processed| match processed {
                Processed::Done(emitted) => (
                    None,
                    emitted.events.iter().map(|e| (e.sample_number, e.line, e.state)).collect::<Vec<_>>(),
                    emitted.spikes.iter().map(|s| (s.sample_number, s.channel, s.sorted_id, s.waveform.map(|w| w.to_vec()))).collect::<Vec<SpikeTuple>>(),
                ),
                Processed::PassedThrough(why) => (Some(why.to_string()), Vec::new(), Vec::new()),
            })
        });
        flush(py, &self.printed);
        let (passed, events, spikes) = outcome.map_err(|e| errors::host_error(py, e))?;
        let spikes = spikes.into_iter().map(|(n, c, id, w)| (n, c, id, w.map(|w| PyArray1::from_vec(py, w)))).collect();
        Ok((passed, events, spikes))
    }

    #[pyo3(signature = (sample_number, line, state, channel, source_node))]
    fn handle_ttl_event(&self, py: Python<'_>, sample_number: i64, line: u8, state: bool, channel: String, source_node: i64) -> PyResult<()> {
        self.call(py, |p| p.handle_ttl_event(&TtlEventIn { source_node, channel: &channel, sample_number, line, state }))
    }

    #[pyo3(signature = (sample_number, waveform, electrode_name, sorted_id, source_node))]
    fn handle_spike(&self, py: Python<'_>, sample_number: i64, waveform: &Bound<'_, PyAny>, electrode_name: String, sorted_id: i64, source_node: i64) -> PyResult<()> {
        let waveform: Array2<f32> = float32_block(py, waveform, "waveform")?.readonly().as_array().to_owned();
        self.call(py, |p| p.handle_spike(&SpikeIn { source_node, electrode_name: &electrode_name, sample_number, sorted_id, waveform: waveform.view() }))
    }

    fn start_acquisition(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |p| p.start_acquisition())
    }

    fn stop_acquisition(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |p| p.stop_acquisition())
    }

    /// `dir` None: the recording root itself.
    #[pyo3(signature = (dir=None))]
    fn start_recording(&self, py: Python<'_>, dir: Option<PathBuf>) -> PyResult<()> {
        let dir = dir.unwrap_or_else(|| self.recording_root.clone());
        self.call(py, |p| p.start_recording(&dir))
    }

    fn stop_recording(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |p| p.stop_recording())
    }

    /// Reloads the script from its file (or its text), or imports `source` in its place.
    #[pyo3(signature = (source=None))]
    fn reload(&self, py: Python<'_>, source: Option<String>) -> PyResult<()> {
        match source {
            Some(text) => self.call(py, |p| p.reload_from_source(text)),
            None => self.call(py, |p| p.reload()),
        }
    }

    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = py.detach(|| lock(&self.inner).stats());
        let d = PyDict::new(py);
        d.set_item("restarts", s.restarts)?;
        d.set_item("events_dropped", s.events_dropped)?;
        d.set_item("spikes_dropped", s.spikes_dropped)?;
        d.set_item("output_bytes_dropped", s.output_bytes_dropped)?;
        d.set_item("frames_refused", s.frames_refused)?;
        d.set_item("events_outside_acquisition", s.events_outside_acquisition)?;
        Ok(d)
    }

    #[getter]
    fn status(&self, py: Python<'_>) -> String {
        format!("{:?}", py.detach(|| lock(&self.inner).status()))
    }

    /// Refused accesses: (callback or None, what, the flag that allows it).
    #[getter]
    fn denials(&self, py: Python<'_>) -> (u64, Vec<(Option<&'static str>, String, String)>) {
        let d = py.detach(|| lock(&self.inner).denials());
        (d.count, d.first.iter().map(|x| (x.callback.map(|c| c.python_name()), x.what.clone(), x.fix.clone())).collect())
    }

    #[getter]
    fn channel_independent(&self, py: Python<'_>) -> bool {
        py.detach(|| lock(&self.inner).channel_independent())
    }

    #[getter]
    fn recording_root(&self) -> PathBuf {
        self.recording_root.clone()
    }

    #[getter]
    fn script(&self, py: Python<'_>) -> PathBuf {
        py.detach(|| lock(&self.inner).script().to_path_buf())
    }
}

impl NativeProcessor {
    /// Runs `f` on the processor with the GIL released, then prints what the script printed.
    fn call<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut Processor) -> pyproc_host::Result<T> + Send) -> PyResult<T> {
        let result = py.detach(|| f(&mut lock(&self.inner)));
        flush(py, &self.printed);
        result.map_err(|e| errors::host_error(py, e))
    }
}

fn lock(p: &Mutex<Processor>) -> MutexGuard<'_, Processor> {
    // A panic while the processor was locked leaves it as the host left it; go on.
    p.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the script printed, on Python's `sys.stdout` / `sys.stderr` (a notebook shows it).
fn flush(py: Python<'_>, printed: &Printed) {
    let lines = std::mem::take(&mut *printed.lock().unwrap_or_else(|p| p.into_inner()));
    if lines.is_empty() {
        return;
    }
    let Ok(sys) = py.import("sys") else { return };
    for (to_stdout, text) in lines {
        if let Ok(stream) = sys.getattr(if to_stdout { "stdout" } else { "stderr" }) {
            let _ = stream.call_method1("write", (text + "\n",));
        }
    }
}

/// `value` as a C-contiguous float32 (rows, samples) numpy array, or the error that says
/// what to pass instead.
fn float32_block<'py>(py: Python<'py>, value: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let Ok(untyped) = value.cast::<PyUntypedArray>() else {
        let kind = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(PyTypeError::new_err(format!("{what} must be a numpy.ndarray of float32 with shape (channels, samples), not {kind}: np.asarray({what}, dtype=np.float32)")));
    };
    let given = untyped.dtype();
    if !given.is_equiv_to(&dtype::<f32>(py)) {
        return Err(PyTypeError::new_err(format!(
            "{what} has dtype {}; pyproc processes float32 (µV) in place: convert it once with {what} = {what}.astype(np.float32) and keep that array",
            given.str().map(|s| s.to_string()).unwrap_or_default()
        )));
    }
    if untyped.ndim() != 2 {
        return Err(PyValueError::new_err(format!("{what} has {} dimensions (shape {:?}); pyproc needs 2: (channels, samples)", untyped.ndim(), untyped.shape())));
    }
    if !untyped.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what} is not C-contiguous (a transposed or sliced view?); pyproc works on the array's own memory: pass np.ascontiguousarray({what}) and keep that array"
        )));
    }
    Ok(value.cast::<PyArray2<f32>>()?.clone())
}
