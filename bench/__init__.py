"""GovHub benchmark (``make bench``): the hub over real HTTP against a raw-SQL baseline,
on SQLite and on PostgreSQL. Reporting only: no timing is ever asserted.

Add a scenario by appending a ``Scenario`` to ``bench.scenarios.SCENARIOS``."""
