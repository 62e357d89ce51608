"""MkDocs hook: adds the generated references (gateway/reference.py) to the site as
docs/reference/*.md at build time, so no committed copy can drift from the code."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    from gateway import reference

    for name, text in reference.pages().items():
        files.append(File.generated(config, f"reference/{name}", content=text))
    return files
