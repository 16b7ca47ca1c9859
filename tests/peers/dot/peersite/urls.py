"""django-oauth-toolkit under /o/, its RFC 8414 document at the root, our API, test routes."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as dot_urls

from . import views

urlpatterns = [
    path("o/", include(dot_urls)),
    # RFC 8414 at the origin (issuer = the origin), as DOT's docs say to mount it.
    path("", include((dot_urls.metadata_urlpatterns, "metadata"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("api/me", views.Me.as_view()),
    path("peers/stats", views.stats),
    path("peers/revoke", views.revoke),
    path("peers/ttl", views.ttl),
]
