//! The generated files must match the map: editing them by hand, or changing the
//! map without re-running `regs-export`, fails here.

use oxnic_regs::export::{render_markdown, render_python, MARKDOWN_PATH, PYTHON_PATH};
use std::path::Path;

fn check(rel: &str, expected: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    let actual = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} missing ({e}); run `cargo run -p oxnic-regs --bin regs-export`",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "{rel} is stale: run `cargo run -p oxnic-regs --bin regs-export` and commit the result"
    );
}

#[test]
fn python_module_is_fresh() {
    check(PYTHON_PATH, &render_python());
}

#[test]
fn register_document_is_fresh() {
    check(MARKDOWN_PATH, &render_markdown());
}
