"""web/memory.py: the allocator settings the server applies at start-up are safe no-ops where unsupported."""

from __future__ import annotations

import pyarrow as pa

from vibeshelf.web import memory


def test_tune_allocators_switches_arrow_to_the_system_pool(monkeypatch) -> None:
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")  # leave this process's glibc arenas alone
    before = pa.default_memory_pool()
    try:
        memory.tune_allocators()
        assert pa.default_memory_pool().backend_name == "system"
        memory.release_free_memory()  # must not raise, glibc or not
    finally:
        pa.set_memory_pool(before)


def test_an_explicit_arrow_pool_wins(monkeypatch) -> None:
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    before = pa.default_memory_pool()
    memory.tune_allocators()
    assert pa.default_memory_pool() is before or pa.default_memory_pool().backend_name == before.backend_name


class RecordingLibc:
    """Stands in for glibc: records the allocator calls instead of making them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def mallopt(self, *args: int) -> int:
        self.calls.append(("mallopt", args))
        return 1

    def malloc_trim(self, *args: int) -> int:
        self.calls.append(("malloc_trim", args))
        return 1


def test_with_glibc_arenas_are_capped_and_free_pages_trimmed(monkeypatch) -> None:
    libc = RecordingLibc()
    monkeypatch.setattr(memory, "_glibc", lambda: libc)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    memory.tune_allocators()
    memory.release_free_memory()
    assert libc.calls == [("mallopt", (memory._M_ARENA_MAX, memory.ARENA_MAX)), ("malloc_trim", (0,))]


def test_an_explicit_arena_setting_is_left_to_glibc(monkeypatch) -> None:
    libc = RecordingLibc()
    monkeypatch.setattr(memory, "_glibc", lambda: libc)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    memory.tune_allocators()
    assert libc.calls == []


def test_without_glibc_nothing_happens(monkeypatch) -> None:
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    before = pa.default_memory_pool().backend_name
    memory.tune_allocators()
    memory.release_free_memory()
    assert pa.default_memory_pool().backend_name == before
