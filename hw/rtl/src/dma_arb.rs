//! `dma_arb` — AXI4 interconnect merging the NIC's DMA clients into its one
//! AXI4 master port `m_axi_*` (64-bit addresses, 64-bit data, bursts).
//!
//! Clients, each a full AXI4 slave port with flat cocotbext-axi names:
//! * client 0, `s_axi_rx_*`: writes (aw/w/b) and reads (ar/r) of the receive
//!   engine (frame data and completions; descriptor reads);
//! * client 1, `s_axi_tx_*`: writes and reads of the transmit engine
//!   (completions; descriptor and frame reads);
//! * client 2, `s_axi_msix_*`: writes only — MSI-X message writes.
//!
//! Client IDs are 4 bits wide. On `m_axi` the ID is 6 bits: the client index in
//! bits 5:4 and the client's own ID in bits 3:0. Responses are routed back by
//! `BID`/`RID` bits 5:4 with bits 3:0 restored as the client's `BID`/`RID`; a
//! response naming no client (index 3) is accepted and dropped so it cannot
//! block the channel. `m_axi_awlock/arlock` are 0, `awcache/arcache` 0b0011,
//! `awprot/arprot` 0b010.
//!
//! Writes: round-robin per burst among the clients whose `awvalid` is high. A
//! granted burst's client joins the *owner queue* (two entries: the burst whose
//! W beats are streaming, and one behind it), so the next AW is granted and sent
//! while the current W burst streams; the slave has the address before the data
//! and the W channel switches bursts without an idle cycle. W bursts leave in
//! AW order and never interleave: W is passed straight through from the head of
//! the owner queue (`m_axi_wvalid` from the owner's `wvalid`, the owner's
//! `wready` from `m_axi_wready`), one beat per cycle. With the AW register empty
//! a grant drives `m_axi_aw*` in the grant cycle (bypass), and when the W
//! channel is idle too the granted client's W beats pass in that same cycle;
//! the AW is registered only when the slave does not take it at once. A burst
//! is never split or modified. A client's writes leave in its issue order; the
//! B responses come back in whatever order the slave sends them (AXI: in order
//! per ID), so a client that uses one ID sees its responses in order.
//!
//! Reads: round-robin per AR between `rx` and `tx` into a one-entry AR register
//! (one AR per cycle when the slave takes them back to back). R beats are passed
//! straight through to the client named by `RID`. Bursts of different clients —
//! and of different IDs of one client — may interleave if the slave interleaves
//! or reorders them; within one client order is preserved as long as the client
//! uses one ID (AXI orders responses per ID, and the ID on `m_axi` is unique per
//! (client, ID)).
//!
//! Ordering of MSI-X writes: the arbiter does not order clients against each
//! other. The NIC's guarantee (DESIGN.md, "the ordering argument") is that an
//! interrupt is raised only after the completion write's B response, so the
//! MSI-X write is issued to this block after the completion reached the host.
//!
//! Handshake paths: no output `valid` depends on any `ready` (the bypass and the
//! same-cycle W routing are decided from registers and the clients' `awvalid`
//! only). Paths exist from ready to ready (`m_axi_awready` to the clients'
//! `awready`, `m_axi_arready` to `arready`, `m_axi_wready` to `wready`, the
//! clients' `bready` and `rready` to `m_axi_bready`/`m_axi_rready`) and from valid
//! to valid (the clients' `awvalid` to `m_axi_awvalid` and `m_axi_wvalid`; W, B,
//! R pass-through), as AXI allows. A client that wins AW must then deliver its W
//! burst: the W channel waits for it, and a client granted behind it waits too.
//!
//! `rst` (synchronous, active high) empties the AW and AR registers and the
//! owner queue and restarts the round-robin; the slave and the clients must be
//! reset with it (nothing is in flight afterwards).

use rust_hdl::prelude::*;

/// AXI4 interconnect: three DMA clients (`rx`, `tx` read+write, `msix` write) to
/// one AXI4 master.
#[derive(LogicBlock, Default)]
pub struct DmaArb {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// Client `rx` (receive engine): write ID (echoed in BID).
    pub s_axi_rx_awid: Signal<In, Bits<4>>,
    /// Client `rx` (receive engine): write address.
    pub s_axi_rx_awaddr: Signal<In, Bits<64>>,
    /// Client `rx` (receive engine): burst length - 1.
    pub s_axi_rx_awlen: Signal<In, Bits<8>>,
    /// Client `rx` (receive engine): beat size (log2 bytes).
    pub s_axi_rx_awsize: Signal<In, Bits<3>>,
    /// Client `rx` (receive engine): burst type.
    pub s_axi_rx_awburst: Signal<In, Bits<2>>,
    /// Client `rx` (receive engine): write address valid.
    pub s_axi_rx_awvalid: Signal<In, Bit>,
    /// Client `rx` (receive engine): write address ready.
    pub s_axi_rx_awready: Signal<Out, Bit>,
    /// Client `rx` (receive engine): write data.
    pub s_axi_rx_wdata: Signal<In, Bits<64>>,
    /// Client `rx` (receive engine): write strobes.
    pub s_axi_rx_wstrb: Signal<In, Bits<8>>,
    /// Client `rx` (receive engine): last beat of the burst.
    pub s_axi_rx_wlast: Signal<In, Bit>,
    /// Client `rx` (receive engine): write data valid.
    pub s_axi_rx_wvalid: Signal<In, Bit>,
    /// Client `rx` (receive engine): write data ready.
    pub s_axi_rx_wready: Signal<Out, Bit>,
    /// Client `rx` (receive engine): write response ID (the client's AWID).
    pub s_axi_rx_bid: Signal<Out, Bits<4>>,
    /// Client `rx` (receive engine): write response.
    pub s_axi_rx_bresp: Signal<Out, Bits<2>>,
    /// Client `rx` (receive engine): write response valid.
    pub s_axi_rx_bvalid: Signal<Out, Bit>,
    /// Client `rx` (receive engine): write response ready.
    pub s_axi_rx_bready: Signal<In, Bit>,
    /// Client `rx` (receive engine): read ID (echoed in RID).
    pub s_axi_rx_arid: Signal<In, Bits<4>>,
    /// Client `rx` (receive engine): read address.
    pub s_axi_rx_araddr: Signal<In, Bits<64>>,
    /// Client `rx` (receive engine): burst length - 1.
    pub s_axi_rx_arlen: Signal<In, Bits<8>>,
    /// Client `rx` (receive engine): beat size (log2 bytes).
    pub s_axi_rx_arsize: Signal<In, Bits<3>>,
    /// Client `rx` (receive engine): burst type.
    pub s_axi_rx_arburst: Signal<In, Bits<2>>,
    /// Client `rx` (receive engine): read address valid.
    pub s_axi_rx_arvalid: Signal<In, Bit>,
    /// Client `rx` (receive engine): read address ready.
    pub s_axi_rx_arready: Signal<Out, Bit>,
    /// Client `rx` (receive engine): read data ID (the client's ARID).
    pub s_axi_rx_rid: Signal<Out, Bits<4>>,
    /// Client `rx` (receive engine): read data.
    pub s_axi_rx_rdata: Signal<Out, Bits<64>>,
    /// Client `rx` (receive engine): read response.
    pub s_axi_rx_rresp: Signal<Out, Bits<2>>,
    /// Client `rx` (receive engine): last beat of the burst.
    pub s_axi_rx_rlast: Signal<Out, Bit>,
    /// Client `rx` (receive engine): read data valid.
    pub s_axi_rx_rvalid: Signal<Out, Bit>,
    /// Client `rx` (receive engine): read data ready.
    pub s_axi_rx_rready: Signal<In, Bit>,
    /// Client `tx` (transmit engine): write ID (echoed in BID).
    pub s_axi_tx_awid: Signal<In, Bits<4>>,
    /// Client `tx` (transmit engine): write address.
    pub s_axi_tx_awaddr: Signal<In, Bits<64>>,
    /// Client `tx` (transmit engine): burst length - 1.
    pub s_axi_tx_awlen: Signal<In, Bits<8>>,
    /// Client `tx` (transmit engine): beat size (log2 bytes).
    pub s_axi_tx_awsize: Signal<In, Bits<3>>,
    /// Client `tx` (transmit engine): burst type.
    pub s_axi_tx_awburst: Signal<In, Bits<2>>,
    /// Client `tx` (transmit engine): write address valid.
    pub s_axi_tx_awvalid: Signal<In, Bit>,
    /// Client `tx` (transmit engine): write address ready.
    pub s_axi_tx_awready: Signal<Out, Bit>,
    /// Client `tx` (transmit engine): write data.
    pub s_axi_tx_wdata: Signal<In, Bits<64>>,
    /// Client `tx` (transmit engine): write strobes.
    pub s_axi_tx_wstrb: Signal<In, Bits<8>>,
    /// Client `tx` (transmit engine): last beat of the burst.
    pub s_axi_tx_wlast: Signal<In, Bit>,
    /// Client `tx` (transmit engine): write data valid.
    pub s_axi_tx_wvalid: Signal<In, Bit>,
    /// Client `tx` (transmit engine): write data ready.
    pub s_axi_tx_wready: Signal<Out, Bit>,
    /// Client `tx` (transmit engine): write response ID (the client's AWID).
    pub s_axi_tx_bid: Signal<Out, Bits<4>>,
    /// Client `tx` (transmit engine): write response.
    pub s_axi_tx_bresp: Signal<Out, Bits<2>>,
    /// Client `tx` (transmit engine): write response valid.
    pub s_axi_tx_bvalid: Signal<Out, Bit>,
    /// Client `tx` (transmit engine): write response ready.
    pub s_axi_tx_bready: Signal<In, Bit>,
    /// Client `tx` (transmit engine): read ID (echoed in RID).
    pub s_axi_tx_arid: Signal<In, Bits<4>>,
    /// Client `tx` (transmit engine): read address.
    pub s_axi_tx_araddr: Signal<In, Bits<64>>,
    /// Client `tx` (transmit engine): burst length - 1.
    pub s_axi_tx_arlen: Signal<In, Bits<8>>,
    /// Client `tx` (transmit engine): beat size (log2 bytes).
    pub s_axi_tx_arsize: Signal<In, Bits<3>>,
    /// Client `tx` (transmit engine): burst type.
    pub s_axi_tx_arburst: Signal<In, Bits<2>>,
    /// Client `tx` (transmit engine): read address valid.
    pub s_axi_tx_arvalid: Signal<In, Bit>,
    /// Client `tx` (transmit engine): read address ready.
    pub s_axi_tx_arready: Signal<Out, Bit>,
    /// Client `tx` (transmit engine): read data ID (the client's ARID).
    pub s_axi_tx_rid: Signal<Out, Bits<4>>,
    /// Client `tx` (transmit engine): read data.
    pub s_axi_tx_rdata: Signal<Out, Bits<64>>,
    /// Client `tx` (transmit engine): read response.
    pub s_axi_tx_rresp: Signal<Out, Bits<2>>,
    /// Client `tx` (transmit engine): last beat of the burst.
    pub s_axi_tx_rlast: Signal<Out, Bit>,
    /// Client `tx` (transmit engine): read data valid.
    pub s_axi_tx_rvalid: Signal<Out, Bit>,
    /// Client `tx` (transmit engine): read data ready.
    pub s_axi_tx_rready: Signal<In, Bit>,
    /// Client `msix` (MSI-X): write ID (echoed in BID).
    pub s_axi_msix_awid: Signal<In, Bits<4>>,
    /// Client `msix` (MSI-X): write address.
    pub s_axi_msix_awaddr: Signal<In, Bits<64>>,
    /// Client `msix` (MSI-X): burst length - 1.
    pub s_axi_msix_awlen: Signal<In, Bits<8>>,
    /// Client `msix` (MSI-X): beat size (log2 bytes).
    pub s_axi_msix_awsize: Signal<In, Bits<3>>,
    /// Client `msix` (MSI-X): burst type.
    pub s_axi_msix_awburst: Signal<In, Bits<2>>,
    /// Client `msix` (MSI-X): write address valid.
    pub s_axi_msix_awvalid: Signal<In, Bit>,
    /// Client `msix` (MSI-X): write address ready.
    pub s_axi_msix_awready: Signal<Out, Bit>,
    /// Client `msix` (MSI-X): write data.
    pub s_axi_msix_wdata: Signal<In, Bits<64>>,
    /// Client `msix` (MSI-X): write strobes.
    pub s_axi_msix_wstrb: Signal<In, Bits<8>>,
    /// Client `msix` (MSI-X): last beat of the burst.
    pub s_axi_msix_wlast: Signal<In, Bit>,
    /// Client `msix` (MSI-X): write data valid.
    pub s_axi_msix_wvalid: Signal<In, Bit>,
    /// Client `msix` (MSI-X): write data ready.
    pub s_axi_msix_wready: Signal<Out, Bit>,
    /// Client `msix` (MSI-X): write response ID (the client's AWID).
    pub s_axi_msix_bid: Signal<Out, Bits<4>>,
    /// Client `msix` (MSI-X): write response.
    pub s_axi_msix_bresp: Signal<Out, Bits<2>>,
    /// Client `msix` (MSI-X): write response valid.
    pub s_axi_msix_bvalid: Signal<Out, Bit>,
    /// Client `msix` (MSI-X): write response ready.
    pub s_axi_msix_bready: Signal<In, Bit>,
    /// Master: write ID (client index in 5:4, client ID in 3:0).
    pub m_axi_awid: Signal<Out, Bits<6>>,
    /// Master: write address.
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    /// Master: burst length - 1.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// Master: beat size (log2 bytes).
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// Master: burst type.
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// Master: write lock (always 0, normal access).
    pub m_axi_awlock: Signal<Out, Bit>,
    /// Master: write cache attributes (always 0b0011, normal non-cacheable bufferable).
    pub m_axi_awcache: Signal<Out, Bits<4>>,
    /// Master: write protection (always 0b010, non-secure data).
    pub m_axi_awprot: Signal<Out, Bits<3>>,
    /// Master: write address valid.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// Master: write address ready.
    pub m_axi_awready: Signal<In, Bit>,
    /// Master: write data.
    pub m_axi_wdata: Signal<Out, Bits<64>>,
    /// Master: write strobes.
    pub m_axi_wstrb: Signal<Out, Bits<8>>,
    /// Master: last beat of the burst.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// Master: write data valid.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// Master: write data ready.
    pub m_axi_wready: Signal<In, Bit>,
    /// Master: write response ID (client index in 5:4, client ID in 3:0).
    pub m_axi_bid: Signal<In, Bits<6>>,
    /// Master: write response.
    pub m_axi_bresp: Signal<In, Bits<2>>,
    /// Master: write response valid.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// Master: write response ready.
    pub m_axi_bready: Signal<Out, Bit>,
    /// Master: read ID (client index in 5:4, client ID in 3:0).
    pub m_axi_arid: Signal<Out, Bits<6>>,
    /// Master: read address.
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    /// Master: burst length - 1.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// Master: beat size (log2 bytes).
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// Master: burst type.
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// Master: read lock (always 0, normal access).
    pub m_axi_arlock: Signal<Out, Bit>,
    /// Master: read cache attributes (always 0b0011, normal non-cacheable bufferable).
    pub m_axi_arcache: Signal<Out, Bits<4>>,
    /// Master: read protection (always 0b010, non-secure data).
    pub m_axi_arprot: Signal<Out, Bits<3>>,
    /// Master: read address valid.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// Master: read address ready.
    pub m_axi_arready: Signal<In, Bit>,
    /// Master: read data ID (client index in 5:4, client ID in 3:0).
    pub m_axi_rid: Signal<In, Bits<6>>,
    /// Master: read data.
    pub m_axi_rdata: Signal<In, Bits<64>>,
    /// Master: read response.
    pub m_axi_rresp: Signal<In, Bits<2>>,
    /// Master: last beat of the burst.
    pub m_axi_rlast: Signal<In, Bit>,
    /// Master: read data valid.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// Master: read data ready.
    pub m_axi_rready: Signal<Out, Bit>,

    // AW register (drives m_axi_aw*).
    aw_valid: DFF<Bit>,
    aw_client: DFF<Bits<2>>,
    aw_cid: DFF<Bits<4>>,
    aw_addr: DFF<Bits<64>>,
    aw_len: DFF<Bits<8>>,
    aw_size: DFF<Bits<3>>,
    aw_burst: DFF<Bits<2>>,
    /// Client of the last AW grant (round-robin pointer).
    aw_last: DFF<Bits<2>>,
    /// Head of the owner queue: the W channel belongs to `w_owner` (while
    /// `w_busy`) until its `wlast` beat.
    w_busy: DFF<Bit>,
    w_owner: DFF<Bits<2>>,
    // AR register (drives m_axi_ar*).
    ar_valid: DFF<Bit>,
    ar_client: DFF<Bit>,
    ar_cid: DFF<Bits<4>>,
    ar_addr: DFF<Bits<64>>,
    ar_len: DFF<Bits<8>>,
    ar_size: DFF<Bits<3>>,
    ar_burst: DFF<Bits<2>>,
    /// Client of the last AR grant (round-robin pointer).
    ar_last: DFF<Bit>,

    /// The burst queued behind the streaming one: its client is `wn_owner`.
    wn_valid: DFF<Bit>,
    wn_owner: DFF<Bits<2>>,

    w_sel_valid: Signal<Local, Bit>,
    w_sel_last: Signal<Local, Bit>,
    w_done: Signal<Local, Bit>,
    w_new: Signal<Local, Bit>,
    w_route: Signal<Local, Bit>,
    w_src: Signal<Local, Bits<2>>,
    aw_pick_rx: Signal<Local, Bit>,
    aw_pick_tx: Signal<Local, Bit>,
    aw_pick_msix: Signal<Local, Bit>,
    aw_pick_any: Signal<Local, Bit>,
    aw_bypass: Signal<Local, Bit>,
    aw_grant: Signal<Local, Bit>,
    aw_win: Signal<Local, Bits<2>>,
    aw_sel_id: Signal<Local, Bits<4>>,
    aw_sel_addr: Signal<Local, Bits<64>>,
    aw_sel_len: Signal<Local, Bits<8>>,
    aw_sel_size: Signal<Local, Bits<3>>,
    aw_sel_burst: Signal<Local, Bits<2>>,
    ar_free: Signal<Local, Bit>,
    ar_g_rx: Signal<Local, Bit>,
    ar_g_tx: Signal<Local, Bit>,
    b_client: Signal<Local, Bits<2>>,
    r_client: Signal<Local, Bits<2>>,
}

impl Logic for DmaArb {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clk, aw_valid, aw_client, aw_cid, aw_addr, aw_len, aw_size, aw_burst, aw_last,
            w_busy, w_owner, wn_valid, wn_owner, ar_valid, ar_client, ar_cid, ar_addr, ar_len,
            ar_size, ar_burst, ar_last
        );

        // ---- master AW / AR outputs, from the registers -------------------------
        self.m_axi_awlock.next = false;
        self.m_axi_awcache.next = 3.into();
        self.m_axi_awprot.next = 2.into();
        self.m_axi_arvalid.next = self.ar_valid.q.val();
        self.m_axi_arid.next = (bit_cast::<6, 1>(self.ar_client.q.val().into()) << 4)
            | bit_cast::<6, 4>(self.ar_cid.q.val());
        self.m_axi_araddr.next = self.ar_addr.q.val();
        self.m_axi_arlen.next = self.ar_len.q.val();
        self.m_axi_arsize.next = self.ar_size.q.val();
        self.m_axi_arburst.next = self.ar_burst.q.val();
        self.m_axi_arlock.next = false;
        self.m_axi_arcache.next = 3.into();
        self.m_axi_arprot.next = 2.into();

        // ---- client defaults ----------------------------------------------------
        self.s_axi_rx_awready.next = false;
        self.s_axi_tx_awready.next = false;
        self.s_axi_msix_awready.next = false;
        self.s_axi_rx_wready.next = false;
        self.s_axi_tx_wready.next = false;
        self.s_axi_msix_wready.next = false;
        self.s_axi_rx_arready.next = false;
        self.s_axi_tx_arready.next = false;

        // ---- AW: round-robin per burst ------------------------------------------
        // `aw_pick` is the round-robin choice among the clients offering an AW,
        // ungated, so that the W routing below can use it without a path from
        // any ready. A grant needs room in the owner queue (at most one burst
        // behind the streaming one) and the AW register free or leaving.
        self.aw_pick_rx.next = false;
        self.aw_pick_tx.next = false;
        self.aw_pick_msix.next = false;
        if self.aw_last.q.val() == 0 {
            if self.s_axi_tx_awvalid.val() {
                self.aw_pick_tx.next = true;
            } else if self.s_axi_msix_awvalid.val() {
                self.aw_pick_msix.next = true;
            } else if self.s_axi_rx_awvalid.val() {
                self.aw_pick_rx.next = true;
            }
        } else if self.aw_last.q.val() == 1 {
            if self.s_axi_msix_awvalid.val() {
                self.aw_pick_msix.next = true;
            } else if self.s_axi_rx_awvalid.val() {
                self.aw_pick_rx.next = true;
            } else if self.s_axi_tx_awvalid.val() {
                self.aw_pick_tx.next = true;
            }
        } else if self.s_axi_rx_awvalid.val() {
            self.aw_pick_rx.next = true;
        } else if self.s_axi_tx_awvalid.val() {
            self.aw_pick_tx.next = true;
        } else if self.s_axi_msix_awvalid.val() {
            self.aw_pick_msix.next = true;
        }
        self.aw_pick_any.next =
            self.aw_pick_rx.val() | self.aw_pick_tx.val() | self.aw_pick_msix.val();
        self.aw_win.next = 0.into();
        if self.aw_pick_tx.val() {
            self.aw_win.next = 1.into();
        }
        if self.aw_pick_msix.val() {
            self.aw_win.next = 2.into();
        }
        // Bypass: with the AW register empty, a grant drives `m_axi_aw*` in the
        // same cycle (and is registered only if the slave does not take it).
        // Its condition uses registers only, so `m_axi_awvalid` and
        // `m_axi_wvalid` depend on no ready.
        self.aw_bypass.next = (!self.aw_valid.q.val()) & (!self.wn_valid.q.val());
        self.aw_grant.next = self.aw_pick_any.val()
            & (!self.wn_valid.q.val())
            & ((!self.aw_valid.q.val()) | self.m_axi_awready.val());
        // The picked burst's W may start in its grant cycle when the W channel
        // is idle and the grant is a bypass.
        self.w_new.next = (!self.w_busy.q.val()) & self.aw_bypass.val() & self.aw_pick_any.val();

        // The picked client's AW fields.
        self.aw_sel_id.next = self.s_axi_rx_awid.val();
        self.aw_sel_addr.next = self.s_axi_rx_awaddr.val();
        self.aw_sel_len.next = self.s_axi_rx_awlen.val();
        self.aw_sel_size.next = self.s_axi_rx_awsize.val();
        self.aw_sel_burst.next = self.s_axi_rx_awburst.val();
        if self.aw_pick_tx.val() {
            self.aw_sel_id.next = self.s_axi_tx_awid.val();
            self.aw_sel_addr.next = self.s_axi_tx_awaddr.val();
            self.aw_sel_len.next = self.s_axi_tx_awlen.val();
            self.aw_sel_size.next = self.s_axi_tx_awsize.val();
            self.aw_sel_burst.next = self.s_axi_tx_awburst.val();
        }
        if self.aw_pick_msix.val() {
            self.aw_sel_id.next = self.s_axi_msix_awid.val();
            self.aw_sel_addr.next = self.s_axi_msix_awaddr.val();
            self.aw_sel_len.next = self.s_axi_msix_awlen.val();
            self.aw_sel_size.next = self.s_axi_msix_awsize.val();
            self.aw_sel_burst.next = self.s_axi_msix_awburst.val();
        }
        self.m_axi_awvalid.next = self.aw_valid.q.val();
        self.m_axi_awid.next =
            (bit_cast::<6, 2>(self.aw_client.q.val()) << 4) | bit_cast::<6, 4>(self.aw_cid.q.val());
        self.m_axi_awaddr.next = self.aw_addr.q.val();
        self.m_axi_awlen.next = self.aw_len.q.val();
        self.m_axi_awsize.next = self.aw_size.q.val();
        self.m_axi_awburst.next = self.aw_burst.q.val();
        if self.aw_bypass.val() & self.aw_pick_any.val() {
            self.m_axi_awvalid.next = true;
            self.m_axi_awid.next =
                (bit_cast::<6, 2>(self.aw_win.val()) << 4) | bit_cast::<6, 4>(self.aw_sel_id.val());
            self.m_axi_awaddr.next = self.aw_sel_addr.val();
            self.m_axi_awlen.next = self.aw_sel_len.val();
            self.m_axi_awsize.next = self.aw_sel_size.val();
            self.m_axi_awburst.next = self.aw_sel_burst.val();
        }
        if self.m_axi_awready.val() {
            self.aw_valid.d.next = false;
        }
        if self.aw_grant.val() {
            self.s_axi_rx_awready.next = self.aw_pick_rx.val();
            self.s_axi_tx_awready.next = self.aw_pick_tx.val();
            self.s_axi_msix_awready.next = self.aw_pick_msix.val();
            self.aw_last.d.next = self.aw_win.val();
            self.aw_client.d.next = self.aw_win.val();
            self.aw_cid.d.next = self.aw_sel_id.val();
            self.aw_addr.d.next = self.aw_sel_addr.val();
            self.aw_len.d.next = self.aw_sel_len.val();
            self.aw_size.d.next = self.aw_sel_size.val();
            self.aw_burst.d.next = self.aw_sel_burst.val();
            // Registered unless the slave took it straight from the bypass.
            self.aw_valid.d.next = !(self.aw_bypass.val() & self.m_axi_awready.val());
        }

        // ---- W: straight through from the head of the owner queue ---------------
        // The owner queue holds the clients of granted bursts in grant (= AW)
        // order: `w_owner` streams (`w_busy`), `wn_owner` is next (`wn_valid`).
        self.w_src.next = self.w_owner.q.val();
        if self.w_new.val() {
            self.w_src.next = self.aw_win.val();
        }
        self.w_route.next = self.w_busy.q.val() | self.w_new.val();
        self.w_sel_valid.next = false;
        self.w_sel_last.next = false;
        self.m_axi_wdata.next = self.s_axi_rx_wdata.val();
        self.m_axi_wstrb.next = self.s_axi_rx_wstrb.val();
        if self.w_route.val() {
            if self.w_src.val() == 0 {
                self.w_sel_valid.next = self.s_axi_rx_wvalid.val();
                self.w_sel_last.next = self.s_axi_rx_wlast.val();
                self.s_axi_rx_wready.next = self.m_axi_wready.val();
            }
            if self.w_src.val() == 1 {
                self.m_axi_wdata.next = self.s_axi_tx_wdata.val();
                self.m_axi_wstrb.next = self.s_axi_tx_wstrb.val();
                self.w_sel_valid.next = self.s_axi_tx_wvalid.val();
                self.w_sel_last.next = self.s_axi_tx_wlast.val();
                self.s_axi_tx_wready.next = self.m_axi_wready.val();
            }
            if self.w_src.val() == 2 {
                self.m_axi_wdata.next = self.s_axi_msix_wdata.val();
                self.m_axi_wstrb.next = self.s_axi_msix_wstrb.val();
                self.w_sel_valid.next = self.s_axi_msix_wvalid.val();
                self.w_sel_last.next = self.s_axi_msix_wlast.val();
                self.s_axi_msix_wready.next = self.m_axi_wready.val();
            }
        }
        self.m_axi_wvalid.next = self.w_sel_valid.val();
        self.m_axi_wlast.next = self.w_sel_last.val();
        self.w_done.next = self.w_sel_valid.val() & self.m_axi_wready.val() & self.w_sel_last.val();

        // Owner queue update. A grant while a burst streams queues behind it
        // (the queue has room: the grant needs `wn_valid` low); when the
        // streaming burst ends, the next (queued or granted now) moves up.
        if self.w_busy.q.val() {
            if self.w_done.val() {
                self.w_busy.d.next = self.wn_valid.q.val() | self.aw_grant.val();
                self.w_owner.d.next = self.wn_owner.q.val();
                if self.aw_grant.val() {
                    self.w_owner.d.next = self.aw_win.val();
                }
                self.wn_valid.d.next = false;
            } else if self.aw_grant.val() {
                self.wn_valid.d.next = true;
                self.wn_owner.d.next = self.aw_win.val();
            }
        } else if self.aw_grant.val() {
            // Streams from the next cycle on, unless it was a one-beat burst
            // that completed in its grant cycle (`w_new`).
            self.w_busy.d.next = !(self.w_new.val() & self.w_done.val());
            self.w_owner.d.next = self.aw_win.val();
        }

        // ---- B: routed by BID[5:4], BID[3:0] restored ----------------------------
        self.b_client.next = self.m_axi_bid.val().get_bits::<2>(4);
        self.s_axi_rx_bid.next = self.m_axi_bid.val().get_bits::<4>(0);
        self.s_axi_tx_bid.next = self.m_axi_bid.val().get_bits::<4>(0);
        self.s_axi_msix_bid.next = self.m_axi_bid.val().get_bits::<4>(0);
        self.s_axi_rx_bresp.next = self.m_axi_bresp.val();
        self.s_axi_tx_bresp.next = self.m_axi_bresp.val();
        self.s_axi_msix_bresp.next = self.m_axi_bresp.val();
        self.s_axi_rx_bvalid.next = false;
        self.s_axi_tx_bvalid.next = false;
        self.s_axi_msix_bvalid.next = false;
        // A response for no client (index 3) is taken and dropped.
        self.m_axi_bready.next = true;
        if self.b_client.val() == 0 {
            self.s_axi_rx_bvalid.next = self.m_axi_bvalid.val();
            self.m_axi_bready.next = self.s_axi_rx_bready.val();
        }
        if self.b_client.val() == 1 {
            self.s_axi_tx_bvalid.next = self.m_axi_bvalid.val();
            self.m_axi_bready.next = self.s_axi_tx_bready.val();
        }
        if self.b_client.val() == 2 {
            self.s_axi_msix_bvalid.next = self.m_axi_bvalid.val();
            self.m_axi_bready.next = self.s_axi_msix_bready.val();
        }

        // ---- AR: round-robin per request ----------------------------------------
        self.ar_free.next = (!self.ar_valid.q.val()) | self.m_axi_arready.val();
        if self.m_axi_arready.val() {
            self.ar_valid.d.next = false;
        }
        self.ar_g_rx.next = false;
        self.ar_g_tx.next = false;
        if self.ar_free.val() {
            if self.ar_last.q.val() {
                if self.s_axi_rx_arvalid.val() {
                    self.ar_g_rx.next = true;
                } else if self.s_axi_tx_arvalid.val() {
                    self.ar_g_tx.next = true;
                }
            } else if self.s_axi_tx_arvalid.val() {
                self.ar_g_tx.next = true;
            } else if self.s_axi_rx_arvalid.val() {
                self.ar_g_rx.next = true;
            }
        }
        if self.ar_g_rx.val() {
            self.s_axi_rx_arready.next = true;
            self.ar_valid.d.next = true;
            self.ar_client.d.next = false;
            self.ar_last.d.next = false;
            self.ar_cid.d.next = self.s_axi_rx_arid.val();
            self.ar_addr.d.next = self.s_axi_rx_araddr.val();
            self.ar_len.d.next = self.s_axi_rx_arlen.val();
            self.ar_size.d.next = self.s_axi_rx_arsize.val();
            self.ar_burst.d.next = self.s_axi_rx_arburst.val();
        }
        if self.ar_g_tx.val() {
            self.s_axi_tx_arready.next = true;
            self.ar_valid.d.next = true;
            self.ar_client.d.next = true;
            self.ar_last.d.next = true;
            self.ar_cid.d.next = self.s_axi_tx_arid.val();
            self.ar_addr.d.next = self.s_axi_tx_araddr.val();
            self.ar_len.d.next = self.s_axi_tx_arlen.val();
            self.ar_size.d.next = self.s_axi_tx_arsize.val();
            self.ar_burst.d.next = self.s_axi_tx_arburst.val();
        }

        // ---- R: routed by RID[5:4], RID[3:0] restored ----------------------------
        self.r_client.next = self.m_axi_rid.val().get_bits::<2>(4);
        self.s_axi_rx_rid.next = self.m_axi_rid.val().get_bits::<4>(0);
        self.s_axi_tx_rid.next = self.m_axi_rid.val().get_bits::<4>(0);
        self.s_axi_rx_rdata.next = self.m_axi_rdata.val();
        self.s_axi_tx_rdata.next = self.m_axi_rdata.val();
        self.s_axi_rx_rresp.next = self.m_axi_rresp.val();
        self.s_axi_tx_rresp.next = self.m_axi_rresp.val();
        self.s_axi_rx_rlast.next = self.m_axi_rlast.val();
        self.s_axi_tx_rlast.next = self.m_axi_rlast.val();
        self.s_axi_rx_rvalid.next = false;
        self.s_axi_tx_rvalid.next = false;
        // Beats for no client (index 2 or 3) are taken and dropped.
        self.m_axi_rready.next = true;
        if self.r_client.val() == 0 {
            self.s_axi_rx_rvalid.next = self.m_axi_rvalid.val();
            self.m_axi_rready.next = self.s_axi_rx_rready.val();
        }
        if self.r_client.val() == 1 {
            self.s_axi_tx_rvalid.next = self.m_axi_rvalid.val();
            self.m_axi_rready.next = self.s_axi_tx_rready.val();
        }

        if self.rst.val() {
            self.aw_valid.d.next = false;
            self.w_busy.d.next = false;
            self.wn_valid.d.next = false;
            self.aw_last.d.next = 2.into();
            self.ar_valid.d.next = false;
            self.ar_last.d.next = true;
        }
    }
}
