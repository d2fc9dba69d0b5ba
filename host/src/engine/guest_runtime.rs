//! The Python that runs inside the guest (`guest-runtime/`), embedded at build time, and
//! the one `turn` that starts it.

use crate::engine::package_data;
use crate::wire::layout;

/// (module name, source) of the guest runtime, in import order. `_pyproc_wire` is made
/// from the host's own table of the boundary's numbers (see `wire/layout.rs`),
/// `_pyproc_installed` from the guest paths of the files made at install
/// (`package_data.rs`).
fn modules() -> [(&'static str, std::borrow::Cow<'static, str>); 14] {
    [
        ("_pyproc_wire", layout::python_module().into()),
        ("_pyproc_installed", package_data::python_module().into()),
        ("_pyproc_publish", include_str!("../../../guest-runtime/_pyproc_publish.py").into()),
        ("oe_pyprocessor", include_str!("../../../guest-runtime/oe_pyprocessor.py").into()),
        ("_pyproc_door", include_str!("../../../guest-runtime/_pyproc_door.py").into()),
        ("_pyproc_net", include_str!("../../../guest-runtime/_pyproc_net.py").into()),
        ("_pyproc_socket_values", include_str!("../../../guest-runtime/_pyproc_socket_values.py").into()),
        ("_pyproc_socket", include_str!("../../../guest-runtime/_pyproc_socket.py").into()),
        ("_pyproc_select", include_str!("../../../guest-runtime/_pyproc_select.py").into()),
        ("_pyproc_timers", include_str!("../../../guest-runtime/_pyproc_timers.py").into()),
        ("_pyproc_matplotlib", include_str!("../../../guest-runtime/_pyproc_matplotlib.py").into()),
        ("_pyproc_imports", include_str!("../../../guest-runtime/_pyproc_imports.py").into()),
        ("_pyproc_viewer", include_str!("../../../guest-runtime/_pyproc_viewer.py").into()),
        ("_pyproc_runtime", include_str!("../../../guest-runtime/_pyproc_runtime.py").into()),
    ]
}

/// The source of one runtime module, by name (empty if there is none).
#[cfg(test)]
fn runtime_source(name: &str) -> String {
    modules().into_iter().find(|(n, _)| *n == name).map(|(_, source)| source.into_owned()).unwrap_or_default()
}

/// File names the runtime's frames carry in tracebacks (the runtime strips leading frames
/// with this prefix so a scientist sees their own code first).
const FILENAME_PREFIX: &str = "<pyproc>";

/// The turn that serves commands until `Quit`, in an interpreter the setup turn has run in
/// (the ready snapshot, see `ready_snapshot.rs`).
pub(crate) fn serve_turn() -> &'static str {
    "import _pyproc_runtime\n_pyproc_runtime.serve()\n"
}

/// Everything before serving, in a turn that returns: the runtime modules from their
/// embedded text, and the imports nearly every script makes (numpy is imported by the
/// runtime itself). The ready snapshot is taken right after it.
pub(crate) fn setup_turn() -> String {
    let mut src = define_modules();
    src.push_str("import _pyproc_runtime\nfrom scipy import signal\ndel signal\nimport gc\ngc.collect()\n");
    src
}

/// The source of the single long-running turn in a plain interpreter: set up, then serve.
pub(crate) fn bootstrap_turn() -> String {
    let mut src = define_modules();
    src.push_str(serve_turn());
    src
}

/// Defines the runtime modules from their embedded text, then puts the host-served
/// `socket` module and `select.select` in place of the interpreter's own (which have no
/// sockets under WASI), before anything imports them. Sources travel as hex so no quoting
/// rule of Python string literals can be broken by their content.
fn define_modules() -> String {
    let mut src = String::from("import sys, types, linecache\n");
    src.push_str("def _pyproc_define(name, hex_source):\n");
    src.push_str(&format!("    filename = '{FILENAME_PREFIX}/' + name + '.py'\n"));
    src.push_str(
        "    source = bytes.fromhex(hex_source).decode('utf-8')\n\
         \x20   module = types.ModuleType(name)\n\
         \x20   module.__file__ = filename\n\
         \x20   linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)\n\
         \x20   sys.modules[name] = module\n\
         \x20   exec(compile(source, filename, 'exec'), module.__dict__)\n",
    );
    for (name, source) in modules() {
        src.push_str(&format!("_pyproc_define('{name}', '{}')\n", hex::encode(source.as_bytes())));
    }
    src.push_str("del _pyproc_define\n");
    src.push_str("import _pyproc_socket, _pyproc_select\n_pyproc_socket.install()\n_pyproc_select.install()\n");
    src
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_defines_the_modules_in_import_order_and_serves() {
        let src = bootstrap_turn();
        let at = |name: &str| src.find(&format!("_pyproc_define('{name}', '")).unwrap_or_else(|| panic!("{name} is not defined"));
        assert!(at("_pyproc_wire") < at("oe_pyprocessor") && at("oe_pyprocessor") < at("_pyproc_runtime"));
        assert!(at("_pyproc_wire") < at("_pyproc_net") && at("_pyproc_net") < at("_pyproc_socket_values"));
        assert!(at("_pyproc_socket_values") < at("_pyproc_socket") && at("_pyproc_socket") < at("_pyproc_select"));
        assert!(src.find("_pyproc_socket.install()").unwrap() < src.find("_pyproc_runtime.serve()").unwrap(), "sockets are in place before any script");
        assert!(src.ends_with("_pyproc_runtime.serve()\n"));
        assert!(src.is_ascii());
    }

    #[test]
    fn the_setup_turn_imports_but_does_not_serve() {
        let src = setup_turn();
        assert!(src.contains("_pyproc_define('_pyproc_runtime', '") && src.contains("from scipy import signal"));
        assert!(!src.contains("serve()"));
    }

    #[test]
    fn the_guest_runtime_takes_its_numbers_from_the_generated_table_only() {
        // A literal opcode or format in the runtime would be a second copy of the table.
        let runtime = runtime_source("_pyproc_runtime");
        assert!(runtime.contains("from _pyproc_wire import *"));
        for (name, _) in layout::op::ALL {
            assert!(!runtime.contains(&format!("\n{name} =")) && !runtime.contains(&format!(" {name} = ")), "the runtime defines {name} itself");
        }
        assert!(!runtime.contains("range(1, 10)"), "callback codes come from the table");
        for name in ["_pyproc_net", "_pyproc_socket", "_pyproc_select"] {
            let source = runtime_source(name);
            assert!(source.contains("from _pyproc_wire import"), "{name} takes its numbers from the table");
            for (constant, _) in layout::op::ALL.iter().chain(layout::net::ALL) {
                assert!(!source.contains(&format!("\nNET_{constant} =")) && !source.contains(&format!("\n{constant} = 0x")), "{name} defines {constant} itself");
            }
        }
        for format in [layout::EVENT_FORMAT, layout::SPIKE_HEADER_FORMAT] {
            assert!(!runtime.contains(&format!("\"{format}\"")), "{format} is written out in the runtime");
        }
    }
}
