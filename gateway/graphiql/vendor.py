"""Copy GraphiQL's scripts and styles from the npm packages into ``static/vendor/``.

``make graphiql`` (a step of ``make install`` and ``make run``) installs the packages of
``package-lock.json`` with ``npm ci`` and runs ``python -m gateway.graphiql.vendor``:
every file is checked against the SHA-384 pinned here before it is copied, so what the
hub serves is exactly the release named (the same bytes unpkg serves for it). The
stylesheet's embedded fonts become files of their own: the page's Content-Security-Policy
allows fonts from the hub only, not ``data:`` URLs. ``static/vendor/manifest.json``
records the integrity hash of each served file; the page names them in its ``integrity``
attributes. Nothing is fetched when the hub runs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from gateway.graphiql import sha384

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
VENDOR = HERE / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


@dataclass(frozen=True)
class Pinned:
    source: str  # under node_modules
    served: str  # under static/vendor
    sha384: str


# the versions of package.json (each file's hash is the one unpkg's SRI gives for it)
PINNED = [
    Pinned(
        "react/umd/react.production.min.js",
        "react.production.min.js",
        "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Pinned(
        "react-dom/umd/react-dom.production.min.js",
        "react-dom.production.min.js",
        "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Pinned(
        "graphiql/graphiql.min.js",
        "graphiql.min.js",
        "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Pinned(
        "graphiql/graphiql.min.css",
        "graphiql.min.css",
        "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Pinned(
        "@graphiql/plugin-explorer/dist/index.umd.js",
        "plugin-explorer.umd.js",
        "2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
    Pinned(
        "@graphiql/plugin-explorer/dist/style.css",
        "plugin-explorer.css",
        "5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
]

_DATA_FONT = re.compile(rb"url\(data:font/(woff2?);base64,([A-Za-z0-9+/=]+)\)")


def _fonts_as_files(css: bytes, fonts: Path) -> bytes:
    """The stylesheet with each ``url(data:font/…)`` written to ``fonts/`` and named by
    a relative URL instead."""
    fonts.mkdir(exist_ok=True)

    def extract(match: re.Match[bytes]) -> bytes:
        data = base64.b64decode(match.group(2))
        name = f"{hashlib.sha256(data).hexdigest()[:16]}.{match.group(1).decode()}"
        (fonts / name).write_bytes(data)
        return b"url(fonts/" + name.encode() + b")"

    return _DATA_FONT.sub(extract, css)


def _copy(pin: Pinned, node_modules: Path, staging: Path) -> str:
    path = node_modules / pin.source
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run `npm ci` in {node_modules.parent}")
    data = path.read_bytes()
    if sha384(data) != pin.sha384:
        raise SystemExit(
            f"{pin.source} is not the pinned release (sha384-{sha384(data)}, "
            f"expected sha384-{pin.sha384}): refusing to serve it"
        )
    if pin.served.endswith(".css"):
        data = _fonts_as_files(data, staging / "fonts")
    (staging / pin.served).write_bytes(data)
    return f"sha384-{sha384(data)}"


def build(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> dict[str, str]:
    """Check and copy the pinned files; return the manifest (served name → integrity)."""
    staging = vendor.with_name(vendor.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest: dict[str, str] = {}
    try:
        for pin in PINNED:
            manifest[pin.served] = _copy(pin, node_modules, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(vendor, ignore_errors=True)
    staging.rename(vendor)
    return manifest


def main() -> None:
    manifest = build()
    fonts = len(list((VENDOR / "fonts").glob("*")))
    print(f"GraphiQL assets: {len(manifest)} files and {fonts} fonts in {VENDOR}")


if __name__ == "__main__":
    main()
