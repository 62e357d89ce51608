"""GovHub benchmark (``make bench``): the issue-17 speed table (the hub, a raw SQL + JSON
app and PostGraphile, each served in a process of its own and driven from another), then
the hub in-process against its baselines, on SQLite and on PostgreSQL. Reporting only: no
timing is ever asserted.

Add a speed-table scenario to ``bench.speed_cases.SPEED_CASES`` (with its raw endpoint in
``READS``); an in-process one by appending a ``Scenario`` to ``bench.scenarios.SCENARIOS``."""
