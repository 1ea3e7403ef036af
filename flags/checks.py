"""System check: the registry, the migrations and the code agree on flags."""

import re
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

from .registry import FLAGS

FLAG_NAME_RE = re.compile(r"""["'](FLAG_[A-Z0-9_]+)["']""")
MIGRATION_FLAG_RE = re.compile(r"""^FLAG_NAME\s*=\s*["'](FLAG_[A-Z0-9_]+)["']""", re.M)
PROJECT_APPS = ("raxx", "journal", "wcb", "walkthrough", "flags")


def flags_referenced_in_code(base_dir: Path) -> dict[str, list[str]]:
    """Flag names quoted in the project's Python code (tests and migrations aside)."""
    found: dict[str, list[str]] = {}
    for app in PROJECT_APPS:
        for path in (base_dir / app).rglob("*.py"):
            parts = set(path.relative_to(base_dir).parts)
            if "migrations" in parts or "tests" in parts:
                continue
            for name in FLAG_NAME_RE.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, []).append(str(path.relative_to(base_dir)))
    return found


def flags_with_migration(migrations_dir: Path) -> set[str]:
    names = set()
    for path in migrations_dir.glob("*.py"):
        names.update(MIGRATION_FLAG_RE.findall(path.read_text(encoding="utf-8")))
    return names


def check_flags(registry: dict, referenced: dict[str, list[str]], migrated: set[str]) -> list[Error]:
    errors = []
    for name, paths in sorted(referenced.items()):
        if name not in registry:
            errors.append(Error(f"{name} is used in {', '.join(sorted(set(paths)))} but is not in flags/registry.py",
                                hint="Add a FlagSpec and a data migration creating it OFF.", id="flags.E001"))
    for name in sorted(registry):
        if name not in migrated:
            errors.append(Error(f"{name} is registered but no migration in flags/migrations creates it",
                                hint="Add a migration with FLAG_NAME = '...' using create_flag_off.", id="flags.E002"))
    return errors


@register()
def flag_registry_check(app_configs=None, **kwargs):
    base = Path(settings.BASE_DIR)
    return check_flags(FLAGS, flags_referenced_in_code(base), flags_with_migration(base / "flags" / "migrations"))
