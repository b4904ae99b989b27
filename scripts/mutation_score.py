"""Print the score of the last `mutmut run` (`make mutate` runs this after it).

Reads mutmut's own records in mutants/ for the modules [tool.mutmut] in pyproject.toml
names, and prints per module and in total: killed, survived, timeout, no tests and the
score, killed / total. Exits 1 when the score is below --minimum (default 0: report only).

    .venv/bin/python scripts/mutation_score.py [--minimum 90] [--survivors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.configuration import config
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

COLUMNS = ("killed", "survived", "timeout", "no tests", "other")


def _status(exit_code: int | None) -> str:
    status = status_by_exit_code[exit_code]
    return status if status in COLUMNS else "other"


def _results() -> dict[str, dict[str, str]]:
    """{module path: {mutant name: status}} for every module under mutation."""
    results = {}
    for path in walk_mutatable_files():
        meta = Path("mutants") / f"{path}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            results[str(path)] = {name: _status(code) for name, code in codes.items()}
    return results


def _line(label: str, counts: Counter) -> str:
    total = sum(counts.values())
    score = 100 * counts["killed"] / total if total else 0.0
    figures = "".join(f"{counts[c]:>10}" for c in COLUMNS)
    return f"{label:<44}{figures}{total:>8}{score:>8.1f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minimum", type=float, default=0.0, help="fail below this score (%%)")
    parser.add_argument("--survivors", action="store_true", help="list every surviving mutant")
    args = parser.parse_args()

    config()  # reads [tool.mutmut] from ./pyproject.toml: run from the project root
    results = _results()
    if not results:
        print("No mutation results: run `make mutate` (or `.venv/bin/mutmut run`) first.")
        return 1

    print(f"{'module':<44}" + "".join(f"{c:>10}" for c in COLUMNS) + f"{'total':>8}{'score':>9}")
    overall: Counter = Counter()
    for path, statuses in sorted(results.items()):
        counts = Counter(statuses.values())
        overall += counts
        print(_line(path, counts))
    print(_line("all modules", overall))
    total = sum(overall.values())
    score = 100 * overall["killed"] / total
    print(f"\nMutation score: {overall['killed']} killed of {total} = {score:.1f}%")
    if overall["other"]:
        print(f"({overall['other']} not checked, suspicious or interrupted: run it again)")

    survivors = sorted(
        name
        for statuses in results.values()
        for name, status in statuses.items()
        if status in ("survived", "no tests")
    )
    if args.survivors:
        print("\nSurvivors and mutants no test reaches:")
        print("\n".join(f"  {name}" for name in survivors))
    if survivors:
        print(
            "\nSee the survivors with `.venv/bin/mutmut results`, one with "
            "`.venv/bin/mutmut show NAME`, and docs/mutation-testing.md for the ones "
            "known to be equivalent."
        )
    if score < args.minimum:
        print(f"Below the minimum of {args.minimum:.1f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
