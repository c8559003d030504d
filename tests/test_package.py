"""The package's public names: each resolves, and the optional parts load on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import hoop_async
import hoop_async.auth

LAZY_MODULES = (
    "hoop_async.auth.oauth",
    "hoop_async.auth.file_store",
    "hoop_async.bulk",
    "hoop_async.pagination",
)


def modules_after(code: str) -> set[str]:
    """Return the hoop_async modules loaded after running `code` in a fresh interpreter."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return {name for name in json.loads(completed.stdout) if name.startswith("hoop_async")}


@pytest.mark.parametrize("package", [hoop_async, hoop_async.auth])
def test_every_public_name_resolves(package: object) -> None:
    for name in package.__all__:  # type: ignore[attr-defined]
        assert getattr(package, name) is not None, name


@pytest.mark.parametrize("package", [hoop_async, hoop_async.auth])
def test_dir_lists_every_public_name(package: object) -> None:
    missing = set(package.__all__) - set(dir(package))  # type: ignore[attr-defined]
    assert not missing


def test_lazy_name_is_the_defining_object() -> None:
    from hoop_async import BulkRun, FollowersChange, OAuthCredentials
    from hoop_async.auth.oauth import OAuthCredentials as defined
    from hoop_async.bulk import BulkRun as defined_run
    from hoop_async.resources._workflows import FollowersChange as defined_change

    assert OAuthCredentials is defined
    assert BulkRun is defined_run
    assert FollowersChange is defined_change


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        hoop_async.Nope  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError):
        from hoop_async import Nope  # type: ignore[attr-defined]  # noqa: F401


def test_import_skips_optional_parts() -> None:
    loaded = modules_after("import hoop_async")
    assert "hoop_async.client" in loaded
    assert not loaded & set(LAZY_MODULES)


def test_lazy_name_loads_its_module() -> None:
    loaded = modules_after("from hoop_async import OAuthCredentials")
    assert "hoop_async.auth.oauth" in loaded
    assert "hoop_async.bulk" not in loaded


def test_star_import_binds_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from hoop_async import *", namespace)
    assert set(hoop_async.__all__) <= namespace.keys()
