//! `tx_engine` — the transmit data path: doorbell → descriptor fetch → frame DMA
//! read → AXI4-Stream to the MAC → completion write → event.
//!
//! Ports by group:
//! * `clk`, `rst` (synchronous, active high).
//! * `s_db_*`: queue numbers from `tx_queue.m_db_*` (one per `DB_DESC_PROD` write).
//! * `m_op_*` / `s_rsp_*`: engine operations on `tx_queue` (`queue_state`):
//!   `OP_TAKE_DESC`, `OP_COMPLETE`, `OP_ERROR`; one outstanding.
//! * `m_axi_*`: AXI4 master to `dma_arb.s_axi_tx_*` (64-bit address and data).
//!   Descriptor reads use ARID 1, frame reads ARID 0, completion writes AWID 0, so
//!   each kind of response arrives in issue order (AXI orders per ID) and R beats
//!   are routed by `RID`.
//! * `m_axis_tx_*`: frames to the MAC (byte 0 in `tdata[7:0]`, `tkeep` contiguous,
//!   only the last beat partial, `tuser` = 1 on the last beat: discard the frame).
//! * `m_event_*`: a completion of the queue is in host memory (its write got an
//!   OKAY B), with the vector and moderation that `OP_COMPLETE` answered.
//! * `cnt_inc` (bit 0 TX_FRAMES, bit 1 TX_ERRORS), `err_set` (bit 0 DMA_READ,
//!   bit 1 DMA_WRITE, bit 3 DESC) with `err_queue`/`err_addr`: one-cycle pulses
//!   for `csr`.
//! * `halt` in, `idle` out: the soft-reset handshake.
//!
//! **Work list.** A FIFO (RAM, depth `2^QW`) of queue numbers with posted
//! descriptors, plus a one-bit-per-queue "listed" RAM. A doorbell for a queue that
//! is listed (in the FIFO or being served) is dropped, so a queue is in the FIFO
//! at most once and the FIFO cannot overflow however often the driver rings.
//! Doorbells take two cycles (read the bit, then set it and push); the bit RAM's
//! write of the previous cycle is forwarded. The fetch stage pops a queue and
//! takes up to `BUDGET` (8) descriptors from it (`OP_TAKE_DESC` until EMPTY or
//! DISABLED); if the budget ran out the queue goes to the back of the FIFO
//! (its bit stays set), otherwise its bit is cleared and the queue leaves the
//! list. So a busy queue gets at most 8 frames before every other listed queue
//! had its turn. A doorbell that races with the EMPTY answer is safe: `tx_queue`
//! writes the producer index before it emits the doorbell, and the bit is cleared
//! in the cycle after the answer, long before the doorbell can be checked.
//!
//! **Pipeline (what overlaps).** Four stages with one-entry slots between them,
//! each working on a different descriptor:
//! 1. fetch: work list, `OP_TAKE_DESC`, 16-byte descriptor read (one 2-beat
//!    burst), validity check;
//! 2. AR issue: the frame's read bursts (INCR, 8-byte beats, ≤ 256 beats, never
//!    crossing 4 KiB), issued as soon as the descriptor is known, i.e. while the
//!    previous frame is still streaming;
//! 3. stream: R beats of the frame go straight to `m_axis_tx` (cut-through,
//!    `rready` is the MAC's `tready`);
//! 4. completion: `OP_COMPLETE`, the 2-beat completion write (phase dword in the
//!    second beat, so it lands last), the B response, the event.
//!
//! The next descriptor's fetch and the previous frame's completion therefore run
//! while the current frame streams. Measured with no backpressure and a host
//! memory of a few cycles' latency (tb/tx_engine, `throughput`): see the bench's
//! printout; one queue, back-to-back frames: 14.0 cycles per 64-byte frame
//! (8 beats; the completion stage's op + 2-beat write + B round trip, about 13
//! cycles, is then the limit) and 196.0 cycles per 1514-byte frame (190 beats:
//! 2 cycles between frames in the stream stage plus the per-frame read latency
//! that the AR issue stage does not fully hide).
//!
//! **Ordering.** Descriptors are taken in order per queue and flow through the
//! stages in order, so frames and completions leave in descriptor order per
//! queue. An event is raised only after the completion write's OKAY B response
//! (DESIGN.md, "the ordering argument").
//!
//! **Errors.**
//! * Descriptor read answered ≠ OKAY: `OP_ERROR` (the queue stops), `err_set`
//!   DMA_READ with the descriptor's address, TX_ERRORS; nothing is sent, no
//!   completion; the queue leaves the list.
//! * Descriptor LEN 0, LEN > MAX_MTU, or ADDR not 8-byte aligned: nothing is sent;
//!   completion with status DESC_ERROR and LEN 0; `err_set` DESC with the
//!   descriptor's address; TX_ERRORS.
//! * A frame read beat answered ≠ OKAY: the frame still goes to the MAC at its
//!   full length (the beats already sent cannot be recalled, and reading the
//!   remaining bursts keeps the R bookkeeping that of a normal frame), with
//!   `tuser` = 1 on its last beat so the MAC discards it; then `OP_ERROR`,
//!   `err_set` DMA_READ with the address of the first failing burst, TX_ERRORS;
//!   no completion, no event, no TX_FRAMES.
//! * Completion write answered ≠ OKAY: `OP_ERROR`, `err_set` DMA_WRITE with the
//!   slot address, no event (the frame itself was sent and counted).
//! * Descriptors of a queue taken before its `OP_ERROR` are still sent and
//!   completed, as `tx_queue` lets a stopped queue complete its frames in flight.
//!   The failing frame's `OP_ERROR` is sent from the completion stage, so up to
//!   four descriptors behind it may have been taken by then: one each in the
//!   stream stage, the frame slot, the job slot and the fetch stage (cocotb
//!   `tb/core` test_core_napi sees three).
//! * `OP_COMPLETE` answered RSP_FULL (the driver posted more descriptors than
//!   completion slots it has returned) is retried until a slot frees: the frame is
//!   already on the wire and its completion must not be lost. This holds the
//!   completion stage (and behind it the engine) until the driver consumes
//!   completions of that queue.
//!
//! **Halt, reset.** `halt` stops the fetch stage before its next `OP_TAKE_DESC`;
//! every descriptor already taken is sent and completed, every issued AXI
//! transaction finishes. `idle` is high when no stage holds work, no operation or
//! AXI transaction is outstanding and no event waits (the fetch stage may be
//! parked before a take). `rst` returns every stage to idle, empties the work
//! list, and sweeps the listed RAM (one queue per cycle; doorbells wait and
//! `idle` is low meanwhile, as at power-up).

use oxnic_regs::{cpl, cpl_status, tx_desc, MAX_MTU};
use rust_hdl::prelude::*;

use crate::queue_state::{OP_COMPLETE, OP_ERROR, OP_TAKE_DESC, RSP_DISABLED, RSP_EMPTY, RSP_FULL};

/// Descriptors taken from one queue per visit before it goes to the back of the list.
pub const BUDGET: u64 = 8;

// Job kinds carried between the stages.
const K_DATA: u64 = 0;
const K_BAD: u64 = 1;
const K_RDERR: u64 = 2;
const K_DERR: u64 = 3;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum FetchState {
    Idle,
    Pop,
    Take,
    TakeRsp,
    DescAr,
    DescR,
    Push,
    End,
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum IssueState {
    Idle,
    Issue,
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum StreamState {
    Idle,
    Stream,
    Done,
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum CplState {
    Idle,
    Op,
    OpRsp,
    Aw,
    W0,
    W1,
    B,
    Notify,
}

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.to_bits())
}

/// The transmit engine for up to `2^QW` queues.
#[derive(LogicBlock)]
pub struct TxEngine<const QW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset: all stages idle, work list empty, listed RAM swept.
    pub rst: Signal<In, Bit>,
    /// Doorbell from `tx_queue`.
    pub s_db_valid: Signal<In, Bit>,
    /// Doorbell taken.
    pub s_db_ready: Signal<Out, Bit>,
    /// Queue whose `DB_DESC_PROD` was written.
    pub s_db_queue: Signal<In, Bits<QW>>,
    /// Operation request to `tx_queue`.
    pub m_op_valid: Signal<Out, Bit>,
    /// Operation accepted.
    pub m_op_ready: Signal<In, Bit>,
    /// Queue of the operation.
    pub m_op_queue: Signal<Out, Bits<QW>>,
    /// `OP_*`.
    pub m_op_code: Signal<Out, Bits<2>>,
    /// Frame length (`OP_COMPLETE`).
    pub m_op_len: Signal<Out, Bits<16>>,
    /// Answer (one cycle).
    pub s_rsp_valid: Signal<In, Bit>,
    /// `RSP_*`.
    pub s_rsp_status: Signal<In, Bits<2>>,
    /// Descriptor or completion slot address.
    pub s_rsp_addr: Signal<In, Bits<64>>,
    /// Descriptor or completion index.
    pub s_rsp_index: Signal<In, Bits<16>>,
    /// Completion phase.
    pub s_rsp_phase: Signal<In, Bit>,
    /// The queue's vector.
    pub s_rsp_vector: Signal<In, Bits<12>>,
    /// The queue's moderation setting.
    pub s_rsp_moderation: Signal<In, Bits<32>>,
    /// AXI write ID (always 0).
    pub m_axi_awid: Signal<Out, Bits<4>>,
    /// AXI write address.
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    /// AXI burst length - 1.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// AXI beat size (3: 8 bytes).
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// AXI burst type (INCR).
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AXI write address valid.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AXI write address ready.
    pub m_axi_awready: Signal<In, Bit>,
    /// AXI write data.
    pub m_axi_wdata: Signal<Out, Bits<64>>,
    /// AXI write strobes.
    pub m_axi_wstrb: Signal<Out, Bits<8>>,
    /// AXI last write beat.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// AXI write data valid.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// AXI write data ready.
    pub m_axi_wready: Signal<In, Bit>,
    /// AXI write response ID.
    pub m_axi_bid: Signal<In, Bits<4>>,
    /// AXI write response.
    pub m_axi_bresp: Signal<In, Bits<2>>,
    /// AXI write response valid.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// AXI write response ready.
    pub m_axi_bready: Signal<Out, Bit>,
    /// AXI read ID (1 descriptor, 0 frame data).
    pub m_axi_arid: Signal<Out, Bits<4>>,
    /// AXI read address.
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    /// AXI read burst length - 1.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// AXI read beat size (3).
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// AXI read burst type (INCR).
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// AXI read address valid.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// AXI read address ready.
    pub m_axi_arready: Signal<In, Bit>,
    /// AXI read data ID.
    pub m_axi_rid: Signal<In, Bits<4>>,
    /// AXI read data.
    pub m_axi_rdata: Signal<In, Bits<64>>,
    /// AXI read response.
    pub m_axi_rresp: Signal<In, Bits<2>>,
    /// AXI last read beat.
    pub m_axi_rlast: Signal<In, Bit>,
    /// AXI read data valid.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// AXI read data ready.
    pub m_axi_rready: Signal<Out, Bit>,
    /// Frame data to the MAC.
    pub m_axis_tx_tdata: Signal<Out, Bits<64>>,
    /// Byte enables (contiguous from bit 0).
    pub m_axis_tx_tkeep: Signal<Out, Bits<8>>,
    /// Beat valid.
    pub m_axis_tx_tvalid: Signal<Out, Bit>,
    /// MAC ready.
    pub m_axis_tx_tready: Signal<In, Bit>,
    /// Last beat of the frame.
    pub m_axis_tx_tlast: Signal<Out, Bit>,
    /// On the last beat: the MAC must discard the frame.
    pub m_axis_tx_tuser: Signal<Out, Bit>,
    /// Event: a completion of `m_event_queue` is in host memory.
    pub m_event_valid: Signal<Out, Bit>,
    /// Event taken.
    pub m_event_ready: Signal<In, Bit>,
    /// Queue of the event.
    pub m_event_queue: Signal<Out, Bits<QW>>,
    /// The queue's vector (from `OP_COMPLETE`).
    pub m_event_vector: Signal<Out, Bits<12>>,
    /// The queue's moderation (from `OP_COMPLETE`).
    pub m_event_moderation: Signal<Out, Bits<32>>,
    /// Counter pulses: bit 0 TX_FRAMES, bit 1 TX_ERRORS.
    pub cnt_inc: Signal<Out, Bits<2>>,
    /// Error pulses: bit 0 DMA_READ, bit 1 DMA_WRITE, bit 3 DESC.
    pub err_set: Signal<Out, Bits<4>>,
    /// Queue of the error.
    pub err_queue: Signal<Out, Bits<QW>>,
    /// Address of the error.
    pub err_addr: Signal<Out, Bits<64>>,
    /// Stop taking descriptors.
    pub halt: Signal<In, Bit>,
    /// Nothing in progress or outstanding.
    pub idle: Signal<Out, Bit>,

    // Constants.
    c_budget: Constant<Bits<4>>,
    c_max_mtu: Constant<Bits<16>>,
    c_k_data: Constant<Bits<2>>,
    c_k_bad: Constant<Bits<2>>,
    c_k_rderr: Constant<Bits<2>>,
    c_k_derr: Constant<Bits<2>>,
    c_op_take: Constant<Bits<2>>,
    c_op_complete: Constant<Bits<2>>,
    c_op_error: Constant<Bits<2>>,
    c_rsp_disabled: Constant<Bits<2>>,
    c_rsp_empty: Constant<Bits<2>>,
    c_rsp_full: Constant<Bits<2>>,
    c_st_ok: Constant<Bits<4>>,
    c_st_desc_error: Constant<Bits<4>>,
    c_sh_status: Constant<Bits<8>>,
    c_sh_queue: Constant<Bits<8>>,
    c_sh_phase: Constant<Bits<8>>,
    c_id_desc: Constant<Bits<4>>,
    c_id_data: Constant<Bits<4>>,
    c_c512: Constant<Bits<16>>,
    c_c256: Constant<Bits<16>>,
    c_one8: Constant<Bits<8>>,

    // Work list.
    listed: RAM<Bit, QW>,
    wl_fifo: RAM<Bits<QW>, QW>,
    wl_head: DFF<Bits<QW>>,
    wl_tail: DFF<Bits<QW>>,
    wl_cnt: DFF<Bits<16>>,
    db_check: DFF<Bit>,
    db_q: DFF<Bits<QW>>,
    lw_v: DFF<Bit>,
    lw_q: DFF<Bits<QW>>,
    lw_d: DFF<Bit>,
    wl_v: DFF<Bit>,
    wl_q: DFF<Bits<QW>>,
    wl_keep: DFF<Bit>,
    cleared: DFF<Bit>,
    sweep: DFF<Bits<QW>>,

    // Operation port.
    op_busy: DFF<Bit>,
    op_owner_c: DFF<Bit>,

    // AR channel hold (the presented request stays until taken).
    ar_hold: DFF<Bit>,
    ar_hold_f: DFF<Bit>,

    // Fetch stage.
    f_state: DFF<FetchState>,
    f_q: DFF<Bits<QW>>,
    f_budget: DFF<Bits<4>>,
    f_daddr: DFF<Bits<64>>,
    f_idx: DFF<Bits<16>>,
    f_addr: DFF<Bits<64>>,
    f_len: DFF<Bits<16>>,
    f_err: DFF<Bit>,
    f_beat: DFF<Bit>,
    f_relist: DFF<Bit>,

    // Job slot (fetch → issue).
    j_v: DFF<Bit>,
    j_q: DFF<Bits<QW>>,
    j_idx: DFF<Bits<16>>,
    j_faddr: DFF<Bits<64>>,
    j_len: DFF<Bits<16>>,
    j_kind: DFF<Bits<2>>,
    j_daddr: DFF<Bits<64>>,

    // Issue stage.
    a_state: DFF<IssueState>,
    a_addr: DFF<Bits<64>>,
    a_left: DFF<Bits<16>>,

    // Frame slot (issue → stream).
    fr_v: DFF<Bit>,
    fr_q: DFF<Bits<QW>>,
    fr_idx: DFF<Bits<16>>,
    fr_faddr: DFF<Bits<64>>,
    fr_len: DFF<Bits<16>>,
    fr_kind: DFF<Bits<2>>,
    fr_daddr: DFF<Bits<64>>,

    // Stream stage.
    s_state: DFF<StreamState>,
    s_q: DFF<Bits<QW>>,
    s_idx: DFF<Bits<16>>,
    s_len: DFF<Bits<16>>,
    s_kind: DFF<Bits<2>>,
    s_daddr: DFF<Bits<64>>,
    s_left: DFF<Bits<16>>,
    s_beat_addr: DFF<Bits<64>>,
    s_burst_addr: DFF<Bits<64>>,
    s_err: DFF<Bit>,
    s_eaddr: DFF<Bits<64>>,

    // Completion slot (stream → completion).
    cj_v: DFF<Bit>,
    cj_q: DFF<Bits<QW>>,
    cj_idx: DFF<Bits<16>>,
    cj_len: DFF<Bits<16>>,
    cj_kind: DFF<Bits<2>>,
    cj_eaddr: DFF<Bits<64>>,

    // Completion stage.
    c_state: DFF<CplState>,
    c_q: DFF<Bits<QW>>,
    c_idx: DFF<Bits<16>>,
    c_len: DFF<Bits<16>>,
    c_kind: DFF<Bits<2>>,
    c_code: DFF<Bits<2>>,
    c_slot: DFF<Bits<64>>,
    c_phase: DFF<Bit>,
    c_vector: DFF<Bits<12>>,
    c_mod: DFF<Bits<32>>,

    // Combinational helpers.
    listed_now: Signal<Local, Bit>,
    push_v: Signal<Local, Bit>,
    push_q: Signal<Local, Bits<QW>>,
    pop: Signal<Local, Bit>,
    f_op_req: Signal<Local, Bit>,
    c_op_req: Signal<Local, Bit>,
    f_gnt: Signal<Local, Bit>,
    c_gnt: Signal<Local, Bit>,
    f_rsp: Signal<Local, Bit>,
    c_rsp: Signal<Local, Bit>,
    f_arv: Signal<Local, Bit>,
    a_arv: Signal<Local, Bit>,
    ar_sel_f: Signal<Local, Bit>,
    f_ar_go: Signal<Local, Bit>,
    a_ar_go: Signal<Local, Bit>,
    a_to4k: Signal<Local, Bits<16>>,
    a_beats: Signal<Local, Bits<16>>,
    r_desc: Signal<Local, Bit>,
    r_data: Signal<Local, Bit>,
    r_bad: Signal<Local, Bit>,
    beat_go: Signal<Local, Bit>,
    last_beat: Signal<Local, Bit>,
    last_keep: Signal<Local, Bits<8>>,
    bad_desc: Signal<Local, Bit>,
    c_status: Signal<Local, Bits<4>>,
    cnt_v: Signal<Local, Bits<2>>,
    a_len_m1: Signal<Local, Bits<16>>,
}

impl<const QW: usize> Default for TxEngine<QW> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const QW: usize> TxEngine<QW> {
    /// A transmit engine for up to `2^QW` queues.
    pub fn new() -> Self {
        assert!((1..=10).contains(&QW), "QW {QW} out of range");
        // The formats this block hard-wires: descriptor ADDR in beat 0, LEN in
        // bits 15:0 of beat 1; completion LEN/STATUS in dword 0, DESC_INDEX/QUEUE
        // in dword 2, PHASE in dword 3 (beat 1, upper half).
        const { assert!(tx_desc::ADDR.word_offset == 0 && tx_desc::ADDR.width == 64) };
        const {
            assert!(
                tx_desc::LEN.word_offset == 8 && tx_desc::LEN.lsb == 0 && tx_desc::LEN.width == 16
            )
        };
        const { assert!(cpl::LEN.word_offset == 0 && cpl::LEN.lsb == 0) };
        const { assert!(cpl::STATUS.word_offset == 0) };
        const { assert!(cpl::DESC_INDEX.word_offset == 8 && cpl::DESC_INDEX.lsb == 0) };
        assert!(cpl::QUEUE.word_offset == 8 && cpl::QUEUE.width >= QW as u32);
        const { assert!(cpl::PHASE.word_offset == 12) };
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_db_valid: Default::default(),
            s_db_ready: Default::default(),
            s_db_queue: Default::default(),
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
            m_axis_tx_tdata: Default::default(),
            m_axis_tx_tkeep: Default::default(),
            m_axis_tx_tvalid: Default::default(),
            m_axis_tx_tready: Default::default(),
            m_axis_tx_tlast: Default::default(),
            m_axis_tx_tuser: Default::default(),
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
            c_budget: k(BUDGET),
            c_max_mtu: k(MAX_MTU as u64),
            c_k_data: k(K_DATA),
            c_k_bad: k(K_BAD),
            c_k_rderr: k(K_RDERR),
            c_k_derr: k(K_DERR),
            c_op_take: k(OP_TAKE_DESC),
            c_op_complete: k(OP_COMPLETE),
            c_op_error: k(OP_ERROR),
            c_rsp_disabled: k(RSP_DISABLED),
            c_rsp_empty: k(RSP_EMPTY),
            c_rsp_full: k(RSP_FULL),
            c_st_ok: k(cpl_status::OK as u64),
            c_st_desc_error: k(cpl_status::DESC_ERROR as u64),
            c_sh_status: k(cpl::STATUS.lsb as u64),
            c_sh_queue: k(cpl::QUEUE.lsb as u64),
            c_sh_phase: k(32 + cpl::PHASE.lsb as u64),
            c_id_desc: k(1),
            c_id_data: k(0),
            c_c512: k(512),
            c_c256: k(256),
            c_one8: k(1),
            listed: Default::default(),
            wl_fifo: Default::default(),
            wl_head: Default::default(),
            wl_tail: Default::default(),
            wl_cnt: Default::default(),
            db_check: Default::default(),
            db_q: Default::default(),
            lw_v: Default::default(),
            lw_q: Default::default(),
            lw_d: Default::default(),
            wl_v: Default::default(),
            wl_q: Default::default(),
            wl_keep: Default::default(),
            cleared: Default::default(),
            sweep: Default::default(),
            op_busy: Default::default(),
            op_owner_c: Default::default(),
            ar_hold: Default::default(),
            ar_hold_f: Default::default(),
            f_state: Default::default(),
            f_q: Default::default(),
            f_budget: Default::default(),
            f_daddr: Default::default(),
            f_idx: Default::default(),
            f_addr: Default::default(),
            f_len: Default::default(),
            f_err: Default::default(),
            f_beat: Default::default(),
            f_relist: Default::default(),
            j_v: Default::default(),
            j_q: Default::default(),
            j_idx: Default::default(),
            j_faddr: Default::default(),
            j_len: Default::default(),
            j_kind: Default::default(),
            j_daddr: Default::default(),
            a_state: Default::default(),
            a_addr: Default::default(),
            a_left: Default::default(),
            fr_v: Default::default(),
            fr_q: Default::default(),
            fr_idx: Default::default(),
            fr_faddr: Default::default(),
            fr_len: Default::default(),
            fr_kind: Default::default(),
            fr_daddr: Default::default(),
            s_state: Default::default(),
            s_q: Default::default(),
            s_idx: Default::default(),
            s_len: Default::default(),
            s_kind: Default::default(),
            s_daddr: Default::default(),
            s_left: Default::default(),
            s_beat_addr: Default::default(),
            s_burst_addr: Default::default(),
            s_err: Default::default(),
            s_eaddr: Default::default(),
            cj_v: Default::default(),
            cj_q: Default::default(),
            cj_idx: Default::default(),
            cj_len: Default::default(),
            cj_kind: Default::default(),
            cj_eaddr: Default::default(),
            c_state: Default::default(),
            c_q: Default::default(),
            c_idx: Default::default(),
            c_len: Default::default(),
            c_kind: Default::default(),
            c_code: Default::default(),
            c_slot: Default::default(),
            c_phase: Default::default(),
            c_vector: Default::default(),
            c_mod: Default::default(),
            listed_now: Default::default(),
            push_v: Default::default(),
            push_q: Default::default(),
            pop: Default::default(),
            f_op_req: Default::default(),
            c_op_req: Default::default(),
            f_gnt: Default::default(),
            c_gnt: Default::default(),
            f_rsp: Default::default(),
            c_rsp: Default::default(),
            f_arv: Default::default(),
            a_arv: Default::default(),
            ar_sel_f: Default::default(),
            f_ar_go: Default::default(),
            a_ar_go: Default::default(),
            a_to4k: Default::default(),
            a_beats: Default::default(),
            r_desc: Default::default(),
            r_data: Default::default(),
            r_bad: Default::default(),
            beat_go: Default::default(),
            last_beat: Default::default(),
            last_keep: Default::default(),
            bad_desc: Default::default(),
            c_status: Default::default(),
            cnt_v: Default::default(),
            a_len_m1: Default::default(),
        }
    }
}

impl<const QW: usize> Logic for TxEngine<QW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clk,
            wl_head,
            wl_tail,
            wl_cnt,
            db_check,
            db_q,
            lw_v,
            lw_q,
            lw_d,
            wl_v,
            wl_q,
            wl_keep,
            cleared,
            sweep,
            op_busy,
            op_owner_c,
            ar_hold,
            ar_hold_f,
            f_state,
            f_q,
            f_budget,
            f_daddr,
            f_idx,
            f_addr,
            f_len,
            f_err,
            f_beat,
            f_relist,
            j_v,
            j_q,
            j_idx,
            j_faddr,
            j_len,
            j_kind,
            j_daddr,
            a_state,
            a_addr,
            a_left,
            fr_v,
            fr_q,
            fr_idx,
            fr_faddr,
            fr_len,
            fr_kind,
            fr_daddr,
            s_state,
            s_q,
            s_idx,
            s_len,
            s_kind,
            s_daddr,
            s_left,
            s_beat_addr,
            s_burst_addr,
            s_err,
            s_eaddr,
            cj_v,
            cj_q,
            cj_idx,
            cj_len,
            cj_kind,
            cj_eaddr,
            c_state,
            c_q,
            c_idx,
            c_len,
            c_kind,
            c_code,
            c_slot,
            c_phase,
            c_vector,
            c_mod
        );
        self.listed.read_clock.next = self.clk.val();
        self.listed.write_clock.next = self.clk.val();
        self.wl_fifo.read_clock.next = self.clk.val();
        self.wl_fifo.write_clock.next = self.clk.val();

        // ---------------------------------------------------------------
        // Work list: doorbells, listed bits, the queue FIFO.
        // ---------------------------------------------------------------
        self.s_db_ready.next = self.cleared.q.val() & !self.db_check.q.val();
        self.listed.read_address.next = self.s_db_queue.val();
        if self.db_check.q.val() {
            self.listed.read_address.next = self.db_q.q.val();
        }
        // The bit as it is now: the RAM's read misses the write of the last cycle.
        self.listed_now.next = self.listed.read_data.val();
        if self.lw_v.q.val() & (self.lw_q.q.val() == self.db_q.q.val()) {
            self.listed_now.next = self.lw_d.q.val();
        }
        self.listed.write_enable.next = false;
        self.listed.write_address.next = self.wl_q.q.val();
        self.listed.write_data.next = false;
        self.push_v.next = false;
        self.push_q.next = self.wl_q.q.val();
        if self.s_db_valid.val() & self.cleared.q.val() & !self.db_check.q.val() {
            self.db_check.d.next = true;
            self.db_q.d.next = self.s_db_queue.val();
        }
        if self.wl_v.q.val() {
            // The fetch stage's end-of-visit decision has the FIFO push and the
            // RAM write port this cycle; a doorbell check waits one cycle.
            if self.wl_keep.q.val() {
                self.push_v.next = true;
            } else {
                self.listed.write_enable.next = true;
            }
        } else if self.db_check.q.val() {
            self.db_check.d.next = false;
            if !self.listed_now.val() {
                self.listed.write_enable.next = true;
                self.listed.write_address.next = self.db_q.q.val();
                self.listed.write_data.next = true;
                self.push_v.next = true;
                self.push_q.next = self.db_q.q.val();
            }
        }
        self.wl_v.d.next = false;
        // Reset sweep of the listed bits.
        if !self.cleared.q.val() {
            self.listed.write_enable.next = true;
            self.listed.write_address.next = self.sweep.q.val();
            self.listed.write_data.next = false;
            self.sweep.d.next = self.sweep.q.val() + 1;
            if self.sweep.q.val().all() {
                self.cleared.d.next = true;
            }
        }
        self.lw_v.d.next = self.listed.write_enable.val();
        self.lw_q.d.next = self.listed.write_address.val();
        self.lw_d.d.next = self.listed.write_data.val();

        self.wl_fifo.read_address.next = self.wl_head.q.val();
        self.wl_fifo.write_address.next = self.wl_tail.q.val();
        self.wl_fifo.write_data.next = self.push_q.val();
        self.wl_fifo.write_enable.next = self.push_v.val();
        if self.push_v.val() {
            self.wl_tail.d.next = self.wl_tail.q.val() + 1;
        }
        self.pop.next = (self.f_state.q.val() == FetchState::Pop) & !self.rst.val();
        if self.pop.val() {
            self.wl_head.d.next = self.wl_head.q.val() + 1;
        }
        if self.push_v.val() & !self.pop.val() {
            self.wl_cnt.d.next = self.wl_cnt.q.val() + 1;
        }
        if !self.push_v.val() & self.pop.val() {
            self.wl_cnt.d.next = self.wl_cnt.q.val() - 1;
        }

        // ---------------------------------------------------------------
        // Operation port: the completion stage first (it drains the pipeline).
        // ---------------------------------------------------------------
        self.f_op_req.next = (self.f_state.q.val() == FetchState::Take) & !self.halt.val();
        self.c_op_req.next = self.c_state.q.val() == CplState::Op;
        self.m_op_valid.next = !self.op_busy.q.val() & (self.f_op_req.val() | self.c_op_req.val());
        self.m_op_queue.next = self.f_q.q.val();
        self.m_op_code.next = self.c_op_take.val();
        self.m_op_len.next = self.c_len.q.val();
        if self.c_op_req.val() {
            self.m_op_queue.next = self.c_q.q.val();
            self.m_op_code.next = self.c_code.q.val();
        }
        self.c_gnt.next = !self.op_busy.q.val() & self.c_op_req.val() & self.m_op_ready.val();
        self.f_gnt.next = !self.op_busy.q.val()
            & !self.c_op_req.val()
            & self.f_op_req.val()
            & self.m_op_ready.val();
        if self.c_gnt.val() | self.f_gnt.val() {
            self.op_busy.d.next = true;
            self.op_owner_c.d.next = self.c_gnt.val();
        }
        self.c_rsp.next = self.s_rsp_valid.val() & self.op_busy.q.val() & self.op_owner_c.q.val();
        self.f_rsp.next = self.s_rsp_valid.val() & self.op_busy.q.val() & !self.op_owner_c.q.val();
        if self.s_rsp_valid.val() {
            self.op_busy.d.next = false;
        }

        // ---------------------------------------------------------------
        // AR channel: descriptor reads (fetch) and frame bursts (issue). A
        // request once presented stays until taken (AXI).
        // ---------------------------------------------------------------
        self.f_arv.next = self.f_state.q.val() == FetchState::DescAr;
        self.a_arv.next = self.a_state.q.val() == IssueState::Issue;
        self.ar_sel_f.next = self.f_arv.val();
        if self.ar_hold.q.val() {
            self.ar_sel_f.next = self.ar_hold_f.q.val();
        }
        // Beats of the next burst: what is left, at most 256, not past 4 KiB.
        self.a_to4k.next =
            self.c_c512.val() - bit_cast::<16, 9>(self.a_addr.q.val().get_bits::<9>(3));
        self.a_beats.next = self.a_left.q.val();
        if self.a_beats.val() > self.a_to4k.val() {
            self.a_beats.next = self.a_to4k.val();
        }
        if self.a_beats.val() > self.c_c256.val() {
            self.a_beats.next = self.c_c256.val();
        }
        self.a_len_m1.next = self.a_beats.val() - 1;
        self.m_axi_arvalid.next = self.f_arv.val() | self.a_arv.val();
        self.m_axi_arsize.next = 3.into();
        self.m_axi_arburst.next = 1.into();
        if self.ar_sel_f.val() {
            self.m_axi_arid.next = self.c_id_desc.val();
            self.m_axi_araddr.next = self.f_daddr.q.val();
            self.m_axi_arlen.next = 1.into();
        } else {
            self.m_axi_arid.next = self.c_id_data.val();
            self.m_axi_araddr.next = self.a_addr.q.val();
            self.m_axi_arlen.next = self.a_len_m1.val().get_bits::<8>(0);
        }
        self.f_ar_go.next = self.ar_sel_f.val() & self.f_arv.val() & self.m_axi_arready.val();
        self.a_ar_go.next = !self.ar_sel_f.val() & self.a_arv.val() & self.m_axi_arready.val();
        self.ar_hold.d.next = self.m_axi_arvalid.val() & !self.m_axi_arready.val();
        self.ar_hold_f.d.next = self.ar_sel_f.val();

        // ---------------------------------------------------------------
        // R channel, routed by RID.
        // ---------------------------------------------------------------
        self.r_desc.next = self.m_axi_rvalid.val() & (self.m_axi_rid.val() == self.c_id_desc.val());
        self.r_data.next = self.m_axi_rvalid.val()
            & (self.m_axi_rid.val() != self.c_id_desc.val())
            & (self.s_state.q.val() == StreamState::Stream);
        self.r_bad.next = self.m_axi_rresp.val().any();
        self.m_axi_rready.next =
            (self.s_state.q.val() == StreamState::Stream) & self.m_axis_tx_tready.val();
        if self.m_axi_rid.val() == self.c_id_desc.val() {
            self.m_axi_rready.next = self.f_state.q.val() == FetchState::DescR;
        }

        // ---------------------------------------------------------------
        // Fetch stage.
        // ---------------------------------------------------------------
        self.bad_desc.next = !self.f_len.q.val().any()
            | (self.f_len.q.val() > self.c_max_mtu.val())
            | self.f_addr.q.val().get_bits::<3>(0).any();
        match self.f_state.q.val() {
            FetchState::Idle => {
                if self.cleared.q.val() & !self.halt.val() & self.wl_cnt.q.val().any() {
                    self.f_state.d.next = FetchState::Pop;
                }
            }
            FetchState::Pop => {
                self.f_q.d.next = self.wl_fifo.read_data.val();
                self.f_budget.d.next = 0.into();
                self.f_state.d.next = FetchState::Take;
            }
            FetchState::Take => {
                if self.f_gnt.val() {
                    self.f_state.d.next = FetchState::TakeRsp;
                }
            }
            FetchState::TakeRsp => {
                if self.f_rsp.val() {
                    if (self.s_rsp_status.val() == self.c_rsp_empty.val())
                        | (self.s_rsp_status.val() == self.c_rsp_disabled.val())
                        | (self.s_rsp_status.val() == self.c_rsp_full.val())
                    {
                        self.f_relist.d.next = false;
                        self.f_state.d.next = FetchState::End;
                    } else {
                        self.f_daddr.d.next = self.s_rsp_addr.val();
                        self.f_idx.d.next = self.s_rsp_index.val();
                        self.f_budget.d.next = self.f_budget.q.val() + 1;
                        self.f_state.d.next = FetchState::DescAr;
                    }
                }
            }
            FetchState::DescAr => {
                if self.f_ar_go.val() {
                    self.f_err.d.next = false;
                    self.f_beat.d.next = false;
                    self.f_state.d.next = FetchState::DescR;
                }
            }
            FetchState::DescR => {
                if self.r_desc.val() {
                    if self.r_bad.val() {
                        self.f_err.d.next = true;
                    }
                    if self.f_beat.q.val() {
                        self.f_len.d.next = self.m_axi_rdata.val().get_bits::<16>(0);
                        self.f_state.d.next = FetchState::Push;
                    } else {
                        self.f_addr.d.next = self.m_axi_rdata.val();
                        self.f_beat.d.next = true;
                    }
                }
            }
            FetchState::Push => {
                if !self.j_v.q.val() {
                    self.j_v.d.next = true;
                    self.j_q.d.next = self.f_q.q.val();
                    self.j_idx.d.next = self.f_idx.q.val();
                    self.j_faddr.d.next = self.f_addr.q.val();
                    self.j_len.d.next = self.f_len.q.val();
                    self.j_daddr.d.next = self.f_daddr.q.val();
                    if self.f_err.q.val() {
                        self.j_kind.d.next = self.c_k_rderr.val();
                        self.f_relist.d.next = false;
                        self.f_state.d.next = FetchState::End;
                    } else {
                        if self.bad_desc.val() {
                            self.j_kind.d.next = self.c_k_bad.val();
                        } else {
                            self.j_kind.d.next = self.c_k_data.val();
                        }
                        if self.f_budget.q.val() == self.c_budget.val() {
                            self.f_relist.d.next = true;
                            self.f_state.d.next = FetchState::End;
                        } else {
                            self.f_state.d.next = FetchState::Take;
                        }
                    }
                }
            }
            FetchState::End => {
                self.wl_v.d.next = true;
                self.wl_q.d.next = self.f_q.q.val();
                self.wl_keep.d.next = self.f_relist.q.val();
                self.f_state.d.next = FetchState::Idle;
            }
        }

        // ---------------------------------------------------------------
        // Issue stage.
        // ---------------------------------------------------------------
        match self.a_state.q.val() {
            IssueState::Idle => {
                if self.j_v.q.val() & !self.fr_v.q.val() {
                    self.j_v.d.next = false;
                    self.fr_v.d.next = true;
                    self.fr_q.d.next = self.j_q.q.val();
                    self.fr_idx.d.next = self.j_idx.q.val();
                    self.fr_faddr.d.next = self.j_faddr.q.val();
                    self.fr_len.d.next = self.j_len.q.val();
                    self.fr_kind.d.next = self.j_kind.q.val();
                    self.fr_daddr.d.next = self.j_daddr.q.val();
                    self.a_addr.d.next = self.j_faddr.q.val();
                    self.a_left.d.next = (self.j_len.q.val() + 7) >> 3;
                    if self.j_kind.q.val() == self.c_k_data.val() {
                        self.a_state.d.next = IssueState::Issue;
                    }
                }
            }
            IssueState::Issue => {
                if self.a_ar_go.val() {
                    self.a_addr.d.next =
                        self.a_addr.q.val() + (bit_cast::<64, 16>(self.a_beats.val()) << 3);
                    self.a_left.d.next = self.a_left.q.val() - self.a_beats.val();
                    if self.a_left.q.val() == self.a_beats.val() {
                        self.a_state.d.next = IssueState::Idle;
                    }
                }
            }
        }

        // ---------------------------------------------------------------
        // Stream stage: R beats straight to the MAC.
        // ---------------------------------------------------------------
        self.last_beat.next = self.s_left.q.val() == 1;
        self.last_keep.next = 0xFF.into();
        if self.s_len.q.val().get_bits::<3>(0).any() {
            self.last_keep.next = (self.c_one8.val()
                << bit_cast::<8, 3>(self.s_len.q.val().get_bits::<3>(0)))
                - self.c_one8.val();
        }
        self.m_axis_tx_tvalid.next = self.r_data.val();
        self.m_axis_tx_tdata.next = self.m_axi_rdata.val();
        self.m_axis_tx_tlast.next = self.last_beat.val();
        self.m_axis_tx_tkeep.next = 0xFF.into();
        if self.last_beat.val() {
            self.m_axis_tx_tkeep.next = self.last_keep.val();
        }
        self.m_axis_tx_tuser.next = self.last_beat.val() & (self.s_err.q.val() | self.r_bad.val());
        self.beat_go.next = self.r_data.val() & self.m_axis_tx_tready.val();
        self.cnt_v.next = 0.into();
        match self.s_state.q.val() {
            StreamState::Idle => {
                if self.fr_v.q.val() {
                    self.fr_v.d.next = false;
                    self.s_q.d.next = self.fr_q.q.val();
                    self.s_idx.d.next = self.fr_idx.q.val();
                    self.s_len.d.next = self.fr_len.q.val();
                    self.s_kind.d.next = self.fr_kind.q.val();
                    self.s_daddr.d.next = self.fr_daddr.q.val();
                    self.s_left.d.next = (self.fr_len.q.val() + 7) >> 3;
                    self.s_beat_addr.d.next = self.fr_faddr.q.val();
                    self.s_burst_addr.d.next = self.fr_faddr.q.val();
                    self.s_err.d.next = false;
                    if self.fr_kind.q.val() == self.c_k_data.val() {
                        self.s_state.d.next = StreamState::Stream;
                    } else {
                        self.s_state.d.next = StreamState::Done;
                    }
                }
            }
            StreamState::Stream => {
                if self.beat_go.val() {
                    self.s_left.d.next = self.s_left.q.val() - 1;
                    self.s_beat_addr.d.next = self.s_beat_addr.q.val() + 8;
                    if self.m_axi_rlast.val() {
                        self.s_burst_addr.d.next = self.s_beat_addr.q.val() + 8;
                    }
                    if self.r_bad.val() & !self.s_err.q.val() {
                        self.s_err.d.next = true;
                        self.s_eaddr.d.next = self.s_burst_addr.q.val();
                    }
                    if self.last_beat.val() {
                        if !(self.s_err.q.val() | self.r_bad.val()) {
                            self.cnt_v.next = 1.into();
                        }
                        self.s_state.d.next = StreamState::Done;
                    }
                }
            }
            StreamState::Done => {
                if !self.cj_v.q.val() {
                    self.cj_v.d.next = true;
                    self.cj_q.d.next = self.s_q.q.val();
                    self.cj_idx.d.next = self.s_idx.q.val();
                    self.cj_len.d.next = self.s_len.q.val();
                    self.cj_kind.d.next = self.s_kind.q.val();
                    self.cj_eaddr.d.next = self.s_daddr.q.val();
                    if self.s_kind.q.val() == self.c_k_bad.val() {
                        self.cj_len.d.next = 0.into();
                    }
                    if self.s_err.q.val() {
                        self.cj_kind.d.next = self.c_k_derr.val();
                        self.cj_eaddr.d.next = self.s_eaddr.q.val();
                    }
                    self.s_state.d.next = StreamState::Idle;
                }
            }
        }

        // ---------------------------------------------------------------
        // Completion stage.
        // ---------------------------------------------------------------
        self.c_status.next = self.c_st_ok.val();
        if self.c_kind.q.val() == self.c_k_bad.val() {
            self.c_status.next = self.c_st_desc_error.val();
        }
        self.m_axi_awid.next = 0.into();
        self.m_axi_awaddr.next = self.c_slot.q.val();
        self.m_axi_awlen.next = 1.into();
        self.m_axi_awsize.next = 3.into();
        self.m_axi_awburst.next = 1.into();
        self.m_axi_awvalid.next = self.c_state.q.val() == CplState::Aw;
        self.m_axi_wstrb.next = 0xFF.into();
        self.m_axi_wvalid.next =
            (self.c_state.q.val() == CplState::W0) | (self.c_state.q.val() == CplState::W1);
        self.m_axi_wlast.next = self.c_state.q.val() == CplState::W1;
        self.m_axi_wdata.next = bit_cast::<64, 16>(self.c_len.q.val())
            | (bit_cast::<64, 4>(self.c_status.val()) << self.c_sh_status.val());
        if self.c_state.q.val() == CplState::W1 {
            self.m_axi_wdata.next = bit_cast::<64, 16>(self.c_idx.q.val())
                | (bit_cast::<64, QW>(self.c_q.q.val()) << self.c_sh_queue.val())
                | (bit_cast::<64, 1>(self.c_phase.q.val().into()) << self.c_sh_phase.val());
        }
        self.m_axi_bready.next = self.c_state.q.val() == CplState::B;
        self.m_event_valid.next = self.c_state.q.val() == CplState::Notify;
        self.m_event_queue.next = self.c_q.q.val();
        self.m_event_vector.next = self.c_vector.q.val();
        self.m_event_moderation.next = self.c_mod.q.val();
        self.err_set.next = 0.into();
        self.err_queue.next = self.c_q.q.val();
        self.err_addr.next = self.c_slot.q.val();
        match self.c_state.q.val() {
            CplState::Idle => {
                self.err_queue.next = self.cj_q.q.val();
                self.err_addr.next = self.cj_eaddr.q.val();
                if self.cj_v.q.val() {
                    self.cj_v.d.next = false;
                    self.c_q.d.next = self.cj_q.q.val();
                    self.c_idx.d.next = self.cj_idx.q.val();
                    self.c_len.d.next = self.cj_len.q.val();
                    self.c_kind.d.next = self.cj_kind.q.val();
                    self.c_code.d.next = self.c_op_complete.val();
                    self.c_state.d.next = CplState::Op;
                    if self.cj_kind.q.val() == self.c_k_bad.val() {
                        self.err_set.next = 8.into();
                        self.cnt_v.next = self.cnt_v.val() | 2;
                    }
                    if (self.cj_kind.q.val() == self.c_k_rderr.val())
                        | (self.cj_kind.q.val() == self.c_k_derr.val())
                    {
                        self.err_set.next = 1.into();
                        self.cnt_v.next = self.cnt_v.val() | 2;
                        self.c_code.d.next = self.c_op_error.val();
                    }
                }
            }
            CplState::Op => {
                if self.c_gnt.val() {
                    self.c_state.d.next = CplState::OpRsp;
                }
            }
            CplState::OpRsp => {
                if self.c_rsp.val() {
                    if self.c_code.q.val() == self.c_op_error.val() {
                        self.c_state.d.next = CplState::Idle;
                    } else if self.s_rsp_status.val() == self.c_rsp_full.val() {
                        // No free completion slot yet: ask again.
                        self.c_state.d.next = CplState::Op;
                    } else {
                        self.c_slot.d.next = self.s_rsp_addr.val();
                        self.c_phase.d.next = self.s_rsp_phase.val();
                        self.c_vector.d.next = self.s_rsp_vector.val();
                        self.c_mod.d.next = self.s_rsp_moderation.val();
                        self.c_state.d.next = CplState::Aw;
                    }
                }
            }
            CplState::Aw => {
                if self.m_axi_awready.val() {
                    self.c_state.d.next = CplState::W0;
                }
            }
            CplState::W0 => {
                if self.m_axi_wready.val() {
                    self.c_state.d.next = CplState::W1;
                }
            }
            CplState::W1 => {
                if self.m_axi_wready.val() {
                    self.c_state.d.next = CplState::B;
                }
            }
            CplState::B => {
                if self.m_axi_bvalid.val() {
                    if self.m_axi_bresp.val().any() {
                        self.err_set.next = 2.into();
                        self.c_code.d.next = self.c_op_error.val();
                        self.c_state.d.next = CplState::Op;
                    } else {
                        self.c_state.d.next = CplState::Notify;
                    }
                }
            }
            CplState::Notify => {
                if self.m_event_ready.val() {
                    self.c_state.d.next = CplState::Idle;
                }
            }
        }

        self.cnt_inc.next = self.cnt_v.val();
        self.idle.next = self.cleared.q.val()
            & ((self.f_state.q.val() == FetchState::Idle)
                | (self.f_state.q.val() == FetchState::Take))
            & !self.wl_v.q.val()
            & !self.op_busy.q.val()
            & !self.j_v.q.val()
            & (self.a_state.q.val() == IssueState::Idle)
            & !self.fr_v.q.val()
            & (self.s_state.q.val() == StreamState::Idle)
            & !self.cj_v.q.val()
            & (self.c_state.q.val() == CplState::Idle);

        if self.rst.val() {
            self.cleared.d.next = false;
            self.sweep.d.next = 0.into();
            self.wl_head.d.next = 0.into();
            self.wl_tail.d.next = 0.into();
            self.wl_cnt.d.next = 0.into();
            self.db_check.d.next = false;
            self.wl_v.d.next = false;
            self.op_busy.d.next = false;
            self.ar_hold.d.next = false;
            self.f_state.d.next = FetchState::Idle;
            self.j_v.d.next = false;
            self.a_state.d.next = IssueState::Idle;
            self.fr_v.d.next = false;
            self.s_state.d.next = StreamState::Idle;
            self.cj_v.d.next = false;
            self.c_state.d.next = CplState::Idle;
        }
    }
}
