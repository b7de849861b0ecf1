"""JSON-LD with no network: the published contexts the registry's credentials use, held as
local copies (``contexts/``, sources and licenses in ``contexts/SOURCES.md``), and a document
loader that serves them and refuses every other URL (``loader.py``).

May import: pyld and the standard library; nothing else of the project.
"""
