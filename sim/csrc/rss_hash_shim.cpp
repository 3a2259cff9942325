// C ABI over the Verilated `rss_hash` model, for oxnic-sim's Rust side.
// One call = one clock cycle: inputs applied, outputs sampled before the rising
// edge (the values a handshake at that edge sees), then the edge.
#include <cstdint>
#include "Vrss_hash.h"
#include "verilated.h"

extern "C" {

struct oxnic_rss_hash_ports {
    // Inputs.
    uint8_t rst;
    uint8_t s_valid;
    uint8_t s_chunks;
    uint32_t s_tuple[10];  // word 0 = bits 31:0 (tuple byte 0 is bits 319:312)
    uint32_t key[10];      // same layout
    // Outputs.
    uint8_t s_ready;
    uint8_t m_valid;
    uint32_t m_hash;
};

struct oxnic_rss_hash {
    VerilatedContext* ctx;
    Vrss_hash* top;
    uint64_t cycles;
};

oxnic_rss_hash* oxnic_rss_hash_new() {
    auto* h = new oxnic_rss_hash;
    h->ctx = new VerilatedContext;
    h->top = new Vrss_hash{h->ctx};
    h->cycles = 0;
    h->top->clk = 0;
    h->top->eval();
    return h;
}

void oxnic_rss_hash_free(oxnic_rss_hash* h) {
    h->top->final();
    delete h->top;
    delete h->ctx;
    delete h;
}

void oxnic_rss_hash_cycle(oxnic_rss_hash* h, oxnic_rss_hash_ports* p) {
    Vrss_hash* t = h->top;
    t->rst = p->rst;
    t->s_valid = p->s_valid;
    t->s_chunks = p->s_chunks;
    for (int i = 0; i < 10; i++) {
        t->s_tuple[i] = p->s_tuple[i];
        t->key[i] = p->key[i];
    }
    t->clk = 0;
    t->eval();
    p->s_ready = t->s_ready;
    p->m_valid = t->m_valid;
    p->m_hash = t->m_hash;
    t->clk = 1;
    t->eval();
    h->cycles++;
}

uint64_t oxnic_rss_hash_cycles(const oxnic_rss_hash* h) { return h->cycles; }

}  // extern "C"
