"""The project's import graph as grimp builds it, and the cycles in it.

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:`` (a
circle that only the type checker walks still ties two modules together). ``python -m
tests.support.import_graph`` prints the cycles of the tree it runs in and exits 1 if there
are any; the architecture tests run it in a copy of the project with a cycle added.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import grimp

PACKAGES = ("api", "auth", "db", "cli", "bench", "tests")


def import_cycles(packages: Iterable[str] = PACKAGES) -> list[list[str]]:
    """Each cycle as the import lines that make it, ``importer:line -> imported``."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    cycles = []
    for component in _strongly_connected(imports):
        members = set(component)
        if len(members) == 1 and component[0] not in imports[component[0]]:
            continue
        cycles.append(
            sorted(
                f"{importer}:{detail['line_number']} -> {imported}"
                for importer in members
                for imported in imports[importer] & members
                for detail in graph.get_import_details(importer=importer, imported=imported)
            )
        )
    return sorted(cycles)


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion (a long import chain would exceed the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    found.append(sorted(component))
    return found


if __name__ == "__main__":
    cycles = import_cycles()
    for cycle in cycles:
        print("cycle:\n  " + "\n  ".join(cycle))
    sys.exit(1 if cycles else 0)
