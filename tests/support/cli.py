"""Run the ``mssc`` command line in-process against the test database."""

from __future__ import annotations

import asyncio
import contextlib
import io
from dataclasses import dataclass

import pytest

from api.settings import Settings
from cli.main import main


@dataclass(frozen=True, slots=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


async def run_cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *argv: str) -> CliResult:
    """``mssc ARGV`` with the environment pointing at the test database and data directory.

    The command runs its own event loop (as from a shell), so it runs in a worker thread.
    """
    assert settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MSSC_DATA_DIR", str(settings.data_dir))
    if settings.signing_keys is not None:
        monkeypatch.setenv("MSSC_SIGNING_KEYS", settings.signing_keys)
    else:
        monkeypatch.delenv("MSSC_SIGNING_KEYS", raising=False)
    stdout, stderr = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main(list(argv))
            except SystemExit as exit:
                return int(exit.code or 0)
        return 0

    code = await asyncio.to_thread(run)
    return CliResult(code, stdout.getvalue(), stderr.getvalue())
