//! The map itself. Every constant that names an offset or a field is defined here
//! once and listed in the tables ([`BLOCKS`], [`FORMATS`], [`ENUMS`]) that the
//! exporter and the consistency tests walk.

use crate::{Access, Block, Enum, EnumValue, Field, Format, MemField, Register, Reset};

const fn f(
    name: &'static str,
    lsb: u32,
    width: u32,
    access: Access,
    reset: u32,
    doc: &'static str,
) -> Field {
    Field {
        name,
        lsb,
        width,
        access,
        reset: Reset::Value(reset),
        doc,
    }
}

const fn param(
    name: &'static str,
    lsb: u32,
    width: u32,
    p: &'static str,
    doc: &'static str,
) -> Field {
    Field {
        name,
        lsb,
        width,
        access: Access::RO,
        reset: Reset::Param(p),
        doc,
    }
}

const fn reg(
    name: &'static str,
    offset: u32,
    fields: &'static [Field],
    doc: &'static str,
) -> Register {
    Register {
        name,
        offset,
        count: 1,
        fields,
        doc,
    }
}

const COUNT: &[Field] = &[f("COUNT", 0, 32, Access::RO, 0, "Wrapping 32-bit count.")];

const fn counter(name: &'static str, offset: u32, doc: &'static str) -> Register {
    reg(name, offset, COUNT, doc)
}

/// Value of [`global::ID`]: ASCII "OXNC".
pub const ID_MAGIC: u32 = 0x4F58_4E43;
/// Register-map major version: bumped on incompatible changes.
pub const VERSION_MAJOR: u32 = 0;
/// Register-map minor version: bumped on compatible additions.
pub const VERSION_MINOR: u32 = 1;

/// Size of BAR0 in bytes (a power of two).
pub const BAR0_SIZE: u32 = 0x8_0000;
/// The largest queue count the address map has room for (per direction).
pub const MAX_QUEUES: u32 = 1024;
/// The largest MSI-X vector count the table window has room for.
pub const MAX_VECTORS: u32 = 2048;
/// Smallest allowed log2 ring size (16 entries).
pub const RING_LOG2_MIN: u32 = 4;
/// Largest allowed log2 ring size (32768 entries; indices are 16-bit free-running).
pub const RING_LOG2_MAX: u32 = 15;
/// Number of RSS indirection table entries.
pub const RSS_RETA_ENTRIES: u32 = 128;
/// RSS key length in bytes (Microsoft RSS: 40).
pub const RSS_KEY_BYTES: u32 = 40;
/// Frames shorter than this (without FCS) are runts and dropped.
pub const MIN_FRAME_LEN: u32 = 60;
/// Reset value of [`global::MTU`]: largest accepted frame (without FCS).
pub const DEFAULT_MTU: u32 = 1514;
/// Largest value [`global::MTU`] accepts.
pub const MAX_MTU: u32 = 9216;

/// Generation parameter: RX/TX queue count.
pub const PARAM_QUEUES: &str = "queues";
/// Generation parameter: MSI-X vector count.
pub const PARAM_VECTORS: &str = "vectors";
/// Generation parameter: device clock in MHz.
pub const PARAM_CLOCK_MHZ: &str = "clock_mhz";

/// Global registers (block at BAR0 offset 0).
pub mod global {
    use super::*;

    /// Base of the global block.
    pub const BASE: u32 = 0x0000;

    /// Identification: reads [`ID_MAGIC`].
    pub const ID: u32 = 0x000;
    /// `ID.MAGIC`.
    pub const ID_VALUE: Field = f(
        "MAGIC",
        0,
        32,
        Access::RO,
        ID_MAGIC,
        "ASCII \"OXNC\" (0x4F584E43).",
    );

    /// Register-map version.
    pub const VERSION: u32 = 0x004;
    /// `VERSION.MINOR`.
    pub const VERSION_MINOR_F: Field = f(
        "MINOR",
        0,
        16,
        Access::RO,
        VERSION_MINOR,
        "Minor version: compatible additions.",
    );
    /// `VERSION.MAJOR`.
    pub const VERSION_MAJOR_F: Field = f(
        "MAJOR",
        16,
        16,
        Access::RO,
        VERSION_MAJOR,
        "Major version: a driver refuses a major it does not know.",
    );

    /// Capabilities fixed at generation time.
    pub const CAPS: u32 = 0x008;
    /// `CAPS.QUEUES`.
    pub const CAPS_QUEUES: Field = param(
        "QUEUES",
        0,
        16,
        PARAM_QUEUES,
        "Number of RX queues, equal to the number of TX queues.",
    );
    /// `CAPS.VECTORS`.
    pub const CAPS_VECTORS: Field =
        param("VECTORS", 16, 16, PARAM_VECTORS, "Number of MSI-X vectors.");

    /// Device clock frequency.
    pub const CLOCK_MHZ: u32 = 0x00C;
    /// `CLOCK_MHZ.MHZ`.
    pub const CLOCK_MHZ_F: Field = param(
        "MHZ",
        0,
        16,
        PARAM_CLOCK_MHZ,
        "Device clock in MHz; moderation intervals count microseconds of this clock.",
    );

    /// Global control.
    pub const CTRL: u32 = 0x010;
    /// `CTRL.ENABLE`.
    pub const CTRL_ENABLE: Field = f("ENABLE", 0, 1, Access::RW, 0, "1: the receive path accepts frames from the MAC. 0: frames are dropped and counted as QUEUE_DISABLED.");
    /// `CTRL.SOFT_RESET`.
    pub const CTRL_SOFT_RESET: Field = f("SOFT_RESET", 1, 1, Access::W1S, 0, "Write 1: stop DMA cleanly (outstanding bursts complete), return every block to its reset state, except the MSI-X table and MSIX_CTRL, which the platform programmed and which keep their values (the PBA clears). Reads 1 until the reset has finished.");

    /// Global status.
    pub const STATUS: u32 = 0x014;
    /// `STATUS.RESET_BUSY`.
    pub const STATUS_RESET_BUSY: Field = f(
        "RESET_BUSY",
        0,
        1,
        Access::RO,
        0,
        "A soft reset is in progress.",
    );
    /// `STATUS.QUIESCENT`.
    pub const STATUS_QUIESCENT: Field = f(
        "QUIESCENT",
        1,
        1,
        Access::RO,
        1,
        "No DMA is outstanding on m_axi.",
    );

    /// Largest accepted receive frame.
    pub const MTU: u32 = 0x018;
    /// `MTU.BYTES`.
    pub const MTU_BYTES: Field = f("BYTES", 0, 16, Access::RW, DEFAULT_MTU, "Largest frame length (bytes, without FCS) accepted; longer frames are dropped as OVERSIZE. Writes above MAX_MTU set ERR_STATUS.CONFIG and are ignored.");

    /// MSI-X vector for device-level causes (errors).
    pub const ERR_VECTOR: u32 = 0x01C;
    /// `ERR_VECTOR.VECTOR`.
    pub const ERR_VECTOR_F: Field = f("VECTOR", 0, 12, Access::RW, 0, "Vector raised when an enabled ERR_STATUS bit becomes set. Out-of-range writes set ERR_STATUS.CONFIG and are ignored.");

    /// Error causes, latched.
    pub const ERR_STATUS: u32 = 0x020;
    /// `ERR_STATUS.DMA_READ`.
    pub const ERR_STATUS_DMA_READ: Field = f(
        "DMA_READ",
        0,
        1,
        Access::W1C,
        0,
        "An m_axi read (descriptor fetch or TX buffer) got SLVERR/DECERR.",
    );
    /// `ERR_STATUS.DMA_WRITE`.
    pub const ERR_STATUS_DMA_WRITE: Field = f(
        "DMA_WRITE",
        1,
        1,
        Access::W1C,
        0,
        "An m_axi write (RX buffer, completion, MSI-X message) got SLVERR/DECERR.",
    );
    /// `ERR_STATUS.CONFIG`.
    pub const ERR_STATUS_CONFIG: Field = f("CONFIG", 2, 1, Access::W1C, 0, "A configuration write was out of range (ring size, vector, RETA queue, MTU) and was refused.");
    /// `ERR_STATUS.DESC`.
    pub const ERR_STATUS_DESC: Field = f(
        "DESC",
        3,
        1,
        Access::W1C,
        0,
        "A descriptor was invalid (zero length, a misaligned address, or a TX length above MAX_MTU).",
    );

    /// Where the most recent error happened.
    pub const ERR_INFO: u32 = 0x024;
    /// `ERR_INFO.QUEUE`.
    pub const ERR_INFO_QUEUE: Field = f(
        "QUEUE",
        0,
        16,
        Access::RO,
        0,
        "Queue of the most recent DMA or descriptor error.",
    );
    /// `ERR_INFO.TX`.
    pub const ERR_INFO_TX: Field = f("TX", 16, 1, Access::RO, 0, "1: that queue is a TX queue.");

    /// Failing DMA address, low half.
    pub const ERR_ADDR_LO: u32 = 0x028;
    /// Failing DMA address, high half.
    pub const ERR_ADDR_HI: u32 = 0x02C;
    /// `ERR_ADDR_*.ADDR`.
    pub const ERR_ADDR_F: Field = f(
        "ADDR",
        0,
        32,
        Access::RO,
        0,
        "IOVA of the most recent failing DMA access.",
    );

    /// Which error causes raise [`ERR_VECTOR`].
    pub const ERR_IRQ_ENABLE: u32 = 0x030;
    /// `ERR_IRQ_ENABLE.CAUSES`.
    pub const ERR_IRQ_ENABLE_F: Field = f(
        "CAUSES",
        0,
        4,
        Access::RW,
        0,
        "Bit i enables an interrupt for ERR_STATUS bit i.",
    );

    /// RSS control.
    pub const RSS_CTRL: u32 = 0x040;
    /// `RSS_CTRL.ENABLE`.
    pub const RSS_CTRL_ENABLE: Field = f(
        "ENABLE",
        0,
        1,
        Access::RW,
        0,
        "0: every frame goes to the queue in RETA entry 0.",
    );
    /// `RSS_CTRL.IPV4`.
    pub const RSS_CTRL_IPV4: Field = f(
        "IPV4",
        1,
        1,
        Access::RW,
        1,
        "Hash IPv4 source and destination addresses.",
    );
    /// `RSS_CTRL.TCP4`.
    pub const RSS_CTRL_TCP4: Field = f("TCP4", 2, 1, Access::RW, 1, "Add TCP ports for IPv4/TCP.");
    /// `RSS_CTRL.UDP4`.
    pub const RSS_CTRL_UDP4: Field = f("UDP4", 3, 1, Access::RW, 1, "Add UDP ports for IPv4/UDP.");
    /// `RSS_CTRL.IPV6`.
    pub const RSS_CTRL_IPV6: Field = f(
        "IPV6",
        4,
        1,
        Access::RW,
        1,
        "Hash IPv6 source and destination addresses.",
    );
    /// `RSS_CTRL.TCP6`.
    pub const RSS_CTRL_TCP6: Field = f("TCP6", 5, 1, Access::RW, 1, "Add TCP ports for IPv6/TCP.");
    /// `RSS_CTRL.UDP6`.
    pub const RSS_CTRL_UDP6: Field = f("UDP6", 6, 1, Access::RW, 1, "Add UDP ports for IPv6/UDP.");

    /// RSS key, 10 words (40 bytes). Word `i` holds key bytes `4i..4i+3`, byte `4i`
    /// in bits 31:24 (the Toeplitz hash consumes the key most significant bit first).
    pub const RSS_KEY: u32 = 0x080;
    /// `RSS_KEY[i].BYTES`.
    pub const RSS_KEY_F: Field = f(
        "BYTES",
        0,
        32,
        Access::RW,
        0,
        "Four key bytes, first byte in bits 31:24.",
    );

    /// Frames received from the MAC (all, before any drop).
    pub const RX_FRAMES: u32 = 0x100;
    /// Drops: the receive path is disabled, or the selected queue is.
    pub const RX_DROP_QUEUE_DISABLED: u32 = 0x104;
    /// Drops: the selected queue had no free descriptor.
    pub const RX_DROP_NO_DESC: u32 = 0x108;
    /// Drops: shorter than [`MIN_FRAME_LEN`].
    pub const RX_DROP_RUNT: u32 = 0x10C;
    /// Drops: longer than `MTU`, or than the descriptor's buffer.
    pub const RX_DROP_OVERSIZE: u32 = 0x110;
    /// Drops: the MAC flagged the frame (tuser on the last beat).
    pub const RX_DROP_MAC_ERROR: u32 = 0x114;
    /// Drops: the frame's DMA failed, or the queue is in its error state.
    pub const RX_DROP_DMA_ERROR: u32 = 0x118;
    /// Frames sent to the MAC.
    pub const TX_FRAMES: u32 = 0x11C;
    /// TX descriptors completed with an error status.
    pub const TX_ERRORS: u32 = 0x120;

    /// RSS indirection table: [`RSS_RETA_ENTRIES`] registers.
    pub const RSS_RETA: u32 = 0x400;
    /// `RSS_RETA[i].QUEUE`.
    pub const RSS_RETA_QUEUE: Field = f("QUEUE", 0, 16, Access::RW, 0, "RX queue for hash values whose low 7 bits are i. Writes of a queue >= CAPS.QUEUES set ERR_STATUS.CONFIG and are ignored.");

    /// Every register of the block.
    pub const REGISTERS: &[Register] = &[
        reg("ID", ID, &[ID_VALUE], "Identification."),
        reg(
            "VERSION",
            VERSION,
            &[VERSION_MINOR_F, VERSION_MAJOR_F],
            "Register-map version.",
        ),
        reg(
            "CAPS",
            CAPS,
            &[CAPS_QUEUES, CAPS_VECTORS],
            "Capabilities fixed at generation time.",
        ),
        reg("CLOCK_MHZ", CLOCK_MHZ, &[CLOCK_MHZ_F], "Device clock."),
        reg(
            "CTRL",
            CTRL,
            &[CTRL_ENABLE, CTRL_SOFT_RESET],
            "Global control.",
        ),
        reg(
            "STATUS",
            STATUS,
            &[STATUS_RESET_BUSY, STATUS_QUIESCENT],
            "Global status.",
        ),
        reg("MTU", MTU, &[MTU_BYTES], "Largest accepted receive frame."),
        reg(
            "ERR_VECTOR",
            ERR_VECTOR,
            &[ERR_VECTOR_F],
            "MSI-X vector for device-level causes.",
        ),
        reg(
            "ERR_STATUS",
            ERR_STATUS,
            &[
                ERR_STATUS_DMA_READ,
                ERR_STATUS_DMA_WRITE,
                ERR_STATUS_CONFIG,
                ERR_STATUS_DESC,
            ],
            "Latched error causes.",
        ),
        reg(
            "ERR_INFO",
            ERR_INFO,
            &[ERR_INFO_QUEUE, ERR_INFO_TX],
            "Queue of the most recent error.",
        ),
        reg(
            "ERR_ADDR_LO",
            ERR_ADDR_LO,
            &[ERR_ADDR_F],
            "Failing DMA address, bits 31:0.",
        ),
        reg(
            "ERR_ADDR_HI",
            ERR_ADDR_HI,
            &[ERR_ADDR_F],
            "Failing DMA address, bits 63:32.",
        ),
        reg(
            "ERR_IRQ_ENABLE",
            ERR_IRQ_ENABLE,
            &[ERR_IRQ_ENABLE_F],
            "Error causes that raise ERR_VECTOR.",
        ),
        reg(
            "RSS_CTRL",
            RSS_CTRL,
            &[
                RSS_CTRL_ENABLE,
                RSS_CTRL_IPV4,
                RSS_CTRL_TCP4,
                RSS_CTRL_UDP4,
                RSS_CTRL_IPV6,
                RSS_CTRL_TCP6,
                RSS_CTRL_UDP6,
            ],
            "Receive-side scaling control.",
        ),
        Register {
            name: "RSS_KEY",
            offset: RSS_KEY,
            count: RSS_KEY_BYTES / 4,
            fields: &[RSS_KEY_F],
            doc: "Toeplitz key, 40 bytes.",
        },
        counter(
            "RX_FRAMES",
            RX_FRAMES,
            "Frames received from the MAC, before any drop.",
        ),
        counter(
            "RX_DROP_QUEUE_DISABLED",
            RX_DROP_QUEUE_DISABLED,
            "Frames dropped: receive path or selected queue disabled.",
        ),
        counter(
            "RX_DROP_NO_DESC",
            RX_DROP_NO_DESC,
            "Frames dropped: selected queue had no free descriptor.",
        ),
        counter(
            "RX_DROP_RUNT",
            RX_DROP_RUNT,
            "Frames dropped: shorter than 60 bytes.",
        ),
        counter(
            "RX_DROP_OVERSIZE",
            RX_DROP_OVERSIZE,
            "Frames dropped: longer than MTU or the descriptor's buffer.",
        ),
        counter(
            "RX_DROP_MAC_ERROR",
            RX_DROP_MAC_ERROR,
            "Frames dropped: MAC error (tuser).",
        ),
        counter(
            "RX_DROP_DMA_ERROR",
            RX_DROP_DMA_ERROR,
            "Frames dropped: DMA failure or queue in error state.",
        ),
        counter("TX_FRAMES", TX_FRAMES, "Frames sent to the MAC."),
        counter(
            "TX_ERRORS",
            TX_ERRORS,
            "TX descriptors completed with an error status.",
        ),
        Register {
            name: "RSS_RETA",
            offset: RSS_RETA,
            count: RSS_RETA_ENTRIES,
            fields: &[RSS_RETA_QUEUE],
            doc: "RSS indirection table.",
        },
    ];
}

/// Per-queue registers. RX queue `q` is at `RX_QUEUE_BASE + q * QUEUE_STRIDE`,
/// TX queue `q` at `TX_QUEUE_BASE + q * QUEUE_STRIDE`; both use this layout.
///
/// Ring indices are 16-bit free-running counters: the slot is `index mod size`,
/// and a ring is full when `prod - cons == size` (mod 2^16).
pub mod queue {
    use super::*;

    /// Descriptor ring base IOVA, low half (16-byte aligned; bits 3:0 ignored).
    pub const DESC_BASE_LO: u32 = 0x00;
    /// Descriptor ring base IOVA, high half.
    pub const DESC_BASE_HI: u32 = 0x04;
    /// Completion ring base IOVA, low half (16-byte aligned; bits 3:0 ignored).
    pub const CPL_BASE_LO: u32 = 0x08;
    /// Completion ring base IOVA, high half.
    pub const CPL_BASE_HI: u32 = 0x0C;
    /// `*_BASE_*.ADDR`.
    pub const BASE_ADDR: Field = f("ADDR", 0, 32, Access::RW, 0, "Half of a 64-bit IOVA.");

    /// Ring size and interrupt vector.
    pub const CONFIG: u32 = 0x10;
    /// `CONFIG.LOG2_SIZE`.
    pub const CONFIG_LOG2_SIZE: Field = f(
        "LOG2_SIZE",
        0,
        5,
        Access::RW,
        RING_LOG2_MIN,
        "log2 of the descriptor ring size, equal to the completion ring size; valid 4..=15.",
    );
    /// `CONFIG.VECTOR`.
    pub const CONFIG_VECTOR: Field = f("VECTOR", 16, 12, Access::RW, 0, "MSI-X vector for this queue's events; valid below CAPS.VECTORS. Several queues may share a vector.");

    /// Queue enable.
    pub const CTRL: u32 = 0x14;
    /// `CTRL.ENABLE`.
    pub const CTRL_ENABLE: Field = f("ENABLE", 0, 1, Access::RW, 0, "Write 1: check CONFIG (out of range: ERR_STATUS.CONFIG set, STATUS.CONFIG_ERROR set, queue stays disabled), clear the error state, zero all four ring indices (DESC_CONS, CPL_PROD and the doorbells DB_DESC_PROD, DB_CPL_CONS: post descriptors after enabling) and start. Write 0: stop after the frame in flight.");

    /// Queue status.
    pub const STATUS: u32 = 0x18;
    /// `STATUS.ENABLED`.
    pub const STATUS_ENABLED: Field = f("ENABLED", 0, 1, Access::RO, 0, "The queue is running.");
    /// `STATUS.ERROR`.
    pub const STATUS_ERROR: Field = f(
        "ERROR",
        1,
        1,
        Access::RO,
        0,
        "A DMA error stopped the queue; re-enable or soft reset recovers.",
    );
    /// `STATUS.CONFIG_ERROR`.
    pub const STATUS_CONFIG_ERROR: Field = f(
        "CONFIG_ERROR",
        2,
        1,
        Access::RO,
        0,
        "The last enable was refused: CONFIG out of range.",
    );

    /// Doorbell: descriptor producer index.
    pub const DB_DESC_PROD: u32 = 0x1C;
    /// `DB_DESC_PROD.INDEX`.
    pub const DB_DESC_PROD_INDEX: Field = f(
        "INDEX",
        0,
        16,
        Access::RW,
        0,
        "Free-running index of the next descriptor the driver will write.",
    );

    /// Doorbell: completion consumer index, with optional re-arm.
    pub const DB_CPL_CONS: u32 = 0x20;
    /// `DB_CPL_CONS.INDEX`.
    pub const DB_CPL_CONS_INDEX: Field = f("INDEX", 0, 16, Access::RW, 0, "Free-running index of the next completion the driver will read; slots before it are returned to the device.");
    /// `DB_CPL_CONS.REARM`.
    pub const DB_CPL_CONS_REARM: Field = f(
        "REARM",
        31,
        1,
        Access::WO,
        0,
        "1: also arm the queue interrupt, as IRQ_CTRL.ARM does.",
    );

    /// Interrupt arm/mask state.
    pub const IRQ_CTRL: u32 = 0x24;
    /// `IRQ_CTRL.ARM`.
    pub const IRQ_CTRL_ARM: Field = f("ARM", 0, 1, Access::W1S, 0, "Write 1: arm. An event on an armed, unmasked queue fires its vector once and disarms it (auto-mask). Arming with an event latched fires at once.");
    /// `IRQ_CTRL.MASK`.
    pub const IRQ_CTRL_MASK: Field = f("MASK", 1, 1, Access::RW, 0, "1: events only latch, nothing fires. Clearing it while armed with an event latched fires at once.");
    /// `IRQ_CTRL.PENDING`.
    pub const IRQ_CTRL_PENDING: Field = f(
        "PENDING",
        2,
        1,
        Access::RO,
        0,
        "An event is latched and has not fired yet.",
    );

    /// Interrupt moderation (ethtool rx-usecs / rx-frames).
    pub const IRQ_MODERATION: u32 = 0x28;
    /// `IRQ_MODERATION.USECS`.
    pub const IRQ_MODERATION_USECS: Field = f("USECS", 0, 16, Access::RW, 0, "Minimum interval between two events of this queue passed on to its interrupt latch, in microseconds of device time; 0: none. While the queue stays armed, that is the interval between its interrupts. An event latched while the queue was disarmed fires at the re-arm (no event is lost), which can be sooner than USECS after the previous interrupt.");
    /// `IRQ_MODERATION.FRAMES`.
    pub const IRQ_MODERATION_FRAMES: Field = f("FRAMES", 16, 16, Access::RW, 0, "Fire before the interval has passed once this many completions are pending (1: on every completion); 0: no frame threshold, USECS alone applies (ethtool rx-frames 0).");

    /// Device's descriptor consumer index.
    pub const DESC_CONS: u32 = 0x2C;
    /// `DESC_CONS.INDEX`.
    pub const DESC_CONS_INDEX: Field = f(
        "INDEX",
        0,
        16,
        Access::RO,
        0,
        "Free-running index of the next descriptor the device will take.",
    );

    /// Device's completion producer index.
    pub const CPL_PROD: u32 = 0x30;
    /// `CPL_PROD.INDEX`.
    pub const CPL_PROD_INDEX: Field = f(
        "INDEX",
        0,
        16,
        Access::RO,
        0,
        "Free-running index of the next completion the device will write.",
    );

    /// Packets completed by this queue.
    pub const STAT_PACKETS: u32 = 0x34;
    /// Bytes completed, low half.
    pub const STAT_BYTES_LO: u32 = 0x38;
    /// Bytes completed, high half.
    pub const STAT_BYTES_HI: u32 = 0x3C;

    /// Every register of a queue block.
    pub const REGISTERS: &[Register] = &[
        reg(
            "DESC_BASE_LO",
            DESC_BASE_LO,
            &[BASE_ADDR],
            "Descriptor ring IOVA, bits 31:0.",
        ),
        reg(
            "DESC_BASE_HI",
            DESC_BASE_HI,
            &[BASE_ADDR],
            "Descriptor ring IOVA, bits 63:32.",
        ),
        reg(
            "CPL_BASE_LO",
            CPL_BASE_LO,
            &[BASE_ADDR],
            "Completion ring IOVA, bits 31:0.",
        ),
        reg(
            "CPL_BASE_HI",
            CPL_BASE_HI,
            &[BASE_ADDR],
            "Completion ring IOVA, bits 63:32.",
        ),
        reg(
            "CONFIG",
            CONFIG,
            &[CONFIG_LOG2_SIZE, CONFIG_VECTOR],
            "Ring size and vector.",
        ),
        reg("CTRL", CTRL, &[CTRL_ENABLE], "Queue enable."),
        reg(
            "STATUS",
            STATUS,
            &[STATUS_ENABLED, STATUS_ERROR, STATUS_CONFIG_ERROR],
            "Queue status.",
        ),
        reg(
            "DB_DESC_PROD",
            DB_DESC_PROD,
            &[DB_DESC_PROD_INDEX],
            "Doorbell: descriptor producer index.",
        ),
        reg(
            "DB_CPL_CONS",
            DB_CPL_CONS,
            &[DB_CPL_CONS_INDEX, DB_CPL_CONS_REARM],
            "Doorbell: completion consumer index and re-arm.",
        ),
        reg(
            "IRQ_CTRL",
            IRQ_CTRL,
            &[IRQ_CTRL_ARM, IRQ_CTRL_MASK, IRQ_CTRL_PENDING],
            "Interrupt arm/mask/latch.",
        ),
        reg(
            "IRQ_MODERATION",
            IRQ_MODERATION,
            &[IRQ_MODERATION_USECS, IRQ_MODERATION_FRAMES],
            "Interrupt moderation.",
        ),
        reg(
            "DESC_CONS",
            DESC_CONS,
            &[DESC_CONS_INDEX],
            "Device's descriptor consumer index.",
        ),
        reg(
            "CPL_PROD",
            CPL_PROD,
            &[CPL_PROD_INDEX],
            "Device's completion producer index.",
        ),
        counter("STAT_PACKETS", STAT_PACKETS, "Packets completed."),
        counter(
            "STAT_BYTES_LO",
            STAT_BYTES_LO,
            "Bytes completed, bits 31:0.",
        ),
        counter(
            "STAT_BYTES_HI",
            STAT_BYTES_HI,
            "Bytes completed, bits 63:32.",
        ),
    ];
}

/// Base of RX queue block 0.
pub const RX_QUEUE_BASE: u32 = 0x4_0000;
/// Base of TX queue block 0.
pub const TX_QUEUE_BASE: u32 = 0x5_0000;
/// Distance between two queue blocks.
pub const QUEUE_STRIDE: u32 = 0x40;

/// BAR0 offset of register `reg` (a [`queue`] offset) of RX queue `q`.
pub const fn rx_queue_reg(q: u32, reg: u32) -> u32 {
    RX_QUEUE_BASE + q * QUEUE_STRIDE + reg
}
/// BAR0 offset of register `reg` (a [`queue`] offset) of TX queue `q`.
pub const fn tx_queue_reg(q: u32, reg: u32) -> u32 {
    TX_QUEUE_BASE + q * QUEUE_STRIDE + reg
}

/// MSI-X table, PBA and control: platform-owned pages of BAR0 (vfio-pci refuses
/// driver access to the table; the driver binds eventfds instead).
pub mod msix {
    use super::*;

    /// BAR0 offset of the MSI-X table (4 KiB aligned).
    pub const TABLE_OFFSET: u32 = 0x2_0000;
    /// Bytes reserved for the table (room for [`MAX_VECTORS`] entries).
    pub const TABLE_SIZE: u32 = 0x8000;
    /// Size of one table entry.
    pub const ENTRY_SIZE: u32 = 16;
    /// Entry: message address, low half.
    pub const ENTRY_ADDR_LO: u32 = 0x0;
    /// Entry: message address, high half.
    pub const ENTRY_ADDR_HI: u32 = 0x4;
    /// Entry: message data.
    pub const ENTRY_DATA: u32 = 0x8;
    /// Entry: vector control.
    pub const ENTRY_CTRL: u32 = 0xC;
    /// `ENTRY_CTRL.MASK`: per-vector mask; set after reset (PCIe).
    pub const ENTRY_CTRL_MASK: Field = f("MASK", 0, 1, Access::RW, 1, "Per-vector mask: while set, a message is held back and the PBA bit set; clearing it with the PBA bit set sends the message.");
    /// BAR0 offset of the pending bit array (4 KiB aligned, its own page).
    pub const PBA_OFFSET: u32 = 0x2_8000;
    /// BAR0 offset of the MSI-X control register (its own page). It models the
    /// Message Control word of the MSI-X capability in config space, which the
    /// platform (vfio-pci through the PCIe bridge, or the co-simulation) drives.
    pub const CTRL_OFFSET: u32 = 0x2_9000;
    /// `CTRL.ENABLE`: MSI-X enable.
    pub const CTRL_ENABLE: Field = f(
        "ENABLE",
        0,
        1,
        Access::RW,
        0,
        "MSI-X enable (capability Message Control bit 15); no message is sent while clear.",
    );
    /// `CTRL.FUNCTION_MASK`: masks every vector.
    pub const CTRL_FUNCTION_MASK: Field = f(
        "FUNCTION_MASK",
        1,
        1,
        Access::RW,
        0,
        "Function mask (Message Control bit 14): every vector behaves as masked.",
    );

    /// BAR0 offset of table entry `v`.
    pub const fn entry(v: u32) -> u32 {
        TABLE_OFFSET + v * ENTRY_SIZE
    }
    /// BAR0 offset of the PBA word holding vector `v`'s bit, and the bit.
    pub const fn pba(v: u32) -> (u32, u32) {
        (PBA_OFFSET + (v / 32) * 4, v % 32)
    }
    /// True when a BAR0 offset falls in the platform-owned MSI-X table.
    pub const fn in_table(offset: u32) -> bool {
        offset >= TABLE_OFFSET && offset < TABLE_OFFSET + TABLE_SIZE
    }

    /// Registers of the platform-owned pages, for the document.
    pub const REGISTERS: &[Register] = &[
        Register {
            name: "ENTRY_CTRL",
            offset: TABLE_OFFSET + ENTRY_CTRL,
            count: 1,
            fields: &[ENTRY_CTRL_MASK],
            doc: "Vector control of entry 0; entry v at TABLE + 16 v + 12. Address and data words at +0, +4, +8.",
        },
        Register {
            name: "PBA",
            offset: PBA_OFFSET,
            count: 1,
            fields: &[f("PENDING", 0, 32, Access::RO, 0, "Pending bits of vectors 32 i .. 32 i + 31 (word i).")],
            doc: "Pending bit array, word 0.",
        },
        Register {
            name: "CTRL",
            offset: CTRL_OFFSET,
            count: 1,
            fields: &[CTRL_ENABLE, CTRL_FUNCTION_MASK],
            doc: "MSI-X Message Control, as the platform programs it.",
        },
    ];
}

// Layout invariants, checked when the crate compiles: queue windows fit BAR0 and
// do not meet; the MSI-X table, PBA and control each sit on 4 KiB pages of their
// own (vfio-pci protects the table's pages), with room for MAX_VECTORS.
const _LAYOUT_OK: () = {
    assert!(RX_QUEUE_BASE + MAX_QUEUES * QUEUE_STRIDE <= TX_QUEUE_BASE);
    assert!(TX_QUEUE_BASE + MAX_QUEUES * QUEUE_STRIDE <= BAR0_SIZE);
    assert!(global::RSS_RETA + 4 * RSS_RETA_ENTRIES <= msix::TABLE_OFFSET);
    assert!(msix::TABLE_OFFSET % 4096 == 0);
    assert!(msix::TABLE_SIZE % 4096 == 0);
    assert!(msix::PBA_OFFSET % 4096 == 0);
    assert!(msix::CTRL_OFFSET % 4096 == 0);
    assert!(msix::TABLE_SIZE >= MAX_VECTORS * msix::ENTRY_SIZE);
    assert!(msix::TABLE_OFFSET + msix::TABLE_SIZE <= msix::PBA_OFFSET);
    assert!(msix::PBA_OFFSET + MAX_VECTORS / 8 <= msix::CTRL_OFFSET);
    assert!(msix::CTRL_OFFSET + 4096 <= RX_QUEUE_BASE);
    assert!(BAR0_SIZE.is_power_of_two());
};

/// Every register block, in address order.
pub const BLOCKS: &[Block] = &[
    Block {
        name: "global",
        base: global::BASE,
        stride: 0,
        max_instances: 1,
        registers: global::REGISTERS,
        doc: "Identification, control, error status, RSS, global counters.",
    },
    Block {
        name: "msix",
        base: 0,
        stride: 0,
        max_instances: 1,
        registers: msix::REGISTERS,
        doc:
            "MSI-X table, PBA and control, owned by the platform (vfio-pci); offsets are absolute.",
    },
    Block {
        name: "rx_queue",
        base: RX_QUEUE_BASE,
        stride: QUEUE_STRIDE,
        max_instances: MAX_QUEUES,
        registers: queue::REGISTERS,
        doc: "One block per RX queue.",
    },
    Block {
        name: "tx_queue",
        base: TX_QUEUE_BASE,
        stride: QUEUE_STRIDE,
        max_instances: MAX_QUEUES,
        registers: queue::REGISTERS,
        doc: "One block per TX queue.",
    },
];

const fn mf(
    name: &'static str,
    word_offset: u32,
    word_bits: u32,
    lsb: u32,
    width: u32,
    doc: &'static str,
) -> MemField {
    MemField {
        name,
        word_offset,
        word_bits,
        lsb,
        width,
        doc,
    }
}

/// Receive descriptor (driver → device), 16 bytes.
pub mod rx_desc {
    use super::*;
    /// Size in bytes.
    pub const SIZE: u32 = 16;
    /// Buffer IOVA.
    pub const ADDR: MemField = mf(
        "ADDR",
        0,
        64,
        0,
        64,
        "IOVA of the receive buffer, 8-byte aligned (bits 2:0 not 0: descriptor error).",
    );
    /// Buffer length.
    pub const LEN: MemField = mf(
        "LEN",
        8,
        32,
        0,
        16,
        "Buffer length in bytes; 0 is a descriptor error (completion DESC_ERROR, ERR_STATUS.DESC); shorter than the frame: completion DESC_ERROR with LEN 0, counted as RX_DROP_OVERSIZE.",
    );
}

/// Transmit descriptor (driver → device), 16 bytes.
pub mod tx_desc {
    use super::*;
    /// Size in bytes.
    pub const SIZE: u32 = 16;
    /// Buffer IOVA.
    pub const ADDR: MemField = mf(
        "ADDR",
        0,
        64,
        0,
        64,
        "IOVA of the frame, 8-byte aligned (bits 2:0 not 0: descriptor error).",
    );
    /// Frame length.
    pub const LEN: MemField = mf(
        "LEN",
        8,
        32,
        0,
        16,
        "Frame length in bytes; 0 or above MAX_MTU is a descriptor error.",
    );
}

/// Completion (device → driver), 16 bytes, RX and TX alike. The device writes the
/// phase bit last (it lives in the last byte); the driver owns the entry when its
/// phase equals the ring's current phase, which starts at 1 and flips on every wrap
/// (the ring is zeroed at setup).
pub mod cpl {
    use super::*;
    /// Size in bytes.
    pub const SIZE: u32 = 16;
    /// Length.
    pub const LEN: MemField = mf(
        "LEN",
        0,
        32,
        0,
        16,
        "Frame length in bytes (RX: as written to the buffer; TX: as sent).",
    );
    /// Status code ([`CPL_STATUS`]).
    pub const STATUS: MemField = mf("STATUS", 0, 32, 16, 4, "Completion status (CPL_STATUS).");
    /// RSS type ([`RSS_TYPE`]).
    pub const RSS_TYPE: MemField = mf(
        "RSS_TYPE",
        0,
        32,
        24,
        4,
        "Which tuple the hash covers (RSS_TYPE); 0 for TX.",
    );
    /// RSS hash.
    pub const RSS_HASH: MemField = mf(
        "RSS_HASH",
        4,
        32,
        0,
        32,
        "Toeplitz hash of the frame's tuple; 0 for TX.",
    );
    /// Descriptor index.
    pub const DESC_INDEX: MemField = mf(
        "DESC_INDEX",
        8,
        32,
        0,
        16,
        "Free-running index of the descriptor this completes.",
    );
    /// Queue.
    pub const QUEUE: MemField = mf("QUEUE", 8, 32, 16, 16, "Queue number.");
    /// Phase bit.
    pub const PHASE: MemField = mf(
        "PHASE",
        12,
        32,
        31,
        1,
        "Ownership: equals the ring phase when the entry is new.",
    );
}

/// MSI-X table entry (in the MSI-X page), 16 bytes.
pub mod msix_entry {
    use super::*;
    /// Size in bytes.
    pub const SIZE: u32 = 16;
    /// Message address.
    pub const ADDR: MemField = mf(
        "ADDR",
        0,
        64,
        0,
        64,
        "Message address: the DWORD write goes here.",
    );
    /// Message data.
    pub const DATA: MemField = mf("DATA", 8, 32, 0, 32, "Message data.");
    /// Mask bit.
    pub const MASK: MemField = mf(
        "MASK",
        12,
        32,
        0,
        1,
        "Vector control bit 0: per-vector mask.",
    );
}

/// Every in-memory format.
pub const FORMATS: &[Format] = &[
    Format {
        name: "rx_desc",
        size: rx_desc::SIZE,
        fields: &[rx_desc::ADDR, rx_desc::LEN],
        doc: "Receive descriptor, written by the driver.",
    },
    Format {
        name: "tx_desc",
        size: tx_desc::SIZE,
        fields: &[tx_desc::ADDR, tx_desc::LEN],
        doc: "Transmit descriptor, written by the driver.",
    },
    Format {
        name: "cpl",
        size: cpl::SIZE,
        fields: &[
            cpl::LEN,
            cpl::STATUS,
            cpl::RSS_TYPE,
            cpl::RSS_HASH,
            cpl::DESC_INDEX,
            cpl::QUEUE,
            cpl::PHASE,
        ],
        doc: "Completion, written by the device; phase bit last.",
    },
    Format {
        name: "msix_entry",
        size: msix_entry::SIZE,
        fields: &[msix_entry::ADDR, msix_entry::DATA, msix_entry::MASK],
        doc: "MSI-X table entry, written by the platform.",
    },
];

/// Completion status codes.
pub mod cpl_status {
    /// Success.
    pub const OK: u32 = 0;
    /// The descriptor was invalid (zero length, misaligned address, TX length above MAX_MTU; RX buffer shorter than the frame).
    pub const DESC_ERROR: u32 = 1;
    /// A DMA access for this entry failed.
    pub const DMA_ERROR: u32 = 2;
}

/// RSS types carried in completions.
pub mod rss_type {
    /// Not hashed (non-IP, or RSS disabled).
    pub const NONE: u32 = 0;
    /// IPv4 addresses only.
    pub const IPV4: u32 = 1;
    /// IPv4 + TCP ports.
    pub const TCP4: u32 = 2;
    /// IPv4 + UDP ports.
    pub const UDP4: u32 = 3;
    /// IPv6 addresses only.
    pub const IPV6: u32 = 4;
    /// IPv6 + TCP ports.
    pub const TCP6: u32 = 5;
    /// IPv6 + UDP ports.
    pub const UDP6: u32 = 6;
}

/// Every enumeration.
pub const ENUMS: &[Enum] = &[
    Enum {
        name: "CPL_STATUS",
        values: &[
            EnumValue {
                name: "OK",
                value: cpl_status::OK,
                doc: "Success.",
            },
            EnumValue {
                name: "DESC_ERROR",
                value: cpl_status::DESC_ERROR,
                doc: "Invalid descriptor.",
            },
            EnumValue {
                name: "DMA_ERROR",
                value: cpl_status::DMA_ERROR,
                doc: "DMA failure.",
            },
        ],
    },
    Enum {
        name: "RSS_TYPE",
        values: &[
            EnumValue {
                name: "NONE",
                value: rss_type::NONE,
                doc: "Not hashed.",
            },
            EnumValue {
                name: "IPV4",
                value: rss_type::IPV4,
                doc: "IPv4 addresses.",
            },
            EnumValue {
                name: "TCP4",
                value: rss_type::TCP4,
                doc: "IPv4 addresses and TCP ports.",
            },
            EnumValue {
                name: "UDP4",
                value: rss_type::UDP4,
                doc: "IPv4 addresses and UDP ports.",
            },
            EnumValue {
                name: "IPV6",
                value: rss_type::IPV6,
                doc: "IPv6 addresses.",
            },
            EnumValue {
                name: "TCP6",
                value: rss_type::TCP6,
                doc: "IPv6 addresses and TCP ports.",
            },
            EnumValue {
                name: "UDP6",
                value: rss_type::UDP6,
                doc: "IPv6 addresses and UDP ports.",
            },
        ],
    },
];

/// Every plain constant the testbenches and the document need, by name.
pub const CONSTANTS: &[(&str, u32)] = &[
    ("ID_MAGIC", ID_MAGIC),
    ("VERSION_MAJOR", VERSION_MAJOR),
    ("VERSION_MINOR", VERSION_MINOR),
    ("BAR0_SIZE", BAR0_SIZE),
    ("MAX_QUEUES", MAX_QUEUES),
    ("MAX_VECTORS", MAX_VECTORS),
    ("RING_LOG2_MIN", RING_LOG2_MIN),
    ("RING_LOG2_MAX", RING_LOG2_MAX),
    ("RSS_RETA_ENTRIES", RSS_RETA_ENTRIES),
    ("RSS_KEY_BYTES", RSS_KEY_BYTES),
    ("MIN_FRAME_LEN", MIN_FRAME_LEN),
    ("DEFAULT_MTU", DEFAULT_MTU),
    ("MAX_MTU", MAX_MTU),
    ("RX_QUEUE_BASE", RX_QUEUE_BASE),
    ("TX_QUEUE_BASE", TX_QUEUE_BASE),
    ("QUEUE_STRIDE", QUEUE_STRIDE),
    ("MSIX_TABLE_OFFSET", msix::TABLE_OFFSET),
    ("MSIX_TABLE_SIZE", msix::TABLE_SIZE),
    ("MSIX_ENTRY_SIZE", msix::ENTRY_SIZE),
    ("MSIX_PBA_OFFSET", msix::PBA_OFFSET),
    ("MSIX_CTRL_OFFSET", msix::CTRL_OFFSET),
];
