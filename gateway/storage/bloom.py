"""Bloom filters over 16-byte digests: "certainly not added" without touching the disk.

Four probes, each 32 bits of the (already uniform) digest, into at least 16
bits per entry at capacity: about 0.25 % false positives. A ``DigestSet`` adds
layers of twice the capacity as entries come, so its rate stays that low
however many there are; memory grows with entries, about 2 bytes each.
"""

from __future__ import annotations

__all__ = ["BloomFilter", "DigestSet"]

_BITS_PER_ENTRY = 16
_FIRST_CAPACITY = 1 << 20  # 2 MiB: a day of 12 deliveries a second in one layer


class BloomFilter:
    """A fixed-size filter; past ``capacity`` entries its false-positive rate climbs."""

    __slots__ = ("_bits", "_mask", "capacity", "count")

    def __init__(self, capacity: int) -> None:
        size = 1 << max(13, (capacity * _BITS_PER_ENTRY - 1).bit_length())
        if size > 1 << 32:
            raise ValueError(f"a capacity of {capacity} entries needs more than 2**32 bits")
        self._bits = bytearray(size // 8)
        self._mask = size - 1
        self.capacity = capacity
        self.count = 0

    def add(self, digest: bytes) -> None:
        value = int.from_bytes(digest[:16], "little")
        bits, mask = self._bits, self._mask
        for shift in (0, 32, 64, 96):
            probe = (value >> shift) & mask
            bits[probe >> 3] |= 1 << (probe & 7)
        self.count += 1

    def __contains__(self, digest: bytes) -> bool:
        # Unrolled: this answers nearly every webhook request.
        value = int.from_bytes(digest[:16], "little")
        bits, mask = self._bits, self._mask
        probe = value & mask
        if not bits[probe >> 3] >> (probe & 7) & 1:
            return False
        probe = value >> 32 & mask
        if not bits[probe >> 3] >> (probe & 7) & 1:
            return False
        probe = value >> 64 & mask
        if not bits[probe >> 3] >> (probe & 7) & 1:
            return False
        probe = value >> 96 & mask
        return bool(bits[probe >> 3] >> (probe & 7) & 1)

    @property
    def nbytes(self) -> int:
        return len(self._bits)


class DigestSet:
    """Digests added so far, as Bloom layers: a new layer of twice the capacity when the last one is full."""

    __slots__ = ("_layers",)

    def __init__(self, first_capacity: int = _FIRST_CAPACITY) -> None:
        self._layers = [BloomFilter(first_capacity)]

    def add(self, digest: bytes) -> None:
        last = self._layers[-1]
        if last.count >= last.capacity:
            last = BloomFilter(last.capacity * 2)
            self._layers.append(last)
        last.add(digest)

    def __contains__(self, digest: bytes) -> bool:
        for layer in self._layers:
            if digest in layer:
                return True
        return False

    def __len__(self) -> int:
        return sum(layer.count for layer in self._layers)

    @property
    def nbytes(self) -> int:
        return sum(layer.nbytes for layer in self._layers)
