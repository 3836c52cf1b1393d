"""MkDocs hook of the documentation site (mkdocs.yml ``hooks:``).

The pages of docs/ link to files beside them (``../CONTRIBUTING.md``, ``../sim/...``) so that
they read well in the repository; the site holds docs/ only, so such a link names the file in
the repository instead of pointing nowhere, and ``mkdocs build --strict`` keeps failing on any
other broken link.
"""

from __future__ import annotations

import re

_OUTSIDE = re.compile(r"\[([^\]]+)\]\(\.\./([^)#\s]+)(#[^)]*)?\)")


def _named(match: re.Match[str]) -> str:
    """A link to a file outside docs/, written as the file's path in the repository."""
    text, path = match.group(1), match.group(2)
    if text.strip("`") == path:
        return f"`{path}` (in the repository)"
    return f"{text} (`{path}` in the repository)"


def on_page_markdown(markdown: str, **_: object) -> str:
    """The page's Markdown with its links out of docs/ named, not linked."""
    return _OUTSIDE.sub(_named, markdown)
