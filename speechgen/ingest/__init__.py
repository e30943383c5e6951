"""Ingest: past speeches (.txt in any encoding, .docx) → fragment files.

Stages, in the order they run: :mod:`~speechgen.ingest.clean` (decode, remove noise),
:mod:`~speechgen.ingest.segment` and :mod:`~speechgen.ingest.structure` (speeches,
title, salutation, points, sub-points, closing), :mod:`~speechgen.ingest.slots`
(redactions → slots and blanks), :mod:`~speechgen.ingest.tags` (keywords),
:mod:`~speechgen.ingest.build` (fragments of one speech), :mod:`~speechgen.ingest.variants`
(near-duplicates across speeches), and :mod:`~speechgen.ingest.pipeline`, which runs them
over a folder and writes the YAML.
"""

from __future__ import annotations

from speechgen.ingest.pipeline import Report, dump, ingest, print_report, read_junk
from speechgen.ingest.tags import exact_keywords

__all__ = ["Report", "dump", "exact_keywords", "ingest", "print_report", "read_junk"]
