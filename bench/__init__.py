"""Benchmarks: ``python -m bench [name ...] [--quick] [--strict]`` (``make bench``).

Each module here (not starting with ``_``) is one benchmark. It defines

    def run(*, quick: bool = False) -> dict[str, Any]

returning JSON-ready results with a ``metrics`` list of
``{"metric": str, "value": float, "unit": str, "target": float | None, "passed": bool | None}``
(``target`` is a minimum; ``passed`` is None for metrics without one). ``__main__`` runs them,
writes ``bench/results/<name>.json`` and prints one table.
"""
