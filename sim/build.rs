//! Builds the Verilated models that `oxnic-sim` links.
//!
//! For each model: generate its Verilog with `oxnic-hw` (a build dependency, so a
//! change to the RTL reruns this script), and only when the Verilog text changed
//! since the last build run Verilator 5.006 (`--cc --build -O3`) into
//! `$OUT_DIR/<model>/` — the model is cached under `target/` and a build without
//! RTL changes costs nothing. Then the C ABI shim (`csrc/<model>_shim.cpp`) is
//! compiled with the `cc` crate and everything is linked statically.
//!
//! (The Rust crates that wrap Verilator do not support 5.006, see
//! shared/notes/toolchain.md; this script and the shims are the replacement.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// Verilator's runtime sources, as Debian's `verilator` package installs them.
const VERILATOR_INCLUDE: &str = "/usr/share/verilator/include";

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let waivers_file = root.join("../hw/rtl/verilator-waivers.txt");
    println!("cargo:rerun-if-changed={}", waivers_file.display());
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=build.rs");
    let waivers: Vec<String> = std::fs::read_to_string(&waivers_file)
        .expect("hw/rtl/verilator-waivers.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();

    let rss = oxnic_hw::gen::verilog(&mut oxnic_hw::RssHash::default(), "rss_hash");
    build_model(&out, &root, "rss_hash", &rss, &waivers);

    // Verilator's runtime (without --exe, `--build` makes only the model).
    cc::Build::new()
        .cpp(true)
        .file(format!("{VERILATOR_INCLUDE}/verilated.cpp"))
        .file(format!("{VERILATOR_INCLUDE}/verilated_threads.cpp"))
        .include(VERILATOR_INCLUDE)
        .include(format!("{VERILATOR_INCLUDE}/vltstd"))
        .flag("-std=c++17")
        .flag("-fPIC")
        .opt_level(2)
        .warnings(false)
        .compile("verilated_rt");

    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-link-lib=dylib=z");
    println!("cargo:rustc-link-lib=dylib=atomic");
    println!("cargo:rustc-link-lib=dylib=pthread");
}

fn build_model(out: &Path, root: &Path, top: &str, verilog: &str, waivers: &[String]) {
    let dir = out.join(top);
    std::fs::create_dir_all(&dir).unwrap();
    let vfile = dir.join(format!("{top}.v"));
    let archive = dir.join(format!("V{top}__ALL.a"));
    let unchanged =
        std::fs::read_to_string(&vfile).is_ok_and(|old| old == verilog) && archive.exists();
    if !unchanged {
        std::fs::write(&vfile, verilog).unwrap();
        let t = std::time::Instant::now();
        let status = Command::new("verilator")
            .args(["--cc", "--build", "-O3", "-j", "2", "--top-module", top])
            .arg("-Mdir")
            .arg(&dir)
            // Rust links position-independent executables.
            .args(["-CFLAGS", "-fPIC"])
            .args(["-MAKEFLAGS", "OPT_FAST=-O2"])
            .args(waivers)
            .arg("-Wno-fatal")
            .arg(&vfile)
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run verilator ({e}): run ./scripts/setup, which installs it")
            });
        assert!(status.success(), "verilator failed for {top}");
        println!(
            "cargo:warning=verilated {top} in {:.1} s (cached until the RTL changes)",
            t.elapsed().as_secs_f64()
        );
    }
    // The model archive, as a static library rustc can name.
    std::fs::copy(&archive, dir.join(format!("libV{top}.a"))).unwrap();
    cc::Build::new()
        .cpp(true)
        .file(root.join(format!("csrc/{top}_shim.cpp")))
        .include(&dir)
        .include(VERILATOR_INCLUDE)
        .include(format!("{VERILATOR_INCLUDE}/vltstd"))
        .flag("-std=c++17")
        .flag("-fPIC")
        .warnings(false)
        .compile(&format!("{top}_shim"));
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=V{top}");
}
