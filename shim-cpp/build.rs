// Generates the C++ side of the bridge (target/cxxbridge/pyproc-shim/src/bridge.rs.h and
// its .cc, compiled into this crate's static library).
fn main() {
    cxx_build::bridge("src/bridge.rs").std("c++17").include("include").compile("pyproc-shim-bridge");
    println!("cargo:rerun-if-changed=src/bridge.rs");
    println!("cargo:rerun-if-changed=include/pyproc/output.h");
}
