//! The oxnic register map and descriptor formats — the one source of truth.
//!
//! Everything that needs an offset, a bit position or a reset value takes it from
//! here: the RTL (`oxnic-hw`) for its address decoder, the driver (`oxnic-driver`)
//! for its register accesses and ring formats, the co-simulation, and — through the
//! exporter `regs-export` — the cocotb testbenches (`tb/oxnic_tb/regs.py`) and the
//! register document (`docs/registers.md`). Generated files are checked for
//! staleness by this crate's tests, so nobody edits them by hand.
//!
//! The crate has no dependencies on purpose: the driver runs on a board and must
//! not pull in anything hardware-generation related.
//!
//! Layout of BAR0 (32-bit little-endian registers):
//!
//! | range | what |
//! |---|---|
//! | `0x00000..0x00400` | global registers ([`global`]) |
//! | `0x00400..0x00600` | RSS indirection table ([`global::RSS_RETA`]) |
//! | `0x20000..0x28000` | MSI-X table ([`msix`]), owned by the platform (vfio-pci) |
//! | `0x28000..0x29000` | MSI-X PBA |
//! | `0x29000..0x2A000` | MSI-X control (the capability's Message Control, platform-owned) |
//! | `0x40000..0x50000` | RX queue blocks, [`QUEUE_STRIDE`] bytes each ([`queue`]) |
//! | `0x50000..0x60000` | TX queue blocks, same layout |
#![warn(missing_docs)]

pub mod export;
mod map;

pub use map::*;

/// How software may access a register field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read/write: reads return the last value written (or the reset value).
    RW,
    /// Read-only: writes are ignored.
    RO,
    /// Write-only action: reads return 0.
    WO,
    /// Write 1 to clear: reads return the latched state.
    W1C,
    /// Write 1 to set (an action such as arming); writing 0 has no effect; reads
    /// return the current state.
    W1S,
}

impl Access {
    /// The short name used in documents and the Python export.
    pub const fn name(self) -> &'static str {
        match self {
            Access::RW => "RW",
            Access::RO => "RO",
            Access::WO => "WO",
            Access::W1C => "W1C",
            Access::W1S => "W1S",
        }
    }
}

/// The reset value of a register field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// A fixed value.
    Value(u32),
    /// A value set at generation time (queue count, clock rate, ...), named here.
    Param(&'static str),
}

/// A field of a register: a contiguous range of bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Field name (upper case, unique within its register).
    pub name: &'static str,
    /// Least significant bit.
    pub lsb: u32,
    /// Width in bits.
    pub width: u32,
    /// Access kind of this field.
    pub access: Access,
    /// Value after reset.
    pub reset: Reset,
    /// What the field means.
    pub doc: &'static str,
}

impl Field {
    /// The mask of this field, in register position.
    pub const fn mask(&self) -> u32 {
        mask(self.lsb, self.width)
    }
    /// Extracts this field from a register value.
    pub const fn get(&self, reg: u32) -> u32 {
        (reg & self.mask()) >> self.lsb
    }
    /// Places `v` into this field of `reg` (bits of `v` beyond the width are dropped).
    pub const fn set(&self, reg: u32, v: u32) -> u32 {
        (reg & !self.mask()) | ((v << self.lsb) & self.mask())
    }
}

/// The mask of `width` bits starting at `lsb`.
pub const fn mask(lsb: u32, width: u32) -> u32 {
    if width >= 32 {
        u32::MAX << lsb
    } else {
        ((1u32 << width) - 1) << lsb
    }
}

/// A 32-bit register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    /// Register name (upper case, unique within its block).
    pub name: &'static str,
    /// Byte offset within its block.
    pub offset: u32,
    /// Number of consecutive copies (register arrays such as the RSS key); 1 for a
    /// plain register. Copy `i` lives at `offset + 4 * i`.
    pub count: u32,
    /// The fields; bits not covered by a field are reserved (read 0, writes ignored).
    pub fields: &'static [Field],
    /// What the register is for.
    pub doc: &'static str,
}

impl Register {
    /// The reset value of the whole register, with generation parameters resolved
    /// by `param`.
    pub fn reset_value(&self, param: impl Fn(&str) -> u32) -> u32 {
        self.fields.iter().fold(0, |acc, f| {
            let v = match f.reset {
                Reset::Value(v) => v,
                Reset::Param(p) => param(p),
            };
            f.set(acc, v)
        })
    }
    /// Mask of the bits that read back what was written (RW fields).
    pub fn rw_mask(&self) -> u32 {
        self.fields
            .iter()
            .filter(|f| f.access == Access::RW)
            .fold(0, |acc, f| acc | f.mask())
    }
    /// Looks a field up by name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A block of registers: the global block, or the per-queue block repeated at a
/// stride.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Block name.
    pub name: &'static str,
    /// Byte offset of the first instance in BAR0.
    pub base: u32,
    /// Distance between instances (0 for a single instance).
    pub stride: u32,
    /// Maximum number of instances the address space has room for.
    pub max_instances: u32,
    /// The registers, offsets relative to the instance base.
    pub registers: &'static [Register],
    /// What the block is.
    pub doc: &'static str,
}

/// A field of an in-memory structure (descriptor, completion, MSI-X entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemField {
    /// Field name.
    pub name: &'static str,
    /// Byte offset of the little-endian 32- or 64-bit word holding the field.
    pub word_offset: u32,
    /// Width of that word in bits (32 or 64).
    pub word_bits: u32,
    /// Least significant bit within the word.
    pub lsb: u32,
    /// Width in bits.
    pub width: u32,
    /// Meaning.
    pub doc: &'static str,
}

impl MemField {
    /// Byte offset of the first byte that holds this field.
    pub const fn byte_offset(&self) -> u32 {
        self.word_offset + self.lsb / 8
    }
    /// Extracts the field from its word.
    pub const fn get(&self, word: u64) -> u64 {
        (word >> self.lsb) & mask64(self.width)
    }
    /// Places `v` in the field of `word`.
    pub const fn set(&self, word: u64, v: u64) -> u64 {
        let m = mask64(self.width) << self.lsb;
        (word & !m) | ((v << self.lsb) & m)
    }
}

const fn mask64(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// A fixed-size structure in host memory (or in the MSI-X table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// Name.
    pub name: &'static str,
    /// Size in bytes.
    pub size: u32,
    /// Fields.
    pub fields: &'static [MemField],
    /// What it is and who writes it.
    pub doc: &'static str,
}

/// An enumeration value carried in a field (status codes, RSS types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// Name.
    pub name: &'static str,
    /// Value.
    pub value: u32,
    /// Meaning.
    pub doc: &'static str,
}

/// A named enumeration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enum {
    /// Name.
    pub name: &'static str,
    /// Values.
    pub values: &'static [EnumValue],
}
