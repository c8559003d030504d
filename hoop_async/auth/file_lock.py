"""An exclusive OS file lock (flock) taken without blocking the event loop.

Each acquisition opens its own descriptor, so the lock excludes other
descriptors of the same process as well as other processes on the machine.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

__all__ = ["exclusive_file_lock"]


@asynccontextmanager
async def exclusive_file_lock(path: Path) -> AsyncIterator[None]:
    """Hold an exclusive flock on `path`, creating it with mode 0600 when missing.

    The lock ends when its descriptor closes, which also happens when the
    process dies, so a crash never leaves the lock held.
    """
    descriptor = await _acquire(path)
    try:
        yield
    finally:
        os.close(descriptor)


async def _acquire(path: Path) -> int:
    # fcntl exists only on POSIX systems; importing it here keeps the package importable elsewhere.
    import fcntl

    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return descriptor
    except BlockingIOError:
        pass
    except BaseException:
        os.close(descriptor)
        raise

    waiting = asyncio.get_running_loop().run_in_executor(
        None, fcntl.flock, descriptor, fcntl.LOCK_EX
    )
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        # The thread keeps waiting and may still get the lock: close the descriptor
        # once it returns, which releases the lock if it was taken.
        waiting.add_done_callback(lambda _: os.close(descriptor))
        raise
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor
