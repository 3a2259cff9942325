//! `axil_reg_if` — AXI4-Lite slave to a simple register interface.
//!
//! Turns AXI4-Lite transactions into one register request at a time (after
//! Corundum's `axil_reg_if`): a write holds `m_reg_wr_en` with address and data
//! until the register side pulses `m_reg_wr_ack`; a read holds `m_reg_rd_en`
//! until `m_reg_rd_ack`, which carries `m_reg_rd_data`. One transaction is in
//! flight at a time — BAR0 accesses are driver control-path traffic, not data
//! path — and reads and writes alternate when both wait, so neither starves.
//!
//! Defined reactions: a write whose `wstrb` is not all ones is not passed on
//! (registers are 32 bits wide; the driver never writes partially) and is answered
//! with SLVERR. Everything else is answered OKAY; offsets that name no register
//! are the register side's business (writes ignored, reads 0).
//!
//! Ports follow cocotbext-axi's flat naming: `s_axil_aw*`, `s_axil_w*`,
//! `s_axil_b*`, `s_axil_ar*`, `s_axil_r*`.

use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum AxilState {
    Idle,
    WriteRequest,
    WriteResponse,
    ReadRequest,
    ReadResponse,
}

/// AXI4-Lite slave with an `A`-bit byte address, 32-bit data.
#[derive(LogicBlock)]
pub struct AxilRegIf<const A: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// AXI4-Lite write address.
    pub s_axil_awaddr: Signal<In, Bits<A>>,
    /// Write protection type (ignored).
    pub s_axil_awprot: Signal<In, Bits<3>>,
    /// Write address valid.
    pub s_axil_awvalid: Signal<In, Bit>,
    /// Write address ready.
    pub s_axil_awready: Signal<Out, Bit>,
    /// Write data.
    pub s_axil_wdata: Signal<In, Bits<32>>,
    /// Write strobes.
    pub s_axil_wstrb: Signal<In, Bits<4>>,
    /// Write data valid.
    pub s_axil_wvalid: Signal<In, Bit>,
    /// Write data ready.
    pub s_axil_wready: Signal<Out, Bit>,
    /// Write response (0 OKAY, 2 SLVERR).
    pub s_axil_bresp: Signal<Out, Bits<2>>,
    /// Write response valid.
    pub s_axil_bvalid: Signal<Out, Bit>,
    /// Write response ready.
    pub s_axil_bready: Signal<In, Bit>,
    /// Read address.
    pub s_axil_araddr: Signal<In, Bits<A>>,
    /// Read protection type (ignored).
    pub s_axil_arprot: Signal<In, Bits<3>>,
    /// Read address valid.
    pub s_axil_arvalid: Signal<In, Bit>,
    /// Read address ready.
    pub s_axil_arready: Signal<Out, Bit>,
    /// Read data.
    pub s_axil_rdata: Signal<Out, Bits<32>>,
    /// Read response (always OKAY).
    pub s_axil_rresp: Signal<Out, Bits<2>>,
    /// Read data valid.
    pub s_axil_rvalid: Signal<Out, Bit>,
    /// Read data ready.
    pub s_axil_rready: Signal<In, Bit>,
    /// Register write request (held until acknowledged).
    pub m_reg_wr_en: Signal<Out, Bit>,
    /// Register write byte address (bits 1:0 zero).
    pub m_reg_wr_addr: Signal<Out, Bits<A>>,
    /// Register write data.
    pub m_reg_wr_data: Signal<Out, Bits<32>>,
    /// Register write done.
    pub m_reg_wr_ack: Signal<In, Bit>,
    /// Register read request (held until acknowledged).
    pub m_reg_rd_en: Signal<Out, Bit>,
    /// Register read byte address (bits 1:0 zero).
    pub m_reg_rd_addr: Signal<Out, Bits<A>>,
    /// Register read data, valid with the acknowledge.
    pub m_reg_rd_data: Signal<In, Bits<32>>,
    /// Register read done.
    pub m_reg_rd_ack: Signal<In, Bit>,
    state: DFF<AxilState>,
    addr: DFF<Bits<A>>,
    wdata: DFF<Bits<32>>,
    rdata: DFF<Bits<32>>,
    slverr: DFF<Bit>,
    read_next: DFF<Bit>,
    word_addr_mask: Constant<Bits<A>>,
    write_pending: Signal<Local, Bit>,
    take_write: Signal<Local, Bit>,
    take_read: Signal<Local, Bit>,
}

impl<const A: usize> Default for AxilRegIf<A> {
    fn default() -> Self {
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
            m_reg_wr_en: Default::default(),
            m_reg_wr_addr: Default::default(),
            m_reg_wr_data: Default::default(),
            m_reg_wr_ack: Default::default(),
            m_reg_rd_en: Default::default(),
            m_reg_rd_addr: Default::default(),
            m_reg_rd_data: Default::default(),
            m_reg_rd_ack: Default::default(),
            state: Default::default(),
            addr: Default::default(),
            wdata: Default::default(),
            rdata: Default::default(),
            slverr: Default::default(),
            read_next: Default::default(),
            // Registers are 32-bit words: drop the byte-lane bits of the address.
            word_addr_mask: Constant::new(((1u64 << A) - 4).to_bits()),
            write_pending: Default::default(),
            take_write: Default::default(),
            take_read: Default::default(),
        }
    }
}

impl<const A: usize> Logic for AxilRegIf<A> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, state, addr, wdata, rdata, slverr, read_next);
        self.s_axil_awready.next = false;
        self.s_axil_wready.next = false;
        self.s_axil_arready.next = false;
        self.s_axil_bvalid.next = false;
        self.s_axil_rvalid.next = false;
        self.s_axil_bresp.next = 0.into();
        if self.slverr.q.val() {
            self.s_axil_bresp.next = 2.into();
        }
        self.s_axil_rresp.next = 0.into();
        self.s_axil_rdata.next = self.rdata.q.val();
        self.m_reg_wr_en.next = false;
        self.m_reg_rd_en.next = false;
        self.m_reg_wr_addr.next = self.addr.q.val();
        self.m_reg_rd_addr.next = self.addr.q.val();
        self.m_reg_wr_data.next = self.wdata.q.val();

        // A write needs both its address and its data; when a read waits too,
        // `read_next` says whose turn it is.
        self.write_pending.next = self.s_axil_awvalid.val() & self.s_axil_wvalid.val();
        self.take_write.next =
            self.write_pending.val() & ((!self.s_axil_arvalid.val()) | (!self.read_next.q.val()));
        self.take_read.next = self.s_axil_arvalid.val() & (!self.take_write.val());

        match self.state.q.val() {
            AxilState::Idle => {
                if self.take_write.val() {
                    self.s_axil_awready.next = true;
                    self.s_axil_wready.next = true;
                    self.addr.d.next = self.s_axil_awaddr.val() & self.word_addr_mask.val();
                    self.wdata.d.next = self.s_axil_wdata.val();
                    self.read_next.d.next = true;
                    if self.s_axil_wstrb.val().all() {
                        self.slverr.d.next = false;
                        self.state.d.next = AxilState::WriteRequest;
                    } else {
                        self.slverr.d.next = true;
                        self.state.d.next = AxilState::WriteResponse;
                    }
                } else if self.take_read.val() {
                    self.s_axil_arready.next = true;
                    self.addr.d.next = self.s_axil_araddr.val() & self.word_addr_mask.val();
                    self.read_next.d.next = false;
                    self.state.d.next = AxilState::ReadRequest;
                }
            }
            AxilState::WriteRequest => {
                self.m_reg_wr_en.next = true;
                if self.m_reg_wr_ack.val() {
                    self.state.d.next = AxilState::WriteResponse;
                }
            }
            AxilState::WriteResponse => {
                self.s_axil_bvalid.next = true;
                if self.s_axil_bready.val() {
                    self.state.d.next = AxilState::Idle;
                }
            }
            AxilState::ReadRequest => {
                self.m_reg_rd_en.next = true;
                if self.m_reg_rd_ack.val() {
                    self.rdata.d.next = self.m_reg_rd_data.val();
                    self.state.d.next = AxilState::ReadResponse;
                }
            }
            AxilState::ReadResponse => {
                self.s_axil_rvalid.next = true;
                if self.s_axil_rready.val() {
                    self.state.d.next = AxilState::Idle;
                }
            }
            _ => {
                self.state.d.next = AxilState::Idle;
            }
        }
        if self.rst.val() {
            self.state.d.next = AxilState::Idle;
            self.read_next.d.next = false;
        }
    }
}
