"""Benchmarks: ``python -m bench [name ...] [--quick] [--strict]`` (``make bench``).

Each module here whose name does not start with ``_`` and that defines ``run`` is one benchmark:

    def run(*, quick: bool = False) -> dict[str, Any]

returning JSON-ready results with a ``metrics`` list of
``{"metric": str, "value": float, "unit": str, "target": float | None, "passed": bool | None}``
and optionally ``"target_op"``: ``">="`` (the default: ``target`` is a minimum), ``"<"`` or ``"=="``;
``passed`` is None for metrics without a target. ``__main__`` runs them, writes
``bench/results/<name>.json`` and prints one table. A missed target is reported, never raised (exit
status 1 only with ``--strict``). Modules without ``run`` are support for the benchmarks (the load
benchmark's reference service and instrumented launchers).
"""
