"""Brand images: the sizes HA's brands rules ask for, and HA serves them from brand/."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
import struct

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

BRAND = Path(__file__).parent.parent / "custom_components" / "oauth2_rest" / "brand"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA = 6  # PNG colour type: truecolour with alpha (transparent background)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk of an RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path.name
    assert data[12:16] == b"IHDR", path.name
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    assert colour == RGBA, path.name
    return width, height


@pytest.mark.parametrize("prefix", ["", "dark_"])
def test_icon_sizes(prefix: str) -> None:
    """Icons are square: 256x256, and 512x512 for @2x."""
    assert png_size(BRAND / f"{prefix}icon.png") == (256, 256)
    assert png_size(BRAND / f"{prefix}icon@2x.png") == (512, 512)


@pytest.mark.parametrize("prefix", ["", "dark_"])
def test_logo_sizes(prefix: str) -> None:
    """Logos are landscape, shortest side 256 (512 for @2x), the largest allowed."""
    width, height = png_size(BRAND / f"{prefix}logo.png")
    assert height == 256
    assert width > height
    assert png_size(BRAND / f"{prefix}logo@2x.png") == (2 * width, 2 * height)


def test_only_brand_images() -> None:
    """The folder holds the eight images HA's brands view knows, nothing else."""
    assert sorted(p.name for p in BRAND.iterdir()) == sorted(
        f"{dark}{kind}{hdpi}.png"
        for dark in ("", "dark_")
        for kind in ("icon", "logo")
        for hdpi in ("", "@2x")
    )


async def test_home_assistant_serves_our_brand(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """HA's brands view answers for oauth2_rest with our files (no CDN needed)."""
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for image in ("icon.png", "dark_logo@2x.png"):
        response = await client.get(f"/api/brands/integration/oauth2_rest/{image}")
        assert response.status == HTTPStatus.OK, image
        assert response.content_type == "image/png"
        assert await response.read() == (BRAND / image).read_bytes()
