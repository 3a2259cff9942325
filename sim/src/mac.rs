//! MAC-side traffic for [`crate::SimDevice`]: loopback, generator, pcap in/out.

use std::collections::VecDeque;

use crate::device::{Mac, MacFrame};

/// Loopback: every transmitted frame is received again; frames can also be
/// queued for receive by hand.
#[derive(Debug, Default)]
pub struct Loopback {
    /// Frames waiting to be received.
    pub queue: VecDeque<MacFrame>,
    /// Frames transmitted (and looped back) so far.
    pub looped: u64,
}

impl Mac for Loopback {
    fn rx_frame(&mut self, _cycle: u64) -> Option<MacFrame> {
        self.queue.pop_front()
    }
    fn tx_frame(&mut self, frame: MacFrame, _cycle: u64) {
        self.looped += 1;
        self.queue.push_back(frame);
    }
}

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};

use crate::traffic::{Scoreboard, TrafficSpec};

/// Why a pcap file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The file could not be opened or created.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a readable pcap capture.
    #[error("{path}: not a pcap capture ({reason})")]
    Format {
        /// The file.
        path: String,
        /// What pcap-file reported.
        reason: String,
    },
    /// A frame the NIC cannot carry.
    #[error("{path}: packet {index} is {len} bytes; the NIC carries {min}..={max}-byte frames")]
    FrameSize {
        /// The file.
        path: String,
        /// Packet number (from 0).
        index: usize,
        /// Its length.
        len: usize,
        /// Shortest frame.
        min: usize,
        /// Longest frame.
        max: usize,
    },
    /// The capture has no packets.
    #[error("{path}: no packets")]
    Empty {
        /// The file.
        path: String,
    },
}

/// Reads every frame of a pcap capture (Ethernet link type), checking each fits
/// the NIC (`MIN_FRAME_LEN..=max_len`).
pub fn read_pcap(path: &Path, max_len: usize) -> Result<Vec<Vec<u8>>, PcapError> {
    let p = path.display().to_string();
    let file = File::open(path).map_err(|source| PcapError::Io {
        path: p.clone(),
        source,
    })?;
    let mut reader = PcapReader::new(BufReader::new(file)).map_err(|e| PcapError::Format {
        path: p.clone(),
        reason: e.to_string(),
    })?;
    let mut frames = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.map_err(|e| PcapError::Format {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        let len = pkt.data.len();
        let min = oxnic_regs::MIN_FRAME_LEN as usize;
        if len < min || len > max_len {
            return Err(PcapError::FrameSize {
                path: p,
                index: frames.len(),
                len,
                min,
                max: max_len,
            });
        }
        frames.push(pkt.data.into_owned());
    }
    if frames.is_empty() {
        return Err(PcapError::Empty { path: p });
    }
    Ok(frames)
}

/// Where the frames a [`TrafficMac`] sends come from.
pub enum Source {
    /// `packets` frames of a generated stream.
    Generate {
        /// The stream.
        spec: TrafficSpec,
        /// How many frames.
        packets: u64,
    },
    /// These frames, in order (e.g. from [`read_pcap`]).
    Frames(Vec<Vec<u8>>),
}

impl Source {
    /// Number of frames.
    pub fn len(&self) -> u64 {
        match self {
            Source::Generate { packets, .. } => *packets,
            Source::Frames(f) => f.len() as u64,
        }
    }

    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frame `i`.
    pub fn frame(&self, i: u64) -> Vec<u8> {
        match self {
            Source::Generate { spec, .. } => spec.frame(i),
            Source::Frames(f) => f[i as usize].clone(),
        }
    }
}

/// The traffic MAC of the co-simulation: sends the frames of a [`Source`] at a
/// rate, keeping at most `window` frames in flight (injected, not yet delivered
/// to the driver or counted dropped by the device); checks every transmitted
/// frame against the frames injected and not yet returned (a forwarded frame
/// must come back byte for byte, exactly once); optionally records every
/// transmitted frame in a pcap file.
pub struct TrafficMac {
    source: Source,
    next: u64,
    scoreboard: Arc<Scoreboard>,
    window: u64,
    /// Line rate percentage: a frame of `n` bytes occupies n/8 cycles at 100.
    rate_percent: u32,
    next_at: u64,
    outstanding: HashMap<Vec<u8>, u32>,
    pcap_out: Option<PcapWriter<BufWriter<File>>>,
    pcap_error: Option<String>,
    clock_mhz: u32,
    /// First few bad frames, for the report.
    pub bad_examples: Vec<String>,
}

impl TrafficMac {
    /// A MAC sending `source` with at most `window` frames in flight, at
    /// `rate_percent` of line rate (1..=100).
    pub fn new(
        source: Source,
        scoreboard: Arc<Scoreboard>,
        window: u64,
        rate_percent: u32,
    ) -> Self {
        Self {
            source,
            next: 0,
            scoreboard,
            window: window.max(1),
            rate_percent: rate_percent.clamp(1, 100),
            next_at: 0,
            outstanding: HashMap::new(),
            pcap_out: None,
            pcap_error: None,
            clock_mhz: crate::MODEL_CLOCK_MHZ,
            bad_examples: Vec::new(),
        }
    }

    /// Records every transmitted frame in `path` (timestamps: device time).
    pub fn pcap_out(mut self, path: &Path) -> Result<Self, PcapError> {
        let file = File::create(path).map_err(|source| PcapError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let w = PcapWriter::new(BufWriter::new(file)).map_err(|e| PcapError::Format {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        self.pcap_out = Some(w);
        Ok(self)
    }

    /// True when every frame of the source has been injected.
    pub fn all_injected(&self) -> bool {
        self.next >= self.source.len()
    }

    /// A pcap write error, if one happened (the capture stops there).
    pub fn pcap_error(&self) -> Option<&str> {
        self.pcap_error.as_deref()
    }

    /// Flushes the pcap output.
    pub fn finish(&mut self) {
        if let Some(w) = self.pcap_out.take() {
            if let Err(e) = w.into_writer().into_inner() {
                self.pcap_error = Some(e.to_string());
            }
        }
    }
}

impl Mac for TrafficMac {
    fn rx_frame(&mut self, cycle: u64) -> Option<MacFrame> {
        if self.next >= self.source.len()
            || cycle < self.next_at
            || self.scoreboard.in_flight() >= self.window
        {
            return None;
        }
        let data = self.source.frame(self.next);
        self.next += 1;
        let beats = data.len().div_ceil(8) as u64;
        self.next_at = cycle + beats * 100 / self.rate_percent as u64;
        *self.outstanding.entry(data.clone()).or_insert(0) += 1;
        self.scoreboard.injected.fetch_add(1, Ordering::Relaxed);
        Some(MacFrame { data, error: false })
    }

    fn tx_frame(&mut self, frame: MacFrame, cycle: u64) {
        if let Some(w) = &mut self.pcap_out {
            let ns = cycle * 1000 / self.clock_mhz as u64;
            let pkt = PcapPacket::new(
                Duration::from_nanos(ns),
                frame.data.len() as u32,
                &frame.data,
            );
            if let Err(e) = w.write_packet(&pkt) {
                self.pcap_error = Some(e.to_string());
                self.pcap_out = None;
            }
        }
        let sb = &self.scoreboard;
        if frame.error {
            sb.tx_error_frames.fetch_add(1, Ordering::Relaxed);
        }
        match self.outstanding.get_mut(&frame.data) {
            Some(n) if !frame.error => {
                *n -= 1;
                if *n == 0 {
                    self.outstanding.remove(&frame.data);
                }
                sb.returned.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                sb.returned_bad.fetch_add(1, Ordering::Relaxed);
                if self.bad_examples.len() < 5 {
                    self.bad_examples.push(format!(
                        "cycle {cycle}: transmitted {} bytes (tuser {}) matching no frame in flight: {:02x?}",
                        frame.data.len(),
                        frame.error,
                        &frame.data[..frame.data.len().min(64)]
                    ));
                }
            }
        }
    }
}
