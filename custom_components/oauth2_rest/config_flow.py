"""Config flow: provider -> credentials -> grant -> entry; reauth; reconfigure."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
import logging
import re
import time
from typing import Any, override

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_NAME
from homeassistant.core import callback
from homeassistant.exceptions import (
    OAuth2TokenRequestError,
    OAuth2TokenRequestReauthError,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
from homeassistant.helpers.selector import (
    QrCodeSelector,
    QrCodeSelectorConfig,
    QrErrorCorrectionLevel,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.util import slugify
import voluptuous as vol
from yarl import URL

from .api import entry_profile
from .const import (
    CONF_PROVIDER,
    CONF_SCOPES,
    CONF_SUBJECT,
    DOMAIN,
    EXAMPLE_URLS,
    LINKING_DOCS_URL,
)
from .credentials import (
    async_delete_unused_credential,
    async_store_credential,
    async_store_new_secret,
    async_stored_credentials,
)
from .endpoint import SUBENTRY_TYPE_ENDPOINT
from .endpoint_flow import EndpointSubentryFlow, format_lines, parse_lines
from .oauth.device import (
    DeviceAuthorization,
    DeviceFlowError,
    DeviceOutcome,
    async_poll_device_token,
    async_start_device_authorization,
)
from .oauth.discovery import DiscoveryError, async_discover
from .oauth.identity import AccountIdentity, IdentityLookupError, async_identify
from .oauth.implementation import OAuth2RestImplementation, is_client_credentials_token
from .oauth.provider import ClientAuthMethod, PkceMode, ProviderProfile, load_presets
from .oauth.token_response import TokenEndpointError
from .options_flow import OAuth2RestOptionsFlow
from .redirect import shown_redirect_uri
from .restart import async_update_and_abort

CONF_PRESET = "preset"
CONF_ISSUER_URL = "issuer_url"
CONF_CREDENTIAL = "credential"
CONF_API_BASE_URL = "api_base_url"
CONF_ACCOUNT_NAME = "account_name"
# Entry data: the subject is the name the user gave the account (the provider could
# not say who it is), so nothing at the provider can ever confirm or refute it.
CONF_SUBJECT_FROM_USER = "subject_from_user"
CONF_CLIENT_CREDENTIALS = "client_credentials"
CONF_AUTHORIZE_PARAMS = "extra_authorize_params"
CONF_QR_CODE = "qr_code"
NEW_CREDENTIAL = "new_credential"
OFFLINE_ACCESS = "offline_access"
# The grants a flow can link with: the steps of the login menu.
GRANT_BROWSER = "auth"
GRANT_DEVICE = "device"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
# Authorization parameters the implementation sets itself.
_RESERVED_AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    }
)

_MANUAL_OPTIONAL_URL_FIELDS = ("api_base_url", "userinfo_url", "revocation_url")
_SCOPE_SPLIT = re.compile(r"[\s,]+")
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_LINES = TextSelector(TextSelectorConfig(multiline=True))


def parse_scopes(text: str) -> list[str]:
    """Split what the user typed (spaces or commas) into scopes."""
    return [scope for scope in _SCOPE_SPLIT.split(text.strip()) if scope]


def parse_authorize_params(text: str | None) -> dict[str, str] | None:
    """Parse ``name=value`` lines of extra authorization parameters.

    None when a line is malformed or names a parameter set by the integration.
    """
    params = parse_lines(text, "=")
    if params is None or _RESERVED_AUTHORIZE_PARAMS & set(params):
        return None
    return params


def is_client_credentials_entry(entry: ConfigEntry) -> bool:
    """Whether the entry's token comes from the client credentials grant."""
    return is_client_credentials_token(entry.data["token"])


def is_http_url(value: str) -> bool:
    """Whether value is an absolute http(s) URL with a host."""
    try:
        url = URL(value)
    except ValueError:  # yarl rejects e.g. "http://[::1" or a port out of range
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def provider_id(profile: ProviderProfile) -> str:
    """Identify the authorization server: its issuer, else its token endpoint origin."""
    return profile.issuer or str(URL(profile.token_url).origin())


@dataclass(slots=True)
class DeviceLogin:
    """A device login (RFC 8628) in progress: the code shown, and the wait for it."""

    authorization: DeviceAuthorization
    task: asyncio.Task[None] | None = None
    token: dict[str, Any] | None = None
    error: DeviceFlowError | None = None

    async def async_wait(self, impl: OAuth2RestImplementation) -> None:
        """Poll until the user approved, denied or gave up (the progress task)."""
        try:
            self.token = await async_poll_device_token(impl, self.authorization)
        except DeviceFlowError as err:
            self.error = err


class OAuth2RestConfigFlow(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Link an account at any OAuth 2.0 provider."""

    DOMAIN = DOMAIN
    VERSION = 1

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
        # The device authorization grant (RFC 8628), once the user picked it.
        self._device: DeviceLogin | None = None
        # Re-linking keeps the entry's grant: the client's own (client credentials)
        # or a user's login (browser or device). None for a new account.
        self._entry_grant: str | None = None
        # How the token of this flow was got, once it was.
        self._grant: str | None = None

    @callback
    @override
    def async_remove(self) -> None:
        """The flow ended or was closed: stop waiting for a device login.

        While the QR code form is shown the wait is not yet HA's progress task,
        which HA would cancel by itself.
        """
        if self._device is not None and self._device.task is not None:
            self._device.task.cancel()

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
        """Endpoints are subentries of an account."""
        return {SUBENTRY_TYPE_ENDPOINT: EndpointSubentryFlow}

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> OAuth2RestOptionsFlow:
        """Allowed origins and the response size cap."""
        return OAuth2RestOptionsFlow()

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
        options = [
            SelectOptionDict(value=key, label=profile.name)
            for key, profile in sorted(
                presets.items(), key=lambda kv: kv[1].name.lower()
            )
        ]
        return self.async_show_form(
            step_id="preset",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_PRESET): SelectSelector(
                        SelectSelectorConfig(
                            options=options, mode=SelectSelectorMode.DROPDOWN
                        )
                    )
                }
            ),
        )

    async def async_step_preset_details(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tenant, realm or domain a preset needs."""
        assert self._profile is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            values = {k: str(v).strip().strip("/") for k, v in user_input.items()}
            filled = self._profile.with_placeholders(values)
            if all(
                is_http_url(url) for url in (filled.authorize_url, filled.token_url)
            ):
                self._profile = filled
                return await self.async_step_credentials()
            errors["base"] = "invalid_placeholder"
        return self.async_show_form(
            step_id="preset_details",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {vol.Required(name): str for name in self._profile.placeholders}
                ),
                user_input,
            ),
            description_placeholders={"provider": self._profile.name, **EXAMPLE_URLS},
            errors=errors,
        )

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
                return await self.async_step_credentials()
        return self.async_show_form(
            step_id="discovery",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_ISSUER_URL): _URL}), user_input
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
            name = user_input[CONF_NAME].strip()
            client_credentials = user_input.get(CONF_CLIENT_CREDENTIALS, False)
            if not name:
                errors[CONF_NAME] = "name_required"
            if not is_http_url(user_input["token_url"]):
                errors["token_url"] = "invalid_url"
            if authorize_url := user_input.get("authorize_url", "").strip():
                if not is_http_url(authorize_url):
                    errors["authorize_url"] = "invalid_url"
            elif not client_credentials:
                errors["authorize_url"] = "authorize_url_required"
            for key in _MANUAL_OPTIONAL_URL_FIELDS:
                if user_input.get(key) and not is_http_url(user_input[key]):
                    errors[key] = "invalid_url"
            params = parse_authorize_params(user_input.get(CONF_AUTHORIZE_PARAMS))
            if params is None:
                errors[CONF_AUTHORIZE_PARAMS] = "invalid_authorize_params"
            if not errors:
                assert params is not None
                self._profile = ProviderProfile(
                    key="manual",
                    name=name,
                    authorize_url=authorize_url,
                    token_url=user_input["token_url"],
                    api_base_url=user_input.get("api_base_url") or None,
                    userinfo_url=user_input.get("userinfo_url") or None,
                    revocation_url=user_input.get("revocation_url") or None,
                    client_auth=ClientAuthMethod(user_input["client_auth"]),
                    pkce=PkceMode(user_input["pkce"]),
                    default_scopes=tuple(parse_scopes(user_input.get(CONF_SCOPES, ""))),
                    scope_separator=user_input.get("scope_separator") or " ",
                    extra_authorize_params=params,
                    client_credentials=client_credentials,
                )
                return await self.async_step_credentials()
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): str,
                vol.Optional("authorize_url"): _URL,
                vol.Required("token_url"): _URL,
                vol.Optional("api_base_url"): _URL,
                vol.Optional("userinfo_url"): _URL,
                vol.Optional("revocation_url"): _URL,
                vol.Required(
                    "client_auth", default=ClientAuthMethod.CLIENT_SECRET_BASIC.value
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[m.value for m in ClientAuthMethod],
                        translation_key="client_auth",
                    )
                ),
                vol.Required("pkce", default=PkceMode.SUPPORTED.value): SelectSelector(
                    SelectSelectorConfig(
                        options=[m.value for m in PkceMode], translation_key="pkce"
                    )
                ),
                vol.Optional(CONF_SCOPES, default=""): str,
                vol.Optional("scope_separator", default=" "): str,
                vol.Optional(CONF_AUTHORIZE_PARAMS): _LINES,
                vol.Optional(CONF_CLIENT_CREDENTIALS, default=False): bool,
            }
        )
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            description_placeholders=EXAMPLE_URLS,
            errors=errors,
        )

    # -- credentials and scopes -----------------------------------------------------

    async def async_step_credentials(
        self,
        user_input: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        error_placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """Client id and secret (new, or stored under Application Credentials), scopes.

        ``errors`` come from a grant that failed after this step (client
        credentials refused): the form is shown again with what was entered.
        """
        assert self._profile is not None
        profile = self._profile
        stored = await async_stored_credentials(self.hass)
        errors = dict(errors or {})
        if user_input is not None:
            chosen = user_input.get(CONF_CREDENTIAL, NEW_CREDENTIAL)
            client_id = user_input.get(CONF_CLIENT_ID, "").strip()
            client_secret = user_input.get(CONF_CLIENT_SECRET, "").strip()
            base_url = user_input.get(CONF_API_BASE_URL, "").strip()
            auth_domain = slugify(f"{DOMAIN}.{client_id}")
            if chosen != NEW_CREDENTIAL:
                if (impl := stored.get(chosen)) is None:
                    # Deleted under Application credentials since the form was shown.
                    errors["base"] = "credential_missing"
                else:
                    auth_domain = chosen
                    credential = ClientCredential(
                        impl.client_id, impl.client_secret, impl.name
                    )
            elif not client_id:
                errors[CONF_CLIENT_ID] = "client_id_required"
            elif not client_secret and profile.client_auth is not ClientAuthMethod.NONE:
                errors[CONF_CLIENT_SECRET] = "client_secret_required"
            elif (
                auth_domain in stored
                and stored[auth_domain].client_secret != client_secret
            ):
                errors[CONF_CLIENT_ID] = "credential_conflict"
            else:
                credential = ClientCredential(client_id, client_secret, profile.name)
            if base_url and not is_http_url(base_url):
                errors[CONF_API_BASE_URL] = "invalid_url"
            params = parse_authorize_params(user_input.get(CONF_AUTHORIZE_PARAMS))
            if params is None:
                errors[CONF_AUTHORIZE_PARAMS] = "invalid_authorize_params"
            if not errors:
                assert params is not None
                self._credential = credential
                self._scopes = parse_scopes(user_input.get(CONF_SCOPES, ""))
                self._profile = replace(
                    profile,
                    api_base_url=base_url or profile.api_base_url,
                    extra_authorize_params=params,
                )
                self.flow_impl = OAuth2RestImplementation(
                    self.hass, auth_domain, credential, self._profile
                )
                return await self._async_log_in()

        fields: dict[Any, Any] = {}
        if stored:
            options = [SelectOptionDict(value=NEW_CREDENTIAL, label="+")] + [
                SelectOptionDict(value=key, label=f"{impl.name} ({impl.client_id})")
                for key, impl in stored.items()
            ]
            fields[vol.Required(CONF_CREDENTIAL, default=NEW_CREDENTIAL)] = (
                SelectSelector(
                    SelectSelectorConfig(options=options, translation_key="credential")
                )
            )
        fields[vol.Optional(CONF_CLIENT_ID)] = str
        fields[vol.Optional(CONF_CLIENT_SECRET)] = _PASSWORD
        # Reauth keeps the scopes the entry was granted; a new flow starts from the
        # provider's defaults.
        scopes = self._scopes or list(profile.default_scopes)
        fields[vol.Optional(CONF_SCOPES, default=" ".join(scopes))] = str
        fields[vol.Optional(CONF_API_BASE_URL, default=profile.api_base_url or "")] = (
            _URL
        )
        # Prefilled with the provider's (Auth0's audience, Google's offline access...).
        fields[vol.Optional(CONF_AUTHORIZE_PARAMS)] = _LINES
        if user_input is None and errors and self._credential is not None:
            user_input = {CONF_CLIENT_ID: self._credential.client_id}
        suggested = {
            CONF_AUTHORIZE_PARAMS: format_lines(profile.extra_authorize_params, "="),
            **{
                k: v
                for k, v in (user_input or {}).items()
                if k != CONF_CLIENT_SECRET
                and not (k == CONF_CREDENTIAL and v not in stored)
            },
        }
        return self.async_show_form(
            step_id="credentials",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(fields), suggested
            ),
            description_placeholders={
                "provider": profile.name,
                "redirect_uri": shown_redirect_uri(self.hass),
                # The provider's developer docs, else ours on linking an account.
                "docs_url": profile.documentation_url or LINKING_DOCS_URL,
                "error": "",
                **(error_placeholders or {}),
            },
            errors=errors,
        )

    # -- the grant: in this browser, or on another device --------------------------

    def _grants(self) -> list[str]:
        """The grants this flow may link with, in the order of the login menu.

        Re-linking keeps the entry's kind of grant: the account is the client
        itself (client credentials) or a user who logs in, and the entry's
        identity depends on which.
        """
        assert self._profile is not None
        if self._entry_grant == GRANT_CLIENT_CREDENTIALS:
            return [GRANT_CLIENT_CREDENTIALS]
        grants = []
        if self._profile.authorize_url:
            grants.append(GRANT_BROWSER)
        if self._profile.device_authorization_url:
            grants.append(GRANT_DEVICE)
        if self._profile.client_credentials and self._entry_grant is None:
            grants.append(GRANT_CLIENT_CREDENTIALS)
        return grants

    async def _async_log_in(self) -> ConfigFlowResult:
        """Offer the grants the provider has; go straight on when there is one."""
        grants = self._grants()
        if len(grants) > 1:
            return await self.async_step_login()
        if grants == [GRANT_CLIENT_CREDENTIALS]:
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
            menu_options=self._grants(),
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
            return await self._async_client_credentials_failed(err)
        self.logger.info("Linked with the client credentials grant")
        self._grant = GRANT_CLIENT_CREDENTIALS
        return await self.async_oauth_create_entry(
            {"auth_implementation": impl.domain, "token": token}
        )

    async def _async_client_credentials_failed(
        self, err: OAuth2TokenRequestError
    ) -> ConfigFlowResult:
        """Show where the request came from again, with what the provider said."""
        code = (
            err.__cause__.error if isinstance(err.__cause__, TokenEndpointError) else ""
        )
        if isinstance(err, OAuth2TokenRequestReauthError):
            error = (
                "invalid_client"
                if code == "invalid_client"
                else "client_credentials_refused"
            )
        else:
            error = "client_credentials_failed"
        self.logger.warning(
            "The client credentials request failed: %s", code or type(err).__name__
        )
        errors = {"base": error}
        placeholders = {"error": code or type(err).__name__}
        if self.source == SOURCE_REAUTH:
            return self._async_show_reauth_client_credentials(errors, placeholders)
        if self.source == SOURCE_RECONFIGURE:
            return self._async_show_reconfigure(None, errors, placeholders)
        return await self.async_step_credentials(
            errors=errors, error_placeholders=placeholders
        )

    def _rest_impl(self) -> OAuth2RestImplementation:
        assert isinstance(self.flow_impl, OAuth2RestImplementation)
        return self.flow_impl

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
        if user_input is not None:
            return await self.async_step_device_wait()
        shown = self._device.authorization
        return self.async_show_form(
            step_id="device",
            data_schema=vol.Schema(
                {
                    # What a phone's camera opens: the link with the code in it.
                    vol.Optional(CONF_QR_CODE): QrCodeSelector(
                        QrCodeSelectorConfig(
                            data=shown.verification_uri_complete
                            or shown.verification_uri,
                            scale=5,
                            error_correction_level=QrErrorCorrectionLevel.MEDIUM,
                        )
                    )
                }
            ),
            description_placeholders=self._device_placeholders(),
        )

    def _device_placeholders(self) -> dict[str, str]:
        assert self._profile is not None and self._device is not None
        shown = self._device.authorization
        complete = shown.verification_uri_complete
        return {
            "provider": self._profile.name,
            "user_code": shown.user_code,
            "verification_uri": shown.verification_uri,
            # A link that fills in the code when the server gives one.
            "direct_url": complete or shown.verification_uri,
        }

    async def async_step_device_wait(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Wait for the login on the other device (it may be done already)."""
        assert self._device is not None and self._device.task is not None
        if self._device.task.done():
            return self.async_show_progress_done(next_step_id="device_done")
        return self.async_show_progress(
            step_id="device_wait",
            progress_action="device",
            description_placeholders=self._device_placeholders(),
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
        token["expires_at"] = time.time() + token["expires_in"]
        return await self.async_oauth_create_entry(
            {"auth_implementation": self.flow_impl.domain, "token": token}
        )

    def _async_abort_device(self, err: DeviceFlowError) -> ConfigFlowResult:
        if err.outcome is DeviceOutcome.FAILED:
            self.logger.warning("The device login failed: %s", err.detail)
        return self.async_abort(
            reason=err.outcome.value, description_placeholders={"error": err.detail}
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
        if self._grant == GRANT_CLIENT_CREDENTIALS:
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
                identity = AccountIdentity(
                    entry.data[CONF_SUBJECT],
                    from_user=bool(entry.data.get(CONF_SUBJECT_FROM_USER)),
                )
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
            data_schema=vol.Schema({vol.Required(CONF_ACCOUNT_NAME): str}),
            description_placeholders={"provider": self._profile.name},
            errors=errors,
        )

    def _get_entry_being_changed(self) -> ConfigEntry:
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        return self._get_reconfigure_entry()

    async def _async_finish(
        self, data: dict[str, Any], identity: AccountIdentity
    ) -> ConfigFlowResult:
        assert self._profile is not None and self._credential is not None
        # What the first token answer showed about the provider's token answers.
        self._profile = replace(self._profile, quirks=self._rest_impl().profile.quirks)
        await self.async_set_unique_id(
            f"{provider_id(self._profile)}#{identity.subject}"
        )
        entry_data = {
            **data,
            CONF_PROVIDER: self._profile.as_dict(),
            CONF_SCOPES: self._scopes,
            CONF_SUBJECT: identity.subject,
        }
        if identity.from_user:
            entry_data[CONF_SUBJECT_FROM_USER] = True
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            self._abort_if_unique_id_mismatch(reason="wrong_account")
        else:
            self._abort_if_unique_id_configured()
        # Only now, with a working grant, does the credential go into HA's store.
        if (replaced := self._replaced_auth_domain) is not None:
            entry_data["auth_implementation"] = await async_store_new_secret(
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
                data=entry_data,
            )
            if replaced is not None:
                await async_delete_unused_credential(self.hass, replaced)
            return result
        label = identity.label or identity.subject
        return self.async_create_entry(
            title=f"{self._profile.name} ({label})", data=entry_data
        )

    # -- reauth and reconfigure -----------------------------------------------------

    async def _async_use_entry(
        self,
        entry: ConfigEntry,
        new_secret: str = "",
        authorize_params: dict[str, str] | None = None,
    ) -> bool:
        """Take the entry's profile, scopes and stored credential; False if it's gone.

        A new client secret (the provider rotated it) replaces the stored one for
        this grant; it is stored, as a new credential, only once the grant worked.
        New authorization parameters replace the profile's.
        """
        self._profile = entry_profile(entry)
        if authorize_params is not None:
            self._profile = replace(
                self._profile, extra_authorize_params=authorize_params
            )
        self._entry_grant = (
            GRANT_CLIENT_CREDENTIALS
            if is_client_credentials_entry(entry)
            else GRANT_BROWSER
        )
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

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The grant died: ask to re-link the same account."""
        if is_client_credentials_entry(self._get_reauth_entry()):
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
            data_schema=vol.Schema({vol.Optional(CONF_CLIENT_SECRET): _PASSWORD}),
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
                data_schema=vol.Schema({vol.Optional(CONF_CLIENT_SECRET): _PASSWORD}),
                description_placeholders={"account": entry.title},
            )
        if await self._async_use_entry(entry, user_input.get(CONF_CLIENT_SECRET, "")):
            return await self._async_log_in()
        return await self.async_step_credentials()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the name, or what needs a new grant.

        Scopes, authorization parameters and the client secret need a new grant.
        """
        entry = self._get_reconfigure_entry()
        current_scopes = list(entry.data.get(CONF_SCOPES, []))
        current_params = dict(entry_profile(entry).extra_authorize_params)
        if user_input is None:
            return self._async_show_reconfigure(None)
        params = parse_authorize_params(user_input.get(CONF_AUTHORIZE_PARAMS))
        if params is None:
            return self._async_show_reconfigure(
                user_input, {CONF_AUTHORIZE_PARAMS: "invalid_authorize_params"}
            )
        self._title = user_input[CONF_NAME].strip() or entry.title
        scopes = parse_scopes(user_input.get(CONF_SCOPES, ""))
        new_secret = user_input.get(CONF_CLIENT_SECRET, "").strip()
        if scopes == current_scopes and not new_secret and params == current_params:
            return async_update_and_abort(self, entry, title=self._title)
        if not await self._async_use_entry(entry, new_secret, params):
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
        profile = self._profile or entry_profile(entry)
        scopes = self._scopes or list(entry.data.get(CONF_SCOPES, []))
        suggested = {
            CONF_NAME: self._title or entry.title,
            CONF_SCOPES: " ".join(scopes),
            CONF_AUTHORIZE_PARAMS: format_lines(profile.extra_authorize_params, "="),
            **{k: v for k, v in (user_input or {}).items() if k != CONF_CLIENT_SECRET},
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_NAME): str,
                        vol.Optional(CONF_SCOPES): str,
                        vol.Optional(CONF_AUTHORIZE_PARAMS): _LINES,
                        vol.Optional(CONF_CLIENT_SECRET): _PASSWORD,
                    }
                ),
                suggested,
            ),
            description_placeholders={
                "error": "",
                **EXAMPLE_URLS,
                **(error_placeholders or {}),
            },
            errors=errors,
        )
