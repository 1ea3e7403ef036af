from django.contrib.auth.backends import ModelBackend


class PasskeyOnlyBackend(ModelBackend):
    """The only authentication backend (CONTRACTS §8): it never authenticates anyone by
    password (``authenticate`` always answers None), so ``/admin/login/``, ``client.login``
    and any ``authenticate(username=..., password=...)`` sign nobody in. Operators are
    signed in by the passkey ceremony, which calls ``login(..., backend=<this>)``.
    ``get_user`` (active users only) and the permission checks are ModelBackend's."""

    def authenticate(self, request, **credentials):
        return None
