"""Django's PostgreSQL backend, with a per-request health check that needs no round trip when it can tell.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before a request's first query on a reused
connection: one more database round trip per request that touches the database. This backend
first asks libpq and the socket: a connection whose status is OK, that is idle (no transaction
left open) and that has nothing waiting to be read is served as it is. A server that ended the
session (a restart, ``pg_terminate_backend``, ``idle_session_timeout``) has sent its error and
closed the socket, so the socket is readable: then Django's own ``SELECT 1`` check runs, fails,
and the connection is replaced before the request uses it. Anything else the socket holds (a
``NOTIFY``) also gets the real check. ``is_usable()`` itself is unchanged: after an error Django
and ``raxx.errors`` still check with a real statement.

A peer that vanished without closing (no FIN yet) is not seen here; ``SELECT 1`` would then have
waited out the same TCP timeout. The request's first query fails instead and is answered 503
``database_unavailable``, and the connection is dropped.
"""

import select

from django.db.backends.postgresql import base
import psycopg
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool and quiet(self.connection.pgconn)):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def quiet(pgconn) -> bool:
    """Healthy as libpq last saw it, idle, and nothing from the server waiting on the socket."""
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, psycopg.Error):  # no socket: let the real check decide
        return False
