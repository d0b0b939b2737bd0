"""Numba code only: arrays and scalars (and named tuples of arrays) in, no Python objects.

Modules: ``rng`` (xorshift64* streams, one per block of work), ``common`` (the
lookup tables' layout and the helpers every loss shares), one module per loss
with the shared step signature (``ns``, ``hs``, ``sampled`` for NCE and sampled
softmax; see ``ns``), ``driver`` (the skip-gram and CBOW sentence loops, the
model and loss tables, and the prange kernel over token blocks) and
``tokenize`` (the byte tokenizer).
"""
