"""What an operation asks for below the field being resolved: a page resolver loads a
relation for the whole page only when the query selects it."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import SelectedField, Selection

from schema.info import Info


def _selects(selections: Iterable[Selection], path: tuple[str, ...]) -> bool:
    for selection in selections:
        if not isinstance(selection, SelectedField):
            # a fragment (spread or inline): its fields are the parent's
            if _selects(selection.selections, path):
                return True
        elif selection.name == path[0] and (
            len(path) == 1 or _selects(selection.selections, path[1:])
        ):
            return True
    return False


def asks_for(info: Info, *path: str) -> bool:
    """Does the operation select ``path`` (field names, fragments looked through) under
    the field being resolved? A field under ``@skip``/``@include`` counts as selected."""
    # ``selected_fields``: the field itself (once per node that asks for it)
    return any(_selects(field.selections, path) for field in info.selected_fields)


def asks_for_items(info: Info, *path: str) -> bool:
    """``asks_for`` below the items of a connection: ``edges { node { … } }`` or
    ``nodes { … }``."""
    return asks_for(info, "edges", "node", *path) or asks_for(info, "nodes", *path)


def _names_at(selections: Iterable[Selection], path: tuple[str, ...], found: set[str]) -> None:
    for selection in selections:
        if not isinstance(selection, SelectedField):
            _names_at(selection.selections, path, found)
        elif not path:
            found.add(selection.name)
        elif selection.name == path[0]:
            _names_at(selection.selections, path[1:], found)


def item_fields(info: Info, *path: str) -> set[str]:
    """The names of the fields the operation selects on the items of a connection
    (``edges { node { … } }`` or ``nodes { … }``), ``path`` below them, fragments
    looked through: what a page resolver may load for all its items at once."""
    found: set[str] = set()
    for field in info.selected_fields:
        _names_at(field.selections, ("edges", "node", *path), found)
        _names_at(field.selections, ("nodes", *path), found)
    return found
