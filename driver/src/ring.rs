//! Ring index arithmetic: pure functions over 16-bit free-running indices.
//!
//! Producer and consumer indices count up forever and wrap at 2^16; a slot is the
//! index modulo the ring size (a power of two between 2^[`RING_LOG2_MIN`] and
//! 2^[`RING_LOG2_MAX`]). Keeping the indices free-running (rather than modulo the
//! size) makes "full" and "empty" distinguishable without a spare slot:
//! `used = prod - cons` (wrapping) is 0 when empty and `size` when full. That
//! only works while `size <= 2^15`, which is why the register map caps the size.
//!
//! Completion rings carry a phase bit: on the first pass over the ring the device
//! writes phase 1, on the second pass 0, and so on, so the driver recognizes a new
//! entry by comparing the entry's phase with [`RingSize::phase`] of its consumer
//! index — no MMIO read needed.

use oxnic_regs::{RING_LOG2_MAX, RING_LOG2_MIN};

/// An invalid ring size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ring log2 size {0} is outside {min}..={max}", min = RING_LOG2_MIN, max = RING_LOG2_MAX)]
pub struct InvalidRingSize(pub u32);

/// A validated ring size, `2^log2` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RingSize {
    log2: u32,
}

impl RingSize {
    /// Validates `log2` against the register map's limits.
    pub const fn new(log2: u32) -> Result<Self, InvalidRingSize> {
        if log2 < RING_LOG2_MIN || log2 > RING_LOG2_MAX {
            Err(InvalidRingSize(log2))
        } else {
            Ok(Self { log2 })
        }
    }

    /// log2 of the number of entries.
    pub const fn log2(self) -> u32 {
        self.log2
    }

    /// Number of entries.
    pub const fn entries(self) -> u16 {
        1 << self.log2
    }

    /// Mask that turns an index into a slot.
    pub const fn mask(self) -> u16 {
        self.entries() - 1
    }

    /// The slot of a free-running index.
    pub const fn slot(self, index: u16) -> u16 {
        index & self.mask()
    }

    /// Entries produced but not consumed. Only meaningful while the invariant
    /// `used <= entries` holds (the producer never overtakes the consumer).
    pub const fn used(self, prod: u16, cons: u16) -> u16 {
        prod.wrapping_sub(cons)
    }

    /// Entries the producer may still add.
    pub const fn free(self, prod: u16, cons: u16) -> u16 {
        self.entries() - self.used(prod, cons)
    }

    /// True when nothing is outstanding.
    pub const fn is_empty(self, prod: u16, cons: u16) -> bool {
        prod == cons
    }

    /// True when every entry is outstanding.
    pub const fn is_full(self, prod: u16, cons: u16) -> bool {
        self.used(prod, cons) == self.entries()
    }

    /// The phase the device writes into the completion at `index`: 1 on the first
    /// pass (indices `0..entries`), flipping at every wrap of the ring.
    pub const fn phase(self, index: u16) -> u8 {
        1 ^ ((index >> self.log2) & 1) as u8
    }

    /// Advances an index by `n` entries (free-running, wraps at 2^16).
    pub const fn advance(self, index: u16, n: u16) -> u16 {
        index.wrapping_add(n)
    }
}

impl TryFrom<u32> for RingSize {
    type Error = InvalidRingSize;
    fn try_from(log2: u32) -> Result<Self, InvalidRingSize> {
        Self::new(log2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(
            RingSize::new(RING_LOG2_MIN - 1),
            Err(InvalidRingSize(RING_LOG2_MIN - 1))
        );
        assert_eq!(
            RingSize::new(RING_LOG2_MAX + 1),
            Err(InvalidRingSize(RING_LOG2_MAX + 1))
        );
        assert_eq!(RingSize::new(RING_LOG2_MIN).unwrap().entries(), 16);
        assert_eq!(RingSize::new(RING_LOG2_MAX).unwrap().entries(), 32768);
        assert!(RingSize::new(40).unwrap_err().to_string().contains("40"));
    }

    #[test]
    fn full_empty_across_the_u16_wrap() {
        let r = RingSize::new(4).unwrap();
        let cons = 0xfff8u16;
        let prod = cons.wrapping_add(16);
        assert_eq!(prod, 8);
        assert!(r.is_full(prod, cons));
        assert_eq!(r.free(prod, cons), 0);
        assert!(r.is_empty(prod, prod));
        assert_eq!(r.slot(cons), 8);
        // Largest ring: full means 32768 outstanding, still distinct from empty.
        let big = RingSize::new(15).unwrap();
        assert!(big.is_full(0x8000, 0));
        assert!(!big.is_empty(0x8000, 0));
    }

    #[test]
    fn phase_starts_at_one_and_flips() {
        let r = RingSize::new(4).unwrap();
        assert_eq!(r.phase(0), 1);
        assert_eq!(r.phase(15), 1);
        assert_eq!(r.phase(16), 0);
        assert_eq!(r.phase(32), 1);
        // 2^16 is a multiple of every size: the phase sequence continues across
        // the u16 wrap.
        assert_eq!(r.phase(u16::MAX), 0);
        assert_eq!(r.phase(u16::MAX.wrapping_add(1)), 1);
    }
}
