from django.core.management.base import BaseCommand, CommandError

from raxx.audit import acting_as
from raxx.merge import AccountsRefused, MergePlan, TableStep, _parse_id, merge_accounts, plan_merge
from raxx.models import MergeRequest

from ._accounts import confirm, refused, table_of


class Command(BaseCommand):
    help = ("Merge the secondary customer into the primary: every registered table's rows move to the primary "
            "in one transaction, the secondary is tombstoned. Executes a merge request both holders confirmed "
            "(--request); --primary/--secondary need --dry-run, or the audited break-glass --without-consent "
            "--reason.")

    def add_arguments(self, parser):
        parser.add_argument("--request", help="id of a merge request both holders confirmed (merge_request opens one)")
        parser.add_argument("--primary", help="UUID of the account that survives")
        parser.add_argument("--secondary", help="UUID of the account merged away (tombstoned)")
        parser.add_argument("--dry-run", action="store_true", help="print per-table counts and collisions; change nothing")
        parser.add_argument("--without-consent", action="store_true",
                            help="break-glass: merge without the holders' consent (needs --reason; audited)")
        parser.add_argument("--reason", help="why the holders' consent is waived (recorded in the audit event)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, request, primary, secondary, dry_run, without_consent, reason, yes, **options):
        if request:
            if primary or secondary:
                raise CommandError("Give --request, or --primary and --secondary, not both (nothing was changed).")
            try:
                row = MergeRequest.objects.filter(pk=_parse_id(request, "merge request")).first()
            except AccountsRefused as exc:
                raise refused(exc)
            if row is None:
                raise CommandError(f"No merge request {request}; nothing was changed. [not_found]")
            primary, secondary = str(row.primary_id), str(row.secondary_id)
            if row.effective_status not in MergeRequest.OPEN:
                raise CommandError(f"Merge request {row.pk} is {row.effective_status}; nothing was changed. "
                                   "[merge_request_closed]")
            self.stdout.write(f"Merge request {row.pk}: {row.effective_status}; primary holder "
                              f"{'confirmed' if row.primary_confirmed_at else 'has not confirmed'}, secondary holder "
                              f"{'confirmed' if row.secondary_confirmed_at else 'has not confirmed'}.")
        elif not (primary and secondary):
            raise CommandError("Give --request <id>, or --primary <uuid> and --secondary <uuid> (nothing was changed).")
        if without_consent and not (reason or "").strip():
            raise CommandError("--without-consent needs --reason TEXT (recorded in the audit event); "
                               "nothing was changed. [reason_required]")
        if reason and not without_consent:
            raise CommandError("--reason goes with --without-consent (nothing was changed).")
        if not (dry_run or request or without_consent):
            raise CommandError(
                "A merge needs both holders' consent: open a request with merge_request, let both holders confirm "
                "it, then run merge_accounts --request <id>. Break-glass: --without-consent --reason TEXT. "
                "Nothing was changed. [consent_required]")
        try:
            plan = plan_merge(primary_id=primary, secondary_id=secondary)
        except AccountsRefused as exc:
            raise refused(exc)
        self.print_plan(plan)
        if dry_run:
            self.stdout.write(f"Dry run: {plan.rows_moved} rows would move, {plan.collisions} collisions "
                              "would be resolved. Nothing was changed.")
            return
        waiver = " WITHOUT the holders' consent (break-glass, audited)" if without_consent else ""
        confirm(self, yes=yes, question=f"Merge {secondary} into {primary} and tombstone {secondary}{waiver}?",
                word="merge")
        try:
            with acting_as("cli:merge_accounts"):
                result = merge_accounts(primary_id=primary, secondary_id=secondary, progress=self.progress,
                                        request_id=request or None,
                                        without_consent_reason=reason if without_consent else None)
        except AccountsRefused as exc:
            raise refused(exc)
        for step in result.steps:
            self.stdout.write(f"  {step.key} ({table_of(step.key)}): {step.resolution}")
        self.stdout.write(f"Merged {secondary} into {primary}: {result.rows_moved} rows moved, "
                          f"{result.collisions} collisions resolved, secondary tombstoned "
                          f"({result.seconds:.2f}s). Audit event: account_merged "
                          f"(consent: {'waived' if without_consent else 'both'}).")

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
