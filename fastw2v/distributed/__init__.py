"""Data-parallel training on a Dask cluster (``pip install 'fastw2v[dask]'``).

A sibling of the local trainer that reuses its pieces: the corpus reader,
the vocabulary's order, the token cache and the kernel runner. Only this
package imports Dask, and only when a client, a scheduler or a worker count
is given: local training never does.

- :mod:`.combine`: the sync schedule and the combiner (no Dask);
- :mod:`.source`: corpus files through fsspec (URLs, globs, local paths);
- :mod:`.worker`: the tasks that run in the worker processes;
- :mod:`.driver`: the client side (vocabulary, shards, rounds, report).
"""
from .driver import fit

__all__ = ["fit"]
