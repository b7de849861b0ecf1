"""The execution context every operation runs in: Strawberry's, without a reference cycle.

graphql-core's executor hands resolvers helpers that are its own bound methods
(``self.async_helpers``), so every executor is a reference cycle, and with it everything it
reaches: the request, its context, the variables, the collected fields, about 80 objects a
request. Reference counting cannot free a cycle; the garbage collector's full passes do,
and under load they came every second and stopped the process for about 20 ms each, which
every request in flight waited out. Helpers that reach the executor through a weak reference
break the cycle, so a request's objects are freed as soon as it ends
(``tests/api/test_request_garbage.py``).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import GraphQLResolveInfoHelpers
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
