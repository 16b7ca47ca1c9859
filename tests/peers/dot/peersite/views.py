"""Our protected resource, a request counter, and test-only admin routes on loopback.

The admin routes (``/peers/...``) answer only requests from 127.0.0.1: they stand for what a
user does in the server's own admin pages (revoke the grant) and what the suite observes
(how many token requests of which grant type; how many API answers of which status).
"""

from __future__ import annotations

from collections import Counter
import json
import threading
from typing import Any
from urllib.parse import parse_qs

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.views.generic import ProtectedResourceView

from peersite import lifetime

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def _count(key: str) -> None:
    with _lock:
        _counts[key] += 1


class CountRequests:
    """Count token, revocation and API requests by grant type / status."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        grant = ""
        if request.method == "POST" and request.path == "/o/token/":
            # request.body is cached, so the token view still reads the form.
            form = parse_qs(request.body.decode("utf-8", "replace"))
            grant = form.get("grant_type", ["?"])[0].rsplit(":", 1)[-1]
        response = self.get_response(request)
        if grant:
            _count(f"token:{grant}:{response.status_code}")
            _count(f"token:{grant}")
        elif request.path == "/o/revoke_token/":
            _count(f"revoke:{response.status_code}")
        elif request.path == "/api/me":
            _count(f"api:{response.status_code}")
        elif request.path == "/o/userinfo/":
            _count(f"userinfo:{response.status_code}")
        return response


class Me(ProtectedResourceView):
    """The user's data: a counter that goes up with every successful call.

    A dead or expired token gets DOT's own answer: 403, empty body, no WWW-Authenticate.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        _count("me")
        with _lock:
            value = _counts["me"]
        user = request.resource_owner  # type: ignore[attr-defined]
        return JsonResponse(
            {"username": user.get_username() if user else None, "value": value}
        )


def _loopback(request: HttpRequest) -> bool:
    return request.META.get("REMOTE_ADDR") == "127.0.0.1"


def stats(request: HttpRequest) -> JsonResponse:
    """Counters, and the tokens alive right now (for "removal revoked the grant")."""
    if not _loopback(request):
        return JsonResponse({}, status=403)
    access = get_access_token_model().objects
    refresh = get_refresh_token_model().objects
    with _lock:
        counts = dict(_counts)
    return JsonResponse(
        {
            "counts": counts,
            "access_ttl": lifetime.SECONDS[0],
            "live_refresh_tokens": {
                app: refresh.filter(
                    revoked__isnull=True, application__client_id=app
                ).count()
                for app in refresh.values_list(
                    "application__client_id", flat=True
                ).distinct()
            },
            "access_tokens": access.count(),
        }
    )


@csrf_exempt
def revoke(request: HttpRequest) -> JsonResponse:
    """Revoke every grant of every user, as the server's "revoke access" page does."""
    if not _loopback(request) or request.method != "POST":
        return JsonResponse({}, status=403)
    revoked = 0
    for token in get_refresh_token_model().objects.filter(revoked__isnull=True):
        token.revoke()  # also deletes its access token
        revoked += 1
    deleted, _ = get_access_token_model().objects.all().delete()
    return JsonResponse(
        {"refresh_tokens_revoked": revoked, "access_tokens_deleted": deleted}
    )


@csrf_exempt
def ttl(request: HttpRequest) -> JsonResponse:
    """Set the lifetime of access tokens issued from now on: ``{"seconds": N}``."""
    if not _loopback(request) or request.method != "POST":
        return JsonResponse({}, status=403)
    seconds = int(json.loads(request.body)["seconds"])
    lifetime.SECONDS[0] = seconds
    return JsonResponse({"access_ttl": seconds})


def ensure_user() -> Any:
    """The one user of the suite (used by the setup command)."""
    model = get_user_model()
    user, _ = model.objects.get_or_create(
        username="alice", defaults={"email": "alice@example.org"}
    )
    return user
