"""The account flow's grant steps: the login menu, client credentials, refusals.

A refusal is an authorization the server sent back without a code.
"""

from __future__ import annotations

from typing import Any, override

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.exceptions import OAuth2TokenRequestError
from homeassistant.helpers.config_entry_oauth2_flow import AUTH_CALLBACK_PATH

# The request context itself, not the module attribute (which tests replace).
from homeassistant.helpers.http import current_request

from ..errors import Failure, authorization_refused, client_credentials_failed
from ..oauth.identity import NonceMismatchError
from ..redact import Secrets
from .account import AccountFlowBase, Grant

# RFC 6749 4.1.2.1: what the server says about a refusal, beside its code.
ERROR_DESCRIPTION = "error_description"


class GrantSteps(AccountFlowBase):
    """Offer the grants the provider has; get a token for the client itself."""

    def _grants(self) -> list[Grant]:
        """The grants this flow may link with, in the order of the login menu.

        Re-linking keeps the entry's kind of grant: the account is the client
        itself (client credentials) or a user who logs in, and the entry's
        identity depends on which.
        """
        assert self._profile is not None
        if self._entry_grant is Grant.CLIENT_CREDENTIALS:
            return [Grant.CLIENT_CREDENTIALS]
        grants = []
        if self._profile.authorize_url:
            grants.append(Grant.BROWSER)
        if self._profile.device_authorization_url:
            grants.append(Grant.DEVICE)
        if self._profile.client_credentials and self._entry_grant is None:
            grants.append(Grant.CLIENT_CREDENTIALS)
        return grants

    async def _async_log_in(self) -> ConfigFlowResult:
        """Offer the grants the provider has; go straight on when there is one."""
        grants = self._grants()
        if len(grants) > 1:
            return await self.async_step_login()
        if grants == [Grant.CLIENT_CREDENTIALS]:
            return await self.async_step_client_credentials()
        if grants == [Grant.DEVICE]:
            return await self.async_step_device()
        return await self.async_step_auth()

    async def async_step_login(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Log in in this browser (authorization code), on another device, or not."""
        assert self._profile is not None
        return self.async_show_menu(
            step_id="login",
            menu_options=[grant.value for grant in self._grants()],
            description_placeholders={"provider": self._profile.name},
        )

    # -- the login in this browser: what came back -----------------------------------

    @override
    async def async_step_auth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Send the user to the provider; a refusal keeps what the server said.

        Home Assistant's callback view passes only the ``error`` code on; its
        ``error_description`` is read from the callback request this step runs in.
        """
        if user_input is not None and "error" in user_input:
            user_input = {ERROR_DESCRIPTION: _callback_description(), **user_input}
        return await super().async_step_auth(user_input)

    @override
    async def async_step_creation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Exchange the code; an id_token of another login ends the flow."""
        try:
            return await super().async_step_creation(user_input)
        except NonceMismatchError as err:
            self.logger.warning("The id_token was refused: %s", err)
            return self.async_abort(reason="nonce_mismatch")

    @override
    async def async_step_authorize_rejected(
        self, data: None = None
    ) -> ConfigFlowResult:
        """The server sent the user back without a code: say whose refusal it was."""
        failure = authorization_refused(
            self.external_data["error"],
            self.external_data.get(ERROR_DESCRIPTION),
            Secrets(self._credential.client_secret if self._credential else None),
        )
        if failure.key != "user_rejected_authorize":
            self.logger.warning(
                "The provider refused the authorization request: %s",
                failure.placeholders["error"],
            )
        return self.async_abort(
            reason=failure.key, description_placeholders=failure.placeholders
        )

    # -- the client credentials grant: no user, no browser -------------------------

    async def async_step_client_credentials(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Get a token for the client itself; the account is the client."""
        impl = self._rest_impl()
        try:
            token = await impl.async_client_credentials_token(
                impl.client_credentials_params(self._scopes)
            )
        except OAuth2TokenRequestError as err:
            failure = client_credentials_failed(err)
            self.logger.warning(
                "The client credentials request failed: %s",
                failure.placeholders["error"],
            )
            return await self._async_show_grant_failed(failure)
        self.logger.info("Linked with the client credentials grant")
        self._grant = Grant.CLIENT_CREDENTIALS
        return await self.async_oauth_create_entry(
            {"auth_implementation": impl.domain, "token": token}
        )

    async def _async_show_grant_failed(self, failed: Failure) -> ConfigFlowResult:
        """Show the form the grant started from again, with what the provider said."""
        return await self.async_step_credentials(failed=failed)


def _callback_description() -> str | None:
    """The ``error_description`` of the OAuth2 callback being handled, if it is one."""
    request = current_request.get()
    if request is None or request.path != AUTH_CALLBACK_PATH:
        return None
    return request.query.get(ERROR_DESCRIPTION)
