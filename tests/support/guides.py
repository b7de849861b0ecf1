"""The examples of a docs page, read the way the docs runner (tests/docs/) runs them.

A page is a sequence of steps in reading order:

- a ```` ```sh ```` (or ```` ```bash ````) block: shell commands, run by bash in the reader's shell (what one block
  exports, the next one has);
- a ```` ```graphql ```` block: one GraphQL document, sent to ``/graphql`` with the reader's
  ``$TOKEN`` when there is one (as pasted into GraphiQL's headers); a ```` ```json ```` block
  right after it titled ``Variables`` holds its variables;
- a ```` ```python ```` block: a script, run with the project's Python in the reader's shell
  environment.

A ```` ```json ```` block titled ``Response`` (after GraphQL) or ``Output`` (after a shell or
Python block) is what that step answered; the runner compares it where it is stable (see
:func:`matches`). A block right after ``<!-- docs: skip REASON -->`` is shown, not run: a
template or a fragment. ``<!-- docs: output -->`` before a block makes it the output of the
step before (a ```` ```text ```` output is compared line by line). Blocks of other languages
are never run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[\w-]*)(?P<info>[^`]*)$")
TITLE = re.compile(r'title="(?P<title>[^"]*)"')
SKIP = re.compile(r"^\s*<!--\s*docs:\s*skip\b(?P<reason>.*?)-->\s*$")
OUTPUT = re.compile(r"^\s*<!--\s*docs:\s*output\s*-->\s*$")
SHELLS = ("sh", "bash")
RUNNABLE = (*SHELLS, "graphql", "python")
ELLIPSIS = "…"


@dataclass(slots=True)
class Block:
    language: str
    title: str
    text: str
    line: int
    skipped: str | None


@dataclass(slots=True)
class Step:
    kind: str  # sh | graphql | python
    text: str
    line: int
    variables: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    has_expected: bool = False
    # A text output is compared with what was printed, even when that is JSON too.
    expects_text: bool = False


def read_blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    blocks: list[Block] = []
    skip: str | None = None
    output = False
    n = 0
    while n < len(lines):
        match = FENCE.match(lines[n])
        if match is None:
            marker = SKIP.match(lines[n])
            if marker is not None:
                skip = marker["reason"].strip() or "marked skip"
            elif OUTPUT.match(lines[n]):
                output = True
            elif lines[n].strip():
                skip, output = None, False
            n += 1
            continue
        indent = len(match["indent"])
        start = n
        body = []
        n += 1
        while n < len(lines) and lines[n].strip() != "```":
            body.append(lines[n][indent:])
            n += 1
        title = TITLE.search(match["info"])
        blocks.append(
            Block(
                language=match["language"],
                title="output" if output else title["title"].lower() if title else "",
                text="\n".join(body) + "\n",
                line=start + 1,
                skipped=skip,
            )
        )
        skip, output = None, False
        n += 1
    return blocks


def read_steps(page: Path) -> tuple[list[Step], list[Block]]:
    """The steps the runner runs, and the runnable blocks marked skip (to count them)."""
    steps: list[Step] = []
    skipped: list[Block] = []
    for block in read_blocks(page):
        if block.language in RUNNABLE:
            if block.skipped is not None:
                skipped.append(block)
                continue
            kind = "sh" if block.language in SHELLS else block.language
            steps.append(Step(kind=kind, text=block.text, line=block.line))
        elif block.language in ("json", "text") and block.title in (
            "variables",
            "response",
            "output",
        ):
            if block.skipped is not None:
                continue
            previous = steps[-1] if steps else None
            where = f"{page}:{block.line}"
            assert previous is not None, f"{where}: a {block.title} block follows no example"
            value = json.loads(block.text) if block.language == "json" else block.text.strip()
            if block.title == "variables":
                assert previous.kind == "graphql", f"{where}: variables follow no GraphQL"
                previous.variables = value
            else:
                previous.expected = value
                previous.has_expected = True
                previous.expects_text = block.language == "text"
    return steps, skipped


def answered(step: Step, printed: str) -> Any:
    """What a shell or Python step answered, as its shown output is compared: the text printed
    for a text output, else the JSON it printed (or the text, when it printed no JSON)."""
    if step.expects_text:
        return printed
    try:
        return json.loads(printed)
    except json.JSONDecodeError:
        return printed


def matches(expected: Any, actual: Any) -> bool:
    """Whether an answer shown in the docs agrees with the one the server gave.

    Objects: every key shown is there with a matching value (keys not shown are not checked,
    so a page may show part of an answer). Lists: the same length, item by item. A string with
    "…" stands for any text in its place ("mssc_…", "…"), for what changes from run to run:
    secrets, tokens, dates, generated codes. Anything else: equal.
    """
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, str) and isinstance(actual, str) and "\n" in expected + actual:
        return _text_matches(expected, actual)
    if isinstance(expected, str) and ELLIPSIS in expected:
        if expected == ELLIPSIS:
            return True
        pattern = ".*".join(re.escape(part) for part in expected.split(ELLIPSIS))
        return isinstance(actual, str | int | float) and (
            re.fullmatch(pattern, str(actual), re.S) is not None
        )
    return bool(expected == actual)


def _text_matches(expected: str, actual: str) -> bool:
    """Text output, line by line: "…" in a line stands for any text, and a line that is only
    "…" or "..." for any number of lines (headers a page leaves out, say). A byte-order mark
    (every CSV the registry emits starts with one) is not compared: a terminal shows nothing."""
    actual = actual.replace("\ufeff", "")
    parts = []
    for line in expected.strip().splitlines():
        if line.strip() in (ELLIPSIS, "..."):
            parts.append("(?:[^\\n]*\\n)*?")
        else:
            pattern = ".*".join(re.escape(piece) for piece in line.rstrip().split(ELLIPSIS))
            parts.append(pattern + "[ \\t]*\\n")
    text = "\n".join(line.rstrip() for line in actual.strip().splitlines()) + "\n"
    return re.fullmatch("".join(parts), text) is not None
