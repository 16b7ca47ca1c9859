"""What the account flow knows so far, shared by its step groups."""

from __future__ import annotations

from abc import abstractmethod
from enum import StrEnum
from typing import Any, override

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigFlowResult
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler

from ..errors import Failure
from ..oauth.implementation import OAuth2RestImplementation
from ..oauth.provider import ProviderProfile

OFFLINE_ACCESS = "offline_access"


class Grant(StrEnum):
    """The grants a flow can link with: the steps of the login menu."""

    BROWSER = "auth"
    DEVICE = "device"
    CLIENT_CREDENTIALS = "client_credentials"


class AccountFlowBase(AbstractOAuth2FlowHandler):
    """The provider, client, scopes and grant of an account flow, once chosen."""

    def __init__(self) -> None:
        """Start with nothing chosen."""
        super().__init__()
        self._profile: ProviderProfile | None = None
        self._scopes: list[str] = []
        self._credential: ClientCredential | None = None
        self._title: str | None = None
        self._token_data: dict[str, Any] | None = None
        # Auth domain of the stored credential that a new client secret replaces.
        self._replaced_auth_domain: str | None = None
        # Re-linking keeps the entry's grant: the client's own (client credentials)
        # or a user's login (browser or device). None for a new account.
        self._entry_grant: Grant | None = None
        # How the token of this flow was got, once it was.
        self._grant: Grant | None = None

    @property
    @override
    def extra_authorize_data(self) -> dict[str, Any]:
        """The scopes of this grant, joined the provider's way.

        OpenID Connect Core 11 ignores ``offline_access`` (so no refresh token is
        issued) unless the request asks for consent: ask, unless the profile's own
        authorize parameters already set a prompt.
        """
        if self._profile is None or not self._scopes:
            return {}
        data = {"scope": self._profile.join_scopes(self._scopes)}
        if (
            OFFLINE_ACCESS in self._scopes
            and "prompt" not in self._profile.extra_authorize_params
        ):
            data["prompt"] = "consent"
        return data

    @override
    async def async_generate_authorize_url(self) -> str:
        """The authorize URL, with a fresh OIDC nonce when it asks for openid."""
        url = await super().async_generate_authorize_url()
        return self._rest_impl().add_nonce(self.flow_id, url)

    @abstractmethod
    async def async_step_credentials(
        self, user_input: dict[str, Any] | None = None, failed: Failure | None = None
    ) -> ConfigFlowResult:
        """Client id and secret, scopes; shown again when the grant ``failed``."""

    @abstractmethod
    async def async_step_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The login on another device (RFC 8628)."""

    def _rest_impl(self) -> OAuth2RestImplementation:
        assert isinstance(self.flow_impl, OAuth2RestImplementation)
        return self.flow_impl

    def _get_entry_being_changed(self) -> ConfigEntry:
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        return self._get_reconfigure_entry()
