"""Our use of Home Assistant's Application Credentials store.

A client id and secret go into the store only once a grant worked with them. A
rotated client secret is stored as a new item (the store cannot update one), and
the replaced item is deleted once no account uses it any more.
"""

from __future__ import annotations

from homeassistant.components.application_credentials import (
    CONF_AUTH_DOMAIN,
    DATA_COMPONENT,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.const import CONF_DOMAIN, CONF_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import (
    ImplementationUnavailableError,
    LocalOAuth2Implementation,
    async_get_implementations,
)

from .const import DOMAIN


async def async_stored_credentials(
    hass: HomeAssistant,
) -> dict[str, LocalOAuth2Implementation]:
    """Credentials of this integration in the store, by auth domain.

    Other implementation providers may fail (Home Assistant Cloud's, part of
    ``default_config``, when its account link server is out of reach): HA then
    raises when nobody provided anything. None of them provides ours, so that is
    an empty store, not an error.
    """
    try:
        implementations = await async_get_implementations(hass, DOMAIN)
    except ImplementationUnavailableError:
        return {}
    return {
        auth_domain: impl
        for auth_domain, impl in implementations.items()
        if isinstance(impl, LocalOAuth2Implementation)
    }


async def async_store_credential(
    hass: HomeAssistant, credential: ClientCredential, auth_domain: str
) -> None:
    """Store a credential under ``auth_domain`` (kept as it is when already there)."""
    await async_import_client_credential(
        hass, DOMAIN, credential, auth_domain=auth_domain
    )


def _auth_domains_in_use(hass: HomeAssistant) -> set[str]:
    return {
        entry.data["auth_implementation"]
        for entry in hass.config_entries.async_entries(DOMAIN)
        if "auth_implementation" in entry.data
    }


async def async_store_new_secret(
    hass: HomeAssistant, credential: ClientCredential, replaced: str
) -> str:
    """Store ``credential`` (a new secret for ``replaced``); return its auth domain.

    A new item, not an update: the store cannot update items, and refuses to
    delete the old one while an entry still uses it. The new auth domain is one no
    stored credential and no entry of this integration names yet.
    """
    store = hass.data[DATA_COMPONENT]
    taken = {
        item.get(CONF_AUTH_DOMAIN, item[CONF_ID]) for item in store.async_items()
    } | _auth_domains_in_use(hass)
    number = 2
    while (auth_domain := f"{replaced}_{number}") in taken:
        number += 1
    item = {
        CONF_DOMAIN: DOMAIN,
        "client_id": credential.client_id,
        "client_secret": credential.client_secret,
        CONF_AUTH_DOMAIN: auth_domain,
    }
    if credential.name:
        item["name"] = credential.name
    await store.async_create_item(item)
    return auth_domain


async def async_delete_unused_credential(hass: HomeAssistant, auth_domain: str) -> None:
    """Delete the stored credential ``auth_domain`` unless an entry still uses it."""
    store = hass.data[DATA_COMPONENT]
    in_use = _auth_domains_in_use(hass)
    for item in list(store.async_items()):
        item_id = item[CONF_ID]
        if (
            item[CONF_DOMAIN] == DOMAIN
            and item.get(CONF_AUTH_DOMAIN, item_id) == auth_domain
            and not in_use & {auth_domain, item_id}
        ):
            await store.async_delete_item(item_id)
