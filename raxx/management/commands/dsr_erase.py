from django.core.management.base import BaseCommand

from raxx.audit import acting_as
from raxx.dsr import erase_customer, erasure_preview
from raxx.merge import AccountsRefused

from ._accounts import confirm, refused, table_of


class Command(BaseCommand):
    help = ("Erase every row about the customer in every registered table (one transaction), tombstone the "
            "customer row and leave a dsr_erased audit event without PII.")

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="customer UUID")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, user, yes, **options):
        try:
            preview = erasure_preview(customer_id=user)
        except AccountsRefused as exc:
            raise refused(exc)
        self.stdout.write(f"Rows about {user}: {sum(preview.values())} in {sum(1 for n in preview.values() if n)} tables")
        confirm(self, yes=yes, question=f"Erase everything about {user}? This cannot be undone.", word="erase")
        try:
            with acting_as("cli:dsr_erase"):
                result = erase_customer(customer_id=user, progress=self.progress)
        except AccountsRefused as exc:
            raise refused(exc)
        for label, n in sorted(result.deleted.items()):
            self.stdout.write(f"  {label} ({table_of(label)}): {n} deleted")
        for key, n in sorted(result.unlinked.items()):
            self.stdout.write(f"  {key}: {n} kept, unlinked")
        self.stdout.write(f"Erased {user}: {result.rows_deleted} rows deleted, customer tombstoned "
                          f"({result.seconds:.2f}s). Audit event: dsr_erased.")

    def progress(self, key: str, index: int, total: int) -> None:
        self.stderr.write(f"[{index}/{total}] {key}")
