"""The one Jinja environment factory: every report and page template is loaded the same way.

HTML templates (``*.html.j2``) are autoescaped, so a value from a spreadsheet or a portal can never
inject markup; Markdown and other text templates are rendered as written. Blocks are trimmed and
the trailing newline kept, so the files are exactly what the templates say.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

HTML_EXTENSIONS = ("html", "html.j2")
# What every page shares (its screen and print CSS, the scrolling-table macro), found after the folder's own.
_SHARED = Path(__file__).parent / "templates_shared"


def environment(folder: Path, *, filters: dict[str, Callable[..., Any]] | None = None,
                variables: dict[str, Any] | None = None) -> jinja2.Environment:
    """An environment loading the templates under ``folder``, with extra ``filters`` and global ``variables``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([folder, _SHARED]),
        autoescape=jinja2.select_autoescape(enabled_extensions=HTML_EXTENSIONS, default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(filters or {})
    env.globals.update(variables or {})
    return env
