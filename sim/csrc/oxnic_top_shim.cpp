// C ABI over the Verilated `oxnic_top` (the whole NIC core), for oxnic-sim's Rust
// side (sim/src/ffi.rs holds the same struct layout).
//
// Compiled once per generated queue count: build.rs Verilates each model with
// `--prefix Voxnic_top_q<N>` and compiles this file with OXNIC_MODEL (the class),
// OXNIC_HEADER (its header) and OXNIC_SUFFIX (`_q<N>`, appended to every C
// function name), so several models link into one binary. Types are in an
// unnamed namespace: each translation unit has its own.
//
// One call = one clock cycle: the inputs are applied with the clock low and
// evaluated, the outputs are sampled (the values every handshake at the coming
// rising edge sees, combinational paths included), then the rising edge. All bus
// models (AXI-Lite master, AXI slave/host memory, AXI-Stream MAC) live in Rust:
// this file only moves bits and, on request, writes an FST waveform.
#include <cstdint>
#include <memory>

#include OXNIC_HEADER
#include "verilated.h"
#include "verilated_fst_c.h"

#define OXNIC_CAT2(a, b) a##b
#define OXNIC_CAT(a, b) OXNIC_CAT2(a, b)
#define FN(name) OXNIC_CAT(name, OXNIC_SUFFIX)

namespace {

using Model = OXNIC_MODEL;

struct oxnic_top_ports {
    // ---- inputs ----
    uint8_t rst;
    // AXI4-Lite slave (BAR0 and the MSI-X pages).
    uint8_t s_axil_awvalid, s_axil_wvalid, s_axil_bready, s_axil_arvalid, s_axil_rready;
    uint8_t s_axil_wstrb;
    uint32_t s_axil_awaddr, s_axil_wdata, s_axil_araddr;
    // AXI4 master: the inputs (host memory's side).
    uint8_t m_axi_awready, m_axi_wready, m_axi_bvalid, m_axi_bid, m_axi_bresp;
    uint8_t m_axi_arready, m_axi_rvalid, m_axi_rid, m_axi_rresp, m_axi_rlast;
    uint64_t m_axi_rdata;
    // AXI-Stream from the MAC.
    uint64_t s_axis_rx_tdata;
    uint8_t s_axis_rx_tkeep, s_axis_rx_tvalid, s_axis_rx_tlast, s_axis_rx_tuser;
    uint8_t m_axis_tx_tready;
    // ---- outputs ----
    uint8_t s_axil_awready, s_axil_wready, s_axil_bvalid, s_axil_bresp;
    uint8_t s_axil_arready, s_axil_rvalid, s_axil_rresp;
    uint32_t s_axil_rdata;
    uint8_t m_axi_awvalid, m_axi_awid, m_axi_awlen, m_axi_awsize;
    uint8_t m_axi_wvalid, m_axi_wlast, m_axi_wstrb, m_axi_bready;
    uint8_t m_axi_arvalid, m_axi_arid, m_axi_arlen, m_axi_arsize, m_axi_rready;
    uint64_t m_axi_awaddr, m_axi_wdata, m_axi_araddr;
    uint8_t s_axis_rx_tready;
    uint64_t m_axis_tx_tdata;
    uint8_t m_axis_tx_tkeep, m_axis_tx_tvalid, m_axis_tx_tlast, m_axis_tx_tuser;
};

struct oxnic_top {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Model> top;
    std::unique_ptr<VerilatedFstC> fst;  // null unless a waveform is open
    bool dumping;                        // inside the requested window
    uint64_t cycles;
};

}  // namespace

extern "C" {

void* FN(oxnic_top_new)() {
    auto* h = new oxnic_top;
    h->ctx = std::make_unique<VerilatedContext>();
    // Tracing must be allowed before the model is built, or `trace()` is refused.
    h->ctx->traceEverOn(true);
    h->top = std::make_unique<Model>(h->ctx.get());
    h->dumping = false;
    h->cycles = 0;
    h->top->clk = 0;
    h->top->eval();
    return h;
}

void FN(oxnic_top_free)(void* vh) {
    auto* h = static_cast<oxnic_top*>(vh);
    if (h->fst) h->fst->close();
    h->top->final();
    delete h;
}

// Opens an FST waveform at `path` (dumping starts off: see oxnic_top_dump).
// Returns 0 on success, -1 if a waveform is already open.
int FN(oxnic_top_trace_open)(void* vh, const char* path) {
    auto* h = static_cast<oxnic_top*>(vh);
    if (h->fst) return -1;
    h->fst = std::make_unique<VerilatedFstC>();
    h->top->trace(h->fst.get(), 99);
    h->fst->open(path);
    return h->fst->isOpen() ? 0 : -2;
}

// Starts (on != 0) or stops writing value changes to the open waveform.
void FN(oxnic_top_dump)(void* vh, int on) {
    auto* h = static_cast<oxnic_top*>(vh);
    h->dumping = on != 0 && h->fst;
}

void FN(oxnic_top_trace_close)(void* vh) {
    auto* h = static_cast<oxnic_top*>(vh);
    if (h->fst) {
        h->fst->close();
        h->fst.reset();
    }
    h->dumping = false;
}

void FN(oxnic_top_cycle)(void* vh, void* vp) {
    auto* h = static_cast<oxnic_top*>(vh);
    auto* p = static_cast<oxnic_top_ports*>(vp);
    Model* t = h->top.get();
    t->rst = p->rst;
    t->s_axil_awaddr = p->s_axil_awaddr;
    t->s_axil_awprot = 0;
    t->s_axil_awvalid = p->s_axil_awvalid;
    t->s_axil_wdata = p->s_axil_wdata;
    t->s_axil_wstrb = p->s_axil_wstrb;
    t->s_axil_wvalid = p->s_axil_wvalid;
    t->s_axil_bready = p->s_axil_bready;
    t->s_axil_araddr = p->s_axil_araddr;
    t->s_axil_arprot = 0;
    t->s_axil_arvalid = p->s_axil_arvalid;
    t->s_axil_rready = p->s_axil_rready;
    t->m_axi_awready = p->m_axi_awready;
    t->m_axi_wready = p->m_axi_wready;
    t->m_axi_bid = p->m_axi_bid;
    t->m_axi_bresp = p->m_axi_bresp;
    t->m_axi_bvalid = p->m_axi_bvalid;
    t->m_axi_arready = p->m_axi_arready;
    t->m_axi_rid = p->m_axi_rid;
    t->m_axi_rdata = p->m_axi_rdata;
    t->m_axi_rresp = p->m_axi_rresp;
    t->m_axi_rlast = p->m_axi_rlast;
    t->m_axi_rvalid = p->m_axi_rvalid;
    t->s_axis_rx_tdata = p->s_axis_rx_tdata;
    t->s_axis_rx_tkeep = p->s_axis_rx_tkeep;
    t->s_axis_rx_tvalid = p->s_axis_rx_tvalid;
    t->s_axis_rx_tlast = p->s_axis_rx_tlast;
    t->s_axis_rx_tuser = p->s_axis_rx_tuser;
    t->m_axis_tx_tready = p->m_axis_tx_tready;

    t->clk = 0;
    t->eval();
    if (h->dumping) h->fst->dump(2 * h->cycles);

    p->s_axil_awready = t->s_axil_awready;
    p->s_axil_wready = t->s_axil_wready;
    p->s_axil_bresp = t->s_axil_bresp;
    p->s_axil_bvalid = t->s_axil_bvalid;
    p->s_axil_arready = t->s_axil_arready;
    p->s_axil_rdata = t->s_axil_rdata;
    p->s_axil_rresp = t->s_axil_rresp;
    p->s_axil_rvalid = t->s_axil_rvalid;
    p->m_axi_awid = t->m_axi_awid;
    p->m_axi_awaddr = t->m_axi_awaddr;
    p->m_axi_awlen = t->m_axi_awlen;
    p->m_axi_awsize = t->m_axi_awsize;
    p->m_axi_awvalid = t->m_axi_awvalid;
    p->m_axi_wdata = t->m_axi_wdata;
    p->m_axi_wstrb = t->m_axi_wstrb;
    p->m_axi_wlast = t->m_axi_wlast;
    p->m_axi_wvalid = t->m_axi_wvalid;
    p->m_axi_bready = t->m_axi_bready;
    p->m_axi_arid = t->m_axi_arid;
    p->m_axi_araddr = t->m_axi_araddr;
    p->m_axi_arlen = t->m_axi_arlen;
    p->m_axi_arsize = t->m_axi_arsize;
    p->m_axi_arvalid = t->m_axi_arvalid;
    p->m_axi_rready = t->m_axi_rready;
    p->s_axis_rx_tready = t->s_axis_rx_tready;
    p->m_axis_tx_tdata = t->m_axis_tx_tdata;
    p->m_axis_tx_tkeep = t->m_axis_tx_tkeep;
    p->m_axis_tx_tvalid = t->m_axis_tx_tvalid;
    p->m_axis_tx_tlast = t->m_axis_tx_tlast;
    p->m_axis_tx_tuser = t->m_axis_tx_tuser;

    t->clk = 1;
    t->eval();
    if (h->dumping) h->fst->dump(2 * h->cycles + 1);
    h->cycles++;
}

uint64_t FN(oxnic_top_cycles)(const void* vh) {
    return static_cast<const oxnic_top*>(vh)->cycles;
}

}  // extern "C"

extern "C" size_t FN(oxnic_top_ports_size)() { return sizeof(oxnic_top_ports); }
