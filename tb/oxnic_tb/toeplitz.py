"""Toeplitz (Microsoft RSS) reference, shared by the benches that hash tuples.

``toeplitz(key, data)`` is written from the definition: for every set input bit
``i`` (most significant bit of byte 0 first), XOR in the 32 key bits starting at
key bit ``i``. ``MS_KEY`` and ``MS_VECTORS`` are Microsoft's "Verifying the RSS
Hash Calculation" suite (also in the 82599 datasheet); ``tuple_bytes`` builds a
tuple as the hash consumes it (network order: source address, destination
address, then source port, destination port).
"""

import ipaddress
import struct

MS_KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"
)

# (source, destination, source port, destination port, 2-tuple hash, 4-tuple hash)
MS_VECTORS = [
    ("66.9.149.187", "161.142.100.80", 2794, 1766, 0x323E8FC2, 0x51CCC178),
    ("199.92.111.2", "65.69.140.83", 14230, 4739, 0xD718262A, 0xC626B0EA),
    ("24.19.198.95", "12.22.207.184", 12898, 38024, 0xD2D0A5DE, 0x5C2B394A),
    ("38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xAFC7327F),
    ("153.39.163.191", "202.188.127.2", 44251, 1303, 0x5D1809C5, 0x10E828A2),
    ("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2CC18CD5, 0x40207D3D),
    ("3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0F0C461C, 0xDDE51BBF),
    ("3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024, 0x4B61E985, 0x02D1FEEF),
]


def toeplitz(key: bytes, data: bytes) -> int:
    k = int.from_bytes(key, "big")
    klen = len(key) * 8
    h = 0
    for i in range(len(data) * 8):
        if data[i // 8] >> (7 - i % 8) & 1:
            h ^= (k >> (klen - 32 - i)) & 0xFFFFFFFF
    return h


def tuple_bytes(src, dst, sport=None, dport=None):
    b = ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
    if sport is not None:
        b += struct.pack(">HH", sport, dport)
    return b
