from django.core.management.base import BaseCommand

from raxx.periodic import declared_jobs, sync_periodic_tasks


class Command(BaseCommand):
    help = "Create or update the django-celery-beat rows for the periodic tasks declared in code (keeps 'enabled')."

    def handle(self, *args, **options):
        changed = sync_periodic_tasks()
        self.stdout.write(f"{len(declared_jobs())} periodic tasks declared; {len(changed)} created or updated.")
