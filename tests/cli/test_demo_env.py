"""``mssc serve --demo`` writes the demo clients to ``demo.env`` in the data directory: the
guides start from ``source .mssc/demo.env`` (the docs run, tests/docs/, sources it from a real
server). Here: who may read it, and that a shell reads back exactly what was written."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from cli.demo import write_demo_env


def test_the_demo_clients_are_written_for_the_owner_only_and_read_back_by_a_shell(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "demo.env"
    secret = "a'b\"c $(rm -rf /) `x` ;|&"  # nothing in a value may run or split
    write_demo_env(
        path,
        served_at="http://127.0.0.1:8123",
        credentials={"school": ("mssc_1", secret), "employer": ("mssc_2", "s2")},
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = subprocess.run(
        [
            "/bin/bash",
            "-c",
            f'source "{path}"; printf "%s\\n" "$MSSC_URL" "$SCHOOL_CLIENT_ID" '
            '"$SCHOOL_CLIENT_SECRET" "$EMPLOYER_CLIENT_ID" "$EMPLOYER_CLIENT_SECRET"',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert shown == ["http://127.0.0.1:8123", "mssc_1", secret, "mssc_2", "s2"]


def test_a_second_start_replaces_the_secrets_and_keeps_the_file_private(tmp_path: Path) -> None:
    path = tmp_path / "demo.env"
    path.write_text("old\n")
    path.chmod(0o644)
    write_demo_env(path, served_at="http://127.0.0.1:8000", credentials={"staff": ("c", "new")})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "old" not in path.read_text()
    assert "export STAFF_CLIENT_SECRET=new" in path.read_text()
