"""``python -m kg ...``: the ``kgfusion kg`` command line without the rest of kgfusion."""

from kg.cli import app

app(prog_name="python -m kg")
