# Generated from hw/regs (oxnic-regs) by `cargo run -p oxnic-regs --bin regs-export`. Do not edit.
"""oxnic register map and descriptor formats (generated)."""

from typing import NamedTuple, Union


class Field(NamedTuple):
    name: str
    lsb: int
    width: int
    access: str
    reset: Union[int, str]  # int, or the name of a generation parameter

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, reg: int) -> int:
        return (reg & self.mask) >> self.lsb

    def set(self, reg: int, value: int) -> int:
        return (reg & ~self.mask) | ((value << self.lsb) & self.mask)


class Register(NamedTuple):
    name: str
    offset: int
    count: int
    fields: tuple


class Block(NamedTuple):
    name: str
    base: int
    stride: int
    max_instances: int
    registers: tuple


class MemField(NamedTuple):
    name: str
    word_offset: int
    word_bits: int
    lsb: int
    width: int


class Format(NamedTuple):
    name: str
    size: int
    fields: tuple


ID_MAGIC = 0x4F584E43
VERSION_MAJOR = 0x0
VERSION_MINOR = 0x1
BAR0_SIZE = 0x80000
MAX_QUEUES = 0x400
MAX_VECTORS = 0x800
RING_LOG2_MIN = 0x4
RING_LOG2_MAX = 0xF
RSS_RETA_ENTRIES = 0x80
RSS_KEY_BYTES = 0x28
MIN_FRAME_LEN = 0x3C
DEFAULT_MTU = 0x5EA
MAX_MTU = 0x2400
RX_QUEUE_BASE = 0x40000
TX_QUEUE_BASE = 0x50000
QUEUE_STRIDE = 0x40
MSIX_TABLE_OFFSET = 0x20000
MSIX_TABLE_SIZE = 0x8000
MSIX_ENTRY_SIZE = 0x10
MSIX_PBA_OFFSET = 0x28000
MSIX_CTRL_OFFSET = 0x29000

# --- global ---
GLOBAL_ID = 0x0
GLOBAL_ID_MAGIC = Field("MAGIC", 0, 32, "RO", 0x4F584E43)
GLOBAL_VERSION = 0x4
GLOBAL_VERSION_MINOR = Field("MINOR", 0, 16, "RO", 0x1)
GLOBAL_VERSION_MAJOR = Field("MAJOR", 16, 16, "RO", 0x0)
GLOBAL_CAPS = 0x8
GLOBAL_CAPS_QUEUES = Field("QUEUES", 0, 16, "RO", "queues")
GLOBAL_CAPS_VECTORS = Field("VECTORS", 16, 16, "RO", "vectors")
GLOBAL_CLOCK_MHZ = 0xC
GLOBAL_CLOCK_MHZ_MHZ = Field("MHZ", 0, 16, "RO", "clock_mhz")
GLOBAL_CTRL = 0x10
GLOBAL_CTRL_ENABLE = Field("ENABLE", 0, 1, "RW", 0x0)
GLOBAL_CTRL_SOFT_RESET = Field("SOFT_RESET", 1, 1, "W1S", 0x0)
GLOBAL_STATUS = 0x14
GLOBAL_STATUS_RESET_BUSY = Field("RESET_BUSY", 0, 1, "RO", 0x0)
GLOBAL_STATUS_QUIESCENT = Field("QUIESCENT", 1, 1, "RO", 0x1)
GLOBAL_MTU = 0x18
GLOBAL_MTU_BYTES = Field("BYTES", 0, 16, "RW", 0x5EA)
GLOBAL_ERR_VECTOR = 0x1C
GLOBAL_ERR_VECTOR_VECTOR = Field("VECTOR", 0, 12, "RW", 0x0)
GLOBAL_ERR_STATUS = 0x20
GLOBAL_ERR_STATUS_DMA_READ = Field("DMA_READ", 0, 1, "W1C", 0x0)
GLOBAL_ERR_STATUS_DMA_WRITE = Field("DMA_WRITE", 1, 1, "W1C", 0x0)
GLOBAL_ERR_STATUS_CONFIG = Field("CONFIG", 2, 1, "W1C", 0x0)
GLOBAL_ERR_STATUS_DESC = Field("DESC", 3, 1, "W1C", 0x0)
GLOBAL_ERR_INFO = 0x24
GLOBAL_ERR_INFO_QUEUE = Field("QUEUE", 0, 16, "RO", 0x0)
GLOBAL_ERR_INFO_TX = Field("TX", 16, 1, "RO", 0x0)
GLOBAL_ERR_ADDR_LO = 0x28
GLOBAL_ERR_ADDR_LO_ADDR = Field("ADDR", 0, 32, "RO", 0x0)
GLOBAL_ERR_ADDR_HI = 0x2C
GLOBAL_ERR_ADDR_HI_ADDR = Field("ADDR", 0, 32, "RO", 0x0)
GLOBAL_ERR_IRQ_ENABLE = 0x30
GLOBAL_ERR_IRQ_ENABLE_CAUSES = Field("CAUSES", 0, 4, "RW", 0x0)
GLOBAL_RSS_CTRL = 0x40
GLOBAL_RSS_CTRL_ENABLE = Field("ENABLE", 0, 1, "RW", 0x0)
GLOBAL_RSS_CTRL_IPV4 = Field("IPV4", 1, 1, "RW", 0x1)
GLOBAL_RSS_CTRL_TCP4 = Field("TCP4", 2, 1, "RW", 0x1)
GLOBAL_RSS_CTRL_UDP4 = Field("UDP4", 3, 1, "RW", 0x1)
GLOBAL_RSS_CTRL_IPV6 = Field("IPV6", 4, 1, "RW", 0x1)
GLOBAL_RSS_CTRL_TCP6 = Field("TCP6", 5, 1, "RW", 0x1)
GLOBAL_RSS_CTRL_UDP6 = Field("UDP6", 6, 1, "RW", 0x1)
GLOBAL_RSS_KEY = 0x80
GLOBAL_RSS_KEY_BYTES = Field("BYTES", 0, 32, "RW", 0x0)
GLOBAL_RX_FRAMES = 0x100
GLOBAL_RX_FRAMES_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RX_DROP_QUEUE_DISABLED = 0x104
GLOBAL_RX_DROP_QUEUE_DISABLED_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RX_DROP_NO_DESC = 0x108
GLOBAL_RX_DROP_NO_DESC_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RX_DROP_RUNT = 0x10C
GLOBAL_RX_DROP_RUNT_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RX_DROP_OVERSIZE = 0x110
GLOBAL_RX_DROP_OVERSIZE_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RX_DROP_MAC_ERROR = 0x114
GLOBAL_RX_DROP_MAC_ERROR_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RX_DROP_DMA_ERROR = 0x118
GLOBAL_RX_DROP_DMA_ERROR_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_TX_FRAMES = 0x11C
GLOBAL_TX_FRAMES_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_TX_ERRORS = 0x120
GLOBAL_TX_ERRORS_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
GLOBAL_RSS_RETA = 0x400
GLOBAL_RSS_RETA_QUEUE = Field("QUEUE", 0, 16, "RW", 0x0)

# --- msix ---
MSIX_ENTRY_CTRL = 0x2000C
MSIX_ENTRY_CTRL_MASK = Field("MASK", 0, 1, "RW", 0x1)
MSIX_PBA = 0x28000
MSIX_PBA_PENDING = Field("PENDING", 0, 32, "RO", 0x0)
MSIX_CTRL = 0x29000
MSIX_CTRL_ENABLE = Field("ENABLE", 0, 1, "RW", 0x0)
MSIX_CTRL_FUNCTION_MASK = Field("FUNCTION_MASK", 1, 1, "RW", 0x0)

# --- rx_queue ---
QUEUE_DESC_BASE_LO = 0x0
QUEUE_DESC_BASE_LO_ADDR = Field("ADDR", 0, 32, "RW", 0x0)
QUEUE_DESC_BASE_HI = 0x4
QUEUE_DESC_BASE_HI_ADDR = Field("ADDR", 0, 32, "RW", 0x0)
QUEUE_CPL_BASE_LO = 0x8
QUEUE_CPL_BASE_LO_ADDR = Field("ADDR", 0, 32, "RW", 0x0)
QUEUE_CPL_BASE_HI = 0xC
QUEUE_CPL_BASE_HI_ADDR = Field("ADDR", 0, 32, "RW", 0x0)
QUEUE_CONFIG = 0x10
QUEUE_CONFIG_LOG2_SIZE = Field("LOG2_SIZE", 0, 5, "RW", 0x4)
QUEUE_CONFIG_VECTOR = Field("VECTOR", 16, 12, "RW", 0x0)
QUEUE_CTRL = 0x14
QUEUE_CTRL_ENABLE = Field("ENABLE", 0, 1, "RW", 0x0)
QUEUE_STATUS = 0x18
QUEUE_STATUS_ENABLED = Field("ENABLED", 0, 1, "RO", 0x0)
QUEUE_STATUS_ERROR = Field("ERROR", 1, 1, "RO", 0x0)
QUEUE_STATUS_CONFIG_ERROR = Field("CONFIG_ERROR", 2, 1, "RO", 0x0)
QUEUE_DB_DESC_PROD = 0x1C
QUEUE_DB_DESC_PROD_INDEX = Field("INDEX", 0, 16, "RW", 0x0)
QUEUE_DB_CPL_CONS = 0x20
QUEUE_DB_CPL_CONS_INDEX = Field("INDEX", 0, 16, "RW", 0x0)
QUEUE_DB_CPL_CONS_REARM = Field("REARM", 31, 1, "WO", 0x0)
QUEUE_IRQ_CTRL = 0x24
QUEUE_IRQ_CTRL_ARM = Field("ARM", 0, 1, "W1S", 0x0)
QUEUE_IRQ_CTRL_MASK = Field("MASK", 1, 1, "RW", 0x0)
QUEUE_IRQ_CTRL_PENDING = Field("PENDING", 2, 1, "RO", 0x0)
QUEUE_IRQ_MODERATION = 0x28
QUEUE_IRQ_MODERATION_USECS = Field("USECS", 0, 16, "RW", 0x0)
QUEUE_IRQ_MODERATION_FRAMES = Field("FRAMES", 16, 16, "RW", 0x0)
QUEUE_DESC_CONS = 0x2C
QUEUE_DESC_CONS_INDEX = Field("INDEX", 0, 16, "RO", 0x0)
QUEUE_CPL_PROD = 0x30
QUEUE_CPL_PROD_INDEX = Field("INDEX", 0, 16, "RO", 0x0)
QUEUE_STAT_PACKETS = 0x34
QUEUE_STAT_PACKETS_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
QUEUE_STAT_BYTES_LO = 0x38
QUEUE_STAT_BYTES_LO_COUNT = Field("COUNT", 0, 32, "RO", 0x0)
QUEUE_STAT_BYTES_HI = 0x3C
QUEUE_STAT_BYTES_HI_COUNT = Field("COUNT", 0, 32, "RO", 0x0)

BLOCKS = (
    Block("global", 0x0, 0x0, 1, (
        Register("ID", 0x0, 1, (GLOBAL_ID_MAGIC,)),
        Register("VERSION", 0x4, 1, (GLOBAL_VERSION_MINOR, GLOBAL_VERSION_MAJOR,)),
        Register("CAPS", 0x8, 1, (GLOBAL_CAPS_QUEUES, GLOBAL_CAPS_VECTORS,)),
        Register("CLOCK_MHZ", 0xC, 1, (GLOBAL_CLOCK_MHZ_MHZ,)),
        Register("CTRL", 0x10, 1, (GLOBAL_CTRL_ENABLE, GLOBAL_CTRL_SOFT_RESET,)),
        Register("STATUS", 0x14, 1, (GLOBAL_STATUS_RESET_BUSY, GLOBAL_STATUS_QUIESCENT,)),
        Register("MTU", 0x18, 1, (GLOBAL_MTU_BYTES,)),
        Register("ERR_VECTOR", 0x1C, 1, (GLOBAL_ERR_VECTOR_VECTOR,)),
        Register("ERR_STATUS", 0x20, 1, (GLOBAL_ERR_STATUS_DMA_READ, GLOBAL_ERR_STATUS_DMA_WRITE, GLOBAL_ERR_STATUS_CONFIG, GLOBAL_ERR_STATUS_DESC,)),
        Register("ERR_INFO", 0x24, 1, (GLOBAL_ERR_INFO_QUEUE, GLOBAL_ERR_INFO_TX,)),
        Register("ERR_ADDR_LO", 0x28, 1, (GLOBAL_ERR_ADDR_LO_ADDR,)),
        Register("ERR_ADDR_HI", 0x2C, 1, (GLOBAL_ERR_ADDR_HI_ADDR,)),
        Register("ERR_IRQ_ENABLE", 0x30, 1, (GLOBAL_ERR_IRQ_ENABLE_CAUSES,)),
        Register("RSS_CTRL", 0x40, 1, (GLOBAL_RSS_CTRL_ENABLE, GLOBAL_RSS_CTRL_IPV4, GLOBAL_RSS_CTRL_TCP4, GLOBAL_RSS_CTRL_UDP4, GLOBAL_RSS_CTRL_IPV6, GLOBAL_RSS_CTRL_TCP6, GLOBAL_RSS_CTRL_UDP6,)),
        Register("RSS_KEY", 0x80, 10, (GLOBAL_RSS_KEY_BYTES,)),
        Register("RX_FRAMES", 0x100, 1, (GLOBAL_RX_FRAMES_COUNT,)),
        Register("RX_DROP_QUEUE_DISABLED", 0x104, 1, (GLOBAL_RX_DROP_QUEUE_DISABLED_COUNT,)),
        Register("RX_DROP_NO_DESC", 0x108, 1, (GLOBAL_RX_DROP_NO_DESC_COUNT,)),
        Register("RX_DROP_RUNT", 0x10C, 1, (GLOBAL_RX_DROP_RUNT_COUNT,)),
        Register("RX_DROP_OVERSIZE", 0x110, 1, (GLOBAL_RX_DROP_OVERSIZE_COUNT,)),
        Register("RX_DROP_MAC_ERROR", 0x114, 1, (GLOBAL_RX_DROP_MAC_ERROR_COUNT,)),
        Register("RX_DROP_DMA_ERROR", 0x118, 1, (GLOBAL_RX_DROP_DMA_ERROR_COUNT,)),
        Register("TX_FRAMES", 0x11C, 1, (GLOBAL_TX_FRAMES_COUNT,)),
        Register("TX_ERRORS", 0x120, 1, (GLOBAL_TX_ERRORS_COUNT,)),
        Register("RSS_RETA", 0x400, 128, (GLOBAL_RSS_RETA_QUEUE,)),
    )),
    Block("msix", 0x0, 0x0, 1, (
        Register("ENTRY_CTRL", 0x2000C, 1, (MSIX_ENTRY_CTRL_MASK,)),
        Register("PBA", 0x28000, 1, (MSIX_PBA_PENDING,)),
        Register("CTRL", 0x29000, 1, (MSIX_CTRL_ENABLE, MSIX_CTRL_FUNCTION_MASK,)),
    )),
    Block("rx_queue", 0x40000, 0x40, 1024, (
        Register("DESC_BASE_LO", 0x0, 1, (QUEUE_DESC_BASE_LO_ADDR,)),
        Register("DESC_BASE_HI", 0x4, 1, (QUEUE_DESC_BASE_HI_ADDR,)),
        Register("CPL_BASE_LO", 0x8, 1, (QUEUE_CPL_BASE_LO_ADDR,)),
        Register("CPL_BASE_HI", 0xC, 1, (QUEUE_CPL_BASE_HI_ADDR,)),
        Register("CONFIG", 0x10, 1, (QUEUE_CONFIG_LOG2_SIZE, QUEUE_CONFIG_VECTOR,)),
        Register("CTRL", 0x14, 1, (QUEUE_CTRL_ENABLE,)),
        Register("STATUS", 0x18, 1, (QUEUE_STATUS_ENABLED, QUEUE_STATUS_ERROR, QUEUE_STATUS_CONFIG_ERROR,)),
        Register("DB_DESC_PROD", 0x1C, 1, (QUEUE_DB_DESC_PROD_INDEX,)),
        Register("DB_CPL_CONS", 0x20, 1, (QUEUE_DB_CPL_CONS_INDEX, QUEUE_DB_CPL_CONS_REARM,)),
        Register("IRQ_CTRL", 0x24, 1, (QUEUE_IRQ_CTRL_ARM, QUEUE_IRQ_CTRL_MASK, QUEUE_IRQ_CTRL_PENDING,)),
        Register("IRQ_MODERATION", 0x28, 1, (QUEUE_IRQ_MODERATION_USECS, QUEUE_IRQ_MODERATION_FRAMES,)),
        Register("DESC_CONS", 0x2C, 1, (QUEUE_DESC_CONS_INDEX,)),
        Register("CPL_PROD", 0x30, 1, (QUEUE_CPL_PROD_INDEX,)),
        Register("STAT_PACKETS", 0x34, 1, (QUEUE_STAT_PACKETS_COUNT,)),
        Register("STAT_BYTES_LO", 0x38, 1, (QUEUE_STAT_BYTES_LO_COUNT,)),
        Register("STAT_BYTES_HI", 0x3C, 1, (QUEUE_STAT_BYTES_HI_COUNT,)),
    )),
    Block("tx_queue", 0x50000, 0x40, 1024, (
        Register("DESC_BASE_LO", 0x0, 1, (QUEUE_DESC_BASE_LO_ADDR,)),
        Register("DESC_BASE_HI", 0x4, 1, (QUEUE_DESC_BASE_HI_ADDR,)),
        Register("CPL_BASE_LO", 0x8, 1, (QUEUE_CPL_BASE_LO_ADDR,)),
        Register("CPL_BASE_HI", 0xC, 1, (QUEUE_CPL_BASE_HI_ADDR,)),
        Register("CONFIG", 0x10, 1, (QUEUE_CONFIG_LOG2_SIZE, QUEUE_CONFIG_VECTOR,)),
        Register("CTRL", 0x14, 1, (QUEUE_CTRL_ENABLE,)),
        Register("STATUS", 0x18, 1, (QUEUE_STATUS_ENABLED, QUEUE_STATUS_ERROR, QUEUE_STATUS_CONFIG_ERROR,)),
        Register("DB_DESC_PROD", 0x1C, 1, (QUEUE_DB_DESC_PROD_INDEX,)),
        Register("DB_CPL_CONS", 0x20, 1, (QUEUE_DB_CPL_CONS_INDEX, QUEUE_DB_CPL_CONS_REARM,)),
        Register("IRQ_CTRL", 0x24, 1, (QUEUE_IRQ_CTRL_ARM, QUEUE_IRQ_CTRL_MASK, QUEUE_IRQ_CTRL_PENDING,)),
        Register("IRQ_MODERATION", 0x28, 1, (QUEUE_IRQ_MODERATION_USECS, QUEUE_IRQ_MODERATION_FRAMES,)),
        Register("DESC_CONS", 0x2C, 1, (QUEUE_DESC_CONS_INDEX,)),
        Register("CPL_PROD", 0x30, 1, (QUEUE_CPL_PROD_INDEX,)),
        Register("STAT_PACKETS", 0x34, 1, (QUEUE_STAT_PACKETS_COUNT,)),
        Register("STAT_BYTES_LO", 0x38, 1, (QUEUE_STAT_BYTES_LO_COUNT,)),
        Register("STAT_BYTES_HI", 0x3C, 1, (QUEUE_STAT_BYTES_HI_COUNT,)),
    )),
)

RX_DESC_SIZE = 16
RX_DESC_ADDR = MemField("ADDR", 0, 64, 0, 64)
RX_DESC_LEN = MemField("LEN", 8, 32, 0, 16)
RX_DESC = Format("rx_desc", 16, (RX_DESC_ADDR, RX_DESC_LEN,))

TX_DESC_SIZE = 16
TX_DESC_ADDR = MemField("ADDR", 0, 64, 0, 64)
TX_DESC_LEN = MemField("LEN", 8, 32, 0, 16)
TX_DESC = Format("tx_desc", 16, (TX_DESC_ADDR, TX_DESC_LEN,))

CPL_SIZE = 16
CPL_LEN = MemField("LEN", 0, 32, 0, 16)
CPL_STATUS = MemField("STATUS", 0, 32, 16, 4)
CPL_RSS_TYPE = MemField("RSS_TYPE", 0, 32, 24, 4)
CPL_RSS_HASH = MemField("RSS_HASH", 4, 32, 0, 32)
CPL_DESC_INDEX = MemField("DESC_INDEX", 8, 32, 0, 16)
CPL_QUEUE = MemField("QUEUE", 8, 32, 16, 16)
CPL_PHASE = MemField("PHASE", 12, 32, 31, 1)
CPL = Format("cpl", 16, (CPL_LEN, CPL_STATUS, CPL_RSS_TYPE, CPL_RSS_HASH, CPL_DESC_INDEX, CPL_QUEUE, CPL_PHASE,))

MSIX_ENTRY_SIZE = 16
MSIX_ENTRY_ADDR = MemField("ADDR", 0, 64, 0, 64)
MSIX_ENTRY_DATA = MemField("DATA", 8, 32, 0, 32)
MSIX_ENTRY_MASK = MemField("MASK", 12, 32, 0, 1)
MSIX_ENTRY = Format("msix_entry", 16, (MSIX_ENTRY_ADDR, MSIX_ENTRY_DATA, MSIX_ENTRY_MASK,))

CPL_STATUS_OK = 0
CPL_STATUS_DESC_ERROR = 1
CPL_STATUS_DMA_ERROR = 2

RSS_TYPE_NONE = 0
RSS_TYPE_IPV4 = 1
RSS_TYPE_TCP4 = 2
RSS_TYPE_UDP4 = 3
RSS_TYPE_IPV6 = 4
RSS_TYPE_TCP6 = 5
RSS_TYPE_UDP6 = 6


def rx_queue_reg(q: int, reg: int) -> int:
    """BAR0 offset of queue register `reg` of RX queue `q`."""
    return RX_QUEUE_BASE + q * QUEUE_STRIDE + reg


def tx_queue_reg(q: int, reg: int) -> int:
    """BAR0 offset of queue register `reg` of TX queue `q`."""
    return TX_QUEUE_BASE + q * QUEUE_STRIDE + reg


def reset_value(reg: Register, params: dict) -> int:
    """Reset value of a register; generation parameters resolved from `params`."""
    v = 0
    for f in reg.fields:
        r = params[f.reset] if isinstance(f.reset, str) else f.reset
        v = f.set(v, r)
    return v
