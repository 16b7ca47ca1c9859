"""The account flow's grant steps: the login menu and the client credentials grant."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.exceptions import OAuth2TokenRequestError

from ..errors import Failure, client_credentials_failed
from .account import AccountFlowBase, Grant


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
        # A profile with a device endpoint always has an authorization endpoint.
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
