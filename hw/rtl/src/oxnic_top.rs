//! `oxnic_top` — the whole NIC core: the ports of DESIGN.md §2 and the wiring of
//! every block (see hw/rtl/DESIGN.md for the diagram).
//!
//! Ports: `clk`, `rst` (synchronous, active high); `s_axil_*` (AXI4-Lite slave,
//! 32-bit data, BAR0 and the MSI-X pages); `m_axi_*` (AXI4 master, 64-bit address
//! and data, 6-bit IDs: all DMA and MSI-X message writes); `s_axis_rx_*` (frames
//! from the MAC, `tuser` = error on the last beat); `m_axis_tx_*` (frames to the
//! MAC, `tuser` = 1 on the last beat of a frame the MAC must discard).
//!
//! ```text
//! s_axil ─► axil_reg_if ─► csr ─┬─ queue windows ─► rx_queue, tx_queue
//!                               └─ MSI-X window ──► irq_unit (msix)
//! s_axis_rx ─► rx_parse ─► rx_engine ◄─op/rsp─► rx_queue
//!                 tx_queue ─doorbells─► tx_engine ◄─op/rsp─► tx_queue ─► m_axis_tx
//! rx_engine, tx_engine ─events─► irq_unit ─► MSI-X message
//! rx_engine, tx_engine, irq_unit ─► dma_arb ─► m_axi
//! ```
//!
//! Glue that lives here and nowhere else:
//! * Register requests: both queue blocks see every queue-window request, only
//!   the one whose window matches answers; acknowledgements and read data are
//!   ORed (a block that does not answer drives 0). The IRQ_CTRL read of a queue
//!   reaches `irq_unit` with the direction bit taken from the request's address.
//! * Error reports: `csr` latches one ERR_STATUS set per cycle with one
//!   ERR_INFO/ERR_ADDR. The four reporters (the two engines, the two queue
//!   blocks' configuration checks) are ORed into ERR_STATUS; ERR_INFO/ERR_ADDR
//!   take the first of rx_engine, tx_engine, rx_queue, tx_queue that reports in
//!   that cycle (simultaneous reports are rare; the cause bits are never lost).
//! * Counters: rx_engine drives the seven RX counters, tx_engine the two TX ones.
//! * **Soft reset** (CTRL.SOFT_RESET): `csr` resets its own registers at once
//!   (so CTRL.ENABLE is 0 and the receive path drops new frames); here the reset
//!   sequencer raises `halt` on both engines and on `irq_unit`, waits until all
//!   three report `idle` (every issued AXI transaction has its last R or B
//!   response: DMA stops cleanly, even mid-transfer of a frame, which finishes
//!   first), then holds the blocks' reset for one cycle. Their RAM sweeps follow;
//!   CTRL.SOFT_RESET reads 1 (STATUS.RESET_BUSY) until the sequencer is back to
//!   running and every sweep has finished. `rst` resets everything at once.
//!   The MSI-X table (addresses, data, vector masks) and MSI-X control (enable,
//!   function mask) survive a soft reset: they belong to the platform, which
//!   programmed them through config space and the table (vfio-pci), as a
//!   device-specific reset of a PCIe function leaves them alone; the pending
//!   bits clear with the rest of the interrupt path. Only `rst` resets them.
//!   A frame that was arriving on `s_axis_rx` when the blocks were reset (this
//!   block tracks the MAC's frame boundaries, and only `rst` clears that) has
//!   its remaining beats taken and discarded up to its `tlast`, uncounted — it
//!   began before the reset zeroed the counters — so its tail is never taken
//!   for a frame of its own.
//! * STATUS.QUIESCENT: both engines and the message writer idle.

use crate::{AxilRegIf, Csr, DmaArb, IrqUnit, QueueState, RxEngine, RxParse, TxEngine};
use oxnic_regs::{RX_QUEUE_BASE, TX_QUEUE_BASE};
use rust_hdl::prelude::*;

/// Width of BAR0 byte offsets on `s_axil_*`.
pub const ADDR_BITS: usize = crate::csr::ADDR_BITS;
const A: usize = ADDR_BITS;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum ResetState {
    /// Normal operation.
    Run,
    /// Soft reset requested: engines halted, waiting for them to go idle.
    Drain,
    /// The blocks' reset is held this cycle.
    Reset,
}

/// The NIC core for `2^QW` queues per direction (`QW1 = QW + 1`: RX and TX
/// interrupt queues together) and up to `2^VW` MSI-X vectors (`WW = VW - 5`).
#[derive(LogicBlock)]
pub struct OxnicTop<const QW: usize, const QW1: usize, const VW: usize, const WW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high: every block to its reset state.
    pub rst: Signal<In, Bit>,
    /// AXI4-Lite write address (BAR0 byte offset).
    pub s_axil_awaddr: Signal<In, Bits<A>>,
    /// AXI4-Lite write protection (ignored).
    pub s_axil_awprot: Signal<In, Bits<3>>,
    /// AXI4-Lite write address valid.
    pub s_axil_awvalid: Signal<In, Bit>,
    /// AXI4-Lite write address ready.
    pub s_axil_awready: Signal<Out, Bit>,
    /// AXI4-Lite write data.
    pub s_axil_wdata: Signal<In, Bits<32>>,
    /// AXI4-Lite write strobes (partial writes answer SLVERR).
    pub s_axil_wstrb: Signal<In, Bits<4>>,
    /// AXI4-Lite write data valid.
    pub s_axil_wvalid: Signal<In, Bit>,
    /// AXI4-Lite write data ready.
    pub s_axil_wready: Signal<Out, Bit>,
    /// AXI4-Lite write response.
    pub s_axil_bresp: Signal<Out, Bits<2>>,
    /// AXI4-Lite write response valid.
    pub s_axil_bvalid: Signal<Out, Bit>,
    /// AXI4-Lite write response ready.
    pub s_axil_bready: Signal<In, Bit>,
    /// AXI4-Lite read address.
    pub s_axil_araddr: Signal<In, Bits<A>>,
    /// AXI4-Lite read protection (ignored).
    pub s_axil_arprot: Signal<In, Bits<3>>,
    /// AXI4-Lite read address valid.
    pub s_axil_arvalid: Signal<In, Bit>,
    /// AXI4-Lite read address ready.
    pub s_axil_arready: Signal<Out, Bit>,
    /// AXI4-Lite read data.
    pub s_axil_rdata: Signal<Out, Bits<32>>,
    /// AXI4-Lite read response.
    pub s_axil_rresp: Signal<Out, Bits<2>>,
    /// AXI4-Lite read data valid.
    pub s_axil_rvalid: Signal<Out, Bit>,
    /// AXI4-Lite read data ready.
    pub s_axil_rready: Signal<In, Bit>,
    /// AXI4 master `awid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awid: Signal<Out, Bits<6>>,
    /// AXI4 master `awaddr` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    /// AXI4 master `awlen` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// AXI4 master `awsize` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// AXI4 master `awburst` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AXI4 master `awlock` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awlock: Signal<Out, Bit>,
    /// AXI4 master `awcache` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awcache: Signal<Out, Bits<4>>,
    /// AXI4 master `awprot` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awprot: Signal<Out, Bits<3>>,
    /// AXI4 master `awvalid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AXI4 master `awready` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_awready: Signal<In, Bit>,
    /// AXI4 master `wdata` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_wdata: Signal<Out, Bits<64>>,
    /// AXI4 master `wstrb` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_wstrb: Signal<Out, Bits<8>>,
    /// AXI4 master `wlast` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_wlast: Signal<Out, Bit>,
    /// AXI4 master `wvalid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// AXI4 master `wready` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_wready: Signal<In, Bit>,
    /// AXI4 master `bid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_bid: Signal<In, Bits<6>>,
    /// AXI4 master `bresp` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_bresp: Signal<In, Bits<2>>,
    /// AXI4 master `bvalid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_bvalid: Signal<In, Bit>,
    /// AXI4 master `bready` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_bready: Signal<Out, Bit>,
    /// AXI4 master `arid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arid: Signal<Out, Bits<6>>,
    /// AXI4 master `araddr` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    /// AXI4 master `arlen` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// AXI4 master `arsize` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// AXI4 master `arburst` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// AXI4 master `arlock` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arlock: Signal<Out, Bit>,
    /// AXI4 master `arcache` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arcache: Signal<Out, Bits<4>>,
    /// AXI4 master `arprot` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arprot: Signal<Out, Bits<3>>,
    /// AXI4 master `arvalid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// AXI4 master `arready` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_arready: Signal<In, Bit>,
    /// AXI4 master `rid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_rid: Signal<In, Bits<6>>,
    /// AXI4 master `rdata` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_rdata: Signal<In, Bits<64>>,
    /// AXI4 master `rresp` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_rresp: Signal<In, Bits<2>>,
    /// AXI4 master `rlast` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_rlast: Signal<In, Bit>,
    /// AXI4 master `rvalid` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_rvalid: Signal<In, Bit>,
    /// AXI4 master `rready` (DMA and MSI-X writes; see `dma_arb`).
    pub m_axi_rready: Signal<Out, Bit>,
    /// Frames from the MAC: data, byte 0 in bits 7:0.
    pub s_axis_rx_tdata: Signal<In, Bits<64>>,
    /// Byte enables (contiguous from bit 0; only the last beat partial).
    pub s_axis_rx_tkeep: Signal<In, Bits<8>>,
    /// Beat valid.
    pub s_axis_rx_tvalid: Signal<In, Bit>,
    /// Beat taken.
    pub s_axis_rx_tready: Signal<Out, Bit>,
    /// Last beat of a frame.
    pub s_axis_rx_tlast: Signal<In, Bit>,
    /// MAC error flag (on the last beat): the frame is dropped as MAC_ERROR.
    pub s_axis_rx_tuser: Signal<In, Bit>,
    /// Frames to the MAC: data, byte 0 in bits 7:0.
    pub m_axis_tx_tdata: Signal<Out, Bits<64>>,
    /// Byte enables.
    pub m_axis_tx_tkeep: Signal<Out, Bits<8>>,
    /// Beat valid.
    pub m_axis_tx_tvalid: Signal<Out, Bit>,
    /// Beat taken.
    pub m_axis_tx_tready: Signal<In, Bit>,
    /// Last beat of a frame.
    pub m_axis_tx_tlast: Signal<Out, Bit>,
    /// On the last beat: the frame is bad (its DMA failed), the MAC discards it.
    pub m_axis_tx_tuser: Signal<Out, Bit>,
    axil: AxilRegIf<A>,
    csr: Csr<QW>,
    rx_queue: QueueState<QW>,
    tx_queue: QueueState<QW>,
    irq: IrqUnit<QW, QW1, VW, WW>,
    rx_parse: RxParse,
    rx_engine: RxEngine<QW>,
    tx_engine: TxEngine<QW>,
    dma: DmaArb,
    reset_state: DFF<ResetState>,
    /// A frame is arriving on `s_axis_rx` (a beat without `tlast` was taken).
    /// Only `rst` clears it: it is the MAC's state, not the core's.
    rx_mid: DFF<Bit>,
    /// Discarding the rest of a frame that a soft reset cut.
    rx_skip: DFF<Bit>,
    rx_mid_next: Signal<Local, Bit>,
    block_rst: Signal<Local, Bit>,
    halt: Signal<Local, Bit>,
    engines_idle: Signal<Local, Bit>,
    rd_is_tx: Signal<Local, Bit>,
    err_bits: Signal<Local, Bits<4>>,
    tx_window: Constant<Bits<A>>,
    tx_dir: Constant<Bits<QW1>>,
}

impl<const QW: usize, const QW1: usize, const VW: usize, const WW: usize>
    OxnicTop<QW, QW1, VW, WW>
{
    /// The core for `queues` queues per direction, `vectors` MSI-X vectors and a
    /// `clock_mhz` clock (the moderation timer's microsecond).
    pub fn new(queues: u32, vectors: u32, clock_mhz: u32) -> Self {
        assert!(QW1 == QW + 1, "OxnicTop<QW, QW1, ..>: QW1 must be QW + 1");
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_axil_awaddr: Default::default(),
            s_axil_awprot: Default::default(),
            s_axil_awvalid: Default::default(),
            s_axil_awready: Default::default(),
            s_axil_wdata: Default::default(),
            s_axil_wstrb: Default::default(),
            s_axil_wvalid: Default::default(),
            s_axil_wready: Default::default(),
            s_axil_bresp: Default::default(),
            s_axil_bvalid: Default::default(),
            s_axil_bready: Default::default(),
            s_axil_araddr: Default::default(),
            s_axil_arprot: Default::default(),
            s_axil_arvalid: Default::default(),
            s_axil_arready: Default::default(),
            s_axil_rdata: Default::default(),
            s_axil_rresp: Default::default(),
            s_axil_rvalid: Default::default(),
            s_axil_rready: Default::default(),
            m_axi_awid: Default::default(),
            m_axi_awaddr: Default::default(),
            m_axi_awlen: Default::default(),
            m_axi_awsize: Default::default(),
            m_axi_awburst: Default::default(),
            m_axi_awlock: Default::default(),
            m_axi_awcache: Default::default(),
            m_axi_awprot: Default::default(),
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
            m_axi_arlock: Default::default(),
            m_axi_arcache: Default::default(),
            m_axi_arprot: Default::default(),
            m_axi_arvalid: Default::default(),
            m_axi_arready: Default::default(),
            m_axi_rid: Default::default(),
            m_axi_rdata: Default::default(),
            m_axi_rresp: Default::default(),
            m_axi_rlast: Default::default(),
            m_axi_rvalid: Default::default(),
            m_axi_rready: Default::default(),
            s_axis_rx_tdata: Default::default(),
            s_axis_rx_tkeep: Default::default(),
            s_axis_rx_tvalid: Default::default(),
            s_axis_rx_tready: Default::default(),
            s_axis_rx_tlast: Default::default(),
            s_axis_rx_tuser: Default::default(),
            m_axis_tx_tdata: Default::default(),
            m_axis_tx_tkeep: Default::default(),
            m_axis_tx_tvalid: Default::default(),
            m_axis_tx_tready: Default::default(),
            m_axis_tx_tlast: Default::default(),
            m_axis_tx_tuser: Default::default(),
            axil: Default::default(),
            csr: Csr::new(queues, vectors, clock_mhz),
            rx_queue: QueueState::new(RX_QUEUE_BASE, queues, vectors),
            tx_queue: QueueState::new(TX_QUEUE_BASE, queues, vectors),
            irq: IrqUnit::new(vectors, clock_mhz),
            rx_parse: Default::default(),
            rx_engine: RxEngine::new(),
            tx_engine: TxEngine::new(),
            dma: Default::default(),
            reset_state: Default::default(),
            rx_mid: Default::default(),
            rx_skip: Default::default(),
            rx_mid_next: Default::default(),
            block_rst: Default::default(),
            halt: Default::default(),
            engines_idle: Default::default(),
            rd_is_tx: Default::default(),
            err_bits: Default::default(),
            tx_window: Constant::new((TX_QUEUE_BASE as u64).to_bits()),
            tx_dir: Constant::new((1u64 << QW).to_bits()),
        }
    }
}

impl<const QW: usize, const QW1: usize, const VW: usize, const WW: usize> Logic
    for OxnicTop<QW, QW1, VW, WW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, reset_state, rx_mid, rx_skip);
        self.axil.clk.next = self.clk.val();
        self.csr.clk.next = self.clk.val();
        self.rx_queue.clk.next = self.clk.val();
        self.tx_queue.clk.next = self.clk.val();
        self.irq.clk.next = self.clk.val();
        self.rx_parse.clk.next = self.clk.val();
        self.rx_engine.clk.next = self.clk.val();
        self.tx_engine.clk.next = self.clk.val();
        self.dma.clk.next = self.clk.val();

        // Soft-reset sequencer (see the module doc).
        self.engines_idle.next =
            self.rx_engine.idle.val() & self.tx_engine.idle.val() & self.irq.idle.val();
        self.halt.next = self.reset_state.q.val() != ResetState::Run;
        self.block_rst.next = self.rst.val() | (self.reset_state.q.val() == ResetState::Reset);
        match self.reset_state.q.val() {
            ResetState::Run => {
                if self.csr.soft_reset.val() {
                    self.reset_state.d.next = ResetState::Drain;
                }
            }
            ResetState::Drain => {
                if self.engines_idle.val() {
                    self.reset_state.d.next = ResetState::Reset;
                }
            }
            ResetState::Reset => {
                self.reset_state.d.next = ResetState::Run;
            }
        }
        if self.rst.val() {
            self.reset_state.d.next = ResetState::Run;
        }
        self.axil.rst.next = self.rst.val();
        self.csr.rst.next = self.rst.val();
        self.rx_queue.rst.next = self.block_rst.val();
        self.tx_queue.rst.next = self.block_rst.val();
        // The interrupt unit keeps the platform's MSI-X table and control
        // through a soft reset (a device reset leaves config space and the
        // table the OS programmed alone); `rst` clears them.
        self.irq.rst.next = self.rst.val();
        self.irq.soft_rst.next = self.reset_state.q.val() == ResetState::Reset;
        self.rx_parse.rst.next = self.block_rst.val();
        self.rx_engine.rst.next = self.block_rst.val();
        self.tx_engine.rst.next = self.block_rst.val();
        self.dma.rst.next = self.block_rst.val();
        self.rx_engine.halt.next = self.halt.val();
        self.tx_engine.halt.next = self.halt.val();
        self.irq.halt.next = self.halt.val();
        self.csr.reset_busy.next = self.halt.val()
            | self.rx_queue.busy.val()
            | self.tx_queue.busy.val()
            | self.irq.busy.val();
        self.csr.quiescent.next = self.engines_idle.val();

        // BAR0: AXI4-Lite → register requests → csr.
        self.axil.s_axil_awaddr.next = self.s_axil_awaddr.val();
        self.axil.s_axil_awprot.next = self.s_axil_awprot.val();
        self.axil.s_axil_awvalid.next = self.s_axil_awvalid.val();
        self.s_axil_awready.next = self.axil.s_axil_awready.val();
        self.axil.s_axil_wdata.next = self.s_axil_wdata.val();
        self.axil.s_axil_wstrb.next = self.s_axil_wstrb.val();
        self.axil.s_axil_wvalid.next = self.s_axil_wvalid.val();
        self.s_axil_wready.next = self.axil.s_axil_wready.val();
        self.s_axil_bresp.next = self.axil.s_axil_bresp.val();
        self.s_axil_bvalid.next = self.axil.s_axil_bvalid.val();
        self.axil.s_axil_bready.next = self.s_axil_bready.val();
        self.axil.s_axil_araddr.next = self.s_axil_araddr.val();
        self.axil.s_axil_arprot.next = self.s_axil_arprot.val();
        self.axil.s_axil_arvalid.next = self.s_axil_arvalid.val();
        self.s_axil_arready.next = self.axil.s_axil_arready.val();
        self.s_axil_rdata.next = self.axil.s_axil_rdata.val();
        self.s_axil_rresp.next = self.axil.s_axil_rresp.val();
        self.s_axil_rvalid.next = self.axil.s_axil_rvalid.val();
        self.axil.s_axil_rready.next = self.s_axil_rready.val();
        self.csr.s_reg_wr_en.next = self.axil.m_reg_wr_en.val();
        self.csr.s_reg_wr_addr.next = self.axil.m_reg_wr_addr.val();
        self.csr.s_reg_wr_data.next = self.axil.m_reg_wr_data.val();
        self.axil.m_reg_wr_ack.next = self.csr.s_reg_wr_ack.val();
        self.csr.s_reg_rd_en.next = self.axil.m_reg_rd_en.val();
        self.csr.s_reg_rd_addr.next = self.axil.m_reg_rd_addr.val();
        self.axil.m_reg_rd_data.next = self.csr.s_reg_rd_data.val();
        self.axil.m_reg_rd_ack.next = self.csr.s_reg_rd_ack.val();

        // Queue windows: both blocks see every request; answers ORed.
        self.rx_queue.s_reg_wr_en.next = self.csr.m_q_wr_en.val();
        self.rx_queue.s_reg_wr_addr.next = self.axil.m_reg_wr_addr.val();
        self.rx_queue.s_reg_wr_data.next = self.axil.m_reg_wr_data.val();
        self.rx_queue.s_reg_rd_en.next = self.csr.m_q_rd_en.val();
        self.rx_queue.s_reg_rd_addr.next = self.axil.m_reg_rd_addr.val();
        self.tx_queue.s_reg_wr_en.next = self.csr.m_q_wr_en.val();
        self.tx_queue.s_reg_wr_addr.next = self.axil.m_reg_wr_addr.val();
        self.tx_queue.s_reg_wr_data.next = self.axil.m_reg_wr_data.val();
        self.tx_queue.s_reg_rd_en.next = self.csr.m_q_rd_en.val();
        self.tx_queue.s_reg_rd_addr.next = self.axil.m_reg_rd_addr.val();
        self.csr.m_q_wr_ack.next =
            self.rx_queue.s_reg_wr_ack.val() | self.tx_queue.s_reg_wr_ack.val();
        self.csr.m_q_rd_ack.next =
            self.rx_queue.s_reg_rd_ack.val() | self.tx_queue.s_reg_rd_ack.val();
        self.csr.m_q_rd_data.next =
            self.rx_queue.s_reg_rd_data.val() | self.tx_queue.s_reg_rd_data.val();

        // MSI-X window.
        self.irq.s_wr_valid.next = self.csr.m_msix_wr_valid.val();
        self.irq.s_wr_addr.next = self.axil.m_reg_wr_addr.val();
        self.irq.s_wr_data.next = self.axil.m_reg_wr_data.val();
        self.csr.m_msix_wr_ready.next = self.irq.s_wr_ready.val();
        self.irq.s_rd_valid.next = self.csr.m_msix_rd_valid.val();
        self.irq.s_rd_addr.next = self.axil.m_reg_rd_addr.val();
        self.csr.m_msix_rd_ready.next = self.irq.s_rd_ready.val();
        self.csr.s_msix_rd_valid.next = self.irq.m_rd_valid.val();
        self.csr.s_msix_rd_data.next = self.irq.m_rd_data.val();

        // Interrupt commands and IRQ_CTRL reads of the queue blocks.
        self.irq.s_rx_cmd_valid.next = self.rx_queue.m_irq_cmd_valid.val();
        self.irq.s_rx_cmd_queue.next = self.rx_queue.m_irq_cmd_queue.val();
        self.irq.s_rx_cmd_op.next = self.rx_queue.m_irq_cmd_op.val();
        self.rx_queue.m_irq_cmd_ready.next = self.irq.s_rx_cmd_ready.val();
        self.irq.s_tx_cmd_valid.next = self.tx_queue.m_irq_cmd_valid.val();
        self.irq.s_tx_cmd_queue.next = self.tx_queue.m_irq_cmd_queue.val();
        self.irq.s_tx_cmd_op.next = self.tx_queue.m_irq_cmd_op.val();
        self.tx_queue.m_irq_cmd_ready.next = self.irq.s_tx_cmd_ready.val();
        self.rd_is_tx.next = self.axil.m_reg_rd_addr.val() >= self.tx_window.val();
        self.irq.rd_queue.next = bit_cast::<QW1, QW>(self.rx_queue.irq_rd_queue.val());
        if self.rd_is_tx.val() {
            self.irq.rd_queue.next =
                bit_cast::<QW1, QW>(self.tx_queue.irq_rd_queue.val()) | self.tx_dir.val();
        }
        self.rx_queue.irq_rd_state.next = self.irq.rd_state.val();
        self.tx_queue.irq_rd_state.next = self.irq.rd_state.val();
        self.irq.s_err_irq_valid.next = self.csr.m_err_irq_valid.val();
        self.irq.s_err_irq_vector.next = self.csr.m_err_irq_vector.val();
        self.csr.m_err_irq_ready.next = self.irq.s_err_irq_ready.val();

        // Receive path.
        self.rx_parse.s_axis_rx_tdata.next = self.s_axis_rx_tdata.val();
        self.rx_parse.s_axis_rx_tkeep.next = self.s_axis_rx_tkeep.val();
        // After a soft reset that cut a frame, its remaining beats are taken and
        // discarded up to its tlast (it began before the reset zeroed the
        // counters, so it is not counted); rx_parse then sees the next frame's
        // first beat as a first beat.
        self.rx_parse.s_axis_rx_tvalid.next = self.s_axis_rx_tvalid.val() & !self.rx_skip.q.val();
        self.s_axis_rx_tready.next = self.rx_parse.s_axis_rx_tready.val();
        if self.rx_skip.q.val() {
            self.s_axis_rx_tready.next = true;
            if self.s_axis_rx_tvalid.val() & self.s_axis_rx_tlast.val() {
                self.rx_skip.d.next = false;
            }
        }
        self.rx_mid_next.next = self.rx_mid.q.val();
        if self.s_axis_rx_tvalid.val() & self.s_axis_rx_tready.val() {
            self.rx_mid_next.next = !self.s_axis_rx_tlast.val();
        }
        self.rx_mid.d.next = self.rx_mid_next.val();
        // rx_parse forgets the frame in progress at the blocks' reset; the MAC
        // does not: the rest of a frame cut here must not be taken for a new one.
        if self.reset_state.q.val() == ResetState::Reset {
            self.rx_skip.d.next = self.rx_mid_next.val();
        }
        if self.rst.val() {
            self.rx_mid.d.next = false;
            self.rx_skip.d.next = false;
        }
        self.rx_parse.s_axis_rx_tlast.next = self.s_axis_rx_tlast.val();
        self.rx_parse.s_axis_rx_tuser.next = self.s_axis_rx_tuser.val();
        self.rx_parse.mtu.next = self.csr.mtu.val();
        self.rx_parse.rss_ctrl.next = self.csr.rss_ctrl.val();
        self.rx_engine.s_axis_tdata.next = self.rx_parse.m_axis_tdata.val();
        self.rx_engine.s_axis_tkeep.next = self.rx_parse.m_axis_tkeep.val();
        self.rx_engine.s_axis_tvalid.next = self.rx_parse.m_axis_tvalid.val();
        self.rx_parse.m_axis_tready.next = self.rx_engine.s_axis_tready.val();
        self.rx_engine.s_axis_tlast.next = self.rx_parse.m_axis_tlast.val();
        self.rx_engine.s_axis_tuser.next = self.rx_parse.m_axis_tuser.val();
        self.rx_engine.s_meta_valid.next = self.rx_parse.m_meta_valid.val();
        self.rx_parse.m_meta_ready.next = self.rx_engine.s_meta_ready.val();
        self.rx_engine.s_meta_len.next = self.rx_parse.m_meta_len.val();
        self.rx_engine.s_meta_status.next = self.rx_parse.m_meta_status.val();
        self.rx_engine.s_meta_rss_type.next = self.rx_parse.m_meta_rss_type.val();
        self.rx_engine.s_meta_tuple.next = self.rx_parse.m_meta_tuple.val();
        self.rx_engine.s_meta_chunks.next = self.rx_parse.m_meta_chunks.val();
        self.rx_engine.rss_key.next = self.csr.rss_key.val();
        self.rx_engine.enable.next = self.csr.enable.val();
        self.csr.reta_index.next = self.rx_engine.reta_index.val();
        self.rx_engine.reta_queue.next = self.csr.reta_queue.val();
        self.rx_queue.s_op_valid.next = self.rx_engine.m_op_valid.val();
        self.rx_engine.m_op_ready.next = self.rx_queue.s_op_ready.val();
        self.rx_queue.s_op_queue.next = self.rx_engine.m_op_queue.val();
        self.rx_queue.s_op_code.next = self.rx_engine.m_op_code.val();
        self.rx_queue.s_op_len.next = self.rx_engine.m_op_len.val();
        self.rx_engine.s_rsp_valid.next = self.rx_queue.m_rsp_valid.val();
        self.rx_engine.s_rsp_status.next = self.rx_queue.m_rsp_status.val();
        self.rx_engine.s_rsp_addr.next = self.rx_queue.m_rsp_addr.val();
        self.rx_engine.s_rsp_index.next = self.rx_queue.m_rsp_index.val();
        self.rx_engine.s_rsp_phase.next = self.rx_queue.m_rsp_phase.val();
        self.rx_engine.s_rsp_vector.next = self.rx_queue.m_rsp_vector.val();
        self.rx_engine.s_rsp_moderation.next = self.rx_queue.m_rsp_moderation.val();
        // RX descriptors are taken by the engine per frame; RX doorbells need no work list.
        self.rx_queue.m_db_ready.next = true;
        self.irq.s_rx_event_valid.next = self.rx_engine.m_event_valid.val();
        self.rx_engine.m_event_ready.next = self.irq.s_rx_event_ready.val();
        self.irq.s_rx_event_queue.next = self.rx_engine.m_event_queue.val();
        self.irq.s_rx_event_vector.next = self.rx_engine.m_event_vector.val();
        self.irq.s_rx_event_moderation.next = self.rx_engine.m_event_moderation.val();

        // Transmit path.
        self.tx_engine.s_db_valid.next = self.tx_queue.m_db_valid.val();
        self.tx_queue.m_db_ready.next = self.tx_engine.s_db_ready.val();
        self.tx_engine.s_db_queue.next = self.tx_queue.m_db_queue.val();
        self.tx_queue.s_op_valid.next = self.tx_engine.m_op_valid.val();
        self.tx_engine.m_op_ready.next = self.tx_queue.s_op_ready.val();
        self.tx_queue.s_op_queue.next = self.tx_engine.m_op_queue.val();
        self.tx_queue.s_op_code.next = self.tx_engine.m_op_code.val();
        self.tx_queue.s_op_len.next = self.tx_engine.m_op_len.val();
        self.tx_engine.s_rsp_valid.next = self.tx_queue.m_rsp_valid.val();
        self.tx_engine.s_rsp_status.next = self.tx_queue.m_rsp_status.val();
        self.tx_engine.s_rsp_addr.next = self.tx_queue.m_rsp_addr.val();
        self.tx_engine.s_rsp_index.next = self.tx_queue.m_rsp_index.val();
        self.tx_engine.s_rsp_phase.next = self.tx_queue.m_rsp_phase.val();
        self.tx_engine.s_rsp_vector.next = self.tx_queue.m_rsp_vector.val();
        self.tx_engine.s_rsp_moderation.next = self.tx_queue.m_rsp_moderation.val();
        self.m_axis_tx_tdata.next = self.tx_engine.m_axis_tx_tdata.val();
        self.m_axis_tx_tkeep.next = self.tx_engine.m_axis_tx_tkeep.val();
        self.m_axis_tx_tvalid.next = self.tx_engine.m_axis_tx_tvalid.val();
        self.tx_engine.m_axis_tx_tready.next = self.m_axis_tx_tready.val();
        self.m_axis_tx_tlast.next = self.tx_engine.m_axis_tx_tlast.val();
        self.m_axis_tx_tuser.next = self.tx_engine.m_axis_tx_tuser.val();
        self.irq.s_tx_event_valid.next = self.tx_engine.m_event_valid.val();
        self.tx_engine.m_event_ready.next = self.irq.s_tx_event_ready.val();
        self.irq.s_tx_event_queue.next = self.tx_engine.m_event_queue.val();
        self.irq.s_tx_event_vector.next = self.tx_engine.m_event_vector.val();
        self.irq.s_tx_event_moderation.next = self.tx_engine.m_event_moderation.val();

        // Counters and error reports.
        self.csr.cnt_inc.next = bit_cast::<9, 7>(self.rx_engine.cnt_inc.val())
            | (bit_cast::<9, 2>(self.tx_engine.cnt_inc.val()) << 7);
        self.err_bits.next = self.rx_engine.err_set.val() | self.tx_engine.err_set.val();
        self.csr.err_queue_info.next = 0.into();
        self.csr.err_addr.next = 0.into();
        if self.tx_queue.m_err_config.val() {
            self.err_bits.next = self.err_bits.val().replace_bit(2, true);
            self.csr.err_queue_info.next =
                bit_cast::<17, QW>(self.tx_queue.m_err_queue.val()).replace_bit(16, true);
        }
        if self.rx_queue.m_err_config.val() {
            self.err_bits.next = self.err_bits.val().replace_bit(2, true);
            self.csr.err_queue_info.next = bit_cast::<17, QW>(self.rx_queue.m_err_queue.val());
        }
        if self.tx_engine.err_set.val().any() {
            self.csr.err_queue_info.next =
                bit_cast::<17, QW>(self.tx_engine.err_queue.val()).replace_bit(16, true);
            self.csr.err_addr.next = self.tx_engine.err_addr.val();
        }
        if self.rx_engine.err_set.val().any() {
            self.csr.err_queue_info.next = bit_cast::<17, QW>(self.rx_engine.err_queue.val());
            self.csr.err_addr.next = self.rx_engine.err_addr.val();
        }
        self.csr.err_set.next = self.err_bits.val();

        // DMA: the three clients onto m_axi.
        self.m_axi_awid.next = self.dma.m_axi_awid.val();
        self.m_axi_awaddr.next = self.dma.m_axi_awaddr.val();
        self.m_axi_awlen.next = self.dma.m_axi_awlen.val();
        self.m_axi_awsize.next = self.dma.m_axi_awsize.val();
        self.m_axi_awburst.next = self.dma.m_axi_awburst.val();
        self.m_axi_awlock.next = self.dma.m_axi_awlock.val();
        self.m_axi_awcache.next = self.dma.m_axi_awcache.val();
        self.m_axi_awprot.next = self.dma.m_axi_awprot.val();
        self.m_axi_awvalid.next = self.dma.m_axi_awvalid.val();
        self.dma.m_axi_awready.next = self.m_axi_awready.val();
        self.m_axi_wdata.next = self.dma.m_axi_wdata.val();
        self.m_axi_wstrb.next = self.dma.m_axi_wstrb.val();
        self.m_axi_wlast.next = self.dma.m_axi_wlast.val();
        self.m_axi_wvalid.next = self.dma.m_axi_wvalid.val();
        self.dma.m_axi_wready.next = self.m_axi_wready.val();
        self.dma.m_axi_bid.next = self.m_axi_bid.val();
        self.dma.m_axi_bresp.next = self.m_axi_bresp.val();
        self.dma.m_axi_bvalid.next = self.m_axi_bvalid.val();
        self.m_axi_bready.next = self.dma.m_axi_bready.val();
        self.m_axi_arid.next = self.dma.m_axi_arid.val();
        self.m_axi_araddr.next = self.dma.m_axi_araddr.val();
        self.m_axi_arlen.next = self.dma.m_axi_arlen.val();
        self.m_axi_arsize.next = self.dma.m_axi_arsize.val();
        self.m_axi_arburst.next = self.dma.m_axi_arburst.val();
        self.m_axi_arlock.next = self.dma.m_axi_arlock.val();
        self.m_axi_arcache.next = self.dma.m_axi_arcache.val();
        self.m_axi_arprot.next = self.dma.m_axi_arprot.val();
        self.m_axi_arvalid.next = self.dma.m_axi_arvalid.val();
        self.dma.m_axi_arready.next = self.m_axi_arready.val();
        self.dma.m_axi_rid.next = self.m_axi_rid.val();
        self.dma.m_axi_rdata.next = self.m_axi_rdata.val();
        self.dma.m_axi_rresp.next = self.m_axi_rresp.val();
        self.dma.m_axi_rlast.next = self.m_axi_rlast.val();
        self.dma.m_axi_rvalid.next = self.m_axi_rvalid.val();
        self.m_axi_rready.next = self.dma.m_axi_rready.val();
        self.dma.s_axi_rx_awid.next = self.rx_engine.m_axi_awid.val();
        self.dma.s_axi_rx_awaddr.next = self.rx_engine.m_axi_awaddr.val();
        self.dma.s_axi_rx_awlen.next = self.rx_engine.m_axi_awlen.val();
        self.dma.s_axi_rx_awsize.next = self.rx_engine.m_axi_awsize.val();
        self.dma.s_axi_rx_awburst.next = self.rx_engine.m_axi_awburst.val();
        self.dma.s_axi_rx_awvalid.next = self.rx_engine.m_axi_awvalid.val();
        self.rx_engine.m_axi_awready.next = self.dma.s_axi_rx_awready.val();
        self.dma.s_axi_rx_wdata.next = self.rx_engine.m_axi_wdata.val();
        self.dma.s_axi_rx_wstrb.next = self.rx_engine.m_axi_wstrb.val();
        self.dma.s_axi_rx_wlast.next = self.rx_engine.m_axi_wlast.val();
        self.dma.s_axi_rx_wvalid.next = self.rx_engine.m_axi_wvalid.val();
        self.rx_engine.m_axi_wready.next = self.dma.s_axi_rx_wready.val();
        self.rx_engine.m_axi_bid.next = self.dma.s_axi_rx_bid.val();
        self.rx_engine.m_axi_bresp.next = self.dma.s_axi_rx_bresp.val();
        self.rx_engine.m_axi_bvalid.next = self.dma.s_axi_rx_bvalid.val();
        self.dma.s_axi_rx_bready.next = self.rx_engine.m_axi_bready.val();
        self.dma.s_axi_rx_arid.next = self.rx_engine.m_axi_arid.val();
        self.dma.s_axi_rx_araddr.next = self.rx_engine.m_axi_araddr.val();
        self.dma.s_axi_rx_arlen.next = self.rx_engine.m_axi_arlen.val();
        self.dma.s_axi_rx_arsize.next = self.rx_engine.m_axi_arsize.val();
        self.dma.s_axi_rx_arburst.next = self.rx_engine.m_axi_arburst.val();
        self.dma.s_axi_rx_arvalid.next = self.rx_engine.m_axi_arvalid.val();
        self.rx_engine.m_axi_arready.next = self.dma.s_axi_rx_arready.val();
        self.rx_engine.m_axi_rid.next = self.dma.s_axi_rx_rid.val();
        self.rx_engine.m_axi_rdata.next = self.dma.s_axi_rx_rdata.val();
        self.rx_engine.m_axi_rresp.next = self.dma.s_axi_rx_rresp.val();
        self.rx_engine.m_axi_rlast.next = self.dma.s_axi_rx_rlast.val();
        self.rx_engine.m_axi_rvalid.next = self.dma.s_axi_rx_rvalid.val();
        self.dma.s_axi_rx_rready.next = self.rx_engine.m_axi_rready.val();
        self.dma.s_axi_tx_awid.next = self.tx_engine.m_axi_awid.val();
        self.dma.s_axi_tx_awaddr.next = self.tx_engine.m_axi_awaddr.val();
        self.dma.s_axi_tx_awlen.next = self.tx_engine.m_axi_awlen.val();
        self.dma.s_axi_tx_awsize.next = self.tx_engine.m_axi_awsize.val();
        self.dma.s_axi_tx_awburst.next = self.tx_engine.m_axi_awburst.val();
        self.dma.s_axi_tx_awvalid.next = self.tx_engine.m_axi_awvalid.val();
        self.tx_engine.m_axi_awready.next = self.dma.s_axi_tx_awready.val();
        self.dma.s_axi_tx_wdata.next = self.tx_engine.m_axi_wdata.val();
        self.dma.s_axi_tx_wstrb.next = self.tx_engine.m_axi_wstrb.val();
        self.dma.s_axi_tx_wlast.next = self.tx_engine.m_axi_wlast.val();
        self.dma.s_axi_tx_wvalid.next = self.tx_engine.m_axi_wvalid.val();
        self.tx_engine.m_axi_wready.next = self.dma.s_axi_tx_wready.val();
        self.tx_engine.m_axi_bid.next = self.dma.s_axi_tx_bid.val();
        self.tx_engine.m_axi_bresp.next = self.dma.s_axi_tx_bresp.val();
        self.tx_engine.m_axi_bvalid.next = self.dma.s_axi_tx_bvalid.val();
        self.dma.s_axi_tx_bready.next = self.tx_engine.m_axi_bready.val();
        self.dma.s_axi_tx_arid.next = self.tx_engine.m_axi_arid.val();
        self.dma.s_axi_tx_araddr.next = self.tx_engine.m_axi_araddr.val();
        self.dma.s_axi_tx_arlen.next = self.tx_engine.m_axi_arlen.val();
        self.dma.s_axi_tx_arsize.next = self.tx_engine.m_axi_arsize.val();
        self.dma.s_axi_tx_arburst.next = self.tx_engine.m_axi_arburst.val();
        self.dma.s_axi_tx_arvalid.next = self.tx_engine.m_axi_arvalid.val();
        self.tx_engine.m_axi_arready.next = self.dma.s_axi_tx_arready.val();
        self.tx_engine.m_axi_rid.next = self.dma.s_axi_tx_rid.val();
        self.tx_engine.m_axi_rdata.next = self.dma.s_axi_tx_rdata.val();
        self.tx_engine.m_axi_rresp.next = self.dma.s_axi_tx_rresp.val();
        self.tx_engine.m_axi_rlast.next = self.dma.s_axi_tx_rlast.val();
        self.tx_engine.m_axi_rvalid.next = self.dma.s_axi_tx_rvalid.val();
        self.dma.s_axi_tx_rready.next = self.tx_engine.m_axi_rready.val();
        self.dma.s_axi_msix_awid.next = self.irq.m_axi_awid.val();
        self.dma.s_axi_msix_awaddr.next = self.irq.m_axi_awaddr.val();
        self.dma.s_axi_msix_awlen.next = self.irq.m_axi_awlen.val();
        self.dma.s_axi_msix_awsize.next = self.irq.m_axi_awsize.val();
        self.dma.s_axi_msix_awburst.next = self.irq.m_axi_awburst.val();
        self.dma.s_axi_msix_awvalid.next = self.irq.m_axi_awvalid.val();
        self.irq.m_axi_awready.next = self.dma.s_axi_msix_awready.val();
        self.dma.s_axi_msix_wdata.next = self.irq.m_axi_wdata.val();
        self.dma.s_axi_msix_wstrb.next = self.irq.m_axi_wstrb.val();
        self.dma.s_axi_msix_wlast.next = self.irq.m_axi_wlast.val();
        self.dma.s_axi_msix_wvalid.next = self.irq.m_axi_wvalid.val();
        self.irq.m_axi_wready.next = self.dma.s_axi_msix_wready.val();
        self.irq.m_axi_bid.next = self.dma.s_axi_msix_bid.val();
        self.irq.m_axi_bresp.next = self.dma.s_axi_msix_bresp.val();
        self.irq.m_axi_bvalid.next = self.dma.s_axi_msix_bvalid.val();
        self.dma.s_axi_msix_bready.next = self.irq.m_axi_bready.val();
    }
}
