//! `msix` in rust-hdl's simulator against a reference model of the PCIe MSI-X
//! rules (../shared/notes/semantics.md): per-vector mask, function mask, MSI-X
//! enable, pending bits, delivery on unmask. Random sequences of table writes,
//! control writes, interrupt requests and reads, with random backpressure on the
//! message port, and the two resets: `rst` (everything back to the reset
//! state) and `rst_pending` (the device's soft reset: pending bits cleared, the
//! platform's table, mask bits and MSI-X control kept); every message (address,
//! data, order) and every read must match the model.
//!
//! Seed: `OXNIC_SEED=<n>` replays; the seed is printed.

use oxnic_hw::Msix;
use oxnic_regs::msix;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_hdl::prelude::*;

const VW: usize = 6;
const WW: usize = 1;
/// Fewer vectors than table slots, so that out-of-range entries are exercised.
const VECTORS: usize = 40;

/// The PCIe rules, written from the spec's wording.
struct Model {
    addr: Vec<u64>,
    data: Vec<u32>,
    masked: Vec<bool>,
    pending: Vec<bool>,
    enable: bool,
    function_mask: bool,
    sent: Vec<(u64, u32)>,
}

impl Model {
    fn new() -> Self {
        Model {
            addr: vec![0; VECTORS],
            data: vec![0; VECTORS],
            masked: vec![true; VECTORS], // vector control mask is set after reset
            pending: vec![false; VECTORS],
            enable: false,
            function_mask: false,
            sent: Vec::new(),
        }
    }
    fn function_allows(&self) -> bool {
        self.enable && !self.function_mask
    }
    fn send(&mut self, v: usize) {
        self.sent.push((self.addr[v], self.data[v]));
    }
    fn irq(&mut self, v: usize) {
        if self.function_allows() && !self.masked[v] {
            self.send(v);
        } else {
            self.pending[v] = true;
        }
    }
    fn write(&mut self, offset: u32, value: u32) {
        if offset == msix::CTRL_OFFSET {
            let before = self.function_allows();
            self.enable = value & 1 != 0;
            self.function_mask = value & 2 != 0;
            if !before && self.function_allows() {
                for v in 0..VECTORS {
                    if self.pending[v] && !self.masked[v] {
                        self.pending[v] = false;
                        self.send(v);
                    }
                }
            }
            return;
        }
        if !(msix::TABLE_OFFSET..msix::TABLE_OFFSET + VECTORS as u32 * 16).contains(&offset) {
            return; // PBA is read-only; other offsets name nothing
        }
        let v = ((offset - msix::TABLE_OFFSET) / 16) as usize;
        match (offset / 4) % 4 {
            0 => self.addr[v] = (self.addr[v] & !0xFFFF_FFFF) | value as u64,
            1 => self.addr[v] = (self.addr[v] & 0xFFFF_FFFF) | ((value as u64) << 32),
            2 => self.data[v] = value,
            _ => {
                self.masked[v] = value & 1 != 0;
                if !self.masked[v] && self.pending[v] && self.function_allows() {
                    self.pending[v] = false;
                    self.send(v);
                }
            }
        }
    }
    /// `rst`: the reset state; messages already sent stay sent.
    fn reset(&mut self) {
        let sent = std::mem::take(&mut self.sent);
        *self = Model::new();
        self.sent = sent;
    }
    /// `rst_pending` (CTRL.SOFT_RESET): the pending bits clear, nothing is sent,
    /// the table and the MSI-X control are the platform's and stay.
    fn soft_reset(&mut self) {
        self.pending.iter_mut().for_each(|p| *p = false);
    }
    fn read(&self, offset: u32) -> u32 {
        if offset == msix::CTRL_OFFSET {
            return self.enable as u32 | (self.function_mask as u32) << 1;
        }
        if (msix::PBA_OFFSET..msix::PBA_OFFSET + 4 * VECTORS.div_ceil(32) as u32).contains(&offset)
        {
            let w = ((offset - msix::PBA_OFFSET) / 4) as usize;
            return (0..32)
                .filter(|b| w * 32 + b < VECTORS && self.pending[w * 32 + b])
                .fold(0, |acc, b| acc | 1 << b);
        }
        if (msix::TABLE_OFFSET..msix::TABLE_OFFSET + VECTORS as u32 * 16).contains(&offset) {
            let v = ((offset - msix::TABLE_OFFSET) / 16) as usize;
            return match (offset / 4) % 4 {
                0 => self.addr[v] as u32,
                1 => (self.addr[v] >> 32) as u32,
                2 => self.data[v],
                _ => self.masked[v] as u32,
            };
        }
        0
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Write(u32, u32),
    Read(u32),
    Irq(usize),
    Reset,
    SoftReset,
}

fn random_op(rng: &mut StdRng) -> Op {
    let v = rng.gen_range(0..VECTORS) as u32;
    match rng.gen_range(0..100) {
        0..=29 => Op::Irq(v as usize),
        30..=49 => Op::Write(msix::entry(v) + msix::ENTRY_CTRL, rng.gen_range(0..2)),
        50..=57 => Op::Write(msix::entry(v) + 4 * rng.gen_range(0..3), rng.gen()),
        58..=67 => Op::Write(msix::CTRL_OFFSET, rng.gen_range(0..4)),
        68..=69 => Op::Write(msix::PBA_OFFSET, rng.gen()), // read-only: ignored
        70..=71 => Op::Write(msix::entry(VECTORS as u32 + 3) + 8, rng.gen()), // no such vector
        72..=79 => Op::Read(msix::PBA_OFFSET + 4 * rng.gen_range(0..2)),
        80..=89 => Op::Read(msix::entry(v) + 4 * rng.gen_range(0..4)),
        90..=93 => Op::Read(msix::CTRL_OFFSET),
        94..=95 => Op::Read(msix::entry(VECTORS as u32 + 1)),
        96 => Op::Reset,
        97 => Op::SoftReset,
        _ => Op::Read(msix::PBA_OFFSET + 12), // beyond the PBA
    }
}

fn seed() -> u64 {
    let s = std::env::var("OXNIC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("msix test seed: OXNIC_SEED={s}");
    s
}

struct Outcome {
    sent: Vec<(u64, u32)>,
    expected_sent: Vec<(u64, u32)>,
    read_mismatches: Vec<String>,
    reads: usize,
}

fn run(seed: u64, ops: usize, ready_prob: f64) -> Outcome {
    let mut uut = Msix::<VW, WW>::new(VECTORS as u32);
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Msix<VW, WW>>| x.clk.next = !x.clk.val());
    let result = std::sync::Arc::new(std::sync::Mutex::new(None));
    let out = result.clone();
    sim.add_testbench(move |mut sim: Sim<Msix<VW, WW>>| {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model = Model::new();
        let mut sent = Vec::new();
        let mut mismatches = Vec::new();
        let mut reads = 0;
        let mut x = sim.init()?;
        wait_clock_true!(sim, clk, x);
        // Every operation: offer it until taken, then run until the unit is idle
        // again (messages drained, re-delivery sweep done).
        for _ in 0..ops {
            let op = random_op(&mut rng);
            let mut taken = false;
            let mut read_data = None;
            let mut cycles = 0;
            loop {
                cycles += 1;
                sim_assert!(sim, cycles < 2000, x);
                x.s_wr_valid.next = false;
                x.s_rd_valid.next = false;
                x.s_irq_valid.next = false;
                x.rst.next = false;
                x.rst_pending.next = false;
                if !taken {
                    match op {
                        Op::Write(a, d) => {
                            x.s_wr_valid.next = true;
                            x.s_wr_addr.next = (a as u64).to_bits();
                            x.s_wr_data.next = (d as u64).to_bits();
                        }
                        Op::Read(a) => {
                            x.s_rd_valid.next = true;
                            x.s_rd_addr.next = (a as u64).to_bits();
                        }
                        Op::Irq(v) => {
                            x.s_irq_valid.next = true;
                            x.s_irq_vector.next = (v as u64).to_bits();
                        }
                        Op::Reset => x.rst.next = true,
                        Op::SoftReset => x.rst_pending.next = true,
                    }
                }
                x.m_msg_ready.next = rng.gen_bool(ready_prob);
                wait_clock_false!(sim, clk, x);
                if x.m_msg_valid.val() && x.m_msg_ready.val() {
                    sent.push((
                        x.m_msg_addr.val().to_u64(),
                        x.m_msg_data.val().to_u64() as u32,
                    ));
                }
                if x.m_rd_valid.val() {
                    read_data = Some(x.m_rd_data.val().to_u64() as u32);
                }
                let accepted = !taken
                    && match op {
                        Op::Write(..) => x.s_wr_ready.val(),
                        Op::Read(..) => x.s_rd_ready.val(),
                        Op::Irq(..) => x.s_irq_ready.val(),
                        Op::Reset | Op::SoftReset => true,
                    };
                let idle = x.idle.val() && !x.busy.val();
                wait_clock_true!(sim, clk, x);
                if accepted {
                    taken = true;
                    continue;
                }
                if taken && idle && (read_data.is_some() || !matches!(op, Op::Read(_))) {
                    break;
                }
            }
            match op {
                Op::Write(a, d) => model.write(a, d),
                Op::Irq(v) => model.irq(v),
                Op::Reset => model.reset(),
                Op::SoftReset => model.soft_reset(),
                Op::Read(a) => {
                    reads += 1;
                    let want = model.read(a);
                    if read_data != Some(want) {
                        mismatches
                            .push(format!("read 0x{a:X}: got {read_data:X?}, want 0x{want:X}"));
                    }
                }
            }
        }
        *out.lock().unwrap() = Some(Outcome {
            sent,
            expected_sent: model.sent,
            read_mismatches: mismatches,
            reads,
        });
        sim.done(x)
    });
    sim.run(Box::new(uut), 200_000_000).unwrap();
    let r = result.lock().unwrap().take().unwrap();
    r
}

fn check(o: &Outcome) {
    assert!(
        o.expected_sent.len() > 20,
        "too few messages to prove anything: {}",
        o.expected_sent.len()
    );
    assert!(o.reads > 20);
    assert!(o.read_mismatches.is_empty(), "{:#?}", o.read_mismatches);
    assert_eq!(
        o.sent.len(),
        o.expected_sent.len(),
        "message count differs (lost or duplicated)"
    );
    assert_eq!(o.sent, o.expected_sent, "message sequence differs");
}

#[test]
fn random_operations_follow_the_pcie_rules() {
    check(&run(seed(), 2500, 0.7));
}

#[test]
fn random_operations_heavy_message_backpressure() {
    check(&run(seed(), 1500, 0.15));
}
