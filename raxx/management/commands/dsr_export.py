from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from raxx.audit import acting_as
from raxx.dsr import export_customer, export_json
from raxx.merge import AccountsRefused

from ._accounts import refused


class Command(BaseCommand):
    help = "Print (or write to --out) every row about the customer from every registered table, as one JSON document."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="customer UUID")
        parser.add_argument("--out", default=None, help="file to write (default: stdout)")

    def handle(self, *args, user, out, **options):
        try:
            with acting_as("cli:dsr_export"):
                document = export_customer(customer_id=user, progress=self.progress)
        except AccountsRefused as exc:
            raise refused(exc)
        text = export_json(document)
        rows = sum(len(t["rows"]) + sum(len(o["rows"]) for o in t["owned"]) for t in document["tables"])
        if out:
            try:
                Path(out).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {out}: {exc.strerror}")
            self.stderr.write(f"Exported {rows} rows from {len(document['tables'])} tables to {out}.")
        else:
            self.stdout.write(text)
            self.stderr.write(f"Exported {rows} rows from {len(document['tables'])} tables.")

    def progress(self, key: str, rows: int) -> None:
        self.stderr.write(f"  {key}: {rows} rows…")
