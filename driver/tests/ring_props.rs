//! Property tests of the ring index arithmetic.
#![cfg(not(loom))]

use oxnic_driver::RingSize;
use oxnic_regs::{RING_LOG2_MAX, RING_LOG2_MIN};
use proptest::prelude::*;

fn size() -> impl Strategy<Value = RingSize> {
    (RING_LOG2_MIN..=RING_LOG2_MAX).prop_map(|l| RingSize::new(l).unwrap())
}

proptest! {
    #[test]
    fn invalid_sizes_are_rejected(log2 in any::<u32>()) {
        let ok = (RING_LOG2_MIN..=RING_LOG2_MAX).contains(&log2);
        prop_assert_eq!(RingSize::new(log2).is_ok(), ok);
    }

    /// Slots and used counts do not care where the u16 wrap falls.
    #[test]
    fn wrap_around(r in size(), base in any::<u16>(), k in 0u16..=0x8000) {
        let k = k.min(r.entries());
        let prod = r.advance(base, k);
        prop_assert_eq!(r.used(prod, base), k);
        prop_assert_eq!(r.free(prod, base), r.entries() - k);
        prop_assert_eq!(r.slot(prod), ((base as u32 + k as u32) % r.entries() as u32) as u16);
        prop_assert_eq!(r.is_full(prod, base), k == r.entries());
        prop_assert_eq!(r.is_empty(prod, base), k == 0);
    }

    /// The phase flips exactly when the slot wraps to 0, and nowhere else.
    #[test]
    fn phase_flips_exactly_at_wraps(r in size(), i in any::<u16>()) {
        let next = i.wrapping_add(1);
        let flips = r.phase(i) != r.phase(next);
        prop_assert_eq!(flips, r.slot(next) == 0);
        // First pass has phase 1.
        prop_assert_eq!(r.phase(r.slot(i)), 1);
    }

    /// Random produce/consume sequences keep used ≤ size; full and empty are
    /// never both true; the phase seen at the consumer matches the pass number.
    #[test]
    fn used_bounded_under_random_ops(
        r in size(),
        start in any::<u16>(),
        ops in proptest::collection::vec((any::<bool>(), 0u16..=0x8000), 1..200),
    ) {
        let (mut prod, mut cons) = (start, start);
        let mut model_used: u32 = 0;
        for (produce, n) in ops {
            if produce {
                let n = n.min(r.free(prod, cons));
                prod = r.advance(prod, n);
                model_used += n as u32;
            } else {
                let n = n.min(r.used(prod, cons));
                cons = r.advance(cons, n);
                model_used -= n as u32;
            }
            let used = r.used(prod, cons);
            prop_assert_eq!(used as u32, model_used);
            prop_assert!(used <= r.entries());
            prop_assert!(!(r.is_full(prod, cons) && r.is_empty(prod, cons)));
            prop_assert_eq!(r.free(prod, cons) + used, r.entries());
        }
    }
}
