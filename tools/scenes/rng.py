"""tools/scenes/rng.py — a seeded random stream (SplitMix64) that gives the same numbers on every Python
version, so a scene seed means the same scene everywhere; plus pixel noise for whole images."""
import math

import numpy as np

MASK = (1 << 64) - 1


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


class Rng:
    def __init__(self, seed, stream=0):
        self.state = mix64((seed & MASK) ^ mix64(stream))

    def u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        return mix64(self.state)

    def uniform(self, lo=0.0, hi=1.0):
        return lo + (hi - lo) * ((self.u64() >> 11) * (1.0 / (1 << 53)))

    def below(self, n):
        """An integer in [0, n)."""
        return self.u64() % n

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, p):
        return self.uniform() < p

    def sample(self, seq, k):
        """k distinct items of seq, in draw order."""
        pool = list(seq)
        out = []
        for _ in range(k):
            out.append(pool.pop(self.below(len(pool))))
        return out

    def normal(self):
        u1 = max(self.uniform(), 1e-300)
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * self.uniform())


def pixel_noise(seed, shape):
    """Standard normal noise for a whole image from numpy's PCG64 stream (fast; the same numbers for a seed on
    any numpy since 1.17)."""
    return np.random.Generator(np.random.PCG64(mix64(seed))).standard_normal(shape, dtype=np.float32)
