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

/// Simulated time limit of a test (picoseconds of rust-hdl's clock, period 10).
const SIM_TIME: u64 = 100_000;

/// Runs `bench` on a fresh `DmaArb` in rust-hdl's simulator, after two cycles
/// of reset; `bench` ends the simulation (`sim.done(x)`).
fn simulate(
    max_time: u64,
    bench: impl Fn(&mut Sim<DmaArb>, Box<DmaArb>) -> Result<(), SimError>
        + Send
        + Sync
        + std::panic::RefUnwindSafe
        + 'static,
) {
    let mut uut = DmaArb::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<DmaArb>| x.clk.next = !x.clk.val());
    sim.add_testbench(move |mut sim: Sim<DmaArb>| {
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycles!(sim, clk, x, 2);
        x.rst.next = false;
        bench(&mut sim, x)
    });
    sim.run(Box::new(uut), max_time).unwrap();
}

#[test]
fn grants_round_robin_and_routes_b_by_id() {
    simulate(SIM_TIME, |sim, mut x| {
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
}

/// A client that writes `BURSTS` bursts of `BEATS` beats the way the NIC's
/// engines do: AW and the first W beat offered together, the next burst only
/// after the previous one's last beat and AW were taken.
struct Client {
    bursts_left: u32,
    beat: u32,
    aw_done: bool,
}

const BURSTS: u32 = 4;
const BEATS: u32 = 4;

/// The host side of the co-simulation accepts a W beat only once its burst's
/// AW has been taken in an earlier cycle. With two clients taking turns, the
/// owner queue lets the next client's AW be granted and taken while the current
/// burst streams, so after the first burst the W channel never idles (the
/// previous arbiter, which granted the next AW only at `wlast`, lost two cycles
/// per burst against this slave).
#[test]
fn next_aw_overlaps_w_so_an_aw_first_slave_sees_no_w_gap() {
    simulate(SIM_TIME, |sim, mut x| {
        let mut clients = [0u64, 1].map(|_| Client {
            bursts_left: BURSTS,
            beat: 0,
            aw_done: false,
        });
        // AWs taken by the slave whose W beats have not all arrived.
        let mut aw_pending = 0u32;
        let mut w_cycles = Vec::new();
        x.m_axi_awready.next = true;
        for cycle in 0..200u32 {
            // Drive the clients (rx = 0, tx = 1) and the slave's wready.
            for (c, cl) in clients.iter().enumerate() {
                let active = cl.bursts_left > 0;
                let awv = active && !cl.aw_done;
                let wv = active && cl.beat < BEATS;
                let last = cl.beat + 1 == BEATS;
                let data = ((c as u64) << 32 | (cl.bursts_left as u64) << 8 | cl.beat as u64)
                    .to_bits::<64>();
                if c == 0 {
                    x.s_axi_rx_awvalid.next = awv;
                    x.s_axi_rx_awlen.next = ((BEATS - 1) as u64).to_bits();
                    x.s_axi_rx_wvalid.next = wv;
                    x.s_axi_rx_wlast.next = last;
                    x.s_axi_rx_wdata.next = data;
                } else {
                    x.s_axi_tx_awvalid.next = awv;
                    x.s_axi_tx_awlen.next = ((BEATS - 1) as u64).to_bits();
                    x.s_axi_tx_wvalid.next = wv;
                    x.s_axi_tx_wlast.next = last;
                    x.s_axi_tx_wdata.next = data;
                }
            }
            x.m_axi_wready.next = aw_pending > 0;
            wait_clock_false!(sim, clk, x);
            let aw_hs = [
                x.s_axi_rx_awvalid.val() && x.s_axi_rx_awready.val(),
                x.s_axi_tx_awvalid.val() && x.s_axi_tx_awready.val(),
            ];
            let w_hs = [
                x.s_axi_rx_wvalid.val() && x.s_axi_rx_wready.val(),
                x.s_axi_tx_wvalid.val() && x.s_axi_tx_wready.val(),
            ];
            let m_w = x.m_axi_wvalid.val() && x.m_axi_wready.val();
            let m_wlast = m_w && x.m_axi_wlast.val();
            let m_aw = x.m_axi_awvalid.val() && x.m_axi_awready.val();
            sim_assert_eq!(sim, m_w, w_hs[0] || w_hs[1], x);
            if m_w {
                w_cycles.push(cycle);
            }
            wait_clock_true!(sim, clk, x);
            if m_wlast {
                aw_pending -= 1;
            }
            if m_aw {
                aw_pending += 1;
            }
            for (c, cl) in clients.iter_mut().enumerate() {
                if aw_hs[c] {
                    cl.aw_done = true;
                }
                if w_hs[c] {
                    cl.beat += 1;
                }
                if cl.aw_done && cl.beat == BEATS {
                    cl.bursts_left -= 1;
                    cl.beat = 0;
                    cl.aw_done = false;
                }
            }
        }
        let beats = (2 * BURSTS * BEATS) as usize;
        sim_assert_eq!(sim, w_cycles.len(), beats, x);
        let span = w_cycles[beats - 1] - w_cycles[0] + 1;
        sim_assert_eq!(sim, span, beats as u32, x);
        sim.done(x)
    });
}
