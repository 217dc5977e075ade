"""Sessions in the database (Django's own store), read by one hand-written query.

Every signed-in request reads its session first; built by the ORM, that one-row query cost
more CPU than the database spends on it (`veerkracht.lib.rows`). Everything else, the writes
and the checks included, is Django's `db` store as it is.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from veerkracht.lib.rows import Columns

_SESSION = Columns(Session, "s")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        """The unexpired session of this key, as Django's store reads it; None (and no key
        any more) when there is none."""
        key = self.session_key
        if key is None:
            return None
        using = router.db_for_read(Session)
        connection = connections[using]
        q = connection.ops.quote_name
        expires = Session._meta.get_field("expire_date")
        sql = (
            f"SELECT {_SESSION.sql(using)} FROM {q(Session._meta.db_table)} s "
            f"WHERE s.{q('session_key')} = %s AND s.{q('expire_date')} > %s"
        )
        now = expires.get_db_prep_value(timezone.now(), connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return _SESSION.instance(row, using=using)
