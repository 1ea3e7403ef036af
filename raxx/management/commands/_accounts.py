"""Shared by merge_accounts, dsr_export and dsr_erase: confirmation and refusals."""

import sys

from django.apps import apps
from django.core.management.base import CommandError

from raxx.merge import AccountsRefused


def confirm(command, *, yes: bool, question: str, word: str) -> None:
    """Ask for ``word`` on a terminal; ``--yes`` skips; no terminal and no ``--yes``: refuse (never hang in CI)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CommandError("Refusing to run without confirmation: stdin is not a terminal. "
                           "Re-run with --yes (nothing was changed).")
    answer = input(f"{question} Type '{word}' to continue: ").strip()
    if answer != word:
        raise CommandError("Not confirmed; nothing was changed.")


def refused(exc: AccountsRefused) -> CommandError:
    return CommandError(f"{exc.message} [{exc.code}]")


def table_of(key: str) -> str:
    """``journal.PaperOrder`` or ``journal.PaperOrder.customer`` → ``paper_orders`` (the database table)."""
    parts = key.split(".")
    for label in (".".join(parts[:2]),):
        try:
            return apps.get_model(label)._meta.db_table
        except (LookupError, ValueError):
            pass
    return key
