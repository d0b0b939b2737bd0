"""Is a Numba kernel already compiled, in this process or in its disk cache, and where is it?

``kernel_ready`` is used to say "compiling ..., first run only" before a compile
starts rather than leave the user watching a silent minute; it reads Numba's
cache index the way ``Dispatcher.compile`` does. ``compiled_entry`` finds the
compiled function of a literal-specialised kernel, to skip the dispatcher's slow
path. Both use internals, so any surprise answers None and the callers fall back
(a timer; the dispatcher).
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


def compiled_entry(dispatcher, args, literal=()):
    """The compiled function ``dispatcher(*args)`` runs, to call directly; None if it cannot be found.

    A kernel that asks for literal arguments (``numba.literally``) takes Numba's
    slow path on every call through its dispatcher: typing with plain types
    fails, then it retries with literals, about 60 ms a call. The compiled
    entry point takes the same arguments in microseconds.
    """
    try:
        from numba.core import types

        sig = tuple(types.literal(a) if i in literal else dispatcher.typeof_pyval(a) for i, a in enumerate(args))
        return dispatcher.overloads[sig].entry_point
    except Exception:  # noqa: BLE001 - internals moved: the dispatcher still works, only slower
        return None
