"""How the docs run reads a page (tests/support/guides.py): which blocks run, which are a
step's variables or output, what is skipped, and how a shown answer is compared."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import examples, seeded
from tests.support.guide_reader import DemoServer, Reader
from tests.support.guides import ELLIPSIS, answered, matches, read_steps
from tests.support.servers import ROOT

PAGE = """# A page

```sh
export TOKEN=abc
```

```graphql
query Q($id: ID!) { node(id: $id) { id } }
```

```json title="Variables"
{"id": "Q2FuZGlkYXRlOjY"}
```

```json title="Response"
{"data": {"node": {"id": "…"}}}
```

1. In a list:

   ```bash
   echo hi
   ```

   <!-- docs: output -->
   ```text
   hi
   ```

<!-- docs: skip a fragment -->
```python
post_results = ...
```

```json
{"shown": "but never run"}
```
"""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)


def test_steps_are_the_runnable_blocks_in_order_with_their_variables_and_outputs(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    steps, skipped = read_steps(page)
    assert [(s.kind, s.line) for s in steps] == [("sh", 3), ("graphql", 7), ("sh", 21)]
    assert steps[1].variables == {"id": "Q2FuZGlkYXRlOjY"}
    assert steps[1].expected == {"data": {"node": {"id": ELLIPSIS}}}
    assert steps[2].text == "echo hi\n"
    assert steps[2].expected == "hi"
    assert [b.skipped for b in skipped] == ["a fragment"]


def _elided(value: Any) -> Any:
    if isinstance(value, str):
        return ELLIPSIS
    if isinstance(value, list):
        return [_elided(v) for v in value]
    if isinstance(value, dict):
        return {k: _elided(v) for k, v in value.items()}
    return value


@seeded
@examples(5)
@given(json_values)
def test_an_answer_matches_itself_and_its_elided_form(answer: Any) -> None:
    assert matches(answer, answer)
    assert matches(_elided(answer), answer)


# Without objects, whose keys not shown are not compared, a shown answer is all there is.
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5).filter(lambda t: "\n" not in t),
    lambda children: st.lists(children, max_size=3),
    max_leaves=10,
)


@seeded
@examples(5)
@given(plain_values, plain_values)
def test_a_different_answer_does_not_match_unless_elided(shown: Any, answer: Any) -> None:
    if shown != answer and ELLIPSIS not in repr(shown):
        assert not matches(shown, answer)


def test_text_outputs_are_compared_line_by_line_with_elisions() -> None:
    assert matches(
        "HTTP/1.1 202 Accepted\n...\nlocation: …/imports/1",
        ("HTTP/1.1 202 Accepted\ndate: today\nlocation: http://x/imports/1\n"),
    )
    assert not matches(
        "HTTP/1.1 202 Accepted\nlocation: …/imports/1",
        ("HTTP/1.1 202 Accepted\ndate: today\nlocation: http://x/imports/1\n"),
    )
    assert matches("valid", "valid\n")
    assert not matches("valid", "revoked\n")


def _reader(tmp_path: Path) -> Reader:
    # Shell and Python steps need no server: only its address and data directory, which
    # the reader's commands see as http://127.0.0.1:8000 and .mssc/.
    data = tmp_path / "data"
    data.mkdir()
    (data / "demo.env").write_text("export MSSC_URL=http://127.0.0.1:1\n")
    server = DemoServer(url="http://127.0.0.1:1", directory=data, database_url="")
    return Reader(tmp_path / "reader", server, {"PATH": os.environ["PATH"]})


def test_a_readers_exports_reach_the_next_block_and_the_next_script(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    reader.shell("source .mssc/demo.env\nexport TOKEN=abc\nNOT_EXPORTED=1\n")
    assert reader.shell('echo "$TOKEN $MSSC_URL ${NOT_EXPORTED:-unset}"') == (
        "abc http://127.0.0.1:8000 unset\n"
    )
    assert reader.python("import os; print(os.environ['TOKEN'])") == "abc\n"
    assert reader.shell("echo http://127.0.0.1:8000/graphql") == "http://127.0.0.1:8000/graphql\n"


def test_a_failing_block_fails_the_step_with_what_it_printed(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    reader.shell("export KEPT=1")
    with pytest.raises(AssertionError, match=r"exit 22[\s\S]*not found"):
        reader.shell("echo not found >&2\nexport KEPT=2\nexit 22")
    # The failed block's exports are not kept: the next step sees the shell as it was.
    assert reader.shell('echo "$KEPT"') == "1\n"
    with pytest.raises(AssertionError, match="exit 1"):
        reader.shell("false\necho never")


def test_a_text_output_is_the_text_printed_even_when_it_is_json(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\necho '{\"a\": 1}'\n```\n\n"
        '```text title="Output"\n{"a": 1}\n```\n\n'
        "```sh\necho '{\"a\": 1}'\n```\n\n"
        '```json title="Output"\n{"a": 1}\n```\n'
    )
    as_text, as_json = read_steps(page)[0]
    printed = '{"a": 1}\n'
    assert matches(as_text.expected, answered(as_text, printed))
    assert not matches(as_text.expected, answered(as_text, '{"a":1}\n'))
    assert matches(as_json.expected, answered(as_json, '{"a":1}\n'))


def test_answers_show_the_servers_address_as_the_default_one_in_every_spelling(
    tmp_path: Path,
) -> None:
    reader = _reader(tmp_path)
    # The issuer's did:web DID percent-encodes the port's colon; a longer port is another.
    assert reader.shell("echo http://127.0.0.1:1/x did:web:127.0.0.1%3A1 127.0.0.1:10") == (
        "http://127.0.0.1:8000/x did:web:127.0.0.1%3A8000 127.0.0.1:10\n"
    )
    assert reader.shell("echo did:web:127.0.0.1%3A8000") == "did:web:127.0.0.1%3A8000\n"


def test_a_reader_works_in_a_checkout_of_their_own(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    printed = reader.shell(
        "head -c 5 db/catalog/reference/2017.toml > mine.toml\n"
        "./dev python -c 'import os; print(open(\"mine.toml\").read(), os.getcwd())'"
    )
    assert printed == f"{(ROOT / 'db/catalog/reference/2017.toml').read_text()[:5]} {reader.home}\n"
    assert not (ROOT / "mine.toml").exists()
