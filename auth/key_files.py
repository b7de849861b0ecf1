"""Private keys kept as files: written once, readable by this user only, generated under a lock.

Both kinds of signing key the registry generates when none is configured (the P-256 keys of
access tokens and VC-JWTs, ``auth/keys.py``; the Ed25519 keys of Data Integrity proofs,
``auth/data_integrity_keys.py``) live in a directory of the data directory, one JWK file a key.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def write_private_key(directory: Path, name: str, jwk: dict[str, Any]) -> None:
    """A new file ``name`` in ``directory`` (made 0700) holding ``jwk``, mode 0600 from its
    first byte, never replacing a file that exists."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(jwk, file)


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Serialise key generation between processes sharing ``directory``."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
