//! Writes the generated views of the register map: the Python module for the
//! cocotb testbenches and the Markdown register document.
//!
//! Usage: `cargo run -p oxnic-regs --bin regs-export [-- --check] [REPO_ROOT]`.
//! With `--check` nothing is written; the exit code is 1 when a file is stale.

use oxnic_regs::export::{render_markdown, render_python, MARKDOWN_PATH, PYTHON_PATH};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: regs-export [--check] [REPO_ROOT]");
                return ExitCode::SUCCESS;
            }
            a if a.starts_with('-') => {
                eprintln!("regs-export: unknown option {a}");
                return ExitCode::from(2);
            }
            a => root = PathBuf::from(a),
        }
    }
    let mut stale = false;
    for (rel, text) in [
        (PYTHON_PATH, render_python()),
        (MARKDOWN_PATH, render_markdown()),
    ] {
        let path = root.join(rel);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            continue;
        }
        if check {
            eprintln!("stale: {rel}");
            stale = true;
            continue;
        }
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("regs-export: cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("regs-export: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {rel}");
    }
    if stale {
        eprintln!("run `cargo run -p oxnic-regs --bin regs-export` to regenerate");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
