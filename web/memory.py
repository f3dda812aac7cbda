"""Keep the server's resident memory down (issue target: <= 600 MB after warm-up, `bench/memory.py`).

Two allocator settings, applied in-process at the start of the app's lifespan, before the index opens
and before any request thread exists, so they need no environment variable and no re-exec:

* glibc: at most two malloc arenas (``mallopt(M_ARENA_MAX, 2)``, what ``MALLOC_ARENA_MAX=2`` does).
  Every thread that mallocs (uvicorn's threadpool, LanceDB's and onnxruntime's workers) otherwise gets
  its own arena, up to 8 per core, each keeping freed memory. Only arenas created later are affected,
  hence the early call. An explicit ``MALLOC_ARENA_MAX`` in the environment wins.
* Arrow: pyarrow's default pool is mimalloc, which keeps freed pages; the system allocator returns them
  (about 35 MB less after start on the 10k index). ``ARROW_DEFAULT_MEMORY_POOL`` set explicitly wins.

``release_free_memory()`` hands freed heap back to the OS (``malloc_trim``) once start-up is done, and
``freeze_startup_objects()`` then takes what start-up built out of the garbage collector's sight.
Everything here is best effort: on a non-glibc libc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc's malloc.h
ARENA_MAX = 2


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    # mallopt/malloc_trim exist only in glibc; gnu_get_libc_version tells glibc apart from musl.
    if not all(hasattr(libc, name) for name in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None
    return libc


def tune_allocators() -> None:
    """Cap glibc's malloc arenas and switch pyarrow to the system allocator (see the module doc)."""
    libc = _glibc()
    if (
        libc is not None
        and "MALLOC_ARENA_MAX" not in os.environ
        and not libc.mallopt(_M_ARENA_MAX, ARENA_MAX)
    ):
        log.debug("mallopt(M_ARENA_MAX) refused")
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        try:
            import pyarrow as pa

            pa.set_memory_pool(pa.system_memory_pool())
        except Exception:  # an Arrow build without it: keep the default pool
            log.debug("pyarrow system memory pool unavailable", exc_info=True)


def release_free_memory() -> None:
    """Give freed heap pages back to the OS (after start-up's one-off allocations)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:
        pass
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def freeze_startup_objects() -> None:
    """Move every object alive now into the garbage collector's permanent generation (``gc.freeze``).

    Start-up leaves millions of long-lived objects (the catalog's rows, the planner's vocabulary, the title
    index, the modules): each full collection walked all of them again for nothing, ~2 ms of CPU in every
    25 ms planner answer. Frozen objects are still freed by reference counting; only a reference cycle among
    them would outlive its use, hence the collection first (start-up's own cycles go now)."""
    import gc

    gc.collect()
    gc.freeze()


def thaw_objects() -> None:
    """Undo :func:`freeze_startup_objects` when the app shuts down: a process that starts another app
    (the tests do, many times) must be able to collect the first one's reference cycles."""
    import gc

    gc.unfreeze()
