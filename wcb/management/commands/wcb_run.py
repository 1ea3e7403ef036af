"""``manage.py wcb_run eod|eom [--as-of YYYY-MM-DD]``: one job run, synchronously."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from raxx.audit import acting_as
from wcb import jobs


class Command(BaseCommand):
    help = ("Run the WCB EOD or EOM job now and print one summary line (finalized, pending, failed). "
            "--as-of runs it as at the end of that UTC day (backfills and catch-up).")

    def add_arguments(self, parser):
        parser.add_argument("job", choices=sorted(jobs.JOBS))
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: now)")

    def handle(self, *args, job: str, as_of: str | None, **options):
        now = None
        if as_of:
            try:
                now = jobs.end_of_day_utc(date.fromisoformat(as_of))
            except ValueError:
                raise CommandError(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}")
        with acting_as("cli:wcb_run"):
            summary = jobs.run_manual(job, now=now, progress=lambda line: self.stderr.write(line))
        if summary.skipped:
            self.stdout.write(f"finalized=0 pending=0 failed=0 ({summary.skipped})")
            return
        self.stdout.write(f"finalized={summary.finalized} pending={summary.pending} failed={summary.failed} "
                          f"(run {summary.run_id}, {job} session {summary.session}, {summary.symbols} symbol(s))")
