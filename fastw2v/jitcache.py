"""Is a Numba kernel already compiled, in this process or in its disk cache?

Used to say "compiling ..., first run only" before a compile starts rather than
leave the user watching a silent minute. This reads Numba's cache index the way
``Dispatcher.compile`` does; those are internals, so any surprise answers None
(unknown) and the caller falls back to a timer.
"""
from __future__ import annotations


def kernel_ready(dispatcher, args, literal=()) -> bool | None:
    """True if ``dispatcher(*args)`` needs no compile, False if it does, None if unknown.

    literal: positions of the arguments the kernel asks for as compile-time literals.
    """
    try:
        from numba.core import types

        sig = tuple(types.literal(a) if i in literal else dispatcher.typeof_pyval(a) for i, a in enumerate(args))
        if sig in dispatcher.overloads:
            return True
        cache = dispatcher._cache
        if not getattr(cache, "_enabled", False):
            return False
        key = cache._index_key(sig, dispatcher.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - internals moved: unknown, not an error
        return None
