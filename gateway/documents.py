"""The parsed and validated documents a hub has seen, kept by their text.

Clients send the same few documents again and again; parsing one and running the
standard validation rules on it costs more than many a resolver. ``DocumentCache``
(a Strawberry extension, one instance per operation, one ``Documents`` per schema)
answers both steps from a bounded LRU of document texts:

* parsing: a text parsed before (with the same parse options, so the token limit) is
  not parsed again; a text that does not parse is never kept;
* validation: only a document the operation limits (``gateway/limits.py``) have
  accepted reaches the standard rules, and only one that passed them is remembered as
  valid, so a refused or invalid document is checked afresh every time and no error
  object is ever shared between requests.

The limits themselves (depth, aliases, cost, the client's cost budget) still run on
every request: they depend on the variables and on who asks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

# distinct document texts kept per schema (each a parsed AST; the body limit bounds them)
DOCUMENT_CACHE_SIZE = 512


@dataclass
class Entry:
    document: DocumentNode
    valid: bool = False


class Documents:
    """The LRU of one schema's documents, keyed by text and parse options."""

    def __init__(self, maxsize: int = DOCUMENT_CACHE_SIZE) -> None:
        self._entries: LRUCache[tuple[str, tuple[Any, ...]], Entry] = LRUCache(maxsize)

    @staticmethod
    def key(query: str, parse_options: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        return query, tuple(sorted(parse_options.items()))

    def get(self, query: str, parse_options: Mapping[str, Any]) -> Entry | None:
        return self._entries.get(self.key(query, parse_options))

    def put(self, query: str, parse_options: Mapping[str, Any], document: DocumentNode) -> Entry:
        entry = self._entries[self.key(query, parse_options)] = Entry(document)
        return entry

    def __len__(self) -> int:
        return len(self._entries)


class DocumentSteps:
    """The cache's steps, shared by ``DocumentCache`` and the extension of the
    operation checks that folds it in (``gateway/limits.py``): the parse answered from
    the cache, and the validation skipped for a document that passed it before."""

    execution_context: ExecutionContext
    documents: Documents
    entry: Entry | None

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        query, options = execution.query, dict(execution.parse_options)
        if query and execution.graphql_document is None:
            self.entry = self.documents.get(query, options)
            if self.entry is not None:
                execution.graphql_document = self.entry.document
        yield
        if self.entry is None and query and execution.graphql_document is not None:
            self.entry = self.documents.put(query, options, execution.graphql_document)

    def before_validation(self) -> bool:
        """Whether the limits accepted the document (then, if it passed the standard
        rules before, they are skipped)."""
        execution = self.execution_context
        entry = self.entry
        # refused by the limits (errors already set): neither validated nor remembered
        accepted = execution.pre_execution_errors is None
        if accepted and entry is not None and entry.valid:
            # no errors: Strawberry skips the standard rules
            execution.pre_execution_errors = []
        return accepted

    def after_validation(self, accepted: bool) -> None:
        entry = self.entry
        if accepted and entry is not None and self.execution_context.pre_execution_errors == []:
            entry.valid = True


class DocumentCache(DocumentSteps, SchemaExtension):
    """Place it after ``OperationLimits``: its validation step runs after theirs."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.entry = None

    def on_validate(self) -> Iterator[None]:
        accepted = self.before_validation()
        yield
        self.after_validation(accepted)
