"""The zip a SIS exports, opened without trusting it.

A bundle is read whole before anything is recorded, so what a zip may make the server do is
bounded here: how many members, how large each is once inflated (counted while inflating, not
taken from the header), how much it inflates in all and by what ratio, and where its members
claim to live (plain names at the top of the zip: no folders, no ``..``, no absolute paths,
no links, no encryption).
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from db.imports.rows import FileProblem

MAX_MEMBERS = 32
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
# Text inflates ten- to twentyfold; far past that is a zip bomb, not a CSV.
MAX_RATIO = 200
# Small members may inflate by any ratio: the total bound covers them.
RATIO_FROM_BYTES = 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class ZipLimits:
    members: int = MAX_MEMBERS
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: int = MAX_RATIO


def _refuse(problem: str, message: str, *, file: str | None = None) -> FileProblem:
    return FileProblem(problem, message, file=file)


def _check_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if info.is_dir() or "/" in name or "\\" in name or name.startswith(".") or ":" in name:
        raise _refuse(
            "ZIP_PATH",
            f"the zip holds {name[:120]!r}: a bundle's CSV files sit at the top of the zip, "
            "with no folders (zip the files, not the folder that holds them)",
            file=name[:255],
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _refuse("ZIP_PATH", f"{name} is a link, not a file", file=name)
    if info.flag_bits & 0x1:
        raise _refuse("ZIP_ENCRYPTED", f"{name} is encrypted; export the bundle without a password")


def read_members(file: BinaryIO, limits: ZipLimits = ZipLimits()) -> dict[str, bytes]:
    """Every member of the zip by name, inflated within ``limits``; FileProblem otherwise."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(
            "NOT_A_ZIP", "the file is not a zip: send the OneRoster CSV bundle your SIS exports"
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.members:
            raise _refuse(
                "ZIP_MEMBERS",
                f"the zip holds {len(infos)} files; a OneRoster bundle holds at most "
                f"{limits.members}",
            )
        members: dict[str, bytes] = {}
        total = 0
        for info in infos:
            _check_name(info)
            if info.filename in members:
                raise _refuse(
                    "ZIP_PATH", f"{info.filename} is in the zip twice", file=info.filename
                )
            content = bytearray()
            try:
                with archive.open(info) as member:
                    while chunk := member.read(CHUNK):
                        content += chunk
                        total += len(chunk)
                        if len(content) > limits.member_bytes or total > limits.total_bytes:
                            raise _refuse(
                                "ZIP_TOO_LARGE",
                                f"{info.filename} inflates past {limits.member_bytes:,} bytes "
                                f"(or the bundle past {limits.total_bytes:,}); split the export",
                                file=info.filename,
                            )
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                raise _refuse(
                    "NOT_A_ZIP", f"{info.filename} cannot be read from the zip", file=info.filename
                ) from None
            if len(content) > RATIO_FROM_BYTES and len(content) > limits.ratio * max(
                info.compress_size, 1
            ):
                raise _refuse(
                    "ZIP_RATIO",
                    f"{info.filename} inflates {len(content) // max(info.compress_size, 1)} "
                    f"times; past {limits.ratio} it is refused as a zip bomb",
                    file=info.filename,
                )
            members[info.filename] = bytes(content)
    return members
