"""MkDocs hook: adds the generated references (gateway/reference.py) to the site as
docs/reference/*.md at build time, and fills the ``<!-- generated: … -->`` markers of the
hand-written pages, so no committed copy can drift from the code."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    from gateway import reference

    for name, text in reference.pages().items():
        files.append(File.generated(config, f"reference/{name}", content=text))
    return files


def on_page_markdown(markdown: str, **_: Any) -> str:
    from gateway import reference

    return reference.fill_markers(markdown)
