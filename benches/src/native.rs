//! CPython embedded natively: the baseline pyproc is compared against.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::PyModule;

/// What a script imports as `oe_pyprocessor` in the native baseline: the same surface as
/// pyproc's (events are collected and dropped; the baseline measures cost, not content).
const OE_PYPROCESSOR_STUB: &str = r#"
class PythonProcessor:
    def __init__(self):
        self.events = []
        self.first_sample_number = 0
    def add_python_event(self, line, state, sample_number=None):
        self.events.append((line, state, sample_number))
"#;

/// Site-packages of a venv with numpy and scipy, made once under the target directory.
pub fn ensure_venv() -> PathBuf {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| {
        let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
        let venv = target.join("native-baseline-venv");
        let python = venv.join("bin/python");
        if !venv.join("ready").exists() {
            let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().map(|s| s.success()).unwrap_or(false);
            assert!(ok, "python3 -m venv failed (install python3-venv)");
            let pip = Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "numpy", "scipy"])
                .status()
                .expect("pip runs");
            assert!(pip.success(), "pip install numpy scipy failed");
            std::fs::write(venv.join("ready"), "").unwrap();
        }
        let out = Command::new(&python).args(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).output().unwrap();
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

/// A script's `PyVisualizer` in the host's own CPython, its figure drawn on Agg and its
/// pixels copied out, as pyproc's viewer hands them to the host.
pub struct NativeViewer {
    instance: Py<PyAny>,
    draw: Py<PyAny>,
}

/// Draws a figure and copies its RGBA pixels out, as pyproc's viewer runtime does.
const DRAW: &str = r#"
def draw(instance, block):
    figure = instance.update({"block": block})
    figure.canvas.draw()
    return bytes(figure.canvas.buffer_rgba())
"#;

impl NativeViewer {
    pub fn new(script: &Path, channels: usize, sample_rate: f64) -> PyResult<NativeViewer> {
        let site = ensure_venv();
        ensure_matplotlib(&site);
        Python::attach(|py| {
            let (module, _) = load_script(py, &site, script, "viewer_script")?;
            let instance = module.getattr("PyVisualizer")?.call1((channels, sample_rate))?;
            let draw = PyModule::from_code(py, &CString::new(DRAW).unwrap(), c"draw.py", c"draw")?.getattr("draw")?;
            Ok(NativeViewer { instance: instance.unbind(), draw: draw.unbind() })
        })
    }

    /// `update({"block": a float32 copy of block})`, drawn; the pixels' byte count.
    pub fn render(&mut self, block: &ndarray::Array2<f32>) -> PyResult<usize> {
        Python::attach(|py| {
            let numpy = py.import("numpy")?;
            let array = numpy.getattr("empty")?.call1((block.dim(), "float32"))?;
            PyBuffer::<f32>::get(&array)?.copy_from_slice(py, block.as_slice().expect("a C-order block"))?;
            let pixels = self.draw.bind(py).call1((self.instance.bind(py), array))?;
            pixels.len()
        })
    }
}

/// `script` as the module `name`, with the baseline venv's packages on `sys.path` and the
/// `oe_pyprocessor` stand-in installed; the module and the stand-in.
fn load_script<'py>(py: Python<'py>, site: &Path, script: &Path, name: &str) -> PyResult<(Bound<'py, PyModule>, Bound<'py, PyModule>)> {
    let sys = py.import("sys")?;
    let path = sys.getattr("path")?;
    if !path.contains(site.to_str().unwrap())? {
        path.call_method1("insert", (0, site.to_str().unwrap()))?;
    }
    let stub = PyModule::from_code(py, &CString::new(OE_PYPROCESSOR_STUB).unwrap(), c"oe_pyprocessor.py", c"oe_pyprocessor")?;
    sys.getattr("modules")?.set_item("oe_pyprocessor", &stub)?;
    let source = std::fs::read_to_string(script).expect("script readable");
    let module = PyModule::from_code(
        py,
        &CString::new(source).unwrap(),
        &CString::new(script.to_string_lossy().into_owned()).unwrap(),
        &CString::new(name).unwrap(),
    )?;
    Ok((module, stub))
}

/// Installs matplotlib into the baseline's venv the first time a row needs it.
fn ensure_matplotlib(site: &Path) {
    if site.join("matplotlib").is_dir() {
        return;
    }
    let python = site.ancestors().find(|p| p.join("bin/python").is_file()).expect("the venv holds its site-packages").join("bin/python");
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "matplotlib"])
        .status()
        .expect("pip runs");
    assert!(pip.success(), "pip install matplotlib failed");
}

/// A `PyProcessor` running in the host's own CPython.
pub struct NativeProcessor {
    instance: Py<PyAny>,
    numpy_empty: Py<PyAny>,
    channels: usize,
}

impl NativeProcessor {
    pub fn new(script: &Path, channels: usize, sample_rate: f64) -> PyResult<NativeProcessor> {
        let site = ensure_venv();
        Python::attach(|py| {
            let name = script.file_stem().unwrap().to_string_lossy().into_owned();
            let (module, stub) = load_script(py, &site, script, &name)?;
            let processor = stub.getattr("PythonProcessor")?.call0()?;
            let instance = module.getattr("PyProcessor")?.call1((processor, channels, sample_rate))?;
            let numpy_empty = py.import("numpy")?.getattr("empty")?;
            Ok(NativeProcessor { instance: instance.unbind(), numpy_empty: numpy_empty.unbind(), channels })
        })
    }

    /// `handle_ttl_event(...)`, as the original plugin calls it.
    pub fn handle_ttl_event(&mut self, source_node: i64, channel: &str, sample_number: i64, line: u8, state: bool) -> PyResult<()> {
        Python::attach(|py| {
            self.instance.bind(py).call_method1("handle_ttl_event", (source_node, channel, sample_number, line, state))?;
            Ok(())
        })
    }

    /// `handle_spike(...)` with a fresh read-only float32 array (channels x samples).
    pub fn handle_spike(&mut self, electrode: &str, sample_number: i64, waveform: &[f32], channels: usize) -> PyResult<()> {
        let samples = waveform.len() / channels;
        Python::attach(|py| {
            let array = self.numpy_empty.bind(py).call1(((channels, samples), "float32"))?;
            PyBuffer::<f32>::get(&array)?.copy_from_slice(py, waveform)?;
            array.getattr("flags")?.setattr("writeable", false)?;
            self.instance.bind(py).call_method1("handle_spike", (0, electrode, channels, samples, sample_number, 0, &array))?;
            Ok(())
        })
    }

    /// One block (C order, channels x samples), in place: a fresh float32 array, copy in,
    /// `process(data)`, copy out — as the original plugin does.
    pub fn process(&mut self, block: &mut [f32]) -> PyResult<()> {
        let samples = block.len() / self.channels;
        Python::attach(|py| {
            let array = self.numpy_empty.bind(py).call1(((self.channels, samples), "float32"))?;
            let buffer = PyBuffer::<f32>::get(&array)?;
            buffer.copy_from_slice(py, block)?;
            self.instance.bind(py).call_method1("process", (&array,))?;
            buffer.copy_to_slice(py, block)
        })
    }
}
