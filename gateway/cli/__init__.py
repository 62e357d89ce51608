"""The ``govhub`` command: ``init``, ``demo``, ``serve``, ``export-schema`` (hub.py); the
identity commands ``user add|list|represent``, ``client add`` and ``keys rotate|list``
(identity.py); ``audit verify``, ``calendar import|show``, ``timers run`` and ``relay``
(operations.py); ``licences kit|rotate-key`` and ``report monthly`` (licences.py); ``node
serve|migrate|init|sdl`` (node.py); ``nodes``, the node map and each node's health
(nodes.py).

``govhub -h`` lists them; every command's help names the settings it reads. What an
operator can get wrong (a bad setting, a missing key, a store not migrated or not
reachable) is one line saying what to do, and exit code 1 (base.py)."""

from __future__ import annotations

# each module adds its commands to ``main``
from gateway.cli import hub, identity, licences, node, nodes, operations
from gateway.cli.base import main

__all__ = ["hub", "identity", "licences", "main", "node", "nodes", "operations"]
