from django.core.management.base import BaseCommand

from walkthrough.services import purge_cutoff, walkthrough_purge


class Command(BaseCommand):
    help = "Delete every beta_walkthrough_* row of testers whose program ended 30 or more days ago."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print the counts without deleting anything.")

    def handle(self, *args, dry_run, **options):
        counts = walkthrough_purge(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        for table, n in counts.items():
            self.stdout.write(f"{table}: {n}")
        self.stdout.write(f"{verb} {sum(counts.values())} rows of testers in programs that ended on or before "
                          f"{purge_cutoff()}.")
