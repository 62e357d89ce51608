"""``govhub licences|report``: the e-licences' offline kit and issuing keys, and the
monthly report of the supervision figures."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from gateway.cli.base import (
    CLOCK,
    SECRET,
    STORES,
    Steps,
    load_settings,
    main,
    now_of,
    progress,
    reads,
    require_migrated,
    run_on,
    secret_of,
)
from gateway.nodes import NodeRegistry
from levels.common.clock import clock_for
from levels.common.codes import validate_uscc
from levels.common.errors import DomainError
from levels.common.models import ServiceOrg
from levels.supervision.combine import Report

# --- e-licences: the offline kit and the issuing orgs' keys ---------------------------------


@main.group("licences")
def licences_group() -> None:
    """E-licences (电子证照): the offline verification kit and the issuing orgs' keys."""


@reads(
    STORES,
    SECRET,
    CLOCK,
    "GOVHUB_LICENCE_STATUS_TTL_SECONDS",
    # the nodes with an address sign their issuers' lists, asked with a hub token
    "GOVHUB_HUB_KEY_FILE",
    "GOVHUB_HUB_TOKEN_SECONDS",
)
@licences_group.command("kit")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the kit here (default: standard output).",
)
def licences_kit(output: Path | None) -> None:
    """The offline verification kit, as /licences/kit serves it: the licence JWKS and
    every issuer's signed status list (good for GOVHUB_LICENCE_STATUS_TTL_SECONDS),
    signed by the node keeping the issuer's licences when it has an address."""
    import orjson

    from resolvers.licensing import Licensing

    settings = load_settings()

    async def run(nodes: NodeRegistry) -> dict[str, object]:
        await require_migrated(nodes)
        licensing = Licensing(
            nodes,
            clock_for(settings.clock_override),
            secret=secret_of(settings),
            status_ttl_seconds=settings.licence_status_ttl_seconds,
        )
        return await licensing.kit()

    kit = run_on(settings, run)
    text = orjson.dumps(kit, option=orjson.OPT_INDENT_2).decode()
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    lists = kit["statusLists"]
    assert isinstance(lists, dict)
    click.echo(f"kit written to {output}: {len(lists)} status lists")


@reads(STORES, SECRET, CLOCK)
@licences_group.command("rotate-key")
@click.argument("org_code")
def licences_rotate_key(org_code: str) -> None:
    """Retire an issuing org's licence key and start a new one. Licences signed with
    the old key keep verifying (its public key stays in the JWKS); new ones, and the
    org's status list, are signed with the new key."""
    from levels.licences.keys import rotate_org_key
    from levels.licences.models import LicenceKey

    settings = load_settings()
    try:
        code = validate_uscc(org_code.strip(), field="org")
    except DomainError as e:
        raise click.ClickException(e.localized("en")) from None
    secret = secret_of(settings)
    now = now_of(settings)

    async def run(nodes: NodeRegistry) -> tuple[str, list[str]]:
        await require_migrated(nodes)
        for node in nodes:
            async with node.sessions.begin() as session:
                org = await session.get(ServiceOrg, code)
                if org is None:
                    continue
                retiring = list(
                    await session.scalars(
                        select(LicenceKey.kid).where(
                            LicenceKey.org_code == code, LicenceKey.retired_at.is_(None)
                        )
                    )
                )
                return await rotate_org_key(session, code, secret=secret, now=now), retiring
        raise click.ClickException(f"no service org {code}")

    kid, retiring = run_on(settings, run)
    click.echo(f"new licence key of {code}: {kid} (ES256)")
    for old in retiring:
        click.echo(f"retired {old}: licences it signed still verify")


@main.group("report")
def report_group() -> None:
    """Reports of the supervision figures (电子监察)."""


@reads(STORES, CLOCK)
@report_group.command("monthly")
@click.option("--org", "org_code", required=True, help="The service org's credit code.")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where to write the CSV and the PNG (default: here).",
)
@click.option(
    "--chart/--no-chart",
    default=True,
    show_default=True,
    help="Draw the PNG chart (needs govhub[reports]); --no-chart: the CSV alone.",
)
def report_monthly(org_code: str, month: str, output_dir: Path, chart: bool) -> None:
    """月报表 of the org's division and everything below it: the month's supervision
    figures per org, per level and in total, as CSV (UTF-8 with BOM) and a PNG chart
    — the same figures as the supervision query. The chart needs the optional extra
    govhub[reports] (matplotlib)."""
    from gateway.report import (
        CHART_MISSING,
        chart_available,
        month_figures,
        monthly_paths,
        write_chart,
        write_csv,
    )
    from levels.cases.service import china_date

    if chart and not chart_available():
        raise click.ClickException(CHART_MISSING)
    settings = load_settings()
    steps = Steps()

    async def run(nodes: NodeRegistry) -> tuple[ServiceOrg, Report, list[str]]:
        await require_migrated(nodes, levels=True)
        progress(f"reading {month}'s figures from the level stores")
        org, report, failures = await month_figures(
            nodes,
            org_code,
            month,
            today=china_date(now_of(settings)),
            timeout=settings.node_timeout_seconds,
        )
        down = [f.node_id for f in failures]
        answered = len(list(nodes)) - len(down)
        steps.done(f"figures of {len(report.by_org)} orgs from {answered} level stores")
        return org, report, down

    org, report, down = run_on(settings, run)
    output_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = monthly_paths(report, output_dir)
    write_csv(report, csv_path)
    steps.done(f"CSV written: {csv_path}")
    if chart:
        write_chart(report, png_path)
        steps.done(f"chart drawn: {png_path}")
    t = report.totals
    click.echo(
        f"{org.name} {report.division_code} {report.period.start:%Y-%m}: "
        f"{t.counts.received} received, {t.counts.completed} completed, "
        f"{len(report.by_org)} orgs ({steps.elapsed:.1f}s)"
    )
    click.echo(f"written: {csv_path}")
    if chart:
        click.echo(f"written: {png_path}")
    if down:
        click.echo(f"partial: no answer from {', '.join(down)}", err=True)
