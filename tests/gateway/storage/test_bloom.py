"""Bloom filters over digests: never a false negative, few false positives, layers as entries grow."""

from __future__ import annotations

import hashlib

from gateway.storage.bloom import BloomFilter, DigestSet


def _digests(prefix: str, count: int) -> list[bytes]:
    return [hashlib.blake2b(f"{prefix}{number}".encode(), digest_size=16).digest() for number in range(count)]


def test_every_added_digest_is_found_and_few_others_are() -> None:
    """At capacity: no added digest missed, under 1 % of other digests reported."""
    added = _digests("added-", 20_000)
    bloom = BloomFilter(capacity=20_000)
    for digest in added:
        bloom.add(digest)
    assert all(digest in bloom for digest in added)
    false_positives = sum(digest in bloom for digest in _digests("other-", 20_000))
    assert false_positives < 200


def test_a_digest_set_grows_layers_instead_of_filling_up() -> None:
    """Ten times the first layer's capacity: still no misses, and the false-positive rate stays low."""
    digests = DigestSet(first_capacity=1_000)
    added = _digests("many-", 10_000)
    for digest in added:
        digests.add(digest)
    assert len(digests) == 10_000 and digests.nbytes > BloomFilter(1_000).nbytes * 4
    assert all(digest in digests for digest in added)
    false_positives = sum(digest in digests for digest in _digests("absent-", 10_000))
    assert false_positives < 200
