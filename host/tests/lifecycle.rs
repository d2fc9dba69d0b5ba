//! Loading, reloading and running several processors: what survives failure, what is
//! shared (nothing).

mod common;

use std::path::Path;

use common::{builder, Done, example, test_script};
use ndarray::{array, Array2};
use pyproc_host::{Callback, Error, TtlEvent};

fn copy_script(dir: &Path, from: &str) -> std::path::PathBuf {
    let to = dir.join("processor.py");
    std::fs::copy(test_script(from), &to).unwrap();
    to
}

fn add_one_then(p: &mut pyproc_host::Processor) -> f32 {
    let mut block = array![[0.0f32]];
    p.process(block.view_mut(), 0).done();
    block[[0, 0]]
}

#[test]
fn reload_with_a_syntax_error_keeps_the_old_processor_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = copy_script(dir.path(), "counter.py");
    let mut p = builder(&script).build().unwrap();
    assert_eq!(add_one_then(&mut p), 1.0);
    std::fs::write(&script, "STEP = 2.0\n\nclass PyProcessor:\n    def process(self, data)\n        pass\n").unwrap();
    let err = p.reload().unwrap_err();
    let Some(e) = err.python_exception() else { panic!("{err}") };
    let (callback, line, type_name) = (&e.callback, &e.line, &e.type_name);
    assert_eq!((*callback, *line), (Callback::Import, Some(4)));
    assert_eq!(type_name, "SyntaxError");
    assert_eq!(add_one_then(&mut p), 1.0, "the old processor still runs");
}

#[test]
fn reload_whose_init_raises_keeps_the_old_processor() {
    let dir = tempfile::tempdir().unwrap();
    let script = copy_script(dir.path(), "counter.py");
    let mut p = builder(&script).build().unwrap();
    std::fs::write(
        &script,
        "class PyProcessor:\n    def __init__(self, processor, n, rate):\n        raise RuntimeError('no hardware')\n    def process(self, data):\n        data += 5\n",
    )
    .unwrap();
    let err = p.reload().unwrap_err();
    assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::Init && e.line == Some(3)), "{err}");
    assert_eq!(add_one_then(&mut p), 1.0);
}

#[test]
fn reload_picks_up_the_new_code() {
    let dir = tempfile::tempdir().unwrap();
    let script = copy_script(dir.path(), "counter.py");
    let mut p = builder(&script).build().unwrap();
    std::fs::write(&script, std::fs::read_to_string(test_script("counter.py")).unwrap().replace("STEP = 1.0", "STEP = 3.0")).unwrap();
    p.reload().unwrap();
    assert_eq!(add_one_then(&mut p), 3.0);
}

#[test]
fn a_script_without_pyprocessor_fails_to_load_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("empty.py");
    std::fs::write(&script, "import numpy as np\n").unwrap();
    let err = builder(&script).build().unwrap_err();
    assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::Import), "{err}");
    assert!(err.to_string().contains("defines no class PyProcessor"), "{err}");
}

#[test]
fn a_missing_script_is_reported_with_its_path() {
    let err = builder("/nonexistent/dir/proc.py").build().unwrap_err();
    assert!(matches!(err, Error::ScriptUnreadable { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/proc.py"), "{err}");
}

#[test]
fn two_instances_share_no_python_state() {
    let mut a = builder(test_script("isolation_probe.py")).build().unwrap();
    let mut b = builder(test_script("isolation_probe.py")).build().unwrap();
    let mut block = Array2::<f32>::zeros((1, 4));
    let first_line = |p: &mut pyproc_host::Processor, block: &mut Array2<f32>| p.process(block.view_mut(), 0).done().events[0].line;
    assert_eq!(first_line(&mut a, &mut block), 0, "a starts clean");
    assert_eq!(first_line(&mut a, &mut block), 1, "a sees its own marker");
    assert_eq!(first_line(&mut b, &mut block), 0, "b does not see a's marker");
}

#[test]
fn two_instances_run_on_two_threads_at_once_with_the_same_results_as_one() {
    let input = Array2::from_shape_fn((8, 4096), |(c, s)| ((s * (c + 1)) as f32 * 0.05).sin() * 100.0);
    let run = |p: &mut pyproc_host::Processor| {
        let mut out = input.clone();
        for start in (0..4096).step_by(512) {
            p.process(out.slice_mut(ndarray::s![.., start..start + 512]), start as i64).done();
        }
        out
    };
    let mut reference = builder(example("bandpass_filter.py")).stream(8, 30_000.0).build().unwrap();
    let expected = run(&mut reference);
    let processors: Vec<_> =
        (0..2).map(|_| builder(example("bandpass_filter.py")).stream(8, 30_000.0).build().unwrap()).collect();
    let outputs: Vec<Array2<f32>> = std::thread::scope(|scope| {
        let handles: Vec<_> = processors.into_iter().map(|mut p| scope.spawn(move || run(&mut p))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in outputs {
        assert_eq!(out, expected);
    }
}

#[test]
fn a_processor_is_usable_after_moving_it_to_another_thread() {
    let mut p = builder(test_script("ttl_echo.py")).build().unwrap();
    p.handle_ttl_event(&pyproc_host::TtlEventIn { source_node: 0, channel: "c", sample_number: 3, line: 1, state: false }).unwrap();
    let events = std::thread::spawn(move || {
        let mut block = Array2::<f32>::zeros((1, 2));
        p.process(block.view_mut(), 0).done().events.to_vec()
    })
    .join()
    .unwrap();
    assert_eq!(events, [TtlEvent { sample_number: 3, line: 11, state: false }]);
}

#[test]
fn importing_a_module_the_sandbox_lacks_says_what_is_available() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("deep.py");
    std::fs::write(&script, "import numpy as np\nimport torch\n\nclass PyProcessor:\n    pass\n").unwrap();
    let err = builder(&script).build().unwrap_err();
    let Some(e) = err.python_exception() else { panic!("{err}") };
    let (callback, line, message, traceback) = (&e.callback, &e.line, &e.message, &e.traceback);
    assert_eq!(e.type_name, "ModuleNotFoundError");
    assert_eq!((*callback, *line), (Callback::Import, Some(2)));
    assert!(message.starts_with("No module named 'torch'") && message.contains("numpy 2.5.2, "), "{message}");
    assert!(message.ends_with("A script cannot install packages."), "{message}");
    assert!(!traceback.contains("site-packages"), "CPython's venv hint does not apply here: {traceback}");
}

#[test]
fn flooding_the_raw_stdout_and_stderr_descriptors_does_not_end_the_instance() {
    let mut p = builder(test_script("fd_flood.py")).build().unwrap();
    for round in 0..3 {
        let mut block = array![[0.0f32]];
        p.process(block.view_mut(), round).done();
        assert_eq!(block[[0, 0]], 1.0);
    }
    assert_eq!(p.status(), pyproc_host::Status::Running);
}

#[test]
fn a_block_too_large_for_the_memory_limit_is_an_error_and_the_processor_lives_on() {
    let mut p = builder(test_script("minimal.py")).stream(64, 30_000.0).memory_limit(256 << 20).build().unwrap();
    // 64 x 2^20 floats = 256 MiB: more than the instance may have.
    let mut huge = Array2::<f32>::zeros((64, 1 << 20));
    let err = p.process(huge.view_mut(), 0).unwrap_err();
    assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::Process && e.type_name == "MemoryError"), "{err}");
    assert!(huge.iter().all(|v| *v == 0.0), "the block is untouched");
    let mut block = Array2::<f32>::zeros((64, 1024));
    p.process(block.view_mut(), 0).done();
    assert_eq!(block[[63, 1023]], 1.0);
}

#[test]
fn mistakes_with_data_are_harmless_or_refused_with_a_clear_error() {
    let mut p = builder(test_script("bad_data.py")).stream(2, 30_000.0).build().unwrap();
    let mut run = |case: f32| {
        let mut block = Array2::from_elem((2, 3), case);
        let result = p.process(block.view_mut(), 0).map(|_| ());
        (result, block)
    };
    // Rebinding changes nothing.
    let (r, b) = run(1.0);
    r.unwrap();
    assert_eq!(b, Array2::from_elem((2, 3), 1.0));
    // resize and in-place reinterpretation are refused; the block passes through.
    for case in [2.0, 3.0, 4.0] {
        let (r, b) = run(case);
        let err = r.unwrap_err();
        assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::Process), "case {case}: {err}");
        assert_eq!(b, Array2::from_elem((2, 3), case), "case {case}: unchanged");
        if case != 2.0 {
            assert!(err.to_string().contains("it must stay float32 (2, 3)"), "{err}");
        }
    }
    // NaN and Inf are the script's to write, and come back as written.
    let (r, b) = run(5.0);
    r.unwrap();
    assert!(b[[0, 0]].is_nan() && b[[0, 1]].is_infinite());
    // A kept view edited later edits that later block (it is the same buffer), nothing else.
    run(6.0).0.unwrap();
    let (r, b) = run(7.0);
    r.unwrap();
    assert_eq!(b, Array2::from_elem((2, 3), 42.0));
    let (r, b) = run(0.0);
    r.unwrap();
    assert_eq!(b, Array2::from_elem((2, 3), 0.0));
}

#[test]
fn a_script_named_like_a_module_does_not_shadow_that_module() {
    let dir = tempfile::tempdir().unwrap();
    let body = "    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        import json, numpy, random\n        assert not any(hasattr(m, 'PyProcessor') for m in (json, numpy, random)), 'shadowed'\n        data[:] = numpy.full(data.shape, 3, numpy.float32)\n";
    for name in ["numpy.py", "random.py", "json.py"] {
        let script = dir.path().join(name);
        std::fs::write(&script, format!("class PyProcessor:\n{body}")).unwrap();
        let mut p = builder(&script).build().unwrap();
        // The script is loaded (and registered) before the block: a later `import` of the
        // real module must still find it, also after a reload.
        p.reload().unwrap();
        let mut block = array![[0.0f32]];
        p.process(block.view_mut(), 0).done();
        assert_eq!(block[[0, 0]], 3.0, "{name}");
    }
}

#[test]
fn a_failed_reload_leaves_the_running_processors_random_state_alone() {
    let draws = "import numpy as np\nimport random\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        data[0, 0] = np.random.random() + random.random()\n";
    let draw = |p: &mut pyproc_host::Processor| {
        let mut block = array![[0.0f32]];
        p.process(block.view_mut(), 0).done();
        block[[0, 0]]
    };
    // Two processors of the same script, seed and label draw the same numbers.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (script_a, script_b) = (a.path().join("draws.py"), b.path().join("draws.py"));
    std::fs::write(&script_a, draws).unwrap();
    std::fs::write(&script_b, draws).unwrap();
    let mut reference = builder(&script_a).build().unwrap();
    let expected: Vec<f32> = (0..3).map(|_| draw(&mut reference)).collect();
    let mut p = builder(&script_b).build().unwrap();
    let first = draw(&mut p);
    std::fs::write(&script_b, "import numpy\nraise RuntimeError('broken on purpose')\n").unwrap();
    assert!(p.reload().is_err());
    let after = [first, draw(&mut p), draw(&mut p)];
    assert_eq!(after.to_vec(), expected, "the failed reload did not reseed the running script");
}

#[test]
fn opening_an_unprepared_cache_downloads_nothing_and_names_the_setup_command() {
    let cache = tempfile::tempdir().unwrap();
    let err = pyproc_host::Engine::builder().cache_root(cache.path()).open().unwrap_err();
    assert!(matches!(err, Error::NotPrepared { missing: "installed", .. }), "{err}");
    assert!(err.to_string().contains("pyproc setup"), "{err}");
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0, "open wrote nothing into the cache");
}
