//! The interpreter's packages: the list a user sees (README, error messages) is made from
//! the pinned wheel's MANIFEST, every package on it imports in a processor, the major
//! ones work (matplotlib included), and a module that is really missing is reported with
//! where pyproc looked.

mod common;

use common::{engine, Done, Printed};
use ndarray::Array2;
use pyproc_host::{Grants, Package, Processor};

/// How a package is shown in the README and in error messages.
fn shown(p: &Package) -> String {
    let normal = |s: &str| s.to_lowercase().replace(['-', '.'], "_");
    if normal(&p.import_name) == normal(&p.distribution) {
        format!("{} {}", p.import_name, p.version)
    } else {
        format!("{} ({} {})", p.import_name, p.distribution, p.version)
    }
}

const WORKS: &str = r#"
import importlib
import io

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        for name in NAMES:
            importlib.import_module(name)
        print("imported", len(NAMES))
        import numpy as np
        print("numpy", np.fft.rfft(np.ones(8))[0].real)
        from scipy import signal
        sos = signal.butter(2, [500, 2000], btype="bandpass", fs=30000, output="sos")
        print("scipy.signal", signal.sosfilt(sos, np.ones((4, 1024)), axis=1).shape)
        import pandas as pd
        print("pandas", pd.DataFrame({"a": [1, 2, 3]}).a.sum())
        from sklearn.decomposition import PCA
        print("sklearn", PCA(n_components=2).fit(np.random.default_rng(0).standard_normal((64, 16))).components_.shape)
        import statsmodels.api as sm
        x = np.arange(10.0)
        print("statsmodels", [round(float(v), 6) for v in sm.OLS(1 + 2 * x, sm.add_constant(x)).fit().params])

    def process(self, data):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
        ax.plot(data[0])
        ax.set_title("block")  # text: the fonts are found
        png = io.BytesIO()
        fig.savefig(png, format="png")
        plt.close(fig)
        print("matplotlib", png.getvalue()[:8].hex(), len(png.getvalue()) > 500)
"#;

#[test]
fn every_listed_package_imports_and_the_major_ones_work() {
    let engine = engine();
    let names: Vec<&str> = engine.packages().iter().map(|p| p.import_name.as_str()).collect();
    for major in ["numpy", "scipy", "pandas", "sklearn", "statsmodels", "matplotlib"] {
        assert!(names.contains(&major), "{major} is listed: {names:?}");
    }
    let printed = Printed::default();
    let source = WORKS.replace("NAMES", &format!("{names:?}"));
    let mut p = Processor::builder_for_source(&engine, "works.py", source).stream(2, 30_000.0).output(printed.sink()).build().unwrap();
    let mut block = Array2::<f32>::from_shape_fn((2, 256), |(_, s)| (s as f32 * 0.1).sin());
    p.process(block.view_mut(), 0).done();
    let said: Vec<String> = printed.take().into_iter().filter(|l| !l.starts_with("Could not save font_manager cache")).collect();
    assert_eq!(
        said,
        [
            format!("imported {}", names.len()),
            "numpy 8.0".into(),
            "scipy.signal (4, 1024)".into(),
            "pandas 6".into(),
            "sklearn (2, 16)".into(),
            "statsmodels [1.0, 2.0]".into(),
            "matplotlib 89504e470d0a1a0a True".into(),
        ]
    );
}

#[test]
fn the_readme_lists_exactly_the_interpreters_packages() {
    // One paragraph, wrapped as the README's text is.
    let mut generated = String::new();
    let mut line = 0;
    let engine = engine();
    let packages = engine.packages();
    for (i, package) in packages.iter().enumerate() {
        let word = format!("`{}`{}", shown(package), if i + 1 == packages.len() { "." } else { "," });
        if line > 0 && line + 1 + word.len() > 90 {
            generated.push('\n');
            line = 0;
        } else if line > 0 {
            generated.push(' ');
            line += 1;
        }
        line += word.len();
        generated.push_str(&word);
    }
    generated.push('\n');
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (start, end) = ("<!-- packages: made from the pinned wheel's MANIFEST -->\n", "<!-- /packages -->");
    let from = readme.find(start).expect("the README marks its package list") + start.len();
    let to = from + readme[from..].find(end).expect("the list's end marker");
    if std::env::var_os("PYPROC_BLESS").is_some() {
        std::fs::write(path, format!("{}{generated}{}", &readme[..from], &readme[to..])).unwrap();
        return;
    }
    assert_eq!(&readme[from..to], generated, "the README's package list is stale; rerun this test with PYPROC_BLESS=1 to rewrite it");
}

/// The `ModuleNotFoundError` message of a script that runs `source` at import.
fn not_found(dir: &std::path::Path, source: &str, grants: Grants) -> String {
    let script = dir.join("lab_script.py");
    std::fs::write(&script, format!("{source}\n\nclass PyProcessor:\n    pass\n")).unwrap();
    let err = Processor::builder(&engine(), &script).grants(grants).build().unwrap_err();
    let e = err.python_exception().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(e.type_name, "ModuleNotFoundError", "{}", e.summary());
    assert!(e.traceback.ends_with(&format!("ModuleNotFoundError: {}\n", e.message)), "{}", e.traceback);
    e.message.clone()
}

#[test]
fn a_missing_module_is_reported_with_the_interpreters_packages_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let message = not_found(dir.path(), "import numpy\nimport torch", Grants::default());
    assert!(message.starts_with("No module named 'torch'. pyproc looked for it in:\n"), "{message}");
    assert!(message.contains("  the interpreter: the standard library and "), "{message}");
    for package in engine().packages() {
        assert!(message.contains(&shown(package)), "{} is listed: {message}", shown(package));
    }
    assert!(message.ends_with("A script cannot install packages."), "{message}");
    assert!(!message.contains("site-packages"), "CPython's venv hint does not apply here: {message}");
}

#[test]
fn a_distribution_name_is_answered_with_its_import_name() {
    let dir = tempfile::tempdir().unwrap();
    let message = not_found(dir.path(), "import scikit_learn", Grants::default());
    assert!(message.contains("scikit-learn is in the interpreter: import it as 'sklearn'."), "{message}");
}

#[test]
fn a_module_beside_a_hidden_script_folder_is_reported_with_the_flag_that_hides_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("helpers.py"), "X = 1\n").unwrap();
    let message = not_found(dir.path(), "import helpers", Grants::none());
    let folder = std::path::absolute(dir.path()).unwrap();
    let expected = format!("The script's folder {} is not readable in the sandbox", folder.display());
    assert!(message.contains(&expected) && message.contains("--no-script-folder hides it"), "{message}");
}

#[test]
fn a_folder_on_sys_path_that_the_sandbox_does_not_show_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let message = not_found(dir.path(), "import sys\nsys.path.insert(0, '/lab/shared/lib')\nimport helpers", Grants::default());
    assert!(message.contains("\n  /lab/shared/lib, which is not a readable folder in the sandbox\n"), "{message}");
}
