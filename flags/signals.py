"""Every flag change writes an audit event: admin, ``waffle_flag`` or code.

The actor comes from the audit context (the admin middleware names the
operator, our ``waffle_flag`` command names itself, anything else is
``system``).
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from waffle.models import Flag

from raxx.audit import audit_log

from .cache import invalidate

STATE_FIELDS = ("everyone", "percent", "testing", "superusers", "staff", "authenticated", "languages", "rollout")


def flag_state(flag: Flag) -> dict:
    state = {field: getattr(flag, field) for field in STATE_FIELDS}
    if state["percent"] is not None:
        state["percent"] = str(state["percent"])
    return state


@receiver(pre_save, sender=Flag)
def remember_old_state(sender, instance: Flag, **kwargs):
    # flags/cache.py invariant 3: a change whose invalidation cannot be delivered is
    # refused before anything is written (raises FlagCacheUnreachable).
    invalidate()
    old = Flag.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._audit_old_state = flag_state(old) if old else None


@receiver(post_save, sender=Flag)
def audit_flag_saved(sender, instance: Flag, created: bool, **kwargs):
    # waffle flushes its cache only on commit; flush now as well, so the next request
    # in this very transaction (a test, a shell session, a command's atomic block)
    # never reads the old state from the cache. The on-commit flush still follows.
    instance.flush()
    old, new = getattr(instance, "_audit_old_state", None), flag_state(instance)
    if old == new:
        return
    audit_log("flag_changed", data={"flag": instance.name, "old": old, "new": new})


@receiver(pre_delete, sender=Flag)
def refuse_undeliverable_delete(sender, instance: Flag, **kwargs):
    invalidate()


@receiver(post_delete, sender=Flag)
def audit_flag_deleted(sender, instance: Flag, **kwargs):
    instance.flush()
    audit_log("flag_changed", data={"flag": instance.name, "old": flag_state(instance), "new": None})


@receiver(m2m_changed, sender=Flag.users.through)
@receiver(m2m_changed, sender=Flag.groups.through)
def audit_flag_targets(sender, instance, action: str, pk_set, **kwargs):
    if not isinstance(instance, Flag):
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        invalidate()
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    instance.flush()
    target = "users" if sender is Flag.users.through else "groups"
    audit_log("flag_changed", data={"flag": instance.name, "targets": target, "action": action.removeprefix("post_"),
                                    "ids": sorted(pk_set or [])})
