"""The project's copy rule, "no forward-looking framing", in one place.

``FORWARD`` is the pattern every copy scan uses (apps add their own extra words:
the journal's emotional labels, the walkthrough's broker names). ``shown_strings()``
walks what the project can show: every ``*.html``/``*.txt`` template, and every string
constant of every non-test Python module (API and admin messages, command output,
log messages, gate reasons, view docstrings that reach the OpenAPI docs). It finds
files itself, so pages and modules added later are scanned without a list to update.
"""

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORWARD_WORDS = (r"will|won't|expect\w*|likely|unlikely|tends? to|predict\w*|forecast\w*|guarantee\w*|going to|"
                 r"outlook|projected|soon|future")
FORWARD = re.compile(rf"\b({FORWARD_WORDS})\b", re.IGNORECASE)
SKIP_DIRS = {".venv", "venv", "var", "node_modules", ".git", "migrations", "tests", "__pycache__", "site-packages",
             "staticfiles", "static"}


def forward_looking(text: str) -> list[str]:
    return [m.group(0) for m in FORWARD.finditer(text)]


def project_files(*suffixes: str) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            if name.endswith(suffixes) and not name.startswith("test_") and name != "conftest.py":
                yield Path(dirpath) / name


def python_strings(path: Path) -> Iterator[tuple[str, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value


def shown_strings() -> list[tuple[str, str]]:
    found = []
    for path in sorted(project_files(".py")):
        found.extend(python_strings(path))
    for path in sorted(project_files(".html", ".txt")):
        if "templates" in path.parts:
            found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return found
