"""Imports: files of results a school uploads, worked through in the background.

An import is a job in PostgreSQL (``models.ResultImport``) with its upload stored beside it in
parts of whole rows (``jobs``). A source turns a file into those parts when it is uploaded and
each part back into rows when it is worked (``rows`` says what a row is; ``spreadsheet`` is
the CSV of ``mssc results import``; ``sources`` maps each kind of import to its source). The
import worker (``api/workers/imports.py``) claims a job and runs it a part at a time
(``parts``): candidates registered on the way, every row judged by the one rules path
(``db.registry.results.post_results``), the rows it refused kept (``rejections``), the
counters moved with the part in one transaction, and a change-feed event when it completes.
A worker that stops, or dies, leaves the job to the next one, which resumes at the first part
not yet counted: the rules path's idempotency by (organization, external id) makes the
repeated part record nothing twice.

May import: ``db.registry`` (the rules path, registration), ``db.events`` (the completion
event), ``db.network`` (an upload names the centers it tested at), ``db.catalog``,
``db.platform`` and the shared root. Never ``db.insights``, ``db.demo``, ``auth`` or ``api``.
"""
