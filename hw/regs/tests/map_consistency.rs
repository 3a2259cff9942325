//! Structural rules of the map, checked independently of how it is used: no two
//! registers overlap, fields fit and do not overlap, blocks stay inside BAR0 and
//! apart from each other, and the MSI-X table and PBA sit in pages of their own.

use oxnic_regs::*;

fn ranges() -> Vec<(u32, u32, String)> {
    let mut v = Vec::new();
    for b in BLOCKS {
        for r in b.registers {
            let start = b.base + r.offset;
            v.push((start, start + 4 * r.count, format!("{}.{}", b.name, r.name)));
        }
    }
    v
}

#[test]
fn registers_are_aligned_and_do_not_overlap() {
    let mut v = ranges();
    v.sort();
    for (s, _, n) in &v {
        assert_eq!(s % 4, 0, "{n} not 32-bit aligned");
    }
    for w in v.windows(2) {
        assert!(w[0].1 <= w[1].0, "{} overlaps {}", w[0].2, w[1].2);
    }
    assert!(v.last().unwrap().1 <= BAR0_SIZE);
}

#[test]
fn fields_fit_and_do_not_overlap() {
    for b in BLOCKS {
        for r in b.registers {
            let mut used = 0u32;
            for f in r.fields {
                assert!(
                    f.width >= 1 && f.lsb + f.width <= 32,
                    "{}.{} out of range",
                    r.name,
                    f.name
                );
                assert_eq!(
                    used & f.mask(),
                    0,
                    "{}.{} overlaps another field",
                    r.name,
                    f.name
                );
                used |= f.mask();
                if let Reset::Value(v) = f.reset {
                    assert!(
                        f.width == 32 || v < (1 << f.width),
                        "{}.{} reset too wide",
                        r.name,
                        f.name
                    );
                }
            }
            let names: std::collections::HashSet<_> = r.fields.iter().map(|f| f.name).collect();
            assert_eq!(
                names.len(),
                r.fields.len(),
                "{} has duplicate field names",
                r.name
            );
        }
    }
}

#[test]
fn queue_blocks_fit_their_windows() {
    let last = queue::REGISTERS
        .iter()
        .map(|r| r.offset + 4 * r.count)
        .max()
        .unwrap();
    // The window layout itself is checked at compile time (map.rs, LAYOUT_OK).
    assert!(last <= QUEUE_STRIDE);
}

#[test]
fn msix_table_and_pba_have_pages_of_their_own() {
    // vfio-pci protects the table's pages: nothing the driver writes may share them.
    // Alignment and sizes of the MSI-X pages are compile-time asserts (map.rs).
    for (s, e, n) in ranges() {
        if !n.starts_with("msix.") {
            let page_s = s / 4096;
            let page_e = (e - 1) / 4096;
            for p in [msix::TABLE_OFFSET, msix::PBA_OFFSET, msix::CTRL_OFFSET] {
                assert!(
                    page_e < p / 4096 || page_s > p.div_ceil(4096),
                    "{n} shares an MSI-X page"
                );
            }
        }
    }
}

#[test]
fn formats_fit_and_phase_is_last() {
    for fm in FORMATS {
        let mut used = vec![0u8; fm.size as usize * 8];
        for f in fm.fields {
            assert!(f.word_bits == 32 || f.word_bits == 64);
            assert!(f.lsb + f.width <= f.word_bits);
            let base = f.word_offset * 8 + f.lsb;
            assert!(
                base + f.width <= fm.size * 8,
                "{}.{} beyond the end",
                fm.name,
                f.name
            );
            for b in base..base + f.width {
                assert_eq!(used[b as usize], 0, "{}.{} overlaps", fm.name, f.name);
                used[b as usize] = 1;
            }
        }
    }
    // The phase bit is in the last byte so that a device writing the completion in
    // address order publishes it last.
    assert_eq!(cpl::PHASE.byte_offset(), cpl::SIZE - 1);
}

#[test]
fn field_accessors_round_trip() {
    let f = queue::CONFIG_VECTOR;
    let r = f.set(0xFFFF_FFFF, 5);
    assert_eq!(f.get(r), 5);
    assert_eq!(r | f.mask(), u32::MAX, "bits outside the field were kept");
    assert_eq!(cpl::PHASE.set(0, 1), 1 << 31);
    assert_eq!(cpl::QUEUE.get(0xABCD_0000), 0xABCD);
}

#[test]
fn reset_values_resolve_parameters() {
    let r = global::REGISTERS.iter().find(|r| r.name == "CAPS").unwrap();
    let v = r.reset_value(|p| if p == PARAM_QUEUES { 8 } else { 9 });
    assert_eq!(v, 8 | (9 << 16));
    let id = global::REGISTERS.iter().find(|r| r.name == "ID").unwrap();
    assert_eq!(id.reset_value(|_| 0), ID_MAGIC);
    assert_eq!(u32::from_be_bytes(*b"OXNC"), ID_MAGIC);
}
