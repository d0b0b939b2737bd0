"""Numba code only: arrays and scalars in, no Python objects.

Modules: ``rng`` (per-thread xorshift64* streams), one module per loss with the
shared step signature (see ``ns``), ``spans`` (skip-gram and CBOW over one
sentence) and ``driver`` (the prange kernel over contiguous token blocks).
"""
