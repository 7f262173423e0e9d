"""``python -m fusion``: the ``kgfusion`` command line."""

from fusion.app.cli import app

app(prog_name="kgfusion")
