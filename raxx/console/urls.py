"""Console pages mounted under /admin/ before ``admin.site.urls``."""

from django.contrib import admin
from django.urls import path

from . import auth_views

# Passkey sign-in (CONTRACTS §8). /admin/login/ is served here, so every admin redirect to
# admin:login lands on the passkey page; admin's password pages are shadowed by a 404.
urlpatterns: list = [
    path("login/", auth_views.login_page, name="console-login"),
    path("password_change/", auth_views.no_password_pages),
    path("password_change/done/", auth_views.no_password_pages),
    path("enroll/<str:token>/", auth_views.enroll_page, name="console-enroll"),
    path("passkeys/", admin.site.admin_view(auth_views.passkeys_page), name="console-passkeys"),
    path("passkeys/<int:pk>/revoke/", admin.site.admin_view(auth_views.passkey_revoke), name="console-passkey-revoke"),
    path("passkeys/register/begin/", auth_views.RegistrationBegin.as_view(), name="console-register-begin"),
    path("passkeys/register/complete/", auth_views.RegistrationComplete.as_view(), name="console-register-complete"),
    path("passkeys/signin/begin/", auth_views.AuthenticationBegin.as_view(), name="console-signin-begin"),
    path("passkeys/signin/complete/", auth_views.AuthenticationComplete.as_view(), name="console-signin-complete"),
]
