"""The default Word template for the support request, shipped inside the package.

`support_request.docx` is an ordinary Word document with Jinja placeholders (docxtpl syntax) on
its first page — `{{ title }}`, `{{ organisation }}`, `{{ verdict }}`, the `failing` table — and
one paragraph holding `{{ body }}`, where the evidence sections are inserted. Restyle it in Word
(fonts, colours, letterhead and logo in the header) and pass it with `--template FILE`.
`python -m report_templates.build` recreates the default.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEFAULT_TEMPLATE = "support_request.docx"


def default_template() -> Path:
    return Path(str(files(__name__).joinpath(DEFAULT_TEMPLATE)))
