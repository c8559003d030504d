"""FileTokenStore: tokens in one JSON file (mode 0600) that several processes on
one machine share, written atomically and guarded by an OS file lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from hoop_async.auth.errors import TokenStoreError
from hoop_async.auth.file_lock import exclusive_file_lock
from hoop_async.auth.tokens import TokenSet

__all__ = ["FileTokenStore"]

FILE_FORMAT = 1
# Lock files this task (or the task that created it) holds, so that `set` inside
# `lock` does not wait for the lock it already holds.
_held_locks: ContextVar[frozenset[Path]] = ContextVar("hoop_async_file_locks", default=frozenset())


class FileTokenStore:
    """Tokens saved in a JSON file, `{"format": 1, "tokens": {key: {...}}}`.

    Every write replaces the whole file through a temporary file and a rename,
    so readers and a crash mid-write see the old or the new file, never a
    partial one. `lock(key)` takes an exclusive flock on `<path>.lock`, which
    serialises refreshes of all processes that use the same path.

    NOTE: one lock covers every key of the file, so refreshes of different
    keys wait for each other. A refresh is a single request, which keeps the
    wait short. POSIX only (it needs fcntl).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock").absolute()
        self._process_lock = asyncio.Lock()
        # Serialises the read-modify-write of the file between threads of this process.
        self._write_lock = threading.Lock()

    async def get(self, key: str) -> TokenSet | None:
        entries = await asyncio.to_thread(self._read_entries)
        entry = entries.get(key)
        if entry is None:
            return None
        try:
            return TokenSet.from_json(entry)
        except ValueError as error:
            raise TokenStoreError(f"the entry {key!r} in {self.path} is invalid: {error}") from None

    async def set(self, key: str, tokens: TokenSet) -> None:
        if self.lock_path in _held_locks.get():
            await asyncio.to_thread(self._write_entry, key, tokens)
            return
        async with self.lock(key):
            await asyncio.to_thread(self._write_entry, key, tokens)

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """Hold the file's lock against other tasks of this process and other processes."""
        # Tasks of this process queue here, so at most one thread per process waits on flock.
        async with self._process_lock, exclusive_file_lock(self.lock_path):
            previous_locks = _held_locks.set(_held_locks.get() | {self.lock_path})
            try:
                yield
            finally:
                _held_locks.reset(previous_locks)

    def _read_entries(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            document = json.loads(text)
        except ValueError as error:
            raise TokenStoreError(
                f"{self.path} is not valid JSON ({error}); restore it from a backup, "
                "or delete it and authorize the app again"
            ) from None
        entries = document.get("tokens") if isinstance(document, dict) else None
        if not isinstance(entries, dict):
            raise TokenStoreError(f"{self.path} has no 'tokens' object; is it a token file?")
        return entries

    def _write_entry(self, key: str, tokens: TokenSet) -> None:
        with self._write_lock:
            entries = self._read_entries()
            entries[key] = tokens.to_json()
            document = {"format": FILE_FORMAT, "tokens": entries}
            _replace_file(self.path, json.dumps(document, indent=2, sort_keys=True))

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"


def _replace_file(path: Path, text: str) -> None:
    """Write `text` to a new 0600 file beside `path`, flush it to disk, rename it over `path`."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Flush the rename to disk, so a power loss cannot bring the old file back."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
