"""scripts/release-check: what the release workflow runs before publishing."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
import zipfile

ROOT = Path(__file__).parent.parent
MANIFEST = ROOT / "custom_components" / "oauth2_rest" / "manifest.json"


def release_check(tag: str, out: Path) -> subprocess.CompletedProcess[str]:
    """Run the script as the workflow does."""
    return subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [
            sys.executable,
            str(ROOT / "scripts" / "release-check"),
            tag,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_release_check_builds_the_hacs_zip(tmp_path: Path) -> None:
    """The manifest's version releases; the zip has the integration at its root."""
    version = json.loads(MANIFEST.read_text(encoding="utf-8"))["version"]
    result = release_check(f"v{version}", tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "oauth2_rest.zip") as archive:
        names = archive.namelist()
        assert json.loads(archive.read("manifest.json"))["version"] == version
    assert {
        "__init__.py",
        "strings.json",
        "translations/en.json",
        "brand/icon.png",
        "brand/dark_logo@2x.png",
    } <= set(names)
    assert not [n for n in names if "__pycache__" in n or "/" in n.split("/")[0]]
    assert not [n for n in names if n.startswith("custom_components")]
    assert (tmp_path / "release-notes.md").read_text(encoding="utf-8").strip()

    # Same tree, same bytes.
    first = (tmp_path / "oauth2_rest.zip").read_bytes()
    assert release_check(f"v{version}", tmp_path).returncode == 0
    assert (tmp_path / "oauth2_rest.zip").read_bytes() == first


def test_release_check_refuses_other_versions(tmp_path: Path) -> None:
    """A tag that is not the manifest's version, or not vX.Y.Z, builds nothing."""
    for tag in ("v999.0.0", "1.0.0", "v1.0", "v01.0.0"):
        result = release_check(tag, tmp_path)
        assert result.returncode == 1, tag
        assert "release-check:" in result.stderr
    assert not (tmp_path / "oauth2_rest.zip").exists()
