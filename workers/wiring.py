"""Placeholder until the relay lands."""
from storage.runtime import Runtime


def start_publishing(runtime: Runtime) -> None:
    return None


def stop_publishing(runtime: Runtime) -> None:
    return None
