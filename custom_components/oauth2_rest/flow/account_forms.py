"""The account flow's forms: their fields, and what a filled-in form maps to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_NAME
from homeassistant.helpers.config_entry_oauth2_flow import LocalOAuth2Implementation
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
from homeassistant.util import slugify
import voluptuous as vol

from ..client.urls import http_url
from ..const import CONF_PROVIDER, CONF_SCOPES, CONF_SUBJECT, DOMAIN
from ..oauth.device import DeviceAuthorization
from ..oauth.identity import AccountIdentity
from ..oauth.provider import ClientAuthMethod, PkceMode, ProviderProfile
from ..oauth.token_set import is_client_credentials_token
from .account import Grant
from .text import format_lines, parse_authorize_params, parse_scopes

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

CONF_DEVICE_URL = "device_authorization_url"
CONF_REVOCATION_URL = "revocation_url"

_MANUAL_OPTIONAL_URL_FIELDS = (
    "api_base_url",
    "userinfo_url",
    CONF_REVOCATION_URL,
    CONF_DEVICE_URL,
)
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_LINES = TextSelector(TextSelectorConfig(multiline=True))

DISCOVERY_SCHEMA = vol.Schema({vol.Required(CONF_ISSUER_URL): URL_SELECTOR})
MANUAL_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Optional("authorize_url"): URL_SELECTOR,
        vol.Required("token_url"): URL_SELECTOR,
        vol.Optional("api_base_url"): URL_SELECTOR,
        vol.Optional("userinfo_url"): URL_SELECTOR,
        vol.Optional(CONF_REVOCATION_URL): URL_SELECTOR,
        vol.Optional(CONF_DEVICE_URL): URL_SELECTOR,
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
# Re-linking: a new client secret, when the provider rotated it.
NEW_SECRET_SCHEMA = vol.Schema({vol.Optional(CONF_CLIENT_SECRET): _PASSWORD})
_RECONFIGURE_FIELDS: dict[Any, Any] = {
    vol.Required(CONF_NAME): str,
    vol.Optional(CONF_SCOPES): str,
    vol.Optional(CONF_AUTHORIZE_PARAMS): _LINES,
    vol.Optional(CONF_CLIENT_SECRET): _PASSWORD,
}
ACCOUNT_NAME_SCHEMA = vol.Schema({vol.Required(CONF_ACCOUNT_NAME): str})


def provider_id(profile: ProviderProfile) -> str:
    """Identify the authorization server: its issuer, else its token endpoint origin."""
    return profile.issuer or profile.token_origin


# -- choosing the provider -------------------------------------------------------------


def preset_schema(presets: Mapping[str, ProviderProfile]) -> vol.Schema:
    """The catalog as a drop-down, by name."""
    options = [
        SelectOptionDict(value=key, label=profile.name)
        for key, profile in sorted(presets.items(), key=lambda kv: kv[1].name.lower())
    ]
    return vol.Schema(
        {
            vol.Required(CONF_PRESET): SelectSelector(
                SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
            )
        }
    )


def preset_details_schema(profile: ProviderProfile) -> vol.Schema:
    """One field per placeholder of the preset (tenant, realm, domain...)."""
    return vol.Schema({vol.Required(name): str for name in profile.placeholders})


def fill_preset(
    profile: ProviderProfile, user_input: Mapping[str, Any]
) -> ProviderProfile | None:
    """The preset filled in; None unless its endpoints are then URLs."""
    values = {k: str(v).strip().strip("/") for k, v in user_input.items()}
    filled = profile.with_placeholders(values)
    if all(
        http_url(url) is not None for url in (filled.authorize_url, filled.token_url)
    ):
        return filled
    return None


def read_manual(
    user_input: Mapping[str, Any],
) -> tuple[ProviderProfile | None, dict[str, str]]:
    """The profile entered by hand, or the form's errors."""
    errors: dict[str, str] = {}
    name = user_input[CONF_NAME].strip()
    client_credentials = user_input.get(CONF_CLIENT_CREDENTIALS, False)
    if not name:
        errors[CONF_NAME] = "name_required"
    if http_url(user_input["token_url"]) is None:
        errors["token_url"] = "invalid_url"
    if authorize_url := user_input.get("authorize_url", "").strip():
        if http_url(authorize_url) is None:
            errors["authorize_url"] = "invalid_url"
    elif not (client_credentials or user_input.get(CONF_DEVICE_URL)):
        errors["authorize_url"] = "authorize_url_required"
    for key in _MANUAL_OPTIONAL_URL_FIELDS:
        if user_input.get(key) and http_url(user_input[key]) is None:
            errors[key] = "invalid_url"
    params = parse_authorize_params(user_input.get(CONF_AUTHORIZE_PARAMS))
    if params is None:
        errors[CONF_AUTHORIZE_PARAMS] = "invalid_authorize_params"
    if errors or params is None:
        return None, errors
    return ProviderProfile(
        key="manual",
        name=name,
        authorize_url=authorize_url,
        token_url=user_input["token_url"],
        api_base_url=user_input.get("api_base_url") or None,
        userinfo_url=user_input.get("userinfo_url") or None,
        revocation_url=user_input.get(CONF_REVOCATION_URL) or None,
        device_authorization_url=user_input.get(CONF_DEVICE_URL) or None,
        client_auth=ClientAuthMethod(user_input["client_auth"]),
        pkce=PkceMode(user_input["pkce"]),
        default_scopes=tuple(parse_scopes(user_input.get(CONF_SCOPES, ""))),
        scope_separator=user_input.get("scope_separator") or " ",
        extra_authorize_params=params,
        client_credentials=client_credentials,
    ), {}


# -- credentials and scopes ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChosenCredentials:
    """What the credentials form chose: the client, where it is stored, the scopes."""

    auth_domain: str
    credential: ClientCredential
    scopes: list[str]
    # The provider with the API base URL and authorization parameters entered.
    profile: ProviderProfile


def read_credentials(
    user_input: Mapping[str, Any],
    stored: Mapping[str, LocalOAuth2Implementation],
    profile: ProviderProfile,
) -> tuple[ChosenCredentials | None, dict[str, str]]:
    """The client (new, or stored under Application Credentials), or the errors."""
    errors: dict[str, str] = {}
    credential: ClientCredential | None = None
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
            credential = ClientCredential(impl.client_id, impl.client_secret, impl.name)
    elif not client_id:
        errors[CONF_CLIENT_ID] = "client_id_required"
    elif not client_secret and profile.client_auth is not ClientAuthMethod.NONE:
        errors[CONF_CLIENT_SECRET] = "client_secret_required"
    elif auth_domain in stored and stored[auth_domain].client_secret != client_secret:
        errors[CONF_CLIENT_ID] = "credential_conflict"
    else:
        credential = ClientCredential(client_id, client_secret, profile.name)
    if base_url and http_url(base_url) is None:
        errors[CONF_API_BASE_URL] = "invalid_url"
    params = parse_authorize_params(user_input.get(CONF_AUTHORIZE_PARAMS))
    if params is None:
        errors[CONF_AUTHORIZE_PARAMS] = "invalid_authorize_params"
    if errors or credential is None or params is None:
        return None, errors
    return ChosenCredentials(
        auth_domain,
        credential,
        parse_scopes(user_input.get(CONF_SCOPES, "")),
        replace(
            profile,
            api_base_url=base_url or profile.api_base_url,
            extra_authorize_params=params,
        ),
    ), {}


def credentials_schema(
    stored: Mapping[str, LocalOAuth2Implementation],
    profile: ProviderProfile,
    scopes: list[str],
) -> vol.Schema:
    """A stored client to pick (when there is one), or a new one; scopes, API base."""
    fields: dict[Any, Any] = {}
    if stored:
        options = [SelectOptionDict(value=NEW_CREDENTIAL, label="+")] + [
            SelectOptionDict(value=key, label=f"{impl.name} ({impl.client_id})")
            for key, impl in stored.items()
        ]
        fields[vol.Required(CONF_CREDENTIAL, default=NEW_CREDENTIAL)] = SelectSelector(
            SelectSelectorConfig(options=options, translation_key="credential")
        )
    fields[vol.Optional(CONF_CLIENT_ID)] = str
    fields[vol.Optional(CONF_CLIENT_SECRET)] = _PASSWORD
    # Reauth keeps the scopes the entry was granted; a new flow starts from the
    # provider's defaults.
    scopes = scopes or list(profile.default_scopes)
    fields[vol.Optional(CONF_SCOPES, default=" ".join(scopes))] = str
    fields[vol.Optional(CONF_API_BASE_URL, default=profile.api_base_url or "")] = (
        URL_SELECTOR
    )
    # Prefilled with the provider's (Auth0's audience, Google's offline access...).
    fields[vol.Optional(CONF_AUTHORIZE_PARAMS)] = _LINES
    return vol.Schema(fields)


def credentials_suggested(
    profile: ProviderProfile,
    stored: Mapping[str, LocalOAuth2Implementation],
    user_input: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What the form shows again: never the secret, nor a deleted stored client."""
    return {
        CONF_AUTHORIZE_PARAMS: format_lines(profile.extra_authorize_params, "="),
        **{
            k: v
            for k, v in (user_input or {}).items()
            if k != CONF_CLIENT_SECRET
            and not (k == CONF_CREDENTIAL and v not in stored)
        },
    }


# -- the device grant ------------------------------------------------------------------


def device_schema(shown: DeviceAuthorization) -> vol.Schema:
    """What a phone's camera opens: the link with the code in it (only a safe link)."""
    assert shown.link is not None
    return vol.Schema(
        {
            vol.Optional(CONF_QR_CODE): QrCodeSelector(
                QrCodeSelectorConfig(
                    data=shown.link,
                    scale=5,
                    error_correction_level=QrErrorCorrectionLevel.MEDIUM,
                )
            )
        }
    )


def device_placeholders(
    profile: ProviderProfile, shown: DeviceAuthorization
) -> dict[str, str]:
    """The code and where to enter it (a link only when it is safe to show)."""
    return {"provider": profile.name, **shown.placeholders()}


# -- the entry ---------------------------------------------------------------------------


def entry_data(
    data: Mapping[str, Any],
    profile: ProviderProfile,
    scopes: list[str],
    identity: AccountIdentity,
) -> dict[str, Any]:
    """The entry's data: the grant's token, the provider, the scopes, the account."""
    result = {
        **data,
        CONF_PROVIDER: profile.as_dict(),
        CONF_SCOPES: scopes,
        CONF_SUBJECT: identity.subject,
    }
    if identity.from_user:
        result[CONF_SUBJECT_FROM_USER] = True
    return result


def stored_identity(entry: ConfigEntry) -> AccountIdentity:
    """The account an entry was linked to, as :func:`entry_data` stored it."""
    return AccountIdentity(
        entry.data[CONF_SUBJECT],
        from_user=bool(entry.data.get(CONF_SUBJECT_FROM_USER)),
    )


def entry_grant(entry: ConfigEntry) -> Grant:
    """The kind of grant an entry's token came from (re-linking keeps it).

    The account is the client itself (client credentials) or a user who logs in
    (in a browser or on a device: the same kind of account).
    """
    if is_client_credentials_token(entry.data["token"]):
        return Grant.CLIENT_CREDENTIALS
    return Grant.BROWSER


def reconfigure_schema(grant: Grant) -> vol.Schema:
    """Name, scopes, parameters, secret, endpoints.

    The device endpoint only for an account a user logs in to: an account that is
    the client itself is re-linked with client credentials.
    """
    fields = dict(_RECONFIGURE_FIELDS)
    for key in reconfigure_endpoints(grant):
        fields[vol.Optional(key)] = URL_SELECTOR
    return vol.Schema(fields)


def reconfigure_endpoints(grant: Grant) -> tuple[str, ...]:
    """The endpoint fields of the reconfigure form (see :func:`reconfigure_schema`)."""
    if grant is Grant.CLIENT_CREDENTIALS:
        return (CONF_REVOCATION_URL,)
    return (CONF_REVOCATION_URL, CONF_DEVICE_URL)


def reconfigure_suggested(
    title: str,
    scopes: list[str],
    profile: ProviderProfile,
    user_input: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What the reconfigure form shows: name, scopes, parameters, endpoints.

    Never the secret.
    """
    return {
        CONF_NAME: title,
        CONF_SCOPES: " ".join(scopes),
        CONF_AUTHORIZE_PARAMS: format_lines(profile.extra_authorize_params, "="),
        CONF_REVOCATION_URL: profile.revocation_url or "",
        CONF_DEVICE_URL: profile.device_authorization_url or "",
        **{k: v for k, v in (user_input or {}).items() if k != CONF_CLIENT_SECRET},
    }
