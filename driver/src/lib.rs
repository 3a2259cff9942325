//! oxnic userspace driver library.
//!
//! Layers (see `DESIGN.md` in this crate):
//! 1. transport — register access, DMA memory, interrupt vectors (VFIO, co-simulation);
//! 2. NAPI — per-queue polling contexts with the Linux contract, and their scheduler;
//! 3. queues and buffers — RX/TX rings over a DMA arena;
//! 4. device — probe, open, close, statistics, recovery.
#![warn(missing_docs)]
