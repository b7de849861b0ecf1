"""OneRoster 1.2 CSV bundles as imports: the zip a SIS exports, read as results to post.

``archive`` opens the zip without trusting it; ``binding`` is what the 1.2 CSV binding says
about the files read; ``tables`` checks the manifest and files against it; ``mappings`` keeps
how a school's line items, courses and orgs read as modules and centers; ``source`` turns a
checked bundle into the parts of an import and reads them back as rows for the rules path.

May import: what ``db.imports`` may (its rows and spreadsheet, ``db.registry``, ``db.catalog``,
``db.events`` and the shared root).
"""
