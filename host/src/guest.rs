//! The Python that runs inside the guest (`guest-runtime/`), embedded at build time, and
//! the one `turn` that starts it.

/// (module name, source) of the guest runtime, in import order.
const MODULES: [(&str, &str); 2] = [
    ("oe_pyprocessor", include_str!("../../guest-runtime/oe_pyprocessor.py")),
    ("_pyproc_runtime", include_str!("../../guest-runtime/_pyproc_runtime.py")),
];

/// File names the runtime's frames carry in tracebacks (the runtime strips leading frames
/// with this prefix so a scientist sees their own code first).
const FILENAME_PREFIX: &str = "<pyproc>";

/// The source of the single long-running turn: define the runtime modules from their
/// embedded text, then serve commands until `Quit`.
///
/// Sources travel as hex so no quoting rule of Python string literals can be broken by
/// their content.
pub(crate) fn bootstrap_turn() -> String {
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
    for (name, source) in MODULES {
        src.push_str(&format!("_pyproc_define('{name}', '{}')\n", hex::encode(source)));
    }
    src.push_str("del _pyproc_define\nimport _pyproc_runtime\n_pyproc_runtime.serve()\n");
    src
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bootstrap_defines_both_modules_and_serves() {
        let src = super::bootstrap_turn();
        assert!(src.contains("_pyproc_define('oe_pyprocessor', '"));
        assert!(src.ends_with("_pyproc_runtime.serve()\n"));
        assert!(src.is_ascii());
    }
}
