//! `dma_arb` in rust-hdl's simulator under a scripted slave: the three clients
//! each offer a single-beat write at once; the grants must come out round-robin
//! (rx first after reset), each W beat right behind its AW in grant order, the
//! master-side AWID must carry the client index over the client's ID, and B
//! responses returned by the slave in reverse order must reach exactly the
//! client their BID names, with the client's ID restored. (The cocotb bench
//! `tb/dma_arb` is the full random test.)

use oxnic_hw::DmaArb;
use rust_hdl::prelude::*;

/// Client IDs used by rx, tx, msix.
const IDS: [u64; 3] = [5, 7, 3];
/// Data of each client's beat.
const DATA: [u64; 3] = [0x1111_2222_3333_4444, 0x5555_6666_7777_8888, 0x9999_aaaa];

#[test]
fn grants_round_robin_and_routes_b_by_id() {
    let mut uut = DmaArb::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<DmaArb>| x.clk.next = !x.clk.val());
    sim.add_testbench(move |mut sim: Sim<DmaArb>| {
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycles!(sim, clk, x, 2);
        x.rst.next = false;
        // Offer one write per client, all at once.
        x.s_axi_rx_awvalid.next = true;
        x.s_axi_rx_awid.next = IDS[0].to_bits();
        x.s_axi_rx_awaddr.next = 0x1000_0000_0000u64.to_bits();
        x.s_axi_rx_wvalid.next = true;
        x.s_axi_rx_wdata.next = DATA[0].to_bits();
        x.s_axi_rx_wstrb.next = 0xFFu64.to_bits();
        x.s_axi_rx_wlast.next = true;
        x.s_axi_tx_awvalid.next = true;
        x.s_axi_tx_awid.next = IDS[1].to_bits();
        x.s_axi_tx_awaddr.next = 0x2000u64.to_bits();
        x.s_axi_tx_wvalid.next = true;
        x.s_axi_tx_wdata.next = DATA[1].to_bits();
        x.s_axi_tx_wstrb.next = 0xFFu64.to_bits();
        x.s_axi_tx_wlast.next = true;
        x.s_axi_msix_awvalid.next = true;
        x.s_axi_msix_awid.next = IDS[2].to_bits();
        x.s_axi_msix_awaddr.next = 0xFEE0_0000u64.to_bits();
        x.s_axi_msix_wvalid.next = true;
        x.s_axi_msix_wdata.next = DATA[2].to_bits();
        x.s_axi_msix_wstrb.next = 0x0Fu64.to_bits();
        x.s_axi_msix_wlast.next = true;
        x.m_axi_awready.next = true;
        x.m_axi_wready.next = true;
        x.s_axi_rx_bready.next = true;
        x.s_axi_tx_bready.next = true;
        x.s_axi_msix_bready.next = true;
        let mut aw = Vec::new();
        let mut w = Vec::new();
        for _ in 0..20 {
            wait_clock_false!(sim, clk, x);
            // Handshakes of this cycle (settled); valids drop after the edge.
            let taken = [
                x.s_axi_rx_awvalid.val() && x.s_axi_rx_awready.val(),
                x.s_axi_tx_awvalid.val() && x.s_axi_tx_awready.val(),
                x.s_axi_msix_awvalid.val() && x.s_axi_msix_awready.val(),
                x.s_axi_rx_wvalid.val() && x.s_axi_rx_wready.val(),
                x.s_axi_tx_wvalid.val() && x.s_axi_tx_wready.val(),
                x.s_axi_msix_wvalid.val() && x.s_axi_msix_wready.val(),
            ];
            if x.m_axi_awvalid.val() && x.m_axi_awready.val() {
                aw.push(x.m_axi_awid.val().index() as u64);
            }
            if x.m_axi_wvalid.val() && x.m_axi_wready.val() {
                sim_assert!(sim, x.m_axi_wlast.val(), x);
                w.push(x.m_axi_wdata.val());
            }
            wait_clock_true!(sim, clk, x);
            if taken[0] {
                x.s_axi_rx_awvalid.next = false;
            }
            if taken[1] {
                x.s_axi_tx_awvalid.next = false;
            }
            if taken[2] {
                x.s_axi_msix_awvalid.next = false;
            }
            if taken[3] {
                x.s_axi_rx_wvalid.next = false;
            }
            if taken[4] {
                x.s_axi_tx_wvalid.next = false;
            }
            if taken[5] {
                x.s_axi_msix_wvalid.next = false;
            }
        }
        let expect_aw: Vec<u64> = (0..3).map(|c| (c << 4) | IDS[c as usize]).collect();
        sim_assert_eq!(sim, aw, expect_aw, x);
        let expect_w: Vec<Bits<64>> = DATA.iter().map(|d| d.to_bits()).collect();
        sim_assert_eq!(sim, w, expect_w, x);
        // The slave answers in reverse order, each with a different response.
        for (k, &id) in aw.iter().rev().enumerate() {
            x.m_axi_bvalid.next = true;
            x.m_axi_bid.next = id.to_bits();
            x.m_axi_bresp.next = (k as u64).to_bits();
            wait_clock_false!(sim, clk, x);
            let client = id >> 4;
            let seen = [
                (
                    x.s_axi_rx_bvalid.val(),
                    x.s_axi_rx_bid.val(),
                    x.s_axi_rx_bresp.val(),
                ),
                (
                    x.s_axi_tx_bvalid.val(),
                    x.s_axi_tx_bid.val(),
                    x.s_axi_tx_bresp.val(),
                ),
                (
                    x.s_axi_msix_bvalid.val(),
                    x.s_axi_msix_bid.val(),
                    x.s_axi_msix_bresp.val(),
                ),
            ];
            for (c, (valid, bid, bresp)) in seen.iter().enumerate() {
                sim_assert_eq!(sim, *valid, c as u64 == client, x);
                if *valid {
                    sim_assert_eq!(sim, bid.index() as u64, IDS[c], x);
                    sim_assert_eq!(sim, bresp.index() as u64, k as u64, x);
                }
            }
            sim_assert!(sim, x.m_axi_bready.val(), x);
            wait_clock_true!(sim, clk, x);
        }
        x.m_axi_bvalid.next = false;
        wait_clock_cycle!(sim, clk, x);
        sim.done(x)
    });
    sim.run(Box::new(uut), 10_000).unwrap();
}
