"""What every operation runs with: Strawberry's execution context without a reference cycle,
and its name converter with a memory.

*The execution context.*

graphql-core's executor hands resolvers helpers that are its own bound methods
(``self.async_helpers``), so every executor is a reference cycle, and with it everything it
reaches: the request, its context, the variables, the collected fields, about 80 objects a
request. Reference counting cannot free a cycle; the garbage collector's full passes do,
and under load they came every second and stopped the process for about 20 ms each, which
every request in flight waited out. Helpers that reach the executor through a weak reference
break the cycle, so a request's objects are freed as soon as it ends
(``tests/api/graphql/test_request_garbage.py``).

*The name converter.* Strawberry converts each argument's Python name to its GraphQL name on
every call of a resolver that has arguments; a name's conversion never changes, so it is made
once.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import GraphQLResolveInfoHelpers
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        executor = weakref.ref(self)

        # A resolver only calls these while its executor runs, so the executor is alive.
        def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
            return _alive(executor).gather_async_work(values)

        def track(values: Sequence[Any]) -> None:
            _alive(executor).track_async_work(values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)


def _alive(executor: weakref.ref[AcyclicExecutionContext]) -> AcyclicExecutionContext:
    found = executor()
    if found is None:
        raise RuntimeError("async work tracked after its operation finished")
    return found


class RememberingNameConverter(NameConverter):
    def apply_naming_config(self, name: str) -> str:
        return _camel_case(name) if self.auto_camel_case else name


@functools.lru_cache(maxsize=4096)
def _camel_case(name: str) -> str:
    return NameConverter(auto_camel_case=True).apply_naming_config(name)
