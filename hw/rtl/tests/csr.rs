//! `csr` in rust-hdl's simulator, checked against the register map itself: every
//! global register's reset value and access kind comes from
//! `oxnic_regs::global::REGISTERS`, not from the RTL. Plus the defined reactions
//! (out-of-range writes set ERR_STATUS.CONFIG and are ignored, undefined offsets
//! read 0), error reporting and its interrupt, counters, soft reset, the RSS key
//! byte order and the RETA lookup port.

use oxnic_hw::Csr;
use oxnic_regs::{
    global, msix, Access, Reset, MAX_MTU, PARAM_CLOCK_MHZ, PARAM_QUEUES, PARAM_VECTORS,
};
use rust_hdl::prelude::*;
use std::sync::{Arc, Mutex};

const QW: usize = 3;
const QUEUES: u32 = 6;
const VECTORS: u32 = 7;
const CLOCK_MHZ: u32 = 156;

type Uut = Csr<QW>;
type Step = Result<Box<Uut>, SimError>;

fn params(p: &str) -> u32 {
    match p {
        PARAM_QUEUES => QUEUES,
        PARAM_VECTORS => VECTORS,
        PARAM_CLOCK_MHZ => CLOCK_MHZ,
        _ => panic!("{p}"),
    }
}

fn write(sim: &mut Sim<Uut>, mut x: Box<Uut>, addr: u32, data: u32) -> Step {
    x.s_reg_wr_en.next = true;
    x.s_reg_wr_addr.next = (addr as u64).to_bits();
    x.s_reg_wr_data.next = (data as u64).to_bits();
    loop {
        wait_clock_false!(sim, clk, x);
        let ack = x.s_reg_wr_ack.val();
        wait_clock_true!(sim, clk, x);
        if ack {
            break;
        }
    }
    x.s_reg_wr_en.next = false;
    wait_clock_cycle!(sim, clk, x);
    Ok(x)
}

fn read(sim: &mut Sim<Uut>, mut x: Box<Uut>, addr: u32, out: &mut u32) -> Step {
    x.s_reg_rd_en.next = true;
    x.s_reg_rd_addr.next = (addr as u64).to_bits();
    loop {
        wait_clock_false!(sim, clk, x);
        let ack = x.s_reg_rd_ack.val();
        *out = x.s_reg_rd_data.val().to_u64() as u32;
        wait_clock_true!(sim, clk, x);
        if ack {
            break;
        }
    }
    x.s_reg_rd_en.next = false;
    wait_clock_cycle!(sim, clk, x);
    Ok(x)
}

fn wait_ready(sim: &mut Sim<Uut>, mut x: Box<Uut>) -> Step {
    wait_clock_cycle!(sim, clk, x);
    x = sim.watch(|x| !x.busy.val(), x)?;
    wait_clock_cycle!(sim, clk, x);
    Ok(x)
}

/// Runs `body` as the testbench; returns what it collected.
fn run<T: Send + 'static + Default>(
    body: impl Fn(&mut Sim<Uut>, Box<Uut>, &mut T) -> Step
        + Send
        + Sync
        + std::panic::RefUnwindSafe
        + 'static,
) -> T {
    let mut uut = Csr::<QW>::new(QUEUES, VECTORS, CLOCK_MHZ);
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Uut>| x.clk.next = !x.clk.val());
    let result = Arc::new(Mutex::new(T::default()));
    let out = result.clone();
    sim.add_testbench(move |mut sim: Sim<Uut>| {
        let mut x = sim.init()?;
        x.quiescent.next = true;
        x = wait_ready(&mut sim, x)?;
        let mut r = T::default();
        x = body(&mut sim, x, &mut r)?;
        *out.lock().unwrap() = r;
        sim.done(x)
    });
    sim.run(Box::new(uut), 100_000_000).unwrap();
    let mut g = result.lock().unwrap();
    std::mem::take(&mut *g)
}

/// Every (offset, register) of the global block, arrays expanded.
fn global_registers() -> Vec<(u32, &'static oxnic_regs::Register)> {
    let mut v = Vec::new();
    for r in global::REGISTERS {
        for i in 0..r.count {
            v.push((global::BASE + r.offset + 4 * i, r));
        }
    }
    v
}

#[test]
fn reset_values_match_the_map() {
    let regs = global_registers();
    let addrs: Vec<u32> = regs.iter().map(|r| r.0).collect();
    let got: Vec<u32> = run(move |sim, mut x, out: &mut Vec<u32>| {
        for &a in &addrs {
            let mut v = 0;
            x = read(sim, x, a, &mut v)?;
            out.push(v);
        }
        Ok(x)
    });
    for ((addr, r), got) in regs.iter().zip(got) {
        let want = r.reset_value(params);
        // STATUS.QUIESCENT follows its input, which the bench drives high.
        let want = if r.name == "STATUS" {
            want | global::STATUS_QUIESCENT.mask()
        } else {
            want
        };
        assert_eq!(
            got, want,
            "{} @0x{addr:X}: reset 0x{got:X}, map says 0x{want:X}",
            r.name
        );
    }
}

/// A legal value for every RW field: random bits, kept in range where the
/// register range-checks.
fn legal_value(r: &oxnic_regs::Register, seed: u32) -> u32 {
    let raw = seed.wrapping_mul(0x9E37_79B9) ^ 0x5A5A_A5A5;
    let v = r
        .fields
        .iter()
        .filter(|f| f.access == Access::RW)
        .fold(0, |acc, f| acc | (raw & f.mask()));
    match r.name {
        "MTU" => v % (MAX_MTU + 1),
        "ERR_VECTOR" => v % VECTORS,
        "RSS_RETA" => v % QUEUES,
        _ => v,
    }
}

#[test]
fn access_kinds_match_the_map() {
    // RW fields read back what was written; RO fields ignore writes (all ones
    // written); W1C and W1S fields are written 0 here (no effect by definition)
    // and have tests of their own.
    let regs: Vec<(u32, &'static oxnic_regs::Register)> = global_registers()
        .into_iter()
        .filter(|(_, r)| {
            !r.fields
                .iter()
                .any(|f| matches!(f.access, Access::W1C | Access::W1S))
        })
        .collect();
    let plan: Vec<(u32, u32)> = regs
        .iter()
        .enumerate()
        .map(|(i, (a, r))| {
            let rw = r.rw_mask();
            (*a, legal_value(r, i as u32 + 1) | !rw)
        })
        .collect();
    let plan2 = plan.clone();
    let got: Vec<u32> = run(move |sim, mut x, out: &mut Vec<u32>| {
        for &(a, d) in &plan2 {
            x = write(sim, x, a, d)?;
        }
        for &(a, _) in &plan2 {
            let mut v = 0;
            x = read(sim, x, a, &mut v)?;
            out.push(v);
        }
        Ok(x)
    });
    for (((addr, r), (_, written)), got) in regs.iter().zip(plan).zip(got) {
        let rw = r.rw_mask();
        let reset = r.reset_value(params);
        let reset = if r.name == "STATUS" {
            reset | global::STATUS_QUIESCENT.mask()
        } else {
            reset
        };
        let want = (written & rw) | (reset & !rw);
        assert_eq!(
            got, want,
            "{} @0x{addr:X}: wrote 0x{written:X}, read 0x{got:X}, want 0x{want:X}",
            r.name
        );
    }
    assert!(global_registers()
        .iter()
        .any(|(_, r)| r.fields.iter().any(|f| f.access == Access::RW)));
    assert!(global::REGISTERS
        .iter()
        .all(|r| r.fields.iter().all(|f| f.reset != Reset::Param("?"))));
}

#[derive(Default)]
struct Observed {
    values: Vec<u32>,
    irqs: usize,
}

#[test]
fn out_of_range_writes_are_refused_with_config_error() {
    let o = run(|sim, mut x, o: &mut Observed| {
        let mut v = 0;
        for (addr, bad, good) in [
            (global::MTU, MAX_MTU + 1, 1500),
            (global::ERR_VECTOR, VECTORS, VECTORS - 1),
            (global::RSS_RETA + 4 * 5, QUEUES, QUEUES - 1),
        ] {
            x = write(sim, x, addr, good)?;
            x = write(sim, x, global::ERR_STATUS, 0xF)?; // clear
            x = write(sim, x, addr, bad)?;
            x = read(sim, x, addr, &mut v)?;
            o.values.push(v); // still `good`
            x = read(sim, x, global::ERR_STATUS, &mut v)?;
            o.values.push(v); // CONFIG set
        }
        // Undefined offsets inside the global block and beyond: ignored, read 0.
        for addr in [0x0F0, 0x300, 0x1_0000, 0x3_0000] {
            x = write(sim, x, addr, 0xFFFF_FFFF)?;
            x = read(sim, x, addr, &mut v)?;
            o.values.push(v);
        }
        Ok(x)
    });
    let cfg = global::ERR_STATUS_CONFIG.mask();
    assert_eq!(
        o.values[..6],
        [1500, cfg, VECTORS - 1, cfg, QUEUES - 1, cfg]
    );
    assert_eq!(o.values[6..], [0, 0, 0, 0]);
}

#[test]
fn errors_latch_info_and_interrupt_once_when_enabled() {
    let o = run(|sim, mut x, o: &mut Observed| {
        let mut v = 0;
        x = write(sim, x, global::ERR_VECTOR, 3)?;
        // Disabled: status latches, no interrupt.
        x.err_set.next = 2u64.to_bits(); // DMA_WRITE
        x.err_queue_info.next = ((1u64 << 16) | 5).to_bits();
        x.err_addr.next = 0x1234_5678_9ABC_DEF0u64.to_bits();
        wait_clock_cycle!(sim, clk, x);
        x.err_set.next = 0u64.to_bits();
        for _ in 0..5 {
            wait_clock_false!(sim, clk, x);
            o.irqs += x.m_err_irq_valid.val() as usize;
            wait_clock_true!(sim, clk, x);
        }
        for a in [
            global::ERR_STATUS,
            global::ERR_INFO,
            global::ERR_ADDR_LO,
            global::ERR_ADDR_HI,
        ] {
            x = read(sim, x, a, &mut v)?;
            o.values.push(v);
        }
        // Enabled: a new cause fires once (taken at once); repeating it while
        // latched does not fire again; clearing and repeating fires again.
        x = write(sim, x, global::ERR_IRQ_ENABLE, 0xF)?;
        x.m_err_irq_ready.next = true;
        for (strobe, clear) in [(1u64, false), (1, false), (1, true), (1, false)] {
            if clear {
                x = write(sim, x, global::ERR_STATUS, 1)?;
                continue;
            }
            x.err_set.next = strobe.to_bits();
            wait_clock_cycle!(sim, clk, x);
            x.err_set.next = 0u64.to_bits();
            for _ in 0..4 {
                wait_clock_false!(sim, clk, x);
                if x.m_err_irq_valid.val() {
                    o.irqs += 1;
                    o.values.push(x.m_err_irq_vector.val().to_u64() as u32);
                }
                wait_clock_true!(sim, clk, x);
            }
        }
        x = write(sim, x, global::ERR_STATUS, 0xF)?;
        x = read(sim, x, global::ERR_STATUS, &mut v)?;
        o.values.push(v);
        Ok(x)
    });
    assert_eq!(o.values[..4], [2, (1 << 16) | 5, 0x9ABC_DEF0, 0x1234_5678]);
    assert_eq!(
        o.irqs, 2,
        "one interrupt per 0→1 transition of an enabled cause"
    );
    assert_eq!(o.values[4..6], [3, 3], "on ERR_VECTOR");
    assert_eq!(o.values[6], 0, "W1C clears");
}

#[test]
fn counters_soft_reset_key_and_reta() {
    let o = run(|sim, mut x, o: &mut Observed| {
        let mut v = 0;
        // Counter i incremented i+1 times.
        for i in 0..9u64 {
            for _ in 0..=i {
                x.cnt_inc.next = (1u64 << i).to_bits();
                wait_clock_cycle!(sim, clk, x);
            }
        }
        x.cnt_inc.next = 0u64.to_bits();
        for i in 0..9 {
            x = read(sim, x, global::RX_FRAMES + 4 * i, &mut v)?;
            o.values.push(v);
        }
        // RSS key words and the 320-bit output: byte 0 of the key in bits 319:312.
        for i in 0..10u32 {
            x = write(
                sim,
                x,
                global::RSS_KEY + 4 * i,
                0x0102_0304u32.wrapping_mul(i + 1),
            )?;
        }
        let key = x.rss_key.val();
        o.values.push(key.get_bits::<32>(288).to_u64() as u32);
        o.values.push(key.get_bits::<32>(0).to_u64() as u32);
        // RETA through the lookup port.
        for e in 0..8u32 {
            x = write(sim, x, global::RSS_RETA + 4 * e, e % QUEUES)?;
        }
        for e in 0..8u64 {
            x.reta_index.next = e.to_bits();
            wait_clock_cycle!(sim, clk, x);
            wait_clock_false!(sim, clk, x);
            o.values.push(x.reta_queue.val().to_u64() as u32);
            wait_clock_true!(sim, clk, x);
        }
        // Soft reset: back to reset values (MTU, RETA, key, counters, enable).
        x = write(sim, x, global::CTRL, 1)?;
        x = write(sim, x, global::MTU, 1000)?;
        x = write(sim, x, global::CTRL, 2)?;
        x = wait_ready(sim, x)?;
        for a in [
            global::CTRL,
            global::MTU,
            global::RSS_RETA + 4,
            global::RSS_KEY,
            global::RX_FRAMES,
        ] {
            x = read(sim, x, a, &mut v)?;
            o.values.push(v);
        }
        Ok(x)
    });
    assert_eq!(o.values[..9], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(o.values[9], 0x0102_0304, "key word 0 at the top");
    assert_eq!(
        o.values[10],
        0x0102_0304u32.wrapping_mul(10),
        "key word 9 at the bottom"
    );
    assert_eq!(o.values[11..19], [0, 1, 2, 3, 4, 5, 0, 1]);
    assert_eq!(o.values[19..], [0, oxnic_regs::DEFAULT_MTU, 0, 0, 0]);
}

#[test]
fn windows_are_forwarded() {
    let o = run(|sim, mut x, o: &mut Observed| {
        let mut v = 0;
        // MSI-X: the bench plays msix, answering a read two cycles after it was taken.
        x.m_msix_wr_ready.next = true;
        x.m_msix_rd_ready.next = true;
        x = write(sim, x, msix::entry(1) + msix::ENTRY_DATA, 0xAB)?;
        o.values.push(x.m_msix_wr_valid.val() as u32);
        x.s_msix_rd_data.next = 0xC0FFEEu64.to_bits();
        x.s_reg_rd_en.next = true;
        x.s_reg_rd_addr.next = (msix::PBA_OFFSET as u64).to_bits();
        let mut offered = 0;
        for cycle in 0..8 {
            // Inputs change just after the rising edge, as msix's registered
            // m_rd_valid does; sample at the falling edge.
            x.s_msix_rd_valid.next = cycle == 3;
            wait_clock_false!(sim, clk, x);
            offered += x.m_msix_rd_valid.val() as u32;
            let ack = x.s_reg_rd_ack.val();
            if ack {
                v = x.s_reg_rd_data.val().to_u64() as u32;
            }
            wait_clock_true!(sim, clk, x);
            if ack {
                break;
            }
        }
        x.s_reg_rd_en.next = false;
        x.s_msix_rd_valid.next = false;
        o.values.push(offered);
        o.values.push(v);
        // Queue windows: relayed with the block's data.
        x.m_q_wr_ack.next = true;
        x.m_q_rd_ack.next = true;
        x.m_q_rd_data.next = 0x5151u64.to_bits();
        x = write(
            sim,
            x,
            oxnic_regs::rx_queue_reg(2, oxnic_regs::queue::CONFIG),
            5,
        )?;
        x = read(
            sim,
            x,
            oxnic_regs::tx_queue_reg(3, oxnic_regs::queue::STATUS),
            &mut v,
        )?;
        o.values.push(v);
        Ok(x)
    });
    assert_eq!(
        o.values,
        [0, 1, 0xC0FFEE, 0x5151],
        "one MSI-X read offered, its answer relayed"
    );
}
