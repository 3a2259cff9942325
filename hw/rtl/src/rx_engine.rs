//! `rx_engine` — the receive DMA engine: frame FIFO → RETA → queue → descriptor →
//! DMA write → completion → event.
//!
//! # What it does
//!
//! Frames arrive from `rx_parse` as beats (`s_axis_*`) followed, after their
//! `tlast`, by one metadata record each (`s_meta_*`, in frame order). The beats go
//! into a store-and-forward frame FIFO ([`FRAME_FIFO_LOG2`]: 2048 beats × 73 bits
//! = data, keep, last, in one RAM, which yosys `synth_xilinx` maps to 9 RAMB18E1
//! and no LUTs) because the record that says where the frame goes only comes after
//! the frame. Per frame:
//!
//! 1. **Classify** (stage K): `RX_FRAMES` counts every record taken. Status ≠ OK →
//!    drop counted as RUNT / OVERSIZE / MAC_ERROR; `enable` = 0 → drop
//!    QUEUE_DISABLED. Otherwise the queue is `RETA[hash[6:0]]`: the tuple is hashed
//!    by the internal `rss_hash` (`rss_key`), or, for RSS type NONE, entry 0 with
//!    hash 0. `reta_index` is driven the cycle before `reta_queue` is sampled.
//! 2. **Descriptor** (stages E and F): E does `OP_TAKE_DESC` on the queue.
//!    RSP_DISABLED → drop QUEUE_DISABLED; RSP_EMPTY → drop NO_DESC. RSP_OK → E
//!    issues the read of the 16-byte descriptor (one 2-beat INCR burst, `arsize`
//!    3, ID 0) and puts the frame into `rdq` (16 entries), then goes on with the
//!    next frame: up to sixteen descriptor reads are in flight (enough to hide a
//!    PCIe-like read latency of ~150 cycles at one frame per 10), and their R beats
//!    come back in issue order (one ID). F takes the head of `rdq`, its R beats,
//!    and checks the descriptor. RRESP ≠ OKAY →
//!    `OP_ERROR` on the queue, `err_set` DMA_READ with the descriptor's address,
//!    drop DMA_ERROR. Descriptor checks: LEN = 0 or ADDR[2:0] ≠ 0 → completion
//!    with status DESC_ERROR and LEN 0, `err_set` DESC (address = the descriptor's)
//!    and no drop counter (the frame is counted in RX_FRAMES and the error in
//!    ERR_STATUS.DESC; an invalid descriptor is a driver bug, not a traffic drop);
//!    0 < LEN < frame length → completion DESC_ERROR, LEN 0, counted
//!    RX_DROP_OVERSIZE (the buffer was too small for this frame; no ERR_STATUS bit,
//!    the descriptor itself is valid).
//! 3. **Data** (stage C): drop counters pulse when a frame reaches this stage (it is
//!    the only stage that counts drops, so two reasons never collide in one cycle).
//!    A dropped frame's beats are discarded one per cycle, so a drop never holds
//!    the stream. A frame to write goes to the buffer in INCR bursts (`awsize` 3,
//!    ≤ 256 beats, never crossing 4 KiB; the buffer is 8-byte aligned, so beats are
//!    not shifted, and the last beat's `wstrb` is its `tkeep`).
//! 4. **Completion** (stages D and G): D waits for the frame's data write responses (in
//!    order: one AXI ID). Any B ≠ OKAY (reported with `err_set` DMA_WRITE and that
//!    burst's address as it arrives) → `OP_ERROR`, RX_DROP_DMA_ERROR, no
//!    completion, no event. Otherwise `OP_COMPLETE` with the frame length (0 for
//!    DESC_ERROR) gives the slot address and phase; RSP_FULL is retried until a
//!    slot frees (the completion ring is only full when the driver posted more
//!    descriptors than it returned completion slots: the receive path then waits,
//!    and `s_axis_tready` eventually falls). D then hands the completion to G and
//!    takes the next frame's slot while G writes. The 16-byte completion is one 2-beat
//!    burst: beat 0 = LEN, STATUS, RSS_TYPE, RSS_HASH; beat 1 = DESC_INDEX, QUEUE,
//!    PHASE — the phase dword the driver polls is in the last beat, and a burst
//!    lands in order. Its B OKAY raises `m_event_*` (queue, the vector and
//!    moderation returned by OP_COMPLETE), so events are in completion order and
//!    never overtake their data (see DESIGN.md, the ordering argument). A
//!    completion write error → `err_set` DMA_WRITE, `OP_ERROR`, no event (no drop
//!    counter: the data is in memory and the queue's own counters counted it).
//!
//! # Pipeline and overlap
//!
//! The stages K, E, F, C, D, G each hold one frame in their own registers; a
//! stage hands its frame on when the next one is free, except E → F through
//! `rdq` (16 frames whose descriptor reads are in flight) and C → D through `cdq`
//! (2 frames whose data is issued). So while C streams frame N's beats, F checks
//! frame N+1's descriptor, up to sixteen later frames wait for theirs, E takes the
//! next descriptor, K hashes the next record, D takes frame N−1's completion slot
//! and G writes frame N−2's completion. Queue-state operations (E: TAKE_DESC; F:
//! OP_ERROR; D: COMPLETE, OP_ERROR) share `m_op_*` through a round-robin arbiter
//! (F before E, then the E/F side and D alternate) with one operation
//! outstanding. The AW/W channel is shared by C (data bursts) and G (completion
//! bursts). A burst is granted (G first) when no other burst's AW is outstanding
//! and the W order (`w_head` streaming, `w_next` behind it) has room, so its AW
//! goes out while the previous burst's W beats stream: a host that accepts W
//! only after the burst's AW (the co-simulation's memory) then sees no idle W
//! cycle between bursts. A burst granted while W is idle offers its AW and first
//! W beat in the grant cycle.
//! Every issued write burst leaves a tag (completion or data, last burst of its
//! frame, address, queue) in an 8-entry tag FIFO, and B responses (one ID, in
//! order) are matched against it: per-frame data results queue for D in an
//! 8-entry result FIFO; a completion's B turns the head of a 4-entry event FIFO
//! (queue, vector, moderation, pushed with the completion's AW) into `m_event_*`,
//! so D does not wait for write responses. A completion write error is left in a
//! `cerrq` FIFO that D turns into `OP_ERROR` before its next frame; its room (like
//! the event's) is reserved when the completion burst is issued, so taking a B
//! never waits for D (see DESIGN.md, the deadlock rule). `dres` (8 entries) never
//! fills: at most four frames have data issued and not yet taken by D (C's, two
//! in `cdq`, D's).
//!
//! Measured in `tb/rx_engine` (`back_to_back_64`: 64-byte frames back to back,
//! metadata 0 cycles after tlast, no pauses on AXI, queue ops or events):
//! 10 cycles per frame in steady state (1, 8 and 64 queues): the write channel's
//! 8 data + 2 completion beats, with no idle cycle. See the README's benchmark
//! table for the co-simulation figure through the whole core.
//!
//! # Ports
//!
//! * `clk`, `rst`.
//! * Frame beats `s_axis_{tdata, tkeep, tvalid, tready, tlast, tuser}` (tuser is
//!   not stored: rx_parse folds it into the status); metadata
//!   `s_meta_{valid, ready, len, status, rss_type, tuple, chunks}`.
//! * `rss_key`, `enable` (CTRL.ENABLE), `reta_index` → `reta_queue` (one cycle).
//! * Queue-state operations `m_op_{valid, ready, queue, code, len}` and answers
//!   `s_rsp_{valid, status, addr, index, phase, vector, moderation}` (rx_queue).
//! * AXI4 master `m_axi_*` (to dma_arb's rx client; ID 0 on both channels).
//! * `m_event_{valid, ready, queue, vector, moderation}`.
//! * `cnt_inc[6:0]` (csr's RX counters in map order), `err_set[3:0]`,
//!   `err_queue`, `err_addr` (valid with `err_set`).
//! * `halt` in, `idle` out.
//!
//! # Reset and halt
//!
//! `rst` (synchronous) returns every stage to idle, empties the FIFOs and forgets
//! outstanding transactions — the top only pulses it after `idle` (or at power-up).
//! `halt` stops taking metadata records; frames already taken finish, including
//! all their AXI transactions and events. `idle` is high when no stage holds a
//! frame, no write response is awaited and no queue operation is outstanding
//! (frames whose record was not taken may still sit in the frame FIFO).
//!
//! # Frames larger than the FIFO
//!
//! A frame is only ever longer than the FIFO (16 KiB) when it is oversize or
//! faulty (MTU ≤ MAX_MTU = 9216): when the FIFO is full and holds no complete
//! frame, stage C discards that frame's beats before its record arrives, and the
//! record, when it comes, only counts. (Were such a frame ever to have a status of
//! OK, its descriptor would be consumed without completion; rx_parse never reports
//! OK above the MTU.) The meta length is trusted for status-OK frames.

use oxnic_regs::{cpl, cpl_status, rx_desc, MAX_MTU};
use rust_hdl::prelude::*;

/// log2 of the frame FIFO depth in 8-byte beats (2048 beats = 16 KiB).
pub const FRAME_FIFO_LOG2: usize = 11;

/// log2 of the descriptor reads in flight (`rdq`): 16 reads, one per frame,
/// cover a host read latency of ~150 cycles at one frame per 10 cycles.
pub const RDQ_LOG2: usize = 4;

const OP_TAKE: u64 = crate::queue_state::OP_TAKE_DESC;
const OP_COMPLETE: u64 = crate::queue_state::OP_COMPLETE;
const OP_ERROR: u64 = crate::queue_state::OP_ERROR;
const RSP_DISABLED: u64 = crate::queue_state::RSP_DISABLED;
const RSP_EMPTY: u64 = crate::queue_state::RSP_EMPTY;
const RSP_FULL: u64 = crate::queue_state::RSP_FULL;

// cnt_inc bits (csr's counter order).
const CNT_FRAMES: u64 = 1 << 0;
const CNT_DISABLED: u64 = 1 << 1;
const CNT_NO_DESC: u64 = 1 << 2;
const CNT_RUNT: u64 = 1 << 3;
const CNT_OVERSIZE: u64 = 1 << 4;
const CNT_MAC: u64 = 1 << 5;
const CNT_DMA: u64 = 1 << 6;

// err_set bits (ERR_STATUS order).
const ERR_DMA_READ: u64 = 1 << 0;
const ERR_DMA_WRITE: u64 = 1 << 1;
const ERR_DESC: u64 = 1 << 3;

// What stage C does with a frame.
const MODE_WRITE: u64 = 0;
const MODE_DESC_ERR: u64 = 1;
const MODE_DISCARD: u64 = 2;

/// A show-ahead FIFO in one RAM (`2^AW` entries): `dout` is the head while
/// `valid`; `pop` takes it. One push and one pop per cycle. The RAM reads the
/// address the head will have after this cycle's pop, so the head is ready the
/// cycle after a pop; an entry written into an empty FIFO shows one cycle later.
#[derive(LogicBlock)]
pub struct RxFifo<D: Synth, const AW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset: empties the FIFO.
    pub rst: Signal<In, Bit>,
    /// Write `din` (only when not `full`).
    pub push: Signal<In, Bit>,
    /// Entry to write.
    pub din: Signal<In, D>,
    /// No room.
    pub full: Signal<Out, Bit>,
    /// Take the head (only when `valid`).
    pub pop: Signal<In, Bit>,
    /// The head entry.
    pub dout: Signal<Out, D>,
    /// `dout` holds the head.
    pub valid: Signal<Out, Bit>,
    /// Nothing stored.
    pub empty: Signal<Out, Bit>,
    /// Entries stored.
    pub count: Signal<Out, Bits<16>>,
    depth: Constant<Bits<16>>,
    ram: RAM<D, AW>,
    wp: DFF<Bits<AW>>,
    rp: DFF<Bits<AW>>,
    cnt: DFF<Bits<16>>,
    wrote: DFF<Bit>,
    rp_next: Signal<Local, Bits<AW>>,
}

impl<D: Synth, const AW: usize> Default for RxFifo<D, AW> {
    fn default() -> Self {
        Self {
            clk: Default::default(),
            rst: Default::default(),
            push: Default::default(),
            din: Default::default(),
            full: Default::default(),
            pop: Default::default(),
            dout: Default::default(),
            valid: Default::default(),
            empty: Default::default(),
            count: Default::default(),
            depth: Constant::new((1u64 << AW).to_bits()),
            ram: Default::default(),
            wp: Default::default(),
            rp: Default::default(),
            cnt: Default::default(),
            wrote: Default::default(),
            rp_next: Default::default(),
        }
    }
}

impl<D: Synth, const AW: usize> Logic for RxFifo<D, AW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, wp, rp, cnt, wrote);
        self.ram.read_clock.next = self.clk.val();
        self.ram.write_clock.next = self.clk.val();
        self.full.next = self.cnt.q.val() == self.depth.val();
        self.empty.next = self.cnt.q.val() == 0;
        self.count.next = self.cnt.q.val();
        // The head written in the previous cycle has not reached the RAM's read
        // register yet.
        self.valid.next = (self.cnt.q.val() != 0) & !((self.cnt.q.val() == 1) & self.wrote.q.val());
        self.rp_next.next = self.rp.q.val();
        if self.pop.val() {
            self.rp_next.next = self.rp.q.val() + 1;
        }
        self.rp.d.next = self.rp_next.val();
        self.ram.read_address.next = self.rp_next.val();
        self.dout.next = self.ram.read_data.val();
        self.ram.write_address.next = self.wp.q.val();
        self.ram.write_data.next = self.din.val();
        self.ram.write_enable.next = self.push.val();
        self.wrote.d.next = self.push.val();
        if self.push.val() {
            self.wp.d.next = self.wp.q.val() + 1;
        }
        if self.push.val() & !self.pop.val() {
            self.cnt.d.next = self.cnt.q.val() + 1;
        }
        if self.pop.val() & !self.push.val() {
            self.cnt.d.next = self.cnt.q.val() - 1;
        }
        if self.rst.val() {
            self.wp.d.next = 0.into();
            self.rp.d.next = 0.into();
            self.cnt.d.next = 0.into();
            self.wrote.d.next = false;
        }
    }
}

/// Stage K: classification.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum KState {
    Idle,
    Hash,
    Reta,
    Out,
}

/// Stage E: take a descriptor and issue its read.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum EState {
    Idle,
    Op,
    Ar,
    Push,
}

/// Stage F: receive the descriptor (reads in flight, in issue order) and check it.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum FState {
    Idle,
    Rd,
    Check,
    ErrOp,
    Report,
    Out,
}

/// Stage C: data.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum CState {
    Idle,
    Aw,
    Burst,
    Discard,
    Drain,
    Hand,
}

/// Stage D: completion slot (after the data's write responses).
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum DState {
    Idle,
    Res,
    Op,
    Out,
    ErrOp,
}

/// Stage G: completion write.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum GState {
    Idle,
    Aw,
    Burst,
}

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.to_bits())
}

/// Position of a completion field inside its 64-bit beat, and which beat.
fn cpl_pos(f: oxnic_regs::MemField, beat: u32) -> Constant<Bits<8>> {
    assert_eq!(f.word_offset / 8, beat, "{} moved to another beat", f.name);
    k(((f.word_offset % 8) * 8 + f.lsb) as u64)
}

/// The receive DMA engine for up to `2^QW` queues.
#[derive(LogicBlock)]
pub struct RxEngine<const QW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// Frame data (byte 0 in bits 7:0).
    pub s_axis_tdata: Signal<In, Bits<64>>,
    /// Byte enables (contiguous from bit 0; only the last beat partial).
    pub s_axis_tkeep: Signal<In, Bits<8>>,
    /// Beat valid.
    pub s_axis_tvalid: Signal<In, Bit>,
    /// Beat taken (low while the frame FIFO is full or in reset).
    pub s_axis_tready: Signal<Out, Bit>,
    /// Last beat of a frame.
    pub s_axis_tlast: Signal<In, Bit>,
    /// MAC error (already in the metadata status; not used).
    pub s_axis_tuser: Signal<In, Bit>,
    /// A frame's metadata record (after its tlast).
    pub s_meta_valid: Signal<In, Bit>,
    /// Record taken.
    pub s_meta_ready: Signal<Out, Bit>,
    /// Frame length in bytes.
    pub s_meta_len: Signal<In, Bits<16>>,
    /// rx_parse status (0 OK, 1 runt, 2 oversize, 3 MAC error).
    pub s_meta_status: Signal<In, Bits<3>>,
    /// RSS type (`oxnic_regs::rss_type`).
    pub s_meta_rss_type: Signal<In, Bits<3>>,
    /// RSS tuple (rss_hash's `s_tuple`).
    pub s_meta_tuple: Signal<In, Bits<320>>,
    /// Tuple length in 64-bit chunks.
    pub s_meta_chunks: Signal<In, Bits<3>>,
    /// RSS key (csr).
    pub rss_key: Signal<In, Bits<320>>,
    /// Global enable (CTRL.ENABLE).
    pub enable: Signal<In, Bit>,
    /// RETA lookup index.
    pub reta_index: Signal<Out, Bits<7>>,
    /// RETA entry of `reta_index`, one cycle later.
    pub reta_queue: Signal<In, Bits<QW>>,
    /// Queue-state operation request.
    pub m_op_valid: Signal<Out, Bit>,
    /// Operation accepted.
    pub m_op_ready: Signal<In, Bit>,
    /// Queue of the operation.
    pub m_op_queue: Signal<Out, Bits<QW>>,
    /// `OP_*`.
    pub m_op_code: Signal<Out, Bits<2>>,
    /// Frame length (OP_COMPLETE).
    pub m_op_len: Signal<Out, Bits<16>>,
    /// Operation answer (one cycle).
    pub s_rsp_valid: Signal<In, Bit>,
    /// `RSP_*`.
    pub s_rsp_status: Signal<In, Bits<2>>,
    /// Descriptor or completion slot address.
    pub s_rsp_addr: Signal<In, Bits<64>>,
    /// Descriptor or completion index.
    pub s_rsp_index: Signal<In, Bits<16>>,
    /// Completion phase.
    pub s_rsp_phase: Signal<In, Bit>,
    /// Queue's MSI-X vector.
    pub s_rsp_vector: Signal<In, Bits<12>>,
    /// Queue's IRQ_MODERATION.
    pub s_rsp_moderation: Signal<In, Bits<32>>,
    /// AXI write address ID.
    pub m_axi_awid: Signal<Out, Bits<4>>,
    /// AXI write address.
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    /// AXI burst length - 1.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// AXI beat size.
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// AXI burst type.
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AW valid.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AW ready.
    pub m_axi_awready: Signal<In, Bit>,
    /// Write data.
    pub m_axi_wdata: Signal<Out, Bits<64>>,
    /// Write strobes.
    pub m_axi_wstrb: Signal<Out, Bits<8>>,
    /// Last beat of the burst.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// W valid.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// W ready.
    pub m_axi_wready: Signal<In, Bit>,
    /// Write response ID.
    pub m_axi_bid: Signal<In, Bits<4>>,
    /// Write response.
    pub m_axi_bresp: Signal<In, Bits<2>>,
    /// B valid.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// B ready.
    pub m_axi_bready: Signal<Out, Bit>,
    /// Read address ID.
    pub m_axi_arid: Signal<Out, Bits<4>>,
    /// Read address.
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    /// Read burst length - 1.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// Read beat size.
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// Read burst type.
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// AR valid.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// AR ready.
    pub m_axi_arready: Signal<In, Bit>,
    /// Read ID.
    pub m_axi_rid: Signal<In, Bits<4>>,
    /// Read data.
    pub m_axi_rdata: Signal<In, Bits<64>>,
    /// Read response.
    pub m_axi_rresp: Signal<In, Bits<2>>,
    /// Last read beat.
    pub m_axi_rlast: Signal<In, Bit>,
    /// R valid.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// R ready.
    pub m_axi_rready: Signal<Out, Bit>,
    /// Completion event (after the completion's B OKAY).
    pub m_event_valid: Signal<Out, Bit>,
    /// Event taken.
    pub m_event_ready: Signal<In, Bit>,
    /// Queue of the event.
    pub m_event_queue: Signal<Out, Bits<QW>>,
    /// The queue's vector.
    pub m_event_vector: Signal<Out, Bits<12>>,
    /// The queue's moderation setting.
    pub m_event_moderation: Signal<Out, Bits<32>>,
    /// Counter increments (RX_FRAMES, DROP_QUEUE_DISABLED, DROP_NO_DESC, DROP_RUNT,
    /// DROP_OVERSIZE, DROP_MAC_ERROR, DROP_DMA_ERROR).
    pub cnt_inc: Signal<Out, Bits<7>>,
    /// Error reports (bit 0 DMA_READ, 1 DMA_WRITE, 3 DESC).
    pub err_set: Signal<Out, Bits<4>>,
    /// Queue of the error (with `err_set`).
    pub err_queue: Signal<Out, Bits<QW>>,
    /// Failing address (with `err_set`).
    pub err_addr: Signal<Out, Bits<64>>,
    /// Take no new frames.
    pub halt: Signal<In, Bit>,
    /// Nothing in progress.
    pub idle: Signal<Out, Bit>,

    // Constants.
    c_op_take: Constant<Bits<2>>,
    c_op_complete: Constant<Bits<2>>,
    c_op_error: Constant<Bits<2>>,
    c_rsp_disabled: Constant<Bits<2>>,
    c_rsp_empty: Constant<Bits<2>>,
    c_rsp_full: Constant<Bits<2>>,
    c_cnt_frames: Constant<Bits<7>>,
    c_cnt_disabled: Constant<Bits<7>>,
    c_cnt_no_desc: Constant<Bits<7>>,
    c_cnt_runt: Constant<Bits<7>>,
    c_cnt_oversize: Constant<Bits<7>>,
    c_cnt_mac: Constant<Bits<7>>,
    c_cnt_dma: Constant<Bits<7>>,
    c_err_read: Constant<Bits<4>>,
    c_err_write: Constant<Bits<4>>,
    c_err_desc: Constant<Bits<4>>,
    c_mode_write: Constant<Bits<2>>,
    c_mode_desc_err: Constant<Bits<2>>,
    c_mode_discard: Constant<Bits<2>>,
    c_cpl_ok: Constant<Bits<4>>,
    c_cpl_desc_error: Constant<Bits<4>>,
    c_max_burst: Constant<Bits<16>>,
    c_page_beats: Constant<Bits<16>>,
    c_tag_cpl: Constant<Bits<80>>,
    c_drain_level: Constant<Bits<16>>,
    p_len: Constant<Bits<8>>,
    p_status: Constant<Bits<8>>,
    p_type: Constant<Bits<8>>,
    p_hash: Constant<Bits<8>>,
    p_index: Constant<Bits<8>>,
    p_queue: Constant<Bits<8>>,
    p_phase: Constant<Bits<8>>,

    // Shared resources.
    ffifo: RxFifo<Bits<73>, FRAME_FIFO_LOG2>,
    tags: RxFifo<Bits<80>, 3>,
    dres: RxFifo<Bit, 3>,
    evinfo: RxFifo<Bits<64>, 2>,
    /// Per completion B taken, in order: 1 = written (raise its event), 0 = the
    /// write failed (no event). Its head pairs with `evinfo`'s head.
    evres: RxFifo<Bit, 2>,
    /// Stage E → F: frames in issue order, with their descriptor read in flight
    /// (or none, for a frame E already knows is dropped). See [`rdq_word`].
    rdq: RxFifo<Bits<160>, RDQ_LOG2>,
    /// Stage C → D: frames whose data has been issued, so C starts the next
    /// frame without waiting for D.
    cdq: RxFifo<Bits<80>, 1>,
    /// Queues whose completion write failed, for D to stop (`OP_ERROR`). Room
    /// for every completion in flight is reserved when the burst is issued, so
    /// the B path never waits for D (the deadlock rule).
    cerrq: RxFifo<Bits<QW>, 2>,
    hasher: crate::rss_hash::RssHash,
    frames_in: DFF<Bits<12>>,
    predrained: DFF<Bit>,
    /// W order of the write port (0 none, 1 C, 2 G): `w_head` streams its W
    /// beats, `w_next` has been granted behind it (its AW may already be out).
    w_head: DFF<Bits<2>>,
    w_next: DFF<Bits<2>>,
    op_busy: DFF<Bit>,
    op_owner_d: DFF<Bit>,
    op_owner_f: DFF<Bit>,
    op_last_d: DFF<Bit>,
    b_acc: DFF<Bit>,
    dma_pend: DFF<Bits<3>>,

    // Stage K.
    k_state: DFF<KState>,
    k_queue: DFF<Bits<QW>>,
    k_hash: DFF<Bits<32>>,
    k_type: DFF<Bits<3>>,
    k_len: DFF<Bits<16>>,
    k_mode: DFF<Bits<2>>,
    k_cnt: DFF<Bits<7>>,

    // Stage E.
    e_state: DFF<EState>,
    e_queue: DFF<Bits<QW>>,
    e_hash: DFF<Bits<32>>,
    e_type: DFF<Bits<3>>,
    e_len: DFF<Bits<16>>,
    e_mode: DFF<Bits<2>>,
    e_cnt: DFF<Bits<7>>,
    e_dindex: DFF<Bits<16>>,
    e_daddr: DFF<Bits<64>>,
    e_rd: DFF<Bit>,

    // Stage F.
    f_state: DFF<FState>,
    f_queue: DFF<Bits<QW>>,
    f_hash: DFF<Bits<32>>,
    f_type: DFF<Bits<3>>,
    f_len: DFF<Bits<16>>,
    f_mode: DFF<Bits<2>>,
    f_cnt: DFF<Bits<7>>,
    f_dindex: DFF<Bits<16>>,
    f_daddr: DFF<Bits<64>>,
    f_baddr: DFF<Bits<64>>,
    f_blen: DFF<Bits<16>>,
    f_beat: DFF<Bit>,
    f_rerr: DFF<Bit>,
    f_errbits: DFF<Bits<4>>,

    // Stage C.
    c_state: DFF<CState>,
    c_queue: DFF<Bits<QW>>,
    c_hash: DFF<Bits<32>>,
    c_type: DFF<Bits<3>>,
    c_len: DFF<Bits<16>>,
    c_mode: DFF<Bits<2>>,
    c_dindex: DFF<Bits<16>>,
    c_addr: DFF<Bits<64>>,
    c_left: DFF<Bits<16>>,
    c_bcnt: DFF<Bits<16>>,
    c_blen: DFF<Bits<16>>,
    c_lastb: DFF<Bit>,
    c_awdone: DFF<Bit>,
    c_wdone: DFF<Bit>,

    // Stage D.
    d_state: DFF<DState>,
    d_queue: DFF<Bits<QW>>,
    d_hash: DFF<Bits<32>>,
    d_type: DFF<Bits<3>>,
    d_clen: DFF<Bits<16>>,
    d_status: DFF<Bits<4>>,
    d_write: DFF<Bit>,
    d_dindex: DFF<Bits<16>>,
    d_caddr: DFF<Bits<64>>,
    d_phase: DFF<Bit>,
    d_vector: DFF<Bits<12>>,
    d_mod: DFF<Bits<32>>,
    d_dmaerr: DFF<Bit>,

    // Stage G.
    g_state: DFF<GState>,
    g_queue: DFF<Bits<QW>>,
    g_hash: DFF<Bits<32>>,
    g_type: DFF<Bits<3>>,
    g_clen: DFF<Bits<16>>,
    g_status: DFF<Bits<4>>,
    g_dindex: DFF<Bits<16>>,
    g_caddr: DFF<Bits<64>>,
    g_phase: DFF<Bit>,
    g_vector: DFF<Bits<12>>,
    g_mod: DFF<Bits<32>>,
    g_awdone: DFF<Bit>,
    g_wbeat: DFF<Bits<2>>,

    // Combinational helpers.
    ff_pop: Signal<Local, Bit>,
    ff_last: Signal<Local, Bit>,
    frames_up: Signal<Local, Bit>,
    c_room: Signal<Local, Bits<16>>,
    c_burst: Signal<Local, Bits<16>>,
    c_aw_hs: Signal<Local, Bit>,
    c_w_hs: Signal<Local, Bit>,
    c_aw_ok: Signal<Local, Bit>,
    aw_free: Signal<Local, Bit>,
    w_room: Signal<Local, Bit>,
    g_aw_sel: Signal<Local, Bit>,
    g_w_sel: Signal<Local, Bit>,
    w_head_done: Signal<Local, Bit>,
    c_w_ok: Signal<Local, Bit>,
    g_aw_hs: Signal<Local, Bit>,
    g_w_hs: Signal<Local, Bit>,
    g_aw_ok: Signal<Local, Bit>,
    g_w_ok: Signal<Local, Bit>,
    g_beat0: Signal<Local, Bits<64>>,
    g_beat1: Signal<Local, Bits<64>>,
    e_req: Signal<Local, Bit>,
    f_req: Signal<Local, Bit>,
    d_req: Signal<Local, Bit>,
    pick_d: Signal<Local, Bit>,
    rsp_e: Signal<Local, Bit>,
    rsp_f: Signal<Local, Bit>,
    e_take: Signal<Local, Bit>,
    e_word: Signal<Local, Bits<160>>,
    c_word: Signal<Local, Bits<80>>,
    c_hand: Signal<Local, Bit>,
    g_go: Signal<Local, Bit>,
    c_go: Signal<Local, Bit>,
    c_bl: Signal<Local, Bits<16>>,
    c_bc: Signal<Local, Bits<16>>,
    c_lb: Signal<Local, Bit>,
    rsp_d: Signal<Local, Bit>,
    tag_cpl: Signal<Local, Bit>,
    tag_last: Signal<Local, Bit>,
    b_hs: Signal<Local, Bit>,
    b_err: Signal<Local, Bit>,
    c_take: Signal<Local, Bit>,
    cnt_c: Signal<Local, Bits<7>>,
    cnt_k: Signal<Local, Bits<7>>,
    dma_emit: Signal<Local, Bit>,
    dma_add: Signal<Local, Bit>,
    c_tag: Signal<Local, Bits<80>>,
    c_awlen: Signal<Local, Bits<16>>,
    g_tag: Signal<Local, Bits<80>>,
    g_can: Signal<Local, Bit>,
    ev_word: Signal<Local, Bits<64>>,
}

impl<const QW: usize> Default for RxEngine<QW> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const QW: usize> RxEngine<QW> {
    /// A receive engine for queue numbers of `QW` bits.
    pub fn new() -> Self {
        assert!((1..=10).contains(&QW), "QW {QW}");
        // The descriptor layout the read path assumes: ADDR is beat 0, LEN is the
        // low 16 bits of beat 1.
        assert_eq!((rx_desc::ADDR.word_offset, rx_desc::ADDR.width), (0, 64));
        assert_eq!(
            (
                rx_desc::LEN.word_offset,
                rx_desc::LEN.lsb,
                rx_desc::LEN.width
            ),
            (8, 0, 16)
        );
        const { assert!(cpl::STATUS.width >= 4 && cpl::RSS_TYPE.width >= 3 && cpl::QUEUE.width >= 10) };
        // A frame FIFO that holds a maximum frame and most of the next.
        assert!((1usize << FRAME_FIFO_LOG2) * 8 >= 2 * MAX_MTU as usize - 2048);
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_axis_tdata: Default::default(),
            s_axis_tkeep: Default::default(),
            s_axis_tvalid: Default::default(),
            s_axis_tready: Default::default(),
            s_axis_tlast: Default::default(),
            s_axis_tuser: Default::default(),
            s_meta_valid: Default::default(),
            s_meta_ready: Default::default(),
            s_meta_len: Default::default(),
            s_meta_status: Default::default(),
            s_meta_rss_type: Default::default(),
            s_meta_tuple: Default::default(),
            s_meta_chunks: Default::default(),
            rss_key: Default::default(),
            enable: Default::default(),
            reta_index: Default::default(),
            reta_queue: Default::default(),
            m_op_valid: Default::default(),
            m_op_ready: Default::default(),
            m_op_queue: Default::default(),
            m_op_code: Default::default(),
            m_op_len: Default::default(),
            s_rsp_valid: Default::default(),
            s_rsp_status: Default::default(),
            s_rsp_addr: Default::default(),
            s_rsp_index: Default::default(),
            s_rsp_phase: Default::default(),
            s_rsp_vector: Default::default(),
            s_rsp_moderation: Default::default(),
            m_axi_awid: Default::default(),
            m_axi_awaddr: Default::default(),
            m_axi_awlen: Default::default(),
            m_axi_awsize: Default::default(),
            m_axi_awburst: Default::default(),
            m_axi_awvalid: Default::default(),
            m_axi_awready: Default::default(),
            m_axi_wdata: Default::default(),
            m_axi_wstrb: Default::default(),
            m_axi_wlast: Default::default(),
            m_axi_wvalid: Default::default(),
            m_axi_wready: Default::default(),
            m_axi_bid: Default::default(),
            m_axi_bresp: Default::default(),
            m_axi_bvalid: Default::default(),
            m_axi_bready: Default::default(),
            m_axi_arid: Default::default(),
            m_axi_araddr: Default::default(),
            m_axi_arlen: Default::default(),
            m_axi_arsize: Default::default(),
            m_axi_arburst: Default::default(),
            m_axi_arvalid: Default::default(),
            m_axi_arready: Default::default(),
            m_axi_rid: Default::default(),
            m_axi_rdata: Default::default(),
            m_axi_rresp: Default::default(),
            m_axi_rlast: Default::default(),
            m_axi_rvalid: Default::default(),
            m_axi_rready: Default::default(),
            m_event_valid: Default::default(),
            m_event_ready: Default::default(),
            m_event_queue: Default::default(),
            m_event_vector: Default::default(),
            m_event_moderation: Default::default(),
            cnt_inc: Default::default(),
            err_set: Default::default(),
            err_queue: Default::default(),
            err_addr: Default::default(),
            halt: Default::default(),
            idle: Default::default(),
            c_op_take: k(OP_TAKE),
            c_op_complete: k(OP_COMPLETE),
            c_op_error: k(OP_ERROR),
            c_rsp_disabled: k(RSP_DISABLED),
            c_rsp_empty: k(RSP_EMPTY),
            c_rsp_full: k(RSP_FULL),
            c_cnt_frames: k(CNT_FRAMES),
            c_cnt_disabled: k(CNT_DISABLED),
            c_cnt_no_desc: k(CNT_NO_DESC),
            c_cnt_runt: k(CNT_RUNT),
            c_cnt_oversize: k(CNT_OVERSIZE),
            c_cnt_mac: k(CNT_MAC),
            c_cnt_dma: k(CNT_DMA),
            c_err_read: k(ERR_DMA_READ),
            c_err_write: k(ERR_DMA_WRITE),
            c_err_desc: k(ERR_DESC),
            c_mode_write: k(MODE_WRITE),
            c_mode_desc_err: k(MODE_DESC_ERR),
            c_mode_discard: k(MODE_DISCARD),
            c_cpl_ok: k(cpl_status::OK as u64),
            c_cpl_desc_error: k(cpl_status::DESC_ERROR as u64),
            c_max_burst: k(256),
            c_page_beats: k(4096 / 8),
            c_tag_cpl: Constant::new(Bits::<80>::default().replace_bit(64, true)),
            c_drain_level: k((1u64 << FRAME_FIFO_LOG2) - 2),
            p_len: cpl_pos(cpl::LEN, 0),
            p_status: cpl_pos(cpl::STATUS, 0),
            p_type: cpl_pos(cpl::RSS_TYPE, 0),
            p_hash: cpl_pos(cpl::RSS_HASH, 0),
            p_index: cpl_pos(cpl::DESC_INDEX, 1),
            p_queue: cpl_pos(cpl::QUEUE, 1),
            p_phase: cpl_pos(cpl::PHASE, 1),
            ffifo: Default::default(),
            tags: Default::default(),
            dres: Default::default(),
            evinfo: Default::default(),
            evres: Default::default(),
            rdq: Default::default(),
            cdq: Default::default(),
            cerrq: Default::default(),
            hasher: Default::default(),
            frames_in: Default::default(),
            predrained: Default::default(),
            w_head: Default::default(),
            w_next: Default::default(),
            op_busy: Default::default(),
            op_owner_d: Default::default(),
            op_owner_f: Default::default(),
            op_last_d: Default::default(),
            b_acc: Default::default(),
            dma_pend: Default::default(),
            k_state: Default::default(),
            k_queue: Default::default(),
            k_hash: Default::default(),
            k_type: Default::default(),
            k_len: Default::default(),
            k_mode: Default::default(),
            k_cnt: Default::default(),
            e_state: Default::default(),
            e_queue: Default::default(),
            e_hash: Default::default(),
            e_type: Default::default(),
            e_len: Default::default(),
            e_mode: Default::default(),
            e_cnt: Default::default(),
            e_dindex: Default::default(),
            e_daddr: Default::default(),
            e_rd: Default::default(),
            f_state: Default::default(),
            f_queue: Default::default(),
            f_hash: Default::default(),
            f_type: Default::default(),
            f_len: Default::default(),
            f_mode: Default::default(),
            f_cnt: Default::default(),
            f_dindex: Default::default(),
            f_daddr: Default::default(),
            f_baddr: Default::default(),
            f_blen: Default::default(),
            f_beat: Default::default(),
            f_rerr: Default::default(),
            f_errbits: Default::default(),
            c_state: Default::default(),
            c_queue: Default::default(),
            c_hash: Default::default(),
            c_type: Default::default(),
            c_len: Default::default(),
            c_mode: Default::default(),
            c_dindex: Default::default(),
            c_addr: Default::default(),
            c_left: Default::default(),
            c_bcnt: Default::default(),
            c_blen: Default::default(),
            c_lastb: Default::default(),
            c_awdone: Default::default(),
            c_wdone: Default::default(),
            d_state: Default::default(),
            d_queue: Default::default(),
            d_hash: Default::default(),
            d_type: Default::default(),
            d_clen: Default::default(),
            d_status: Default::default(),
            d_write: Default::default(),
            d_dindex: Default::default(),
            d_caddr: Default::default(),
            d_phase: Default::default(),
            d_vector: Default::default(),
            d_mod: Default::default(),
            d_dmaerr: Default::default(),
            g_state: Default::default(),
            g_queue: Default::default(),
            g_hash: Default::default(),
            g_type: Default::default(),
            g_clen: Default::default(),
            g_status: Default::default(),
            g_dindex: Default::default(),
            g_caddr: Default::default(),
            g_phase: Default::default(),
            g_vector: Default::default(),
            g_mod: Default::default(),
            g_awdone: Default::default(),
            g_wbeat: Default::default(),
            ff_pop: Default::default(),
            ff_last: Default::default(),
            frames_up: Default::default(),
            c_room: Default::default(),
            c_burst: Default::default(),
            c_aw_hs: Default::default(),
            c_w_hs: Default::default(),
            c_aw_ok: Default::default(),
            aw_free: Default::default(),
            w_room: Default::default(),
            g_aw_sel: Default::default(),
            g_w_sel: Default::default(),
            w_head_done: Default::default(),
            c_w_ok: Default::default(),
            g_aw_hs: Default::default(),
            g_w_hs: Default::default(),
            g_aw_ok: Default::default(),
            g_w_ok: Default::default(),
            g_beat0: Default::default(),
            g_beat1: Default::default(),
            e_req: Default::default(),
            f_req: Default::default(),
            d_req: Default::default(),
            pick_d: Default::default(),
            rsp_e: Default::default(),
            rsp_f: Default::default(),
            e_take: Default::default(),
            e_word: Default::default(),
            c_word: Default::default(),
            c_hand: Default::default(),
            g_go: Default::default(),
            c_go: Default::default(),
            c_bl: Default::default(),
            c_bc: Default::default(),
            c_lb: Default::default(),
            rsp_d: Default::default(),
            tag_cpl: Default::default(),
            tag_last: Default::default(),
            b_hs: Default::default(),
            b_err: Default::default(),
            c_take: Default::default(),
            cnt_c: Default::default(),
            cnt_k: Default::default(),
            dma_emit: Default::default(),
            dma_add: Default::default(),
            c_tag: Default::default(),
            c_awlen: Default::default(),
            g_tag: Default::default(),
            g_can: Default::default(),
            ev_word: Default::default(),
        }
    }
}

impl<const QW: usize> Logic for RxEngine<QW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clk, frames_in, predrained, w_head, w_next, op_busy, op_owner_d, op_owner_f,
            op_last_d, b_acc, dma_pend, k_state, k_queue, k_hash, k_type, k_len, k_mode, k_cnt,
            e_state, e_queue, e_hash, e_type, e_len, e_mode, e_cnt, e_dindex, e_daddr, e_rd,
            f_state, f_queue, f_hash, f_type, f_len, f_mode, f_cnt, f_dindex, f_daddr, f_baddr,
            f_blen, f_beat, f_rerr, f_errbits, c_state, c_queue, c_hash, c_type, c_len, c_mode,
            c_dindex, c_addr, c_left, c_bcnt, c_blen, c_lastb, c_awdone, c_wdone, d_state, d_queue,
            d_hash, d_type, d_clen, d_status, d_write, d_dindex, d_caddr, d_phase, d_vector, d_mod,
            d_dmaerr, g_state, g_queue, g_hash, g_type, g_clen, g_status, g_dindex, g_caddr,
            g_phase, g_vector, g_mod, g_awdone, g_wbeat
        );
        self.ffifo.clk.next = self.clk.val();
        self.tags.clk.next = self.clk.val();
        self.dres.clk.next = self.clk.val();
        self.evinfo.clk.next = self.clk.val();
        self.evinfo.rst.next = self.rst.val();
        self.evres.clk.next = self.clk.val();
        self.evres.rst.next = self.rst.val();
        self.hasher.clk.next = self.clk.val();
        self.ffifo.rst.next = self.rst.val();
        self.tags.rst.next = self.rst.val();
        self.dres.rst.next = self.rst.val();
        self.hasher.rst.next = self.rst.val();
        self.rdq.clk.next = self.clk.val();
        self.rdq.rst.next = self.rst.val();
        self.cdq.clk.next = self.clk.val();
        self.cdq.rst.next = self.rst.val();
        self.cerrq.clk.next = self.clk.val();
        self.cerrq.rst.next = self.rst.val();

        // ---- Frame FIFO input: beats in while there is room.
        self.s_axis_tready.next = (!self.ffifo.full.val()) & (!self.rst.val());
        self.ffifo.push.next = self.s_axis_tvalid.val() & self.s_axis_tready.val();
        self.ffifo.din.next = bit_cast::<73, 64>(self.s_axis_tdata.val())
            | (bit_cast::<73, 8>(self.s_axis_tkeep.val()) << 64)
            | (bit_cast::<73, 1>(self.s_axis_tlast.val().into()) << 72);
        self.frames_up.next = self.ffifo.push.val() & self.s_axis_tlast.val();
        self.ff_pop.next = false;

        // ---- Defaults.
        self.s_meta_ready.next = false;
        self.hasher.s_valid.next = false;
        self.hasher.s_tuple.next = self.s_meta_tuple.val();
        self.hasher.s_chunks.next = self.s_meta_chunks.val();
        self.hasher.key.next = self.rss_key.val();
        self.reta_index.next = 0.into();
        self.cnt_k.next = 0.into();
        self.cnt_c.next = 0.into();
        self.dma_add.next = false;
        self.err_set.next = 0.into();
        self.err_queue.next = self.f_queue.q.val();
        self.err_addr.next = self.f_daddr.q.val();
        self.m_axi_arid.next = 0.into();
        self.m_axi_araddr.next = self.e_daddr.q.val();
        self.m_axi_arlen.next = 1.into();
        self.m_axi_arsize.next = 3.into();
        self.m_axi_arburst.next = 1.into();
        self.m_axi_arvalid.next = false;
        self.m_axi_rready.next = false;
        // Events leave from the head of `evinfo` once its completion's B has been
        // taken (`evres`). The entry was reserved when the completion burst was
        // issued, so taking a B never waits for the interrupt path: B responses
        // share one in-order channel with the MSI-X writes, and a B held back
        // until an event is accepted would wait for an interrupt that waits for
        // its own B behind it (a deadlock found by the co-simulation).
        self.evinfo.pop.next = false;
        self.evres.pop.next = false;
        self.evres.push.next = false;
        self.evres.din.next = false;
        self.m_event_valid.next =
            self.evres.valid.val() & self.evres.dout.val() & self.evinfo.valid.val();
        self.m_event_queue.next = self.evinfo.dout.val().get_bits::<QW>(44);
        self.m_event_vector.next = self.evinfo.dout.val().get_bits::<12>(0);
        self.m_event_moderation.next = self.evinfo.dout.val().get_bits::<32>(12);
        // Raised, or a failed completion (no event): done with it.
        if self.evres.valid.val()
            & self.evinfo.valid.val()
            & ((!self.evres.dout.val()) | self.m_event_ready.val())
        {
            self.evinfo.pop.next = true;
            self.evres.pop.next = true;
        }
        // What D's completion burst will raise: vector, moderation, queue.
        self.ev_word.next = bit_cast::<64, 12>(self.g_vector.q.val())
            | (bit_cast::<64, 32>(self.g_mod.q.val()) << 12)
            | (bit_cast::<64, QW>(self.g_queue.q.val()) << 44);
        self.evinfo.din.next = self.ev_word.val();
        self.evinfo.push.next = false;
        self.dres.push.next = false;
        self.dres.din.next = false;
        self.dres.pop.next = false;
        self.tags.push.next = false;
        self.tags.pop.next = false;
        self.c_take.next = false;
        self.c_hand.next = false;
        self.c_word.next = bit_cast::<80, 32>(self.c_hash.q.val())
            | (bit_cast::<80, 16>(self.c_len.q.val()) << 32)
            | (bit_cast::<80, 16>(self.c_dindex.q.val()) << 48)
            | (bit_cast::<80, 3>(self.c_type.q.val()) << 64)
            | (bit_cast::<80, 2>(self.c_mode.q.val()) << 67)
            | (bit_cast::<80, QW>(self.c_queue.q.val()) << 69);
        self.cdq.din.next = self.c_word.val();
        self.cdq.push.next = false;
        self.cdq.pop.next = false;

        // ---- Queue-state operations: the descriptor side (F's OP_ERROR first,
        // then E's OP_TAKE_DESC) and D, round robin, one outstanding.
        self.e_req.next = self.e_state.q.val() == EState::Op;
        self.f_req.next = self.f_state.q.val() == FState::ErrOp;
        self.d_req.next =
            (self.d_state.q.val() == DState::Op) | (self.d_state.q.val() == DState::ErrOp);
        self.pick_d.next = self.d_req.val()
            & ((!(self.e_req.val() | self.f_req.val())) | (!self.op_last_d.q.val()));
        self.m_op_valid.next =
            (!self.op_busy.q.val()) & (self.e_req.val() | self.f_req.val() | self.d_req.val());
        if self.pick_d.val() {
            self.m_op_queue.next = self.d_queue.q.val();
            self.m_op_len.next = self.d_clen.q.val();
            if self.d_state.q.val() == DState::Op {
                self.m_op_code.next = self.c_op_complete.val();
            } else {
                self.m_op_code.next = self.c_op_error.val();
            }
        } else if self.f_req.val() {
            self.m_op_queue.next = self.f_queue.q.val();
            self.m_op_len.next = 0.into();
            self.m_op_code.next = self.c_op_error.val();
        } else {
            self.m_op_queue.next = self.e_queue.q.val();
            self.m_op_len.next = 0.into();
            self.m_op_code.next = self.c_op_take.val();
        }
        if self.m_op_valid.val() & self.m_op_ready.val() {
            self.op_busy.d.next = true;
            self.op_owner_d.d.next = self.pick_d.val();
            self.op_owner_f.d.next = (!self.pick_d.val()) & self.f_req.val();
            self.op_last_d.d.next = self.pick_d.val();
        }
        self.rsp_e.next = self.s_rsp_valid.val()
            & self.op_busy.q.val()
            & (!self.op_owner_d.q.val())
            & (!self.op_owner_f.q.val());
        self.rsp_f.next = self.s_rsp_valid.val() & self.op_busy.q.val() & self.op_owner_f.q.val();
        self.rsp_d.next = self.s_rsp_valid.val() & self.op_busy.q.val() & self.op_owner_d.q.val();
        if self.s_rsp_valid.val() {
            self.op_busy.d.next = false;
        }

        // ---- Write responses: one ID, in issue order, matched with the tags.
        self.tag_cpl.next = self.tags.dout.val().get_bit(64);
        self.tag_last.next = self.tags.dout.val().get_bit(65);
        self.m_axi_bready.next = false;
        self.cerrq.push.next = false;
        self.cerrq.din.next = self.tags.dout.val().get_bits::<QW>(66);
        self.cerrq.pop.next = false;
        if self.tags.valid.val() & (self.f_state.q.val() != FState::Report) {
            if self.tag_cpl.val() {
                // A completion's B becomes its event (or its error): room for
                // both was reserved when the burst was issued.
                self.m_axi_bready.next = true;
            } else {
                self.m_axi_bready.next = (!self.tag_last.val()) | (!self.dres.full.val());
            }
        }
        self.b_hs.next = self.m_axi_bvalid.val() & self.m_axi_bready.val();
        self.b_err.next = self.m_axi_bresp.val() != 0;
        if self.b_hs.val() {
            self.tags.pop.next = true;
            if self.b_err.val() {
                self.err_set.next = self.c_err_write.val();
                self.err_addr.next = self.tags.dout.val().get_bits::<64>(0);
                self.err_queue.next = self.tags.dout.val().get_bits::<QW>(66);
            }
            if self.tag_cpl.val() {
                self.evres.push.next = true;
                self.evres.din.next = !self.b_err.val();
                self.cerrq.push.next = self.b_err.val();
            } else {
                self.b_acc.d.next = self.b_acc.q.val() | self.b_err.val();
                if self.tag_last.val() {
                    self.dres.push.next = true;
                    self.dres.din.next = self.b_acc.q.val() | self.b_err.val();
                    self.b_acc.d.next = false;
                }
            }
        }

        // ---- Write channel: owned by C or D for one burst at a time.
        // The burst C would issue next: to the end of the frame, at most 256
        // beats, not across a 4 KiB page.
        self.c_room.next =
            self.c_page_beats.val() - bit_cast::<16, 9>(self.c_addr.q.val().get_bits::<9>(3));
        self.c_burst.next = self.c_left.q.val();
        if self.c_burst.val() > self.c_max_burst.val() {
            self.c_burst.next = self.c_max_burst.val();
        }
        if self.c_burst.val() > self.c_room.val() {
            self.c_burst.next = self.c_room.val();
        }
        // A completion burst reserves its event entry and, should its write
        // fail, its `cerrq` entry: completions in flight + failed completions
        // not yet stopped by D stay within both FIFOs' depth (4).
        // A burst is granted when no other burst's AW is outstanding and the W
        // order has room behind the streaming burst: its AW then goes out
        // while the previous burst's W beats stream (the host has the address
        // before the data, so the W channel does not idle between bursts).
        self.aw_free.next = !(((self.c_state.q.val() == CState::Burst) & !self.c_awdone.q.val())
            | ((self.g_state.q.val() == GState::Burst) & !self.g_awdone.q.val()));
        self.w_room.next = self.w_next.q.val() == 0;
        self.g_can.next = self.aw_free.val()
            & self.w_room.val()
            & (!self.tags.full.val())
            & ((self.evinfo.count.val() + self.cerrq.count.val()) < 4);
        // The grant is taken and used in the same cycle (`g_go`, `c_go`): a stage
        // waiting in Aw presents its AW and first W beat in the cycle the
        // channel is free, so back-to-back bursts lose no cycle here. G first:
        // a completion never waits behind more than one data burst.
        self.g_go.next = (self.g_state.q.val() == GState::Aw) & self.g_can.val();
        self.c_go.next = (self.c_state.q.val() == CState::Aw)
            & self.aw_free.val()
            & self.w_room.val()
            & (!self.tags.full.val())
            & (self.g_state.q.val() != GState::Aw);
        // C's burst: in the grant cycle from the combinational `c_burst`, then
        // from the registers loaded in that cycle.
        self.c_bl.next = self.c_blen.q.val();
        self.c_bc.next = self.c_bcnt.q.val();
        self.c_lb.next = self.c_lastb.q.val();
        if self.c_state.q.val() == CState::Aw {
            self.c_bl.next = self.c_burst.val();
            self.c_bc.next = self.c_burst.val();
            self.c_lb.next = self.c_burst.val() == self.c_left.q.val();
        }
        // W beats only from the head of the W order; a burst granted while the
        // W channel is idle offers its first beat in the grant cycle.
        self.c_aw_ok.next =
            ((self.c_state.q.val() == CState::Burst) & !self.c_awdone.q.val()) | self.c_go.val();
        self.c_w_ok.next = ((((self.c_state.q.val() == CState::Burst) & (!self.c_wdone.q.val()))
            & (self.w_head.q.val() == 1))
            | (self.c_go.val() & (self.w_head.q.val() == 0)))
            & self.ffifo.valid.val();
        self.g_aw_ok.next =
            ((self.g_state.q.val() == GState::Burst) & !self.g_awdone.q.val()) | self.g_go.val();
        self.g_w_ok.next = (((self.g_state.q.val() == GState::Burst)
            & (self.g_wbeat.q.val() != 2))
            & (self.w_head.q.val() == 2))
            | (self.g_go.val() & (self.w_head.q.val() == 0));
        self.g_aw_sel.next =
            ((self.g_state.q.val() == GState::Burst) & !self.g_awdone.q.val()) | self.g_go.val();
        self.g_w_sel.next =
            (self.w_head.q.val() == 2) | (self.g_go.val() & (self.w_head.q.val() == 0));
        self.g_beat0.next = (bit_cast::<64, 16>(self.g_clen.q.val()) << self.p_len.val())
            | (bit_cast::<64, 4>(self.g_status.q.val()) << self.p_status.val())
            | (bit_cast::<64, 3>(self.g_type.q.val()) << self.p_type.val())
            | (bit_cast::<64, 32>(self.g_hash.q.val()) << self.p_hash.val());
        self.g_beat1.next = (bit_cast::<64, 16>(self.g_dindex.q.val()) << self.p_index.val())
            | (bit_cast::<64, QW>(self.g_queue.q.val()) << self.p_queue.val())
            | (bit_cast::<64, 1>(self.g_phase.q.val().into()) << self.p_phase.val());
        self.c_tag.next = bit_cast::<80, 64>(self.c_addr.q.val())
            | (bit_cast::<80, 1>(self.c_lb.val().into()) << 65)
            | (bit_cast::<80, QW>(self.c_queue.q.val()) << 66);
        self.g_tag.next = bit_cast::<80, 64>(self.g_caddr.q.val())
            | self.c_tag_cpl.val()
            | (bit_cast::<80, QW>(self.g_queue.q.val()) << 66);
        self.c_awlen.next = self.c_bl.val() - 1;
        self.m_axi_awid.next = 0.into();
        self.m_axi_awsize.next = 3.into();
        self.m_axi_awburst.next = 1.into();
        self.m_axi_awvalid.next = self.c_aw_ok.val() | self.g_aw_ok.val();
        self.m_axi_wvalid.next = self.c_w_ok.val() | self.g_w_ok.val();
        if self.g_aw_sel.val() {
            self.m_axi_awaddr.next = self.g_caddr.q.val();
            self.m_axi_awlen.next = 1.into();
            self.tags.din.next = self.g_tag.val();
        } else {
            self.m_axi_awaddr.next = self.c_addr.q.val();
            self.m_axi_awlen.next = self.c_awlen.val().get_bits::<8>(0);
            self.tags.din.next = self.c_tag.val();
        }
        if self.g_w_sel.val() {
            self.m_axi_wstrb.next = 0xFF.into();
            if self.g_wbeat.q.val() == 0 {
                self.m_axi_wdata.next = self.g_beat0.val();
                self.m_axi_wlast.next = false;
            } else {
                self.m_axi_wdata.next = self.g_beat1.val();
                self.m_axi_wlast.next = true;
            }
        } else {
            self.m_axi_wdata.next = self.ffifo.dout.val().get_bits::<64>(0);
            self.m_axi_wstrb.next = self.ffifo.dout.val().get_bits::<8>(64);
            self.m_axi_wlast.next = self.c_bc.val() == 1;
        }
        self.c_aw_hs.next = self.c_aw_ok.val() & self.m_axi_awready.val();
        self.c_w_hs.next = self.c_w_ok.val() & self.m_axi_wready.val();
        self.g_aw_hs.next = self.g_aw_ok.val() & self.m_axi_awready.val();
        self.g_w_hs.next = self.g_w_ok.val() & self.m_axi_wready.val();
        if self.c_aw_hs.val() | self.g_aw_hs.val() {
            self.tags.push.next = true;
        }
        // The W order: the head leaves with its last beat and the burst behind
        // it (queued, or granted in this cycle) moves up. A one-beat C burst
        // granted with the channel idle can end in its grant cycle.
        self.w_head_done.next = (self.c_w_hs.val() & (self.c_bc.val() == 1))
            | (self.g_w_hs.val() & (self.g_wbeat.q.val() == 1));
        if self.w_head.q.val() != 0 {
            if self.w_head_done.val() {
                self.w_head.d.next = self.w_next.q.val();
                self.w_next.d.next = 0.into();
                if self.g_go.val() {
                    self.w_head.d.next = 2.into();
                } else if self.c_go.val() {
                    self.w_head.d.next = 1.into();
                }
            } else if self.g_go.val() {
                self.w_next.d.next = 2.into();
            } else if self.c_go.val() {
                self.w_next.d.next = 1.into();
            }
        } else if self.g_go.val() {
            self.w_head.d.next = 2.into();
        } else if self.c_go.val() & !self.w_head_done.val() {
            self.w_head.d.next = 1.into();
        }
        if self.g_aw_hs.val() {
            self.evinfo.push.next = true;
        }

        // ---- Stage K: take a record, classify, look the queue up.
        // (K hands its frame to E when E takes it: `e_take`.)
        self.e_take.next = (self.e_state.q.val() == EState::Idle)
            & (self.k_state.q.val() == KState::Out)
            & (!self.rdq.full.val());
        match self.k_state.q.val() {
            KState::Idle => {
                self.s_meta_ready.next =
                    (!self.halt.val()) & (!self.rst.val()) & self.hasher.s_ready.val();
                if self.s_meta_valid.val() & self.s_meta_ready.val() {
                    self.cnt_k.next = self.c_cnt_frames.val();
                    self.k_len.d.next = self.s_meta_len.val();
                    self.k_type.d.next = self.s_meta_rss_type.val();
                    self.k_hash.d.next = 0.into();
                    self.k_cnt.d.next = 0.into();
                    self.k_mode.d.next = self.c_mode_discard.val();
                    if self.s_meta_status.val() == 1 {
                        self.k_cnt.d.next = self.c_cnt_runt.val();
                        self.k_state.d.next = KState::Out;
                    } else if self.s_meta_status.val() == 2 {
                        self.k_cnt.d.next = self.c_cnt_oversize.val();
                        self.k_state.d.next = KState::Out;
                    } else if self.s_meta_status.val() != 0 {
                        self.k_cnt.d.next = self.c_cnt_mac.val();
                        self.k_state.d.next = KState::Out;
                    } else if !self.enable.val() {
                        self.k_cnt.d.next = self.c_cnt_disabled.val();
                        self.k_state.d.next = KState::Out;
                    } else {
                        self.k_mode.d.next = self.c_mode_write.val();
                        if (self.s_meta_rss_type.val() == 0) | (self.s_meta_chunks.val() == 0) {
                            // RETA entry 0 (reta_index defaults to 0 this cycle).
                            self.k_state.d.next = KState::Reta;
                        } else {
                            self.hasher.s_valid.next = true;
                            self.k_state.d.next = KState::Hash;
                        }
                    }
                }
            }
            KState::Hash => {
                self.reta_index.next = self.hasher.m_hash.val().get_bits::<7>(0);
                if self.hasher.m_valid.val() {
                    self.k_hash.d.next = self.hasher.m_hash.val();
                    self.k_state.d.next = KState::Reta;
                }
            }
            KState::Reta => {
                self.k_queue.d.next = self.reta_queue.val();
                self.k_state.d.next = KState::Out;
            }
            KState::Out => {
                if self.e_take.val() {
                    self.k_state.d.next = KState::Idle;
                }
            }
        }

        // ---- Stage E: take the descriptor and issue its read; the frame then
        // waits in `rdq` while the read is in flight, so E goes on with the next
        // frame (descriptor reads are pipelined: up to 16 in flight, one ID, in
        // order) instead of waiting out the read latency frame by frame.
        self.e_word.next = bit_cast::<160, 64>(self.e_daddr.q.val())
            | (bit_cast::<160, 16>(self.e_dindex.q.val()) << 64)
            | (bit_cast::<160, 16>(self.e_len.q.val()) << 80)
            | (bit_cast::<160, 32>(self.e_hash.q.val()) << 96)
            | (bit_cast::<160, 3>(self.e_type.q.val()) << 128)
            | (bit_cast::<160, 2>(self.e_mode.q.val()) << 131)
            | (bit_cast::<160, 7>(self.e_cnt.q.val()) << 133)
            | (bit_cast::<160, 1>(self.e_rd.q.val().into()) << 140)
            | (bit_cast::<160, QW>(self.e_queue.q.val()) << 141);
        self.rdq.din.next = self.e_word.val();
        self.rdq.push.next = false;
        self.rdq.pop.next = false;
        match self.e_state.q.val() {
            EState::Idle => {
                if self.e_take.val() {
                    self.e_queue.d.next = self.k_queue.q.val();
                    self.e_hash.d.next = self.k_hash.q.val();
                    self.e_type.d.next = self.k_type.q.val();
                    self.e_len.d.next = self.k_len.q.val();
                    self.e_mode.d.next = self.k_mode.q.val();
                    self.e_cnt.d.next = self.k_cnt.q.val();
                    self.e_daddr.d.next = 0.into();
                    self.e_dindex.d.next = 0.into();
                    self.e_rd.d.next = false;
                    if self.k_mode.q.val() == self.c_mode_discard.val() {
                        self.e_state.d.next = EState::Push;
                    } else {
                        self.e_state.d.next = EState::Op;
                    }
                }
            }
            EState::Op => {
                if self.rsp_e.val() {
                    self.e_daddr.d.next = self.s_rsp_addr.val();
                    self.e_dindex.d.next = self.s_rsp_index.val();
                    if self.s_rsp_status.val() == self.c_rsp_disabled.val() {
                        self.e_mode.d.next = self.c_mode_discard.val();
                        self.e_cnt.d.next = self.c_cnt_disabled.val();
                        self.e_state.d.next = EState::Push;
                    } else if self.s_rsp_status.val() == self.c_rsp_empty.val() {
                        self.e_mode.d.next = self.c_mode_discard.val();
                        self.e_cnt.d.next = self.c_cnt_no_desc.val();
                        self.e_state.d.next = EState::Push;
                    } else {
                        self.e_rd.d.next = true;
                        self.e_state.d.next = EState::Ar;
                    }
                }
            }
            EState::Ar => {
                // `rdq` had room when the frame was taken (only E pushes).
                self.m_axi_arvalid.next = true;
                if self.m_axi_arready.val() {
                    self.rdq.push.next = true;
                    self.e_state.d.next = EState::Idle;
                }
            }
            EState::Push => {
                self.rdq.push.next = true;
                self.e_state.d.next = EState::Idle;
            }
        }

        // ---- Stage F: the head of `rdq` takes its descriptor's R beats (they
        // come back in issue order) and checks the descriptor.
        match self.f_state.q.val() {
            FState::Idle => {
                if self.rdq.valid.val() {
                    self.rdq.pop.next = true;
                    self.f_daddr.d.next = self.rdq.dout.val().get_bits::<64>(0);
                    self.f_dindex.d.next = self.rdq.dout.val().get_bits::<16>(64);
                    self.f_len.d.next = self.rdq.dout.val().get_bits::<16>(80);
                    self.f_hash.d.next = self.rdq.dout.val().get_bits::<32>(96);
                    self.f_type.d.next = self.rdq.dout.val().get_bits::<3>(128);
                    self.f_mode.d.next = self.rdq.dout.val().get_bits::<2>(131);
                    self.f_cnt.d.next = self.rdq.dout.val().get_bits::<7>(133);
                    self.f_queue.d.next = self.rdq.dout.val().get_bits::<QW>(141);
                    self.f_beat.d.next = false;
                    self.f_rerr.d.next = false;
                    if self.rdq.dout.val().get_bit(140) {
                        self.f_state.d.next = FState::Rd;
                    } else {
                        self.f_state.d.next = FState::Out;
                    }
                }
            }
            FState::Rd => {
                self.m_axi_rready.next = true;
                if self.m_axi_rvalid.val() {
                    if self.f_beat.q.val() {
                        self.f_blen.d.next = self.m_axi_rdata.val().get_bits::<16>(0);
                    } else {
                        self.f_baddr.d.next = self.m_axi_rdata.val();
                    }
                    self.f_beat.d.next = true;
                    self.f_rerr.d.next = self.f_rerr.q.val() | (self.m_axi_rresp.val() != 0);
                    if self.m_axi_rlast.val() {
                        self.f_state.d.next = FState::Check;
                    }
                }
            }
            FState::Check => {
                if self.f_rerr.q.val() {
                    self.f_mode.d.next = self.c_mode_discard.val();
                    self.f_cnt.d.next = self.c_cnt_dma.val();
                    self.f_errbits.d.next = self.c_err_read.val();
                    self.f_state.d.next = FState::ErrOp;
                } else if (self.f_blen.q.val() == 0) | (self.f_baddr.q.val().get_bits::<3>(0) != 0)
                {
                    self.f_mode.d.next = self.c_mode_desc_err.val();
                    self.f_errbits.d.next = self.c_err_desc.val();
                    self.f_state.d.next = FState::Report;
                } else if self.f_blen.q.val() < self.f_len.q.val() {
                    self.f_mode.d.next = self.c_mode_desc_err.val();
                    self.f_cnt.d.next = self.c_cnt_oversize.val();
                    self.f_state.d.next = FState::Out;
                } else {
                    self.f_state.d.next = FState::Out;
                }
            }
            FState::ErrOp => {
                if self.rsp_f.val() {
                    self.f_state.d.next = FState::Report;
                }
            }
            FState::Report => {
                // The B path holds its responses this cycle: one report at a time.
                self.err_set.next = self.f_errbits.q.val();
                self.err_queue.next = self.f_queue.q.val();
                self.err_addr.next = self.f_daddr.q.val();
                self.f_state.d.next = FState::Out;
            }
            FState::Out => {
                if self.c_state.q.val() == CState::Idle {
                    self.c_take.next = true;
                    self.f_state.d.next = FState::Idle;
                }
            }
        }

        // ---- Stage C: data.
        match self.c_state.q.val() {
            CState::Idle => {
                if self.c_take.val() {
                    self.cnt_c.next = self.f_cnt.q.val();
                    self.c_queue.d.next = self.f_queue.q.val();
                    self.c_hash.d.next = self.f_hash.q.val();
                    self.c_type.d.next = self.f_type.q.val();
                    self.c_len.d.next = self.f_len.q.val();
                    self.c_mode.d.next = self.f_mode.q.val();
                    self.c_dindex.d.next = self.f_dindex.q.val();
                    self.c_addr.d.next = self.f_baddr.q.val();
                    self.c_left.d.next = (self.f_len.q.val() + 7) >> 3;
                    if self.predrained.q.val() {
                        // Its beats are already gone (see "Frames larger than
                        // the FIFO").
                        self.predrained.d.next = false;
                    } else if self.f_mode.q.val() == self.c_mode_write.val() {
                        self.c_state.d.next = CState::Aw;
                    } else {
                        self.c_state.d.next = CState::Discard;
                    }
                } else if (self.frames_in.q.val() == 0)
                    & (self.ffifo.count.val() >= self.c_drain_level.val())
                {
                    self.c_state.d.next = CState::Drain;
                }
            }
            CState::Aw => {
                // Wait for the write channel; in the grant cycle (`c_go`) the
                // burst's AW and first beat are already offered.
                self.c_blen.d.next = self.c_burst.val();
                self.c_bcnt.d.next = self.c_burst.val();
                self.c_lastb.d.next = self.c_lb.val();
                self.c_awdone.d.next = false;
                self.c_wdone.d.next = false;
                if self.c_go.val() {
                    self.c_state.d.next = CState::Burst;
                    if self.c_aw_hs.val() {
                        self.c_awdone.d.next = true;
                    }
                    if self.c_w_hs.val() {
                        self.ff_pop.next = true;
                        self.c_bcnt.d.next = self.c_burst.val() - 1;
                        self.c_left.d.next = self.c_left.q.val() - 1;
                        if self.c_burst.val() == 1 {
                            self.c_wdone.d.next = true;
                        }
                    }
                }
            }
            CState::Burst => {
                if self.c_aw_hs.val() {
                    self.c_awdone.d.next = true;
                }
                if self.c_w_hs.val() {
                    self.ff_pop.next = true;
                    self.c_bcnt.d.next = self.c_bcnt.q.val() - 1;
                    self.c_left.d.next = self.c_left.q.val() - 1;
                    if self.c_bcnt.q.val() == 1 {
                        self.c_wdone.d.next = true;
                    }
                }
                if (self.c_awdone.q.val() | self.c_aw_hs.val())
                    & (self.c_wdone.q.val() | (self.c_w_hs.val() & (self.c_bcnt.q.val() == 1)))
                {
                    self.c_addr.d.next =
                        self.c_addr.q.val() + (bit_cast::<64, 16>(self.c_blen.q.val()) << 3);
                    if self.c_lastb.q.val() {
                        self.c_hand.next = true;
                    } else {
                        self.c_state.d.next = CState::Aw;
                    }
                }
            }
            CState::Discard => {
                if self.ffifo.valid.val() {
                    self.ff_pop.next = true;
                    if self.ffifo.dout.val().get_bit(72) {
                        if self.c_mode.q.val() == self.c_mode_desc_err.val() {
                            self.c_hand.next = true;
                        } else {
                            self.c_state.d.next = CState::Idle;
                        }
                    }
                }
            }
            CState::Drain => {
                if self.ffifo.valid.val() {
                    self.ff_pop.next = true;
                    if self.ffifo.dout.val().get_bit(72) {
                        self.predrained.d.next = true;
                        self.c_state.d.next = CState::Idle;
                    }
                }
            }
            CState::Hand => {
                self.c_hand.next = true;
            }
        }
        // The frame's data is issued (or it completes with DESC_ERROR): hand it
        // to D through `cdq` and take the next one; wait in Hand while it is full.
        if self.c_hand.val() {
            if self.cdq.full.val() {
                self.c_state.d.next = CState::Hand;
            } else {
                self.cdq.push.next = true;
                self.c_state.d.next = CState::Idle;
            }
        }
        self.ffifo.pop.next = self.ff_pop.val();
        self.ff_last.next = self.ff_pop.val() & self.ffifo.dout.val().get_bit(72);
        if self.frames_up.val() & !self.ff_last.val() {
            self.frames_in.d.next = self.frames_in.q.val() + 1;
        }
        if self.ff_last.val() & !self.frames_up.val() {
            self.frames_in.d.next = self.frames_in.q.val() - 1;
        }

        // ---- Stage D: completion.
        match self.d_state.q.val() {
            DState::Idle => {
                if self.cerrq.valid.val() {
                    // A completion write failed: stop that queue first.
                    self.cerrq.pop.next = true;
                    self.d_queue.d.next = self.cerrq.dout.val();
                    self.d_dmaerr.d.next = false;
                    self.d_state.d.next = DState::ErrOp;
                } else if self.cdq.valid.val() {
                    self.cdq.pop.next = true;
                    self.d_queue.d.next = self.cdq.dout.val().get_bits::<QW>(69);
                    self.d_hash.d.next = self.cdq.dout.val().get_bits::<32>(0);
                    self.d_type.d.next = self.cdq.dout.val().get_bits::<3>(64);
                    self.d_dindex.d.next = self.cdq.dout.val().get_bits::<16>(48);
                    self.d_dmaerr.d.next = false;
                    if self.cdq.dout.val().get_bits::<2>(67) == self.c_mode_write.val() {
                        self.d_write.d.next = true;
                        self.d_clen.d.next = self.cdq.dout.val().get_bits::<16>(32);
                        self.d_status.d.next = self.c_cpl_ok.val();
                        self.d_state.d.next = DState::Res;
                    } else {
                        self.d_write.d.next = false;
                        self.d_clen.d.next = 0.into();
                        self.d_status.d.next = self.c_cpl_desc_error.val();
                        self.d_state.d.next = DState::Op;
                    }
                }
            }
            DState::Res => {
                if self.dres.valid.val() {
                    self.dres.pop.next = true;
                    if self.dres.dout.val() {
                        self.d_dmaerr.d.next = true;
                        self.d_state.d.next = DState::ErrOp;
                    } else {
                        self.d_state.d.next = DState::Op;
                    }
                }
            }
            DState::Op => {
                if self.rsp_d.val() & (self.s_rsp_status.val() != self.c_rsp_full.val()) {
                    self.d_caddr.d.next = self.s_rsp_addr.val();
                    self.d_phase.d.next = self.s_rsp_phase.val();
                    self.d_vector.d.next = self.s_rsp_vector.val();
                    self.d_mod.d.next = self.s_rsp_moderation.val();
                    self.d_state.d.next = DState::Out;
                }
            }
            DState::Out => {
                // G takes the completion when it is free: D goes on with the
                // next frame's slot while G waits for the write channel.
                if self.g_state.q.val() == GState::Idle {
                    self.g_queue.d.next = self.d_queue.q.val();
                    self.g_hash.d.next = self.d_hash.q.val();
                    self.g_type.d.next = self.d_type.q.val();
                    self.g_clen.d.next = self.d_clen.q.val();
                    self.g_status.d.next = self.d_status.q.val();
                    self.g_dindex.d.next = self.d_dindex.q.val();
                    self.g_caddr.d.next = self.d_caddr.q.val();
                    self.g_phase.d.next = self.d_phase.q.val();
                    self.g_vector.d.next = self.d_vector.q.val();
                    self.g_mod.d.next = self.d_mod.q.val();
                    self.g_awdone.d.next = false;
                    self.g_wbeat.d.next = 0.into();
                    self.g_state.d.next = GState::Aw;
                    self.d_state.d.next = DState::Idle;
                }
            }
            DState::ErrOp => {
                if self.rsp_d.val() {
                    self.dma_add.next = self.d_dmaerr.q.val();
                    self.d_state.d.next = DState::Idle;
                }
            }
        }

        // ---- Stage G: the completion burst (2 beats, phase dword last).
        match self.g_state.q.val() {
            GState::Idle => {}
            GState::Aw => {
                // As C: the grant cycle offers the AW and beat 0.
                if self.g_go.val() {
                    self.g_state.d.next = GState::Burst;
                    if self.g_aw_hs.val() {
                        self.g_awdone.d.next = true;
                    }
                    if self.g_w_hs.val() {
                        self.g_wbeat.d.next = 1.into();
                    }
                }
            }
            GState::Burst => {
                if self.g_aw_hs.val() {
                    self.g_awdone.d.next = true;
                }
                if self.g_w_hs.val() {
                    self.g_wbeat.d.next = self.g_wbeat.q.val() + 1;
                }
                if (self.g_awdone.q.val() | self.g_aw_hs.val())
                    & ((self.g_wbeat.q.val() == 2)
                        | (self.g_w_hs.val() & (self.g_wbeat.q.val() == 1)))
                {
                    self.g_state.d.next = GState::Idle;
                }
            }
        }

        // ---- Counters: K counts frames, C counts drops; D's data-write
        // errors wait in `dma_pend` for a cycle in which C does not pulse DMA_ERROR.
        self.dma_emit.next = (self.dma_pend.q.val() != 0) & !self.cnt_c.val().get_bit(6);
        if self.dma_add.val() & !self.dma_emit.val() {
            self.dma_pend.d.next = self.dma_pend.q.val() + 1;
        }
        if self.dma_emit.val() & !self.dma_add.val() {
            self.dma_pend.d.next = self.dma_pend.q.val() - 1;
        }
        self.cnt_inc.next = self.cnt_k.val() | self.cnt_c.val();
        if self.dma_emit.val() {
            self.cnt_inc.next = self.cnt_k.val() | self.cnt_c.val() | self.c_cnt_dma.val();
        }

        self.idle.next = (self.k_state.q.val() == KState::Idle)
            & (self.e_state.q.val() == EState::Idle)
            & (self.f_state.q.val() == FState::Idle)
            & self.rdq.empty.val()
            & (self.c_state.q.val() == CState::Idle)
            & self.cdq.empty.val()
            & self.cerrq.empty.val()
            & (self.d_state.q.val() == DState::Idle)
            & (self.g_state.q.val() == GState::Idle)
            & self.tags.empty.val()
            & (!self.op_busy.q.val())
            & (self.dma_pend.q.val() == 0)
            & self.evinfo.empty.val();

        if self.rst.val() {
            self.k_state.d.next = KState::Idle;
            self.e_state.d.next = EState::Idle;
            self.f_state.d.next = FState::Idle;
            self.c_state.d.next = CState::Idle;
            self.d_state.d.next = DState::Idle;
            self.g_state.d.next = GState::Idle;
            self.frames_in.d.next = 0.into();
            self.predrained.d.next = false;
            self.w_head.d.next = 0.into();
            self.w_next.d.next = 0.into();
            self.op_busy.d.next = false;
            self.b_acc.d.next = false;
            self.dma_pend.d.next = 0.into();
            self.op_owner_f.d.next = false;
        }
    }
}
