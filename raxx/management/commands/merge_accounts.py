from django.core.management.base import BaseCommand

from raxx.audit import acting_as
from raxx.merge import AccountsRefused, MergePlan, TableStep, merge_accounts, plan_merge

from ._accounts import confirm, refused, table_of


class Command(BaseCommand):
    help = ("Merge the secondary customer into the primary: every registered table's rows move to the primary "
            "in one transaction, the secondary is tombstoned. --dry-run prints what would happen.")

    def add_arguments(self, parser):
        parser.add_argument("--primary", required=True, help="UUID of the account that survives")
        parser.add_argument("--secondary", required=True, help="UUID of the account merged away (tombstoned)")
        parser.add_argument("--dry-run", action="store_true", help="print per-table counts and collisions; change nothing")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, primary, secondary, dry_run, yes, **options):
        try:
            plan = plan_merge(primary_id=primary, secondary_id=secondary)
        except AccountsRefused as exc:
            raise refused(exc)
        self.print_plan(plan)
        if dry_run:
            self.stdout.write(f"Dry run: {plan.rows_moved} rows would move, {plan.collisions} collisions "
                              "would be resolved. Nothing was changed.")
            return
        confirm(self, yes=yes, question=f"Merge {secondary} into {primary} and tombstone {secondary}?", word="merge")
        try:
            with acting_as("cli:merge_accounts"):
                result = merge_accounts(primary_id=primary, secondary_id=secondary, progress=self.progress)
        except AccountsRefused as exc:
            raise refused(exc)
        for step in result.steps:
            self.stdout.write(f"  {step.key} ({table_of(step.key)}): {step.resolution}")
        self.stdout.write(f"Merged {secondary} into {primary}: {result.rows_moved} rows moved, "
                          f"{result.collisions} collisions resolved, secondary tombstoned "
                          f"({result.seconds:.2f}s). Audit event: account_merged.")

    def print_plan(self, plan: MergePlan) -> None:
        self.stdout.write(f"Merge plan: secondary {plan.secondary_id} -> primary {plan.primary_id}")
        width = max([len(s.key) for s in plan.steps] + [5])
        tables = {step.key: table_of(step.key) for step in plan.steps}
        twidth = max([len(t) for t in tables.values()] + [8])
        self.stdout.write(f"  {'model.field'.ljust(width)}  {'db table'.ljust(twidth)}  {'rule':<24}  {'rows':>8}  action")
        for step in plan.steps:
            self.stdout.write(f"  {step.key.ljust(width)}  {tables[step.key].ljust(twidth)}  {step.on_merge:<24}  "
                              f"{step.rows:>8}  {step.resolution}")
            for label, n in step.owned.items():
                self.stdout.write(f"  {'':<{width}}  {table_of(label).ljust(twidth)}  {'':<24}  {n:>8}  "
                                  f"owned {label} rows follow their parent")
            for sample in step.collision_samples:
                self.stdout.write(f"  {'':<{width}}  {'':<{twidth}}  {'':<24}  {'':>8}  collision on {sample}")

    def progress(self, step: TableStep, index: int, total: int) -> None:
        self.stderr.write(f"[{index}/{total}] {step.key}: {step.resolution}")
