//! Renders the map for the other consumers: a Python module for the cocotb
//! testbenches and a Markdown register document. The `regs-export` binary writes
//! them; `tests/generated_fresh.rs` fails when the files on disk differ from what
//! these functions produce.

use crate::{Block, Reset, BLOCKS, CONSTANTS, ENUMS, FORMATS};
use std::fmt::Write;

/// Where the Python module lives, relative to the repository root.
pub const PYTHON_PATH: &str = "tb/oxnic_tb/regs.py";
/// Where the register document lives, relative to the repository root.
pub const MARKDOWN_PATH: &str = "docs/registers.md";

const HEADER: &str = "Generated from hw/regs (oxnic-regs) by `cargo run -p oxnic-regs --bin regs-export`. Do not edit.";

fn reset_py(r: Reset) -> String {
    match r {
        Reset::Value(v) => format!("0x{v:X}"),
        Reset::Param(p) => format!("{p:?}"),
    }
}

fn reset_md(r: Reset) -> String {
    match r {
        Reset::Value(v) => format!("0x{v:X}"),
        Reset::Param(p) => format!("*{p}*"),
    }
}

fn py_prefix(b: &Block) -> &'static str {
    match b.name {
        "global" => "GLOBAL",
        "msix" => "MSIX",
        // RX and TX queue blocks share one layout, exported once as QUEUE_*.
        _ => "QUEUE",
    }
}

/// The Python module for the testbenches.
pub fn render_python() -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {HEADER}");
    o.push_str(
        "\"\"\"oxnic register map and descriptor formats (generated).\"\"\"\n\n\
         from typing import NamedTuple, Union\n\n\n\
         class Field(NamedTuple):\n    name: str\n    lsb: int\n    width: int\n    access: str\n    \
         reset: Union[int, str]  # int, or the name of a generation parameter\n\n    \
         @property\n    def mask(self) -> int:\n        return ((1 << self.width) - 1) << self.lsb\n\n    \
         def get(self, reg: int) -> int:\n        return (reg & self.mask) >> self.lsb\n\n    \
         def set(self, reg: int, value: int) -> int:\n        \
         return (reg & ~self.mask) | ((value << self.lsb) & self.mask)\n\n\n\
         class Register(NamedTuple):\n    name: str\n    offset: int\n    count: int\n    fields: tuple\n\n\n\
         class Block(NamedTuple):\n    name: str\n    base: int\n    stride: int\n    max_instances: int\n    registers: tuple\n\n\n\
         class MemField(NamedTuple):\n    name: str\n    word_offset: int\n    word_bits: int\n    lsb: int\n    width: int\n\n\n\
         class Format(NamedTuple):\n    name: str\n    size: int\n    fields: tuple\n\n\n",
    );
    for (name, v) in CONSTANTS {
        let _ = writeln!(o, "{name} = 0x{v:X}");
    }
    o.push('\n');
    let mut seen_queue = false;
    for b in BLOCKS {
        let p = py_prefix(b);
        if p == "QUEUE" {
            if seen_queue {
                continue;
            }
            seen_queue = true;
        }
        let _ = writeln!(o, "# --- {} ---", b.name);
        for r in b.registers {
            let _ = writeln!(o, "{p}_{} = 0x{:X}", r.name, r.offset);
            for fl in r.fields {
                let _ = writeln!(
                    o,
                    "{p}_{}_{} = Field({:?}, {}, {}, {:?}, {})",
                    r.name,
                    fl.name,
                    fl.name,
                    fl.lsb,
                    fl.width,
                    fl.access.name(),
                    reset_py(fl.reset)
                );
            }
        }
        o.push('\n');
    }
    o.push_str("BLOCKS = (\n");
    for b in BLOCKS {
        let p = py_prefix(b);
        let _ = writeln!(
            o,
            "    Block({:?}, 0x{:X}, 0x{:X}, {}, (",
            b.name, b.base, b.stride, b.max_instances
        );
        for r in b.registers {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|fl| format!("{p}_{}_{}", r.name, fl.name))
                .collect();
            let _ = writeln!(
                o,
                "        Register({:?}, 0x{:X}, {}, ({},)),",
                r.name,
                r.offset,
                r.count,
                fields.join(", ")
            );
        }
        o.push_str("    )),\n");
    }
    o.push_str(")\n\n");
    for fm in FORMATS {
        let up = fm.name.to_uppercase();
        let _ = writeln!(o, "{up}_SIZE = {}", fm.size);
        for fl in fm.fields {
            let _ = writeln!(
                o,
                "{up}_{} = MemField({:?}, {}, {}, {}, {})",
                fl.name, fl.name, fl.word_offset, fl.word_bits, fl.lsb, fl.width
            );
        }
        let names: Vec<String> = fm
            .fields
            .iter()
            .map(|fl| format!("{up}_{}", fl.name))
            .collect();
        let _ = writeln!(
            o,
            "{up} = Format({:?}, {}, ({},))\n",
            fm.name,
            fm.size,
            names.join(", ")
        );
    }
    for e in ENUMS {
        for v in e.values {
            let _ = writeln!(o, "{}_{} = {}", e.name, v.name, v.value);
        }
        o.push('\n');
    }
    o.push_str(
        "\ndef rx_queue_reg(q: int, reg: int) -> int:\n    \"\"\"BAR0 offset of queue register `reg` of RX queue `q`.\"\"\"\n    \
         return RX_QUEUE_BASE + q * QUEUE_STRIDE + reg\n\n\n\
         def tx_queue_reg(q: int, reg: int) -> int:\n    \"\"\"BAR0 offset of queue register `reg` of TX queue `q`.\"\"\"\n    \
         return TX_QUEUE_BASE + q * QUEUE_STRIDE + reg\n\n\n\
         def reset_value(reg: Register, params: dict) -> int:\n    \
         \"\"\"Reset value of a register; generation parameters resolved from `params`.\"\"\"\n    \
         v = 0\n    for f in reg.fields:\n        r = params[f.reset] if isinstance(f.reset, str) else f.reset\n        \
         v = f.set(v, r)\n    return v\n",
    );
    o
}

/// The register document.
pub fn render_markdown() -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# oxnic registers\n\n<!-- {HEADER} -->\n");
    o.push_str(
        "BAR0 holds 32-bit little-endian registers. Access kinds: RW read/write, RO read-only \
         (writes ignored), WO write-only action (reads 0), W1C write 1 to clear, W1S write 1 to set. \
         Offsets not listed here ignore writes and read 0. *Italic* reset values are fixed at \
         generation time.\n\n## Constants\n\n| name | value |\n|---|---|\n",
    );
    for (name, v) in CONSTANTS {
        let _ = writeln!(o, "| `{name}` | 0x{v:X} ({v}) |");
    }
    for b in BLOCKS {
        let _ = writeln!(o, "\n## Block `{}`\n\n{}\n", b.name, b.doc);
        if b.stride != 0 {
            let _ = writeln!(
                o,
                "Instance `q` at BAR0 offset 0x{:X} + q × 0x{:X} (up to {} instances).\n",
                b.base, b.stride, b.max_instances
            );
        }
        o.push_str("| offset | register | count | description |\n|---|---|---|---|\n");
        for r in b.registers {
            let _ = writeln!(
                o,
                "| 0x{:05X} | [`{}`](#{}-{}) | {} | {} |",
                b.base + r.offset,
                r.name,
                b.name,
                r.name.to_lowercase().replace('_', "-"),
                r.count,
                r.doc
            );
        }
        for r in b.registers {
            let _ = writeln!(o, "\n### {} {}\n", b.name, r.name);
            let _ = writeln!(o, "Offset 0x{:05X}", b.base + r.offset);
            if r.count > 1 {
                let _ = writeln!(o, " (+4 × i, i < {})", r.count);
            }
            let _ = writeln!(o, ". {}\n", r.doc);
            o.push_str("| bits | field | access | reset | description |\n|---|---|---|---|---|\n");
            for fl in r.fields {
                let bits = if fl.width == 1 {
                    format!("{}", fl.lsb)
                } else {
                    format!("{}:{}", fl.lsb + fl.width - 1, fl.lsb)
                };
                let _ = writeln!(
                    o,
                    "| {bits} | `{}` | {} | {} | {} |",
                    fl.name,
                    fl.access.name(),
                    reset_md(fl.reset),
                    fl.doc
                );
            }
        }
    }
    o.push_str(
        "\n## In-memory formats\n\nLittle-endian words; a field sits in the word at its offset.\n",
    );
    for fm in FORMATS {
        let _ = writeln!(o, "\n### `{}` ({} bytes)\n\n{}\n", fm.name, fm.size, fm.doc);
        o.push_str("| byte offset | word | bits | field | description |\n|---|---|---|---|---|\n");
        for fl in fm.fields {
            let bits = if fl.width == 1 {
                format!("{}", fl.lsb)
            } else {
                format!("{}:{}", fl.lsb + fl.width - 1, fl.lsb)
            };
            let _ = writeln!(
                o,
                "| {} | u{} | {bits} | `{}` | {} |",
                fl.word_offset, fl.word_bits, fl.name, fl.doc
            );
        }
    }
    o.push_str("\n## Enumerations\n");
    for e in ENUMS {
        let _ = writeln!(
            o,
            "\n### `{}`\n\n| value | name | meaning |\n|---|---|---|",
            e.name
        );
        for v in e.values {
            let _ = writeln!(o, "| {} | `{}` | {} |", v.value, v.name, v.doc);
        }
    }
    o
}
