"""Run every ``bench/bench_*.py`` in turn (``make bench``)."""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402


def main(names: list[str]) -> None:
    harness.setup_django()
    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    for name in modules:
        if names and name.removeprefix("bench_") not in names:
            continue
        module = importlib.import_module(f"bench.{name}")
        with harness.scratch_database():
            harness.print_table(getattr(module, "TITLE", name), module.run())


if __name__ == "__main__":
    main(sys.argv[1:])
