//! Lab scripts as labs write them: split into modules beside the script, reading a config
//! at an absolute path, writing results and `/tmp`. With the grants they run unchanged;
//! without, each access fails with the flag that would allow it.

mod common;

use std::path::{Path, PathBuf};

use common::{builder, Done, Printed};
use pyproc_host::{Callback, Error, Grants};

/// A lab's folder: `scripts/` (the processor and a helper module), `config/settings.py`
/// and an empty `results/`.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["scripts", "config", "results"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("scripts/detector_utils.py"), "def scale(x):\n    return 2 * x\n").unwrap();
        std::fs::write(dir.path().join("config/settings.py"), "GAIN = 3.0\nTHRESHOLD = -40.0\n").unwrap();
        std::fs::write(dir.path().join("scripts/lab_processor.py"), LAB_PROCESSOR).unwrap();
        Lab { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn script(&self) -> PathBuf {
        self.path("scripts/lab_processor.py")
    }

    /// The grants the script needs, config and results mapped to the lab paths it names.
    fn grants(&self) -> Grants {
        Grants::default()
            .allow_read(&format!("{}::/mnt/lab/config/settings.py", self.path("config/settings.py").display()))
            .unwrap()
            .allow_write(&format!("{}::/mnt/lab/results", self.path("results").display()))
            .unwrap()
            .allow_read(&format!(r"{}::C:\lab\CONFIG.py", self.path("config/settings.py").display()))
            .unwrap()
    }
}

const LAB_PROCESSOR: &str = r#"
import os
import numpy as np
import oe_pyprocessor
from detector_utils import scale

exec(open("/mnt/lab/config/settings.py").read())
exec(open("C:\\lab\\CONFIG.py").read())  # the same file, as a Windows script names it
with open("/tmp/session.log", "w") as log:
    log.write("imported\n")
print("file", __file__)

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.samples = 0

    def process(self, data):
        data *= scale(GAIN)
        self.samples += data.shape[1]

    def stop_acquisition(self):
        with open("/tmp/session.log") as log:
            logged = log.read()
        os.makedirs("/mnt/lab/results/run1", exist_ok=True)
        with open("/mnt/lab/results/run1/summary.txt", "w") as out:
            out.write(f"{self.samples} samples, threshold {THRESHOLD}, log {logged!r}")
"#;

#[test]
fn a_lab_script_runs_unchanged_with_its_grants() {
    let lab = Lab::new();
    let printed = Printed::default();
    let mut p = builder(lab.script()).stream(2, 30_000.0).grants(lab.grants()).output(printed.sink()).build().unwrap();
    p.start_acquisition().unwrap();
    let mut block = ndarray::Array2::<f32>::ones((2, 100));
    p.process(block.view_mut(), 0).done();
    assert_eq!(block[[1, 5]], 6.0, "helper module and config both used");
    p.stop_acquisition().unwrap();
    assert_eq!(
        std::fs::read_to_string(lab.path("results/run1/summary.txt")).unwrap(),
        "100 samples, threshold -40.0, log 'imported\\n'",
    );
    assert_eq!(printed.take(), [format!("file {}", lab.script().display())], "__file__ is the real path");
    assert!(p.denials().is_empty(), "{:?}", p.denials());
}

#[test]
fn without_the_grants_each_access_fails_naming_its_flag() {
    let lab = Lab::new();
    // The config read is the first thing to fail: the import stops there.
    let err = builder(lab.script()).build().unwrap_err();
    let message = err.to_string();
    assert!(matches!(&err, Error::Python { exception, .. } if exception.type_name == "PermissionError" && exception.callback == Callback::Import), "{message}");
    assert!(message.contains("--allow-read /mnt/lab/config/settings.py"), "{message}");
    assert!(!message.contains("<pyproc>"), "the traceback ends at the script's own call: {message}");

    // Each access on its own, caught by the script.
    let probe = lab.path("scripts/probe.py");
    std::fs::write(&probe, PROBE).unwrap();
    let printed = Printed::default();
    let mut p = builder(&probe).output(printed.sink()).build().unwrap();
    p.stop_acquisition().unwrap();
    let lines = printed.take();
    let expect = [
        "read /mnt/lab/config/settings.py (allow with --allow-read /mnt/lab/config/settings.py)",
        "write /mnt/lab/results/out.csv (allow with --allow-write /mnt/lab/results)",
        "write /mnt/lab/results/run1 (allow with --allow-write /mnt/lab/results/run1)",
        "read /mnt/lab (allow with --allow-read /mnt/lab)",
    ];
    assert_eq!(lines.len(), expect.len(), "{lines:#?}");
    for (line, expected) in lines.iter().zip(expect) {
        assert!(line.starts_with("PermissionError") && line.contains(expected), "{line}\nshould name: {expected}");
    }
    let denied = p.denials();
    assert_eq!(denied.count, 4, "{denied:?}");
    assert!(denied.first.iter().all(|d| d.callback == Some(Callback::StopAcquisition)), "{denied:?}");
    assert_eq!(denied.first[1].fix, "--allow-write /mnt/lab/results");
}

const PROBE: &str = r#"
import os

def attempt(action):
    try:
        action()
        print("through")
    except OSError as e:
        print(type(e).__name__, e)

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        pass

    def stop_acquisition(self):
        attempt(lambda: open("/mnt/lab/config/settings.py").read())
        attempt(lambda: open("/mnt/lab/results/out.csv", "w"))
        attempt(lambda: os.mkdir("/mnt/lab/results/run1"))
        attempt(lambda: os.listdir("/mnt/lab"))
"#;

#[test]
fn a_grant_that_cannot_be_given_is_a_setup_error_naming_the_flag() {
    let lab = Lab::new();
    let missing = lab.path("not-there");
    let err = builder(lab.script()).grants(Grants::default().allow_read(missing.to_str().unwrap()).unwrap()).build().unwrap_err();
    assert!(matches!(&err, Error::BadGrant { flag: "--allow-read", .. }), "{err}");
    assert!(err.to_string().contains("not-there"), "{err}");

    let reserved = format!("{}::/usr/local/lib/python315.zip", lab.path("config/settings.py").display());
    let err = builder(lab.script()).grants(Grants::default().allow_read(&reserved).unwrap()).build().unwrap_err();
    assert!(matches!(&err, Error::BadGrant { flag: "--allow-read", .. }), "{err}");
}

#[test]
fn the_script_folder_can_be_hidden() {
    let lab = Lab::new();
    let err = builder(lab.script()).grants(Grants { script_folder: false, ..lab.grants() }).build().unwrap_err();
    assert!(matches!(&err, Error::Python { exception, .. } if exception.type_name == "ModuleNotFoundError"), "{err}");
}

#[test]
fn the_private_tmp_starts_empty_and_goes_with_the_processor() {
    let source = "import os\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        print(sorted(os.listdir('/tmp')))\n        open('/tmp/mine.txt', 'w').write('x')\n    def process(self, data):\n        pass\n";
    let printed = Printed::default();
    let first = pyproc_host::Processor::builder_for_source(&common::engine(), "tmp_user.py", source).output(printed.sink()).build().unwrap();
    let second = pyproc_host::Processor::builder_for_source(&common::engine(), "tmp_user.py", source).output(printed.sink()).build().unwrap();
    assert_eq!(printed.take(), ["[]", "[]"], "each processor has its own, empty /tmp");
    let host_tmp = private_tmp_folders();
    assert!(!host_tmp.is_empty());
    drop((first, second));
    for dir in host_tmp {
        assert!(!dir.exists() || !dir.join("mine.txt").exists(), "{} outlived its processor", dir.display());
    }
}

/// The host folders behind live processors' `/tmp` (each holds the script's `mine.txt`).
fn private_tmp_folders() -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("pyproc-tmp-")) && Path::new(p).join("mine.txt").exists())
        .collect()
}

#[test]
fn the_random_devices_are_refused_without_a_report() {
    // SQLite (behind shelve and dbm) tries /dev/urandom; the interpreter's own random
    // source is WASI's, seeded per processor.
    let source = "import os\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        for path in ('/dev/urandom', '/dev/random', '/dev/null'):\n            try:\n                open(path, 'rb')\n            except PermissionError:\n                print('refused', path)\n        print(len(os.urandom(4)))\n    def process(self, data):\n        pass\n";
    let printed = Printed::default();
    let p = pyproc_host::Processor::builder_for_source(&common::engine(), "random_user.py", source).output(printed.sink()).build().unwrap();
    assert_eq!(printed.take(), ["refused /dev/urandom", "refused /dev/random", "refused /dev/null", "4"]);
    let denied = p.denials();
    assert_eq!(denied.first.iter().map(|d| d.what.as_str()).collect::<Vec<_>>(), ["read /dev/null"], "{denied:?}");
}

#[test]
fn what_libraries_probe_as_they_import_is_not_reported_but_the_scripts_own_looks_are() {
    // matplotlib looks for fonts and config files in the host's usual places when it is
    // imported; the script's own isfile() of an ungranted config is the script's doing.
    let source = "import os\nimport matplotlib.pyplot as plt\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        print(os.path.isfile('/mnt/lab/CONFIG.py'))\n    def process(self, data):\n        pass\n";
    let printed = Printed::default();
    let p = pyproc_host::Processor::builder_for_source(&common::engine(), "plotter.py", source).output(printed.sink()).build().unwrap();
    assert_eq!(printed.take(), ["False"]);
    let denied = p.denials();
    let listed: Vec<(Option<Callback>, &str, &str)> = denied.first.iter().map(|d| (d.callback, d.what.as_str(), d.fix.as_str())).collect();
    assert_eq!(listed, [(Some(Callback::Init), "look at /mnt/lab/CONFIG.py", "--allow-read /mnt/lab/CONFIG.py")], "{denied:?}");
}
