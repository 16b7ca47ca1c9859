"""The account flow's grant steps: login menu, device login, the client's own token, refusals.

A refusal is an authorization the server sent back without a code.
"""

from __future__ import annotations

from typing import Any, override

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import callback
from homeassistant.exceptions import OAuth2TokenRequestError
from homeassistant.helpers.config_entry_oauth2_flow import AUTH_CALLBACK_PATH

# The request context itself, not the module attribute (which tests replace).
from homeassistant.helpers.http import current_request

from ..errors import Failure, authorization_refused, client_credentials_failed
from ..oauth.device import (
    DeviceFlowError,
    DeviceLogin,
    DeviceOutcome,
    async_start_device_authorization,
)
from ..oauth.identity import NonceMismatchError
from ..oauth.token_set import stamp_expiry
from ..redact import Secrets
from .account import AccountFlowBase, Grant
from .account_forms import device_placeholders, device_schema

# RFC 6749 4.1.2.1: what the server says about a refusal, beside its code.
ERROR_DESCRIPTION = "error_description"


class GrantSteps(AccountFlowBase):
    """Offer the grants; log in on another device; get a token for the client."""

    def __init__(self) -> None:
        """Start with no grant chosen."""
        super().__init__()
        # The device authorization grant (RFC 8628), once the user picked it.
        self._device: DeviceLogin | None = None

    @callback
    @override
    def async_remove(self) -> None:
        """The flow ended or was closed: stop waiting for a device login.

        While the QR code form is shown the wait is not yet HA's progress task,
        which HA would cancel by itself.
        """
        if self._device is not None and self._device.task is not None:
            self._device.task.cancel()

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

    # -- the grant on another device (RFC 8628) ------------------------------------

    @override
    async def async_step_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the user code while waiting for the login on another device."""
        assert self._profile is not None
        if self._device is None:
            impl = self._rest_impl()
            scope = self._profile.join_scopes(self._scopes) if self._scopes else None
            try:
                authorization = await async_start_device_authorization(impl, scope)
            except DeviceFlowError as err:
                return self._async_abort_device(err)
            self._device = DeviceLogin(authorization)
            self._device.task = self.hass.async_create_task(
                self._device.async_wait(impl)
            )
        shown = self._device.authorization
        if user_input is not None or shown.link is None:  # no link: no QR code
            return await self.async_step_device_wait()
        return self.async_show_form(
            step_id="device",
            data_schema=device_schema(shown),
            description_placeholders=device_placeholders(self._profile, shown),
        )

    async def async_step_device_wait(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Wait for the login on the other device (it may be done already)."""
        assert self._device is not None and self._device.task is not None
        assert self._profile is not None
        if self._device.task.done():
            return self.async_show_progress_done(next_step_id="device_done")
        return self.async_show_progress(
            step_id="device_wait",
            progress_action=self._device.authorization.progress_action,
            description_placeholders=device_placeholders(
                self._profile, self._device.authorization
            ),
            progress_task=self._device.task,
        )

    async def async_step_device_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The device login ended: go on like the code flow, or abort."""
        assert self._device is not None
        if (token := self._device.token) is None:
            return self._async_abort_device(
                self._device.error
                or DeviceFlowError(DeviceOutcome.FAILED, "unexpected error")
            )
        self.logger.info("Successfully authenticated on another device")
        # As HA's async_step_creation does for the code flow.
        return await self.async_oauth_create_entry(
            {"auth_implementation": self.flow_impl.domain, "token": stamp_expiry(token)}
        )

    def _async_abort_device(self, err: DeviceFlowError) -> ConfigFlowResult:
        if err.outcome is DeviceOutcome.FAILED:
            self.logger.warning("The device login failed: %s", err.detail)
        return self.async_abort(
            reason=err.outcome.value, description_placeholders={"error": err.detail}
        )


def _callback_description() -> str | None:
    """The ``error_description`` of the OAuth2 callback being handled, if it is one."""
    request = current_request.get()
    if request is None or request.path != AUTH_CALLBACK_PATH:
        return None
    return request.query.get(ERROR_DESCRIPTION)
