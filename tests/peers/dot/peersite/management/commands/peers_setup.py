"""Create the suite's user and applications (idempotent): ``manage.py peers_setup REDIRECT_URI``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from oauth2_provider.models import get_application_model

from peersite.views import ensure_user

# client_id -> (grant type, client type, secret). One grant type per application in DOT.
APPS = {
    "ha-code": ("authorization-code", "confidential", "ha-code-secret"),
    "ha-cc": ("client-credentials", "confidential", "ha-cc-secret"),
    "ha-device": (
        "urn:ietf:params:oauth:grant-type:device_code",
        "confidential",
        "ha-device-secret",
    ),
}
PASSWORD = "wonderland"


class Command(BaseCommand):
    help = "Create user alice and the ha-code, ha-cc and ha-device applications."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("redirect_uri")

    def handle(self, *args: Any, **options: Any) -> None:
        user = ensure_user()
        user.set_password(PASSWORD)
        user.save()
        model = get_application_model()
        for client_id, (grant, kind, secret) in APPS.items():
            app = model.objects.filter(client_id=client_id).first() or model(
                client_id=client_id
            )
            app.name = client_id
            app.user = user
            app.authorization_grant_type = grant
            app.client_type = kind
            app.client_secret = secret
            app.hash_client_secret = True
            app.redirect_uris = (
                options["redirect_uri"] if grant == "authorization-code" else ""
            )
            app.algorithm = "RS256" if grant == "authorization-code" else ""
            app.skip_authorization = False
            app.save()
        self.stdout.write("peers_setup: alice, " + ", ".join(APPS))
