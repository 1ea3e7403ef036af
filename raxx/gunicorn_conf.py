"""gunicorn settings for metrics in multiprocess mode: ``gunicorn -c python:raxx.gunicorn_conf raxx.wsgi``.

Only hooks: bind, workers and the rest stay on the command line. With
``PROMETHEUS_MULTIPROC_DIR`` set (the same folder for gunicorn and a Celery
worker of the same box), the master removes metric files of processes that are
no longer alive when it starts (a previous run's), and marks each worker that
exits, so /metrics adds up only what it should. Without the variable the hooks
do nothing.
"""

import os
import re
from pathlib import Path

_PID_FILE = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for file in path.glob("*.db"):
        match = _PID_FILE.search(file.name)
        if match and not _alive(int(match.group(1))):
            file.unlink(missing_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
