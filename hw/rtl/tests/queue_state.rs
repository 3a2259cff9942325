//! `queue_state` (as `rx_queue`) in rust-hdl's simulator against a reference model
//! written separately from the register map's words: reset values and access
//! kinds from `oxnic_regs::queue::REGISTERS`, the enable/config-check rule, the
//! doorbell and interrupt commands, and the engine operations (descriptor take,
//! completion with phase and ring-full check, error state) under random
//! sequences with random backpressure.
//!
//! Seed: `OXNIC_SEED=<n>` replays a run; the seed is printed.

use oxnic_hw::queue_state::*;
use oxnic_regs::{queue, rx_queue_reg, Access, RING_LOG2_MAX, RING_LOG2_MIN, TX_QUEUE_BASE};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_hdl::prelude::*;
use std::sync::{Arc, Mutex};

const QW: usize = 3;
/// Fewer queues than `2^QW`, so that queue numbers 6 and 7 exist in the RAM
/// address space but not in the device.
const QUEUES: u32 = 6;
const VECTORS: u32 = 5;
/// An action never takes more cycles than this (a stuck handshake fails the test).
const MAX_CYCLES: usize = 64;

type Uut = QueueState<QW>;

/// What the bench asks of the block.
#[derive(Clone, Debug)]
enum Action {
    Write {
        addr: u32,
        data: u32,
    },
    Read {
        addr: u32,
    },
    Op {
        queue: u32,
        code: u64,
        len: u32,
    },
    /// A register write and an engine operation presented in the same cycle.
    Both {
        addr: u32,
        data: u32,
        queue: u32,
        code: u64,
        len: u32,
    },
}

/// What the block did, in the order the bench saw it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Read(u32),
    Rsp {
        status: u64,
        addr: u64,
        index: u32,
        phase: bool,
        vector: u32,
        moderation: u32,
    },
    Doorbell(u32),
    IrqCmd {
        queue: u32,
        op: u64,
    },
    ConfigError(u32),
}

/// Runs the actions one at a time (or in pairs), with random readiness on the
/// doorbell and interrupt-command outputs. The bench also plays `irq_latch`'s
/// read port: a state per queue, updated by the commands it takes.
fn run(actions: Vec<Action>, seed: u64) -> Vec<Seen> {
    let mut uut = QueueState::<QW>::new(oxnic_regs::RX_QUEUE_BASE, QUEUES, VECTORS);
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Uut>| x.clk.next = !x.clk.val());
    let result = Arc::new(Mutex::new(Vec::new()));
    let out = result.clone();
    sim.add_testbench(move |mut sim: Sim<Uut>| {
        let mut x = sim.init()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut seen = Vec::new();
        let mut irq_state = [0u64; 1 << QW];
        wait_clock_cycle!(sim, clk, x);
        x = sim.watch(|x| !x.busy.val(), x)?;
        wait_clock_cycle!(sim, clk, x);
        for action in actions.iter().cloned() {
            let (mut reg_pending, mut op_pending) = (false, false);
            match action {
                Action::Write { addr, data } => {
                    x.s_reg_wr_en.next = true;
                    x.s_reg_wr_addr.next = (addr as u64).to_bits();
                    x.s_reg_wr_data.next = (data as u64).to_bits();
                    reg_pending = true;
                }
                Action::Read { addr } => {
                    x.s_reg_rd_en.next = true;
                    x.s_reg_rd_addr.next = (addr as u64).to_bits();
                    reg_pending = true;
                }
                Action::Op { queue, code, len } => {
                    x.s_op_valid.next = true;
                    x.s_op_queue.next = (queue as u64).to_bits();
                    x.s_op_code.next = code.to_bits();
                    x.s_op_len.next = (len as u64).to_bits();
                    op_pending = true;
                }
                Action::Both {
                    addr,
                    data,
                    queue,
                    code,
                    len,
                } => {
                    x.s_reg_wr_en.next = true;
                    x.s_reg_wr_addr.next = (addr as u64).to_bits();
                    x.s_reg_wr_data.next = (data as u64).to_bits();
                    x.s_op_valid.next = true;
                    x.s_op_queue.next = (queue as u64).to_bits();
                    x.s_op_code.next = code.to_bits();
                    x.s_op_len.next = (len as u64).to_bits();
                    reg_pending = true;
                    op_pending = true;
                }
            }
            let mut rsp_due = false;
            let mut cycles = 0;
            while reg_pending || op_pending || rsp_due {
                cycles += 1;
                assert!(cycles < MAX_CYCLES, "stuck: action did not finish");
                x.m_db_ready.next = rng.gen_bool(0.6);
                x.m_irq_cmd_ready.next = rng.gen_bool(0.6);
                wait_clock_false!(sim, clk, x);
                // Sample this cycle's outputs; handshakes complete at the next edge.
                let wr_ack = x.s_reg_wr_ack.val();
                let rd_ack = x.s_reg_rd_ack.val();
                let op_taken = x.s_op_valid.val() & x.s_op_ready.val();
                let rd_queue = x.irq_rd_queue.val().to_u64() as usize;
                if x.m_rsp_valid.val() {
                    assert!(rsp_due, "a response nobody asked for");
                    rsp_due = false;
                    seen.push(Seen::Rsp {
                        status: x.m_rsp_status.val().to_u64(),
                        addr: x.m_rsp_addr.val().to_u64(),
                        index: x.m_rsp_index.val().to_u64() as u32,
                        phase: x.m_rsp_phase.val(),
                        vector: x.m_rsp_vector.val().to_u64() as u32,
                        moderation: x.m_rsp_moderation.val().to_u64() as u32,
                    });
                }
                if x.m_db_valid.val() & x.m_db_ready.val() {
                    seen.push(Seen::Doorbell(x.m_db_queue.val().to_u64() as u32));
                }
                if x.m_irq_cmd_valid.val() & x.m_irq_cmd_ready.val() {
                    let q = x.m_irq_cmd_queue.val().to_u64() as u32;
                    let op = x.m_irq_cmd_op.val().to_u64();
                    seen.push(Seen::IrqCmd { queue: q, op });
                    irq_state[q as usize] = irq_apply(irq_state[q as usize], op);
                }
                if x.m_err_config.val() {
                    seen.push(Seen::ConfigError(x.m_err_queue.val().to_u64() as u32));
                }
                if rd_ack {
                    seen.push(Seen::Read(x.s_reg_rd_data.val().to_u64() as u32));
                } else {
                    assert_eq!(x.s_reg_rd_data.val().to_u64(), 0, "read data without ack");
                }
                wait_clock_true!(sim, clk, x);
                x.irq_rd_state.next = irq_state[rd_queue].to_bits();
                if wr_ack || rd_ack {
                    assert!(reg_pending, "an acknowledgement nobody asked for");
                    reg_pending = false;
                    x.s_reg_wr_en.next = false;
                    x.s_reg_rd_en.next = false;
                }
                if op_taken {
                    assert!(op_pending);
                    op_pending = false;
                    rsp_due = true;
                    x.s_op_valid.next = false;
                }
            }
            // Idle gaps of random length between actions.
            for _ in 0..rng.gen_range(0..3) {
                wait_clock_cycle!(sim, clk, x);
            }
        }
        *out.lock().unwrap() = seen;
        sim.done(x)
    });
    sim.run(Box::new(uut), 200_000_000).unwrap();
    let mut g = result.lock().unwrap();
    std::mem::take(&mut *g)
}

/// `irq_latch`'s rule, as far as the commands this block sends matter for reads.
fn irq_apply(state: u64, op: u64) -> u64 {
    const ARMED: u64 = 1;
    const MASKED: u64 = 2;
    match op {
        OP_ARM_CMD => state | ARMED,
        OP_MASK_CMD => state | MASKED,
        OP_UNMASK_CMD => state & !MASKED,
        _ => panic!("unexpected irq_latch op {op}"),
    }
}
const OP_ARM_CMD: u64 = oxnic_hw::irq_latch::OP_ARM;
const OP_MASK_CMD: u64 = oxnic_hw::irq_latch::OP_MASK;
const OP_UNMASK_CMD: u64 = oxnic_hw::irq_latch::OP_UNMASK;

/// The reference: one queue's state, in plain fields.
#[derive(Clone, Default, Debug)]
struct QueueModel {
    desc_base: u64,
    cpl_base: u64,
    log2: u32,
    vector: u32,
    config_raw: u32,
    moderation: u32,
    ctrl_enable: bool,
    running: bool,
    error: bool,
    config_error: bool,
    desc_prod: u16,
    cpl_cons: u16,
    desc_cons: u16,
    cpl_prod: u16,
    packets: u32,
    bytes: u64,
    irq: u64,
}

struct Model {
    q: Vec<QueueModel>,
}

impl Model {
    fn new() -> Self {
        let reset = QueueModel {
            log2: RING_LOG2_MIN,
            config_raw: RING_LOG2_MIN,
            ..Default::default()
        };
        Model {
            q: vec![reset; 1 << QW],
        }
    }

    /// (queue, offset within the block), or None for a queue that does not exist.
    fn decode(addr: u32) -> Option<(usize, u32)> {
        let rel = addr - oxnic_regs::RX_QUEUE_BASE;
        let q = rel / oxnic_regs::QUEUE_STRIDE;
        (q < QUEUES).then_some((q as usize, rel % oxnic_regs::QUEUE_STRIDE))
    }

    fn read(&self, addr: u32) -> u32 {
        let Some((q, off)) = Self::decode(addr) else {
            return 0;
        };
        let m = &self.q[q];
        match off {
            queue::DESC_BASE_LO => m.desc_base as u32,
            queue::DESC_BASE_HI => (m.desc_base >> 32) as u32,
            queue::CPL_BASE_LO => m.cpl_base as u32,
            queue::CPL_BASE_HI => (m.cpl_base >> 32) as u32,
            queue::CONFIG => m.config_raw,
            queue::CTRL => m.ctrl_enable as u32,
            queue::STATUS => {
                (m.running as u32) | (m.error as u32) << 1 | (m.config_error as u32) << 2
            }
            queue::DB_DESC_PROD => m.desc_prod as u32,
            queue::DB_CPL_CONS => m.cpl_cons as u32,
            queue::IRQ_CTRL => m.irq as u32,
            queue::IRQ_MODERATION => m.moderation,
            queue::DESC_CONS => m.desc_cons as u32,
            queue::CPL_PROD => m.cpl_prod as u32,
            queue::STAT_PACKETS => m.packets,
            queue::STAT_BYTES_LO => m.bytes as u32,
            queue::STAT_BYTES_HI => (m.bytes >> 32) as u32,
            _ => 0,
        }
    }

    fn write(&mut self, addr: u32, data: u32, seen: &mut Vec<Seen>) {
        let Some((q, off)) = Self::decode(addr) else {
            return;
        };
        let m = &mut self.q[q];
        let mut irq = |m: &mut QueueModel, op: u64| {
            seen.push(Seen::IrqCmd {
                queue: q as u32,
                op,
            });
            m.irq = irq_apply(m.irq, op);
        };
        match off {
            queue::DESC_BASE_LO => m.desc_base = (m.desc_base & !0xFFFF_FFFF) | data as u64,
            queue::DESC_BASE_HI => m.desc_base = (m.desc_base & 0xFFFF_FFFF) | (data as u64) << 32,
            queue::CPL_BASE_LO => m.cpl_base = (m.cpl_base & !0xFFFF_FFFF) | data as u64,
            queue::CPL_BASE_HI => m.cpl_base = (m.cpl_base & 0xFFFF_FFFF) | (data as u64) << 32,
            queue::CONFIG => {
                m.log2 = data & 0x1F;
                m.vector = (data >> 16) & 0xFFF;
                m.config_raw = m.log2 | m.vector << 16;
            }
            queue::CTRL => {
                m.ctrl_enable = data & 1 == 1;
                if data & 1 == 0 {
                    m.running = false;
                } else if (RING_LOG2_MIN..=RING_LOG2_MAX).contains(&m.log2) && m.vector < VECTORS {
                    m.running = true;
                    m.error = false;
                    m.config_error = false;
                    (m.desc_prod, m.cpl_cons, m.desc_cons, m.cpl_prod) = (0, 0, 0, 0);
                } else {
                    m.running = false;
                    m.config_error = true;
                    seen.push(Seen::ConfigError(q as u32));
                }
            }
            queue::DB_DESC_PROD => {
                m.desc_prod = data as u16;
                seen.push(Seen::Doorbell(q as u32));
            }
            queue::DB_CPL_CONS => {
                m.cpl_cons = data as u16;
                if data >> 31 == 1 {
                    irq(m, OP_ARM_CMD);
                }
            }
            queue::IRQ_CTRL => {
                irq(
                    m,
                    if data & 2 != 0 {
                        OP_MASK_CMD
                    } else {
                        OP_UNMASK_CMD
                    },
                );
                if data & 1 == 1 {
                    irq(m, OP_ARM_CMD);
                }
            }
            queue::IRQ_MODERATION => m.moderation = data,
            _ => {} // read-only
        }
    }

    fn op(&mut self, q: u32, code: u64, len: u32, seen: &mut Vec<Seen>) {
        let m = &mut self.q[q as usize];
        let size = 1u32 << m.log2;
        let mut status = RSP_OK;
        let (mut addr, mut index, mut phase) = (0u64, 0u32, false);
        match code {
            OP_TAKE_DESC | OP_PEEK => {
                addr = (m.desc_base & !0xF) + 16 * (m.desc_cons as u64 % size as u64);
                index = m.desc_cons as u32;
                if !m.running {
                    status = RSP_DISABLED;
                } else if m.desc_cons == m.desc_prod {
                    status = RSP_EMPTY;
                } else if code == OP_TAKE_DESC {
                    m.desc_cons = m.desc_cons.wrapping_add(1);
                }
            }
            OP_COMPLETE => {
                addr = (m.cpl_base & !0xF) + 16 * (m.cpl_prod as u64 % size as u64);
                index = m.cpl_prod as u32;
                phase = (m.cpl_prod as u32 / size) % 2 == 0;
                if m.cpl_prod.wrapping_sub(m.cpl_cons) as u32 >= size {
                    status = RSP_FULL;
                } else {
                    m.cpl_prod = m.cpl_prod.wrapping_add(1);
                    m.packets = m.packets.wrapping_add(1);
                    m.bytes = m.bytes.wrapping_add(len as u64);
                }
            }
            OP_ERROR => {
                m.running = false;
                m.error = true;
            }
            _ => unreachable!(),
        }
        seen.push(Seen::Rsp {
            status,
            addr,
            index,
            phase,
            vector: m.vector,
            moderation: m.moderation,
        });
    }

    fn expect(actions: &[Action]) -> Vec<Seen> {
        let mut m = Model::new();
        let mut seen = Vec::new();
        for a in actions {
            match *a {
                Action::Write { addr, data } => m.write(addr, data, &mut seen),
                Action::Read { addr } => seen.push(Seen::Read(m.read(addr))),
                Action::Op { queue, code, len } => m.op(queue, code, len, &mut seen),
                Action::Both {
                    addr,
                    data,
                    queue,
                    code,
                    len,
                } => {
                    // Registers first.
                    m.write(addr, data, &mut seen);
                    m.op(queue, code, len, &mut seen);
                }
            }
        }
        seen
    }
}

fn seed(name: &str) -> u64 {
    let s = std::env::var("OXNIC_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("{name}: seed {s} (replay with OXNIC_SEED={s})");
    s
}

fn reg(q: u32, off: u32) -> u32 {
    rx_queue_reg(q, off)
}

/// Compares the block's trace with the model's, showing where they part.
fn check(actions: &[Action], got: &[Seen], seed: u64) {
    let want = Model::expect(actions);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "event {i} differs (seed {seed}); actions so far: {:?}",
            &actions[..actions.len().min(i + 1)]
        );
    }
    assert_eq!(got.len(), want.len(), "event count differs (seed {seed})");
}

#[test]
fn reset_values_and_access_kinds_match_the_map() {
    // Every register of every queue: reset value; then all-ones written and read
    // back: RW fields take it, RO/WO ones do not (access kinds from the map).
    let mut actions = Vec::new();
    for q in 0..QUEUES {
        for r in queue::REGISTERS {
            actions.push(Action::Read {
                addr: reg(q, r.offset),
            });
        }
    }
    let q = 2;
    for r in queue::REGISTERS {
        if r.offset == queue::CTRL || r.offset == queue::DB_DESC_PROD {
            continue; // actions with side effects: tested below
        }
        actions.push(Action::Write {
            addr: reg(q, r.offset),
            data: !0,
        });
        actions.push(Action::Read {
            addr: reg(q, r.offset),
        });
    }
    let got = run(actions.clone(), 1);
    let mut i = 0;
    for q in 0..QUEUES {
        for r in queue::REGISTERS {
            let want = r.reset_value(|p| match p {
                oxnic_regs::PARAM_QUEUES => QUEUES,
                oxnic_regs::PARAM_VECTORS => VECTORS,
                _ => 0,
            });
            assert_eq!(got[i], Seen::Read(want), "queue {q} {} reset", r.name);
            i += 1;
        }
    }
    for r in queue::REGISTERS {
        if r.offset == queue::CTRL || r.offset == queue::DB_DESC_PROD {
            continue;
        }
        // Side events (interrupt commands) come before the read.
        while !matches!(got[i], Seen::Read(_)) {
            i += 1;
        }
        let rw: u32 = r
            .fields
            .iter()
            .filter(|f| f.access == Access::RW)
            .map(|f| f.mask())
            .fold(0, |a, m| a | m);
        let Seen::Read(v) = got[i] else {
            unreachable!()
        };
        if r.offset == queue::IRQ_CTRL {
            // ARM (W1S) and MASK (RW) both took effect; PENDING is irq_latch's.
            assert_eq!(v, queue::IRQ_CTRL_ARM.mask() | queue::IRQ_CTRL_MASK.mask());
        } else {
            assert_eq!(v, rw, "{}: all-ones written, 0x{v:08X} read back", r.name);
        }
        i += 1;
    }
    check(&actions, &got, 1);
}

#[test]
fn enable_checks_config_and_restarts_indices() {
    let q = 1;
    let mut actions = vec![
        // Out-of-range ring size: refused.
        Action::Write {
            addr: reg(q, queue::CONFIG),
            data: 3,
        },
        Action::Write {
            addr: reg(q, queue::CTRL),
            data: 1,
        },
        Action::Read {
            addr: reg(q, queue::STATUS),
        },
        // Out-of-range vector: refused.
        Action::Write {
            addr: reg(q, queue::CONFIG),
            data: 5 | VECTORS << 16,
        },
        Action::Write {
            addr: reg(q, queue::CTRL),
            data: 1,
        },
        // Largest legal values: accepted, CONFIG_ERROR clears.
        Action::Write {
            addr: reg(q, queue::CONFIG),
            data: RING_LOG2_MAX | (VECTORS - 1) << 16,
        },
        Action::Write {
            addr: reg(q, queue::DB_DESC_PROD),
            data: 7,
        },
        Action::Write {
            addr: reg(q, queue::CTRL),
            data: 1,
        },
        Action::Read {
            addr: reg(q, queue::STATUS),
        },
        Action::Read {
            addr: reg(q, queue::DB_DESC_PROD),
        },
        // Ring size 16 + 1: refused.
        Action::Write {
            addr: reg(q, queue::CONFIG),
            data: RING_LOG2_MAX + 1,
        },
        Action::Write {
            addr: reg(q, queue::CTRL),
            data: 1,
        },
        Action::Read {
            addr: reg(q, queue::STATUS),
        },
        // Other queues untouched.
        Action::Read {
            addr: reg(0, queue::STATUS),
        },
        Action::Read {
            addr: reg(2, queue::STATUS),
        },
    ];
    // Queues that do not exist: acknowledged, ignored, read 0 — including ones
    // whose low address bits alias an existing queue's RAM entry.
    for q in [QUEUES, 7, 8 + 1, 1023] {
        actions.push(Action::Write {
            addr: reg(q, queue::CONFIG),
            data: 0xFFFF_FFFF,
        });
        actions.push(Action::Read {
            addr: reg(q, queue::CONFIG),
        });
    }
    actions.push(Action::Read {
        addr: reg(1, queue::CONFIG),
    });
    let got = run(actions.clone(), 2);
    assert!(got.contains(&Seen::Read(queue::STATUS_CONFIG_ERROR.mask())));
    assert!(got.contains(&Seen::Read(queue::STATUS_ENABLED.mask())));
    check(&actions, &got, 2);
}

#[test]
fn other_window_is_not_answered() {
    // The TX window belongs to the other instance: this one must not answer.
    let mut uut = QueueState::<QW>::new(oxnic_regs::RX_QUEUE_BASE, QUEUES, VECTORS);
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Uut>| x.clk.next = !x.clk.val());
    sim.add_testbench(move |mut sim: Sim<Uut>| {
        let mut x = sim.init()?;
        wait_clock_cycle!(sim, clk, x);
        x = sim.watch(|x| !x.busy.val(), x)?;
        x.s_reg_wr_en.next = true;
        x.s_reg_wr_addr.next = ((TX_QUEUE_BASE + queue::CONFIG) as u64).to_bits();
        x.s_reg_rd_en.next = true;
        x.s_reg_rd_addr.next = ((TX_QUEUE_BASE + queue::CONFIG) as u64).to_bits();
        for _ in 0..20 {
            wait_clock_false!(sim, clk, x);
            sim_assert!(sim, !x.s_reg_wr_ack.val() && !x.s_reg_rd_ack.val(), x);
            wait_clock_true!(sim, clk, x);
        }
        sim.done(x)
    });
    sim.run(Box::new(uut), 1_000_000).unwrap();
}

/// A small ring driven like a driver and an engine would, with random choices.
fn random_actions(rng: &mut StdRng, n: usize) -> Vec<Action> {
    let mut a = Vec::new();
    for q in 0..QUEUES {
        a.push(Action::Write {
            addr: reg(q, queue::DESC_BASE_LO),
            data: rng.gen(),
        });
        a.push(Action::Write {
            addr: reg(q, queue::DESC_BASE_HI),
            data: rng.gen(),
        });
        a.push(Action::Write {
            addr: reg(q, queue::CPL_BASE_LO),
            data: rng.gen(),
        });
        a.push(Action::Write {
            addr: reg(q, queue::CPL_BASE_HI),
            data: rng.gen(),
        });
        let vector = rng.gen_range(0..VECTORS);
        a.push(Action::Write {
            addr: reg(q, queue::CONFIG),
            data: 4 | vector << 16,
        });
        a.push(Action::Write {
            addr: reg(q, queue::CTRL),
            data: 1,
        });
    }
    // Queues 0 and 1 get most of the traffic, so indices wrap the 16-entry ring.
    let mut prod = [0u32; QUEUES as usize];
    let mut cons = [0u32; QUEUES as usize];
    for _ in 0..n {
        let q = if rng.gen_bool(0.7) {
            rng.gen_range(0..2)
        } else {
            rng.gen_range(0..QUEUES)
        };
        let qi = q as usize;
        let op = |rng: &mut StdRng| {
            let code = match rng.gen_range(0..10) {
                0..=3 => OP_TAKE_DESC,
                4..=7 => OP_COMPLETE,
                8 => OP_PEEK,
                _ => {
                    if rng.gen_bool(0.3) {
                        OP_ERROR
                    } else {
                        OP_PEEK
                    }
                }
            };
            (code, rng.gen_range(60..9000))
        };
        match rng.gen_range(0..14) {
            0..=2 => {
                prod[qi] = prod[qi].wrapping_add(rng.gen_range(0..6));
                a.push(Action::Write {
                    addr: reg(q, queue::DB_DESC_PROD),
                    data: prod[qi] & 0xFFFF,
                });
            }
            3 | 4 => {
                cons[qi] = cons[qi].wrapping_add(rng.gen_range(0..6));
                let rearm = if rng.gen_bool(0.5) { 1 << 31 } else { 0 };
                a.push(Action::Write {
                    addr: reg(q, queue::DB_CPL_CONS),
                    data: (cons[qi] & 0xFFFF) | rearm,
                });
            }
            5 => a.push(Action::Write {
                addr: reg(q, queue::IRQ_CTRL),
                data: rng.gen_range(0..4),
            }),
            6 => a.push(Action::Write {
                addr: reg(q, queue::IRQ_MODERATION),
                data: rng.gen(),
            }),
            7 => {
                // Re-enable (recovers from an error; restarts indices).
                a.push(Action::Write {
                    addr: reg(q, queue::CTRL),
                    data: rng.gen_range(0..2),
                });
                prod[qi] = 0;
                cons[qi] = 0;
            }
            8 | 9 => {
                let r = queue::REGISTERS[rng.gen_range(0..queue::REGISTERS.len())];
                a.push(Action::Read {
                    addr: reg(q, r.offset),
                });
            }
            10 => {
                let (code, len) = op(rng);
                let addr = reg(rng.gen_range(0..QUEUES), queue::DB_DESC_PROD);
                a.push(Action::Both {
                    addr,
                    data: rng.gen::<u32>() & 0xF,
                    queue: q,
                    code,
                    len,
                });
            }
            _ => {
                let (code, len) = op(rng);
                a.push(Action::Op {
                    queue: q,
                    code,
                    len,
                });
            }
        }
    }
    for q in 0..QUEUES {
        for r in queue::REGISTERS {
            a.push(Action::Read {
                addr: reg(q, r.offset),
            });
        }
    }
    a
}

#[test]
fn random_operations_match_the_model() {
    let s = seed("random_operations_match_the_model");
    let mut rng = StdRng::seed_from_u64(s);
    let actions = random_actions(&mut rng, 700);
    let got = run(actions.clone(), s);
    check(&actions, &got, s);
    // The run must have exercised the interesting answers.
    let statuses: Vec<u64> = got
        .iter()
        .filter_map(|e| match e {
            Seen::Rsp { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    for st in [RSP_OK, RSP_DISABLED, RSP_EMPTY, RSP_FULL] {
        assert!(statuses.contains(&st), "status {st} never seen (seed {s})");
    }
}

#[test]
fn completions_wrap_with_phase_and_count_bytes() {
    // One queue, 16 entries: 40 frames, the driver returning slots as it goes.
    let q = 3;
    let mut a = vec![
        Action::Write {
            addr: reg(q, queue::CPL_BASE_LO),
            data: 0x1000_0008,
        },
        Action::Write {
            addr: reg(q, queue::CPL_BASE_HI),
            data: 0x2,
        },
        Action::Write {
            addr: reg(q, queue::CONFIG),
            data: 4 | 2 << 16,
        },
        Action::Write {
            addr: reg(q, queue::CTRL),
            data: 1,
        },
    ];
    for i in 0..40u32 {
        a.push(Action::Op {
            queue: q,
            code: OP_COMPLETE,
            len: 100 + i,
        });
        if i % 8 == 7 {
            a.push(Action::Write {
                addr: reg(q, queue::DB_CPL_CONS),
                data: i + 1,
            });
        }
    }
    a.push(Action::Read {
        addr: reg(q, queue::STAT_PACKETS),
    });
    a.push(Action::Read {
        addr: reg(q, queue::STAT_BYTES_LO),
    });
    let got = run(a.clone(), 3);
    let rsps: Vec<(u64, u64, bool)> = got
        .iter()
        .filter_map(|e| match e {
            Seen::Rsp {
                status,
                addr,
                phase,
                ..
            } => Some((*status, *addr, *phase)),
            _ => None,
        })
        .collect();
    // Known values: slot i at base (low 4 bits ignored) + 16 * (i mod 16), phase 1
    // on the first pass, 0 on the second, 1 on the third.
    for (i, &(status, addr, phase)) in rsps.iter().enumerate() {
        assert_eq!(status, RSP_OK);
        assert_eq!(addr, 0x2_1000_0000 + 16 * (i as u64 % 16), "slot {i}");
        assert_eq!(phase, (i / 16) % 2 == 0, "phase of completion {i}");
    }
    let total: u32 = (0..40).map(|i| 100 + i).sum();
    assert_eq!(got[got.len() - 2..], [Seen::Read(40), Seen::Read(total)]);
    check(&a, &got, 3);

    // The ring boundary: with every slot returned (consumer 40), exactly 16 more
    // completions fit; the 17th is refused until the driver returns one slot.
    let complete = Action::Op {
        queue: q,
        code: OP_COMPLETE,
        len: 64,
    };
    let mut b = a.clone();
    b.extend(std::iter::repeat(complete.clone()).take(17));
    b.push(Action::Write {
        addr: reg(q, queue::DB_CPL_CONS),
        data: 41,
    });
    b.push(complete.clone());
    b.push(complete);
    let got_b = run(b.clone(), 3);
    let tail: Vec<u64> = got_b
        .iter()
        .filter_map(|e| match e {
            Seen::Rsp { status, .. } => Some(*status),
            _ => None,
        })
        .skip(40)
        .collect();
    let mut want = vec![RSP_OK; 16];
    want.extend([RSP_FULL, RSP_OK, RSP_FULL]);
    assert_eq!(tail, want, "completions around a full ring");
    check(&b, &got_b, 3);
}
