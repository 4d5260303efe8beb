"""Random numbers that do not depend on how the work is split or scheduled.

Two kinds of randomness, both derived from the user's seed only:
- *streams* (`stream(seed, phase, chunk, purpose)`): a numpy Generator per (phase, customer chunk,
  purpose). Chunks have a fixed size stored in the generator state, so the same seed and config give
  the same draws however long each chunk takes.
- *keyed draws* (`keyed_uniform(seed, ids, k)`): a counter-based hash (splitmix64) of (seed, row id, k).
  Used for the life cycle of a row (when an order ships, when a ticket is resolved) so `seed` and every
  later `advance` agree on a row's timeline without storing it: the status at any clock is a pure
  function of the row id.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def stream(seed: int, phase: int, chunk: int, purpose: str) -> np.random.Generator:
    """Independent generator for one (phase, chunk, purpose); phase 0 is the seed, n the n-th advance."""
    return np.random.default_rng([seed, phase, chunk, zlib.crc32(purpose.encode())])


def _splitmix64(x: np.ndarray) -> np.ndarray:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def keyed_uniform(seed: int, ids: np.ndarray, k: int) -> np.ndarray:
    """Uniform [0, 1) per id, fixed for (seed, id, k): the same row always gets the same draw."""
    key = np.uint64((seed * 1_000_003 + k * 7_919) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_splitmix64(ids.astype(np.uint64) ^ key) + np.uint64(k))
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def keyed_normal(seed: int, ids: np.ndarray, k: int) -> np.ndarray:
    """Standard normal per id (Box-Muller over two keyed uniforms k and k+1)."""
    u1 = np.maximum(keyed_uniform(seed, ids, k), 1e-12)
    u2 = keyed_uniform(seed, ids, k + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
