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

/// The simulated device clock (CLOCK_MHZ): moderation intervals are microseconds
/// of it, and the co-simulation converts cycles to device time with it.
const CLOCK_MHZ: u32 = 156;

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
    build_model(&out, &root, "rss_hash", "rss_hash", &rss, &waivers, &[]);

    // The whole core. Its queue count is a generation parameter: OXNIC_SIM_QUEUES
    // (default 8; ./scripts/cosim sets it from --queues). Each count is cached in
    // its own directory, so switching back and forth does not re-run Verilator.
    println!("cargo:rerun-if-env-changed=OXNIC_SIM_QUEUES");
    let queues: u32 = match std::env::var("OXNIC_SIM_QUEUES") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| {
            panic!("OXNIC_SIM_QUEUES={s:?}: expected a queue count (1..=1024)")
        }),
        Err(_) => 8,
    };
    let vectors = queues + 1;
    let top = oxnic_hw::gen::oxnic_top(queues, vectors, CLOCK_MHZ)
        .unwrap_or_else(|e| panic!("OXNIC_SIM_QUEUES={queues}: {e}"));
    // One model that can trace: with --trace-fst compiled in but no waveform open,
    // the model pays only a flag test per cycle.
    build_model(
        &out,
        &root,
        &format!("oxnic_top_q{queues}"),
        "oxnic_top",
        &top,
        &waivers,
        &["--trace-fst", "--trace-structs"],
    );
    println!("cargo:rustc-env=OXNIC_SIM_QUEUES={queues}");
    println!("cargo:rustc-env=OXNIC_SIM_VECTORS={vectors}");
    println!("cargo:rustc-env=OXNIC_SIM_CLOCK_MHZ={CLOCK_MHZ}");

    // Verilator's runtime (without --exe, `--build` makes only the model).
    cc::Build::new()
        .cpp(true)
        .file(format!("{VERILATOR_INCLUDE}/verilated.cpp"))
        .file(format!("{VERILATOR_INCLUDE}/verilated_threads.cpp"))
        .file(format!("{VERILATOR_INCLUDE}/verilated_fst_c.cpp"))
        .define("VM_TRACE", "1")
        .define("VM_TRACE_FST", "1")
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

/// Builds model `top` into `$OUT_DIR/<dir_name>/` and links it with its shim
/// (`csrc/<top>_shim.cpp`); `extra` are further Verilator flags.
fn build_model(
    out: &Path,
    root: &Path,
    dir_name: &str,
    top: &str,
    verilog: &str,
    waivers: &[String],
    extra: &[&str],
) {
    let dir = out.join(dir_name);
    std::fs::create_dir_all(&dir).unwrap();
    let vfile = dir.join(format!("{top}.v"));
    let archive = dir.join(format!("V{top}__ALL.a"));
    // The cache key: the Verilog text and every Verilator flag.
    let stamp = dir.join("verilator-flags.txt");
    let flags = format!("{waivers:?} {extra:?}");
    let unchanged = std::fs::read_to_string(&vfile).is_ok_and(|old| old == verilog)
        && std::fs::read_to_string(&stamp).is_ok_and(|old| old == flags)
        && archive.exists();
    if !unchanged {
        std::fs::write(&vfile, verilog).unwrap();
        std::fs::write(&stamp, &flags).unwrap();
        let t = std::time::Instant::now();
        let status = Command::new("verilator")
            .args(["--cc", "--build", "-O3", "-j", "2", "--top-module", top])
            .arg("-Mdir")
            .arg(&dir)
            // Rust links position-independent executables.
            .args(["-CFLAGS", "-fPIC"])
            .args(["-MAKEFLAGS", "OPT_FAST=-O2"])
            .args(waivers)
            .args(extra)
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
        .define("VM_TRACE", "1")
        .define("VM_TRACE_FST", "1")
        .warnings(false)
        .compile(&format!("{top}_shim"));
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=V{top}");
}
