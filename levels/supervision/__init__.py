"""Supervision figures (电子监察 and 月报表): per-org counts computed with SQL aggregates
in each level store, combined per org, per level and in total, and the monthly report."""
