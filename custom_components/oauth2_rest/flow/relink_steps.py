"""The account flow's relink steps: reauth and reconfigure of a linked account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, override

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
)
from homeassistant.const import CONF_CLIENT_SECRET, CONF_NAME
from homeassistant.helpers.typing import UNDEFINED

from ..api import entry_profile
from ..const import CONF_PROVIDER, CONF_SCOPES, EXAMPLE_URLS
from ..credentials import async_stored_credentials
from ..errors import Failure
from ..oauth.implementation import OAuth2RestImplementation
from ..oauth.provider import ProviderProfile
from ..restart import async_update_and_abort
from .account import Grant
from .account_forms import (
    CONF_AUTHORIZE_PARAMS,
    NEW_SECRET_SCHEMA,
    entry_grant,
    reconfigure_endpoints,
    reconfigure_schema,
    reconfigure_suggested,
)
from .grant_steps import GrantSteps
from .provider_endpoints import read_endpoints
from .text import parse_authorize_params, parse_scopes


class RelinkSteps(GrantSteps):
    """Re-link an account: a new grant (and secret) for the same account."""

    async def _async_use_entry(
        self,
        entry: ConfigEntry,
        new_secret: str = "",
        profile: ProviderProfile | None = None,
    ) -> bool:
        """Take the entry's profile, scopes and stored credential; False if it's gone.

        A new client secret (the provider rotated it) replaces the stored one for
        this grant; it is stored, as a new credential, only once the grant worked.
        A changed ``profile`` (parameters, endpoints) replaces the entry's.
        """
        self._profile = profile or entry_profile(entry)
        self._entry_grant = entry_grant(entry)
        self._scopes = list(entry.data.get(CONF_SCOPES, []))
        stored = await async_stored_credentials(self.hass)
        if (impl := stored.get(entry.data["auth_implementation"])) is None:
            return False
        secret = impl.client_secret
        if (new_secret := new_secret.strip()) and new_secret != secret:
            secret = new_secret
            self._replaced_auth_domain = impl.domain
        self._credential = ClientCredential(impl.client_id, secret, impl.name)
        self.flow_impl = OAuth2RestImplementation(
            self.hass, impl.domain, self._credential, self._profile
        )
        return True

    @override
    async def _async_show_grant_failed(self, failed: Failure) -> ConfigFlowResult:
        """Re-linking shows its own form again."""
        errors = {"base": failed.key}
        if self.source == SOURCE_REAUTH:
            return self._async_show_reauth_client_credentials(
                errors, failed.placeholders
            )
        if self.source == SOURCE_RECONFIGURE:
            return self._async_show_reconfigure(None, errors, failed.placeholders)
        return await super()._async_show_grant_failed(failed)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The grant died: ask to re-link the same account."""
        if entry_grant(self._get_reauth_entry()) is Grant.CLIENT_CREDENTIALS:
            return await self.async_step_reauth_client_credentials()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_client_credentials(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The provider refused the client: ask for its new secret, no browser."""
        if user_input is None:
            return self._async_show_reauth_client_credentials()
        entry = self._get_reauth_entry()
        if await self._async_use_entry(entry, user_input.get(CONF_CLIENT_SECRET, "")):
            return await self.async_step_client_credentials()
        return await self.async_step_credentials()

    def _async_show_reauth_client_credentials(
        self,
        errors: dict[str, str] | None = None,
        error_placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        return self.async_show_form(
            step_id="reauth_client_credentials",
            data_schema=NEW_SECRET_SCHEMA,
            description_placeholders={
                "account": entry.title,
                "error": "",
                **(error_placeholders or {}),
            },
            errors=errors,
        )

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then authorize again (or re-enter a deleted credential)."""
        entry = self._get_reauth_entry()
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                data_schema=NEW_SECRET_SCHEMA,
                description_placeholders={"account": entry.title},
            )
        if await self._async_use_entry(entry, user_input.get(CONF_CLIENT_SECRET, "")):
            return await self._async_log_in()
        return await self.async_step_credentials()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the name and endpoints, or what needs a new grant.

        Scopes, authorization parameters and the client secret need a new grant;
        the revocation and device endpoints are used from the next setup on.
        """
        entry = self._get_reconfigure_entry()
        current_scopes = list(entry.data.get(CONF_SCOPES, []))
        current = entry_profile(entry)
        if user_input is None:
            return self._async_show_reconfigure(None)
        params = parse_authorize_params(user_input.get(CONF_AUTHORIZE_PARAMS))
        profile, errors = read_endpoints(
            current, user_input, reconfigure_endpoints(entry_grant(entry))
        )
        if params is None:
            errors[CONF_AUTHORIZE_PARAMS] = "invalid_authorize_params"
        if profile is None or params is None:
            return self._async_show_reconfigure(user_input, errors)
        self._title = user_input[CONF_NAME].strip() or entry.title
        scopes = parse_scopes(user_input.get(CONF_SCOPES, ""))
        new_secret = user_input.get(CONF_CLIENT_SECRET, "").strip()
        if (
            scopes == current_scopes
            and not new_secret
            and params == current.extra_authorize_params
        ):
            return async_update_and_abort(
                self,
                entry,
                title=self._title,
                data={**entry.data, CONF_PROVIDER: profile.as_dict()}
                if profile != current
                else UNDEFINED,
            )
        profile = replace(profile, extra_authorize_params=params)
        if not await self._async_use_entry(entry, new_secret, profile):
            return self.async_abort(reason="credential_missing")
        self._scopes = scopes
        return await self._async_log_in()

    def _async_show_reconfigure(
        self,
        user_input: dict[str, Any] | None,
        errors: dict[str, str] | None = None,
        error_placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        suggested = reconfigure_suggested(
            self._title or entry.title,
            self._scopes or list(entry.data.get(CONF_SCOPES, [])),
            self._profile or entry_profile(entry),
            user_input,
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                reconfigure_schema(entry_grant(entry)), suggested
            ),
            description_placeholders={
                "error": "",
                **EXAMPLE_URLS,
                **(error_placeholders or {}),
            },
            errors=errors,
        )
