"""Files on disk under the data directory, addressed by their content.

Content addressing means a file written for a transaction that later rolls back is
harmless (it is only reachable from a committed row), and the same file twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the store's root
    sha256: str
    size: int


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, *, folder: str = "attachments") -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{folder}/{digest[:2]}/{digest[2:4]}/{digest}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write to a temporary name and rename: a reader never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
            # The rename itself must survive a crash too: the row that points here is
            # committed right after, and a mail is answered 250 only then.
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return StoredFile(path=relative, sha256=digest, size=len(data))

    def open(self, relative: str) -> bytes:
        target = (self.root / relative).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError("path outside the store")
        return target.read_bytes()
