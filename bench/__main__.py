"""Run the benchmarks, write ``bench/results/<name>.json``, print a table (see ``bench/__init__``)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench

PACKAGE = Path(__file__).resolve().parent
RESULTS = PACKAGE / "results"


def available() -> list[str]:
    """The benchmark modules in this package, by name: those defining ``run`` (not the services they start)."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(bench.__path__)
        if not m.name.startswith("_") and "\ndef run(" in (PACKAGE / f"{m.name}.py").read_text(encoding="utf-8")
    )


def _write(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"{name}.json"
    partial = target.with_suffix(".json.tmp")  # .tmp files are git-ignored
    partial.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return target


def _table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    header = ("bench", "metric", "value", "unit", "target", "ok")
    body = [
        (
            name,
            m["metric"],
            f"{m['value']:,.2f}",
            m.get("unit", ""),
            "" if m.get("target") is None else f"{m.get('target_op', '>=')} {m['target']:g}",
            {True: "yes", False: "NO", None: ""}[m.get("passed")],
        )
        for name, m in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    line = "  ".join
    out = [line(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append(line("-" * w for w in widths))
    out += [line(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run Kinderflow's benchmarks.")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available())})")
    parser.add_argument("--quick", action="store_true", help="a short run, to check the benchmarks work")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a metric misses its target")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(available())
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    rows: list[tuple[str, dict[str, Any]]] = []
    for name in args.names or available():
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} …", file=sys.stderr, flush=True)
        result = module.run(quick=args.quick)
        result.update(
            bench=name,
            quick=args.quick,
            recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            python=platform.python_version(),
            machine=f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        )
        print(f"  -> {_write(name, result)}", file=sys.stderr)
        rows += [(name, metric) for metric in result["metrics"]]
    print(_table(rows))
    missed = [f"{name}: {m['metric']}" for name, m in rows if m.get("passed") is False]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
