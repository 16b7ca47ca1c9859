"""Config flow: provider -> credentials -> grant -> entry; reauth; reconfigure.

The steps are here and in their groups (``flow/discovery_steps.py``: what
discovery found, and what the user adds to it; ``flow/grant_steps.py``: the
login menu, the login on another device, the client credentials grant, a refused
authorization; ``flow/relink_steps.py``: reauth and reconfigure); the forms and
what they map to are in ``flow/account_forms.py``.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_CLIENT_ID
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import UNDEFINED

from .const import DOMAIN, EXAMPLE_URLS, LINKING_DOCS_URL
from .control import SUBENTRY_TYPE_CONTROL
from .control_flow import ControlSubentryFlow
from .credentials import (
    async_delete_unused_credential,
    async_store_credential,
    async_store_new_secret,
    async_stored_credentials,
)
from .endpoint import SUBENTRY_TYPE_ENDPOINT
from .endpoint_flow import EndpointSubentryFlow
from .errors import Failure
from .flow.account import Grant
from .flow.account_forms import (
    ACCOUNT_NAME_SCHEMA,
    CONF_ACCOUNT_NAME,
    CONF_ISSUER_URL,
    CONF_PRESET,
    CONF_SUBJECT_FROM_USER,
    DISCOVERY_SCHEMA,
    MANUAL_SCHEMA,
    credentials_schema,
    credentials_suggested,
    entry_data,
    fill_preset,
    preset_details_schema,
    preset_schema,
    provider_id,
    read_credentials,
    read_manual,
    stored_identity,
)
from .flow.discovery_steps import DiscoverySteps
from .flow.relink_steps import RelinkSteps
from .oauth.discovery import DiscoveryError, async_discover
from .oauth.identity import AccountIdentity, IdentityLookupError, async_identify
from .oauth.implementation import OAuth2RestImplementation
from .oauth.provider import load_presets
from .options_flow import OAuth2RestOptionsFlow
from .redirect import shown_redirect_uri
from .restart import async_update_and_abort


class OAuth2RestConfigFlow(DiscoverySteps, RelinkSteps, domain=DOMAIN):
    """Link an account at any OAuth 2.0 provider."""

    DOMAIN = DOMAIN
    VERSION = 1

    @property
    @override
    def logger(self) -> logging.Logger:
        """Return the flow's logger."""
        return logging.getLogger(__name__)

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Endpoints and controls (switches, buttons, notify entities) are subentries of an account."""
        return {
            SUBENTRY_TYPE_ENDPOINT: EndpointSubentryFlow,
            SUBENTRY_TYPE_CONTROL: ControlSubentryFlow,
        }

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> OAuth2RestOptionsFlow:
        """Allowed origins and the response size cap."""
        return OAuth2RestOptionsFlow()

    # -- choosing the provider ---------------------------------------------------

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the provider's description comes from."""
        return self.async_show_menu(
            step_id="user", menu_options=["preset", "discovery", "manual"]
        )

    async def async_step_preset(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a provider from the catalog."""
        presets = await self.hass.async_add_executor_job(load_presets)
        if user_input is not None:
            self._profile = presets[user_input[CONF_PRESET]]
            if self._profile.placeholders:
                return await self.async_step_preset_details()
            return await self.async_step_credentials()
        return self.async_show_form(
            step_id="preset", data_schema=preset_schema(presets)
        )

    async def async_step_preset_details(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tenant, realm or domain a preset needs."""
        assert self._profile is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            if (filled := fill_preset(self._profile, user_input)) is not None:
                self._profile = filled
                return await self.async_step_credentials()
            errors["base"] = "invalid_placeholder"
        return self.async_show_form(
            step_id="preset_details",
            data_schema=self.add_suggested_values_to_schema(
                preset_details_schema(self._profile), user_input
            ),
            description_placeholders={"provider": self._profile.name, **EXAMPLE_URLS},
            errors=errors,
        )

    @override
    async def async_step_discovery(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Describe the provider from its issuer URL (RFC 8414 / OpenID discovery)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._profile = await async_discover(
                    async_get_clientsession(self.hass),
                    user_input[CONF_ISSUER_URL].strip(),
                )
            except DiscoveryError as err:
                errors["base"] = err.translation_key
            else:
                return await self.async_step_discovered()
        return self.async_show_form(
            step_id="discovery",
            data_schema=self.add_suggested_values_to_schema(
                DISCOVERY_SCHEMA, user_input
            ),
            description_placeholders=EXAMPLE_URLS,
            errors=errors,
        )

    async def async_step_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter the endpoints by hand."""
        errors: dict[str, str] = {}
        if user_input is not None:
            profile, errors = read_manual(user_input)
            if profile is not None:
                self._profile = profile
                return await self.async_step_credentials()
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(MANUAL_SCHEMA, user_input),
            description_placeholders=EXAMPLE_URLS,
            errors=errors,
        )

    # -- credentials and scopes -----------------------------------------------------

    @override
    async def async_step_credentials(
        self, user_input: dict[str, Any] | None = None, failed: Failure | None = None
    ) -> ConfigFlowResult:
        """Client id and secret (new, or stored under Application Credentials), scopes.

        A grant that ``failed`` after this step (client credentials refused) shows
        the form again with what was entered and what the provider said.
        """
        assert self._profile is not None
        profile = self._profile
        stored = await async_stored_credentials(self.hass)
        errors = {"base": failed.key} if failed is not None else {}
        if user_input is not None:
            chosen, form_errors = read_credentials(user_input, stored, profile)
            errors.update(form_errors)
            if chosen is not None and not errors:
                self._credential = chosen.credential
                self._scopes = chosen.scopes
                self._profile = chosen.profile
                self.flow_impl = OAuth2RestImplementation(
                    self.hass, chosen.auth_domain, chosen.credential, chosen.profile
                )
                return await self._async_log_in()
        if user_input is None and errors and self._credential is not None:
            user_input = {CONF_CLIENT_ID: self._credential.client_id}
        return self.async_show_form(
            step_id="credentials",
            data_schema=self.add_suggested_values_to_schema(
                credentials_schema(stored, profile, self._scopes),
                credentials_suggested(profile, stored, user_input),
            ),
            description_placeholders={
                "provider": profile.name,
                "redirect_uri": shown_redirect_uri(self.hass),
                # The provider's developer docs, else ours on linking an account.
                "docs_url": profile.documentation_url or LINKING_DOCS_URL,
                "error": "",
                **(failed.placeholders if failed is not None else {}),
            },
            errors=errors,
        )

    # -- after the grant ----------------------------------------------------------

    @override
    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Identify the account, then create or update the entry."""
        # The token is kept only in the flow until the account is known.
        self._token_data = data
        return await self.async_step_identify()

    async def async_step_identify(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the provider who the account is; on failure offer to ask again.

        A failed lookup is never replaced by a guess: not by the entry's stored
        subject (that would let reauth link any account) and not by a name (that
        would give the entry a unique id the real subject never matches later).
        Retrying uses the same token, so no new login is needed.
        """
        assert (
            self._token_data is not None
            and self._profile is not None
            and self._credential is not None
        )
        if self._grant is Grant.CLIENT_CREDENTIALS:
            # No user: the account is the client, at this provider.
            client_id = self._credential.client_id
            return await self._async_finish(
                self._token_data, AccountIdentity(client_id, client_id)
            )
        try:
            identity = await async_identify(
                async_get_clientsession(self.hass),
                self._profile,
                self._credential.client_id,
                self._token_data["token"],
            )
        except IdentityLookupError as err:
            self.logger.warning("Could not tell which account was linked: %s", err)
            return self.async_show_form(
                step_id="identify",
                description_placeholders={"provider": self._profile.name},
                errors={"base": "identify_failed"},
            )
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            entry = self._get_entry_being_changed()
            if identity is None or entry.data.get(CONF_SUBJECT_FROM_USER):
                # The provider has no way to tell (identity is None), or the entry
                # is known by the name the user gave it at creation: its identity
                # cannot be checked, so it is kept. An entry named by the user is
                # kept even when the provider identifies accounts by now (userinfo
                # added later): its unique id ``<provider>#<name>`` would never
                # match the real subject, and re-linking would fail forever.
                identity = stored_identity(entry)
        if identity is None:
            return await self.async_step_account_name()
        return await self._async_finish(self._token_data, identity)

    async def async_step_account_name(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The provider does not say who the account is: ask for a name."""
        assert self._token_data is not None and self._profile is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_ACCOUNT_NAME].strip()
            if name:
                return await self._async_finish(
                    self._token_data, AccountIdentity(name, name, from_user=True)
                )
            errors[CONF_ACCOUNT_NAME] = "account_name_required"
        return self.async_show_form(
            step_id="account_name",
            data_schema=ACCOUNT_NAME_SCHEMA,
            description_placeholders={"provider": self._profile.name},
            errors=errors,
        )

    async def _async_finish(
        self, data: dict[str, Any], identity: AccountIdentity
    ) -> ConfigFlowResult:
        assert self._profile is not None and self._credential is not None
        # What the first token answer showed about the provider's token answers.
        self._profile = replace(self._profile, quirks=self._rest_impl().profile.quirks)
        await self.async_set_unique_id(
            f"{provider_id(self._profile)}#{identity.subject}"
        )
        new_data = entry_data(data, self._profile, self._scopes, identity)
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            self._abort_if_unique_id_mismatch(reason="wrong_account")
        else:
            self._abort_if_unique_id_configured()
        # Only now, with a working grant, does the credential go into HA's store.
        if (replaced := self._replaced_auth_domain) is not None:
            new_data["auth_implementation"] = await async_store_new_secret(
                self.hass, self._credential, replaced
            )
        else:
            await async_store_credential(
                self.hass, self._credential, self.flow_impl.domain
            )
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            result = async_update_and_abort(
                self,
                self._get_entry_being_changed(),
                title=self._title or UNDEFINED,
                data=new_data,
            )
            if replaced is not None:
                await async_delete_unused_credential(self.hass, replaced)
            return result
        label = identity.label or identity.subject
        return self.async_create_entry(
            title=f"{self._profile.name} ({label})", data=new_data
        )
