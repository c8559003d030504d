"""TokenSet parsing and expiry, MemoryTokenStore, and FileTokenStore: JSON format,
mode 0600, atomic replacement, invalid files, and its file lock."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time
from pathlib import Path

import attrs
import pytest
from support import load_sample

from hoop_async.auth import FileTokenStore, MemoryTokenStore, TokenSet, TokenStore, TokenStoreError
from hoop_async.errors import TokenError

NOW = 1_700_000_000.0


def make_tokens(name: str = "one", *, lifetime: float = 3600.0) -> TokenSet:
    return TokenSet(
        access_token=f"access-{name}",
        refresh_token=f"refresh-{name}",
        expires_at=NOW + lifetime,
        obtained_at=NOW,
        user_type="Location",
        company_id="COMPANY1",
        location_id="LOCATION1",
        user_id="USER1",
        scope="opportunities.readonly",
    )


def file_names(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


# -- TokenSet -------------------------------------------------------------------


def test_token_set_from_live_sample() -> None:
    body = load_sample("oauth-token-response-location.json")

    tokens = TokenSet.from_response(body, received_at=NOW)

    assert tokens.access_token == body["access_token"]
    assert tokens.refresh_token == body["refresh_token"]
    assert tokens.expires_at == NOW + 86399
    assert tokens.user_type == "Location"
    assert tokens.location_id == body["locationId"]
    assert tokens.company_id == body["companyId"]
    assert tokens.owner_id == body["locationId"]
    assert not tokens.is_agency


def test_token_set_company_owner_is_company() -> None:
    body = {"access_token": "a", "refresh_token": "r", "expires_in": 60, "userType": "Company"}
    body["companyId"] = "COMPANY1"

    tokens = TokenSet.from_response(body, received_at=NOW)

    assert tokens.owner_id == "COMPANY1"
    assert tokens.is_agency


def test_token_set_keeps_previous_refresh_token() -> None:
    previous = make_tokens()

    tokens = TokenSet.from_response(
        {"access_token": "new", "expires_in": 60}, received_at=NOW, previous=previous
    )

    assert tokens.refresh_token == "refresh-one"
    assert tokens.location_id == "LOCATION1"


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in": 60},
        {"access_token": "", "expires_in": 60},
        {"access_token": "a"},
        {"access_token": "a", "expires_in": "60"},
        {"access_token": "a", "expires_in": True},
    ],
)
def test_token_set_rejects_incomplete_response(body: dict[str, object]) -> None:
    with pytest.raises(TokenError):
        TokenSet.from_response(body, received_at=NOW)


@pytest.mark.parametrize(
    ("seconds_left", "due"),
    [(3600.0, False), (301.0, False), (300.0, True), (10.0, True), (-5.0, True)],
)
def test_refresh_due_uses_margin(seconds_left: float, due: bool) -> None:
    tokens = make_tokens(lifetime=86399)

    assert tokens.refresh_due(300, now=tokens.expires_at - seconds_left) is due


@pytest.mark.parametrize(("seconds_left", "due"), [(1.5, False), (1.01, False), (1.0, True)])
def test_refresh_due_short_lifetime_uses_half(seconds_left: float, due: bool) -> None:
    tokens = make_tokens(lifetime=2.0)

    assert tokens.refresh_due(300, now=tokens.expires_at - seconds_left) is due


def test_token_set_repr_hides_tokens() -> None:
    text = repr(make_tokens())

    assert "access-one" not in text
    assert "refresh-one" not in text
    assert "<redacted>" in text
    assert "LOCATION1" in text


def test_token_set_json_round_trip() -> None:
    tokens = make_tokens()

    assert TokenSet.from_json(json.loads(json.dumps(tokens.to_json()))) == tokens


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"access_token": None}, "'access_token' has the wrong type"),
        ({"expires_at": "soon"}, "'expires_at' has the wrong type"),
        ({"refresh_token": 5}, "'refresh_token' has the wrong type"),
    ],
)
def test_token_set_from_json_rejects_bad_field(change: dict[str, object], message: str) -> None:
    data = {**make_tokens().to_json(), **change}

    with pytest.raises(ValueError, match=message):
        TokenSet.from_json(data)


def test_token_set_from_json_needs_access_token() -> None:
    data = make_tokens().to_json()
    del data["access_token"]

    with pytest.raises(ValueError, match="lacks 'access_token'"):
        TokenSet.from_json(data)


# -- MemoryTokenStore -----------------------------------------------------------


async def test_memory_store_round_trip() -> None:
    store = MemoryTokenStore()

    await store.set("LOCATION1", make_tokens())

    assert await store.get("LOCATION1") == make_tokens()
    assert await store.get("LOCATION2") is None
    assert isinstance(store, TokenStore)
    assert "access-one" not in repr(store)


async def test_memory_store_lock_per_key() -> None:
    store = MemoryTokenStore()

    async with store.lock("A"):
        other_key_free = not store.lock("B").locked()
        same_key_held = store.lock("A").locked()

    assert other_key_free
    assert same_key_held


# -- FileTokenStore -------------------------------------------------------------


async def test_file_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    await FileTokenStore(path).set("LOCATION1", make_tokens("one"))
    await FileTokenStore(path).set("LOCATION2", make_tokens("two"))

    reader = FileTokenStore(path)

    assert await reader.get("LOCATION1") == make_tokens("one")
    assert await reader.get("LOCATION2") == make_tokens("two")
    assert await reader.get("LOCATION3") is None
    assert isinstance(reader, TokenStore)


async def test_file_store_missing_file_is_empty(tmp_path: Path) -> None:
    assert await FileTokenStore(tmp_path / "absent.json").get("LOCATION1") is None


async def test_file_store_format(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"

    await FileTokenStore(path).set("LOCATION1", make_tokens())

    document = json.loads(path.read_text())
    assert document["format"] == 1
    assert document["tokens"]["LOCATION1"]["refresh_token"] == "refresh-one"


async def test_file_store_modes_0600(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text('{"format": 1, "tokens": {}}')
    path.chmod(0o644)

    await FileTokenStore(path).set("LOCATION1", make_tokens())

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tokens.json.lock").stat().st_mode) == 0o600


async def test_file_store_leaves_no_temp_files(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")

    for number in range(5):
        await store.set("LOCATION1", make_tokens(str(number)))

    assert file_names(tmp_path) == ["tokens.json", "tokens.json.lock"]


async def test_file_store_failed_write_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    await store.set("LOCATION1", make_tokens("one"))
    before = path.read_bytes()

    def fail_replace(source: str, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="No space left"):
        await store.set("LOCATION1", make_tokens("two"))

    assert path.read_bytes() == before
    assert file_names(tmp_path) == ["tokens.json", "tokens.json.lock"]


async def test_file_store_invalid_json_raises(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text('{"format": 1, "tokens": {"LOCATION1": {"access_token": "secret-ac')

    with pytest.raises(TokenStoreError, match="is not valid JSON") as caught:
        await FileTokenStore(path).get("LOCATION1")

    assert "secret-ac" not in str(caught.value)


async def test_file_store_foreign_json_raises(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("[1, 2, 3]")

    with pytest.raises(TokenStoreError, match="no 'tokens' object"):
        await FileTokenStore(path).get("LOCATION1")


async def test_file_store_invalid_entry_raises(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"format": 1, "tokens": {"LOCATION1": {"access_token": 7}}}))

    with pytest.raises(TokenStoreError, match="entry 'LOCATION1'"):
        await FileTokenStore(path).get("LOCATION1")


async def test_file_store_set_inside_lock(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")

    async with store.lock("LOCATION1"):
        await asyncio.wait_for(store.set("LOCATION1", make_tokens()), timeout=5)

    assert await store.get("LOCATION1") == make_tokens()


async def test_file_lock_excludes_other_store(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    first, second = FileTokenStore(path), FileTokenStore(path)
    order: list[str] = []
    first_locked = asyncio.Event()

    async def hold_then_write() -> None:
        async with first.lock("LOCATION1"):
            order.append("first locked")
            first_locked.set()
            await asyncio.sleep(0.2)
            await first.set("LOCATION1", make_tokens("first"))
            order.append("first wrote")

    async def wait_then_read() -> None:
        await first_locked.wait()
        async with second.lock("LOCATION1"):
            order.append("second locked")
            tokens = await second.get("LOCATION1")
            order.append(f"second read {tokens.access_token if tokens else None}")

    await asyncio.wait_for(asyncio.gather(hold_then_write(), wait_then_read()), timeout=10)

    assert order == ["first locked", "first wrote", "second locked", "second read access-first"]


async def test_file_lock_wait_cancellable(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    holder, waiter = FileTokenStore(path), FileTokenStore(path)
    entered = asyncio.Event()

    async def wait_for_lock() -> None:
        async with waiter.lock("LOCATION1"):
            entered.set()

    async with holder.lock("LOCATION1"):
        waiting = asyncio.ensure_future(wait_for_lock())
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    # The cancelled waiter's thread takes the lock once the holder leaves and then drops it.
    async with waiter.lock("LOCATION1"):
        reacquired = True

    assert reacquired
    assert not entered.is_set()


async def test_file_store_write_survives_reader_races(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    await store.set("LOCATION1", make_tokens("0"))
    reads: list[str] = []

    async def write_many() -> None:
        for number in range(1, 30):
            await store.set("LOCATION1", make_tokens(str(number)))

    async def read_many() -> None:
        for _ in range(60):
            tokens = await FileTokenStore(path).get("LOCATION1")
            assert tokens is not None
            reads.append(tokens.access_token)
            await asyncio.sleep(0)

    await asyncio.gather(write_many(), read_many())

    assert all(read.startswith("access-") for read in reads)
    assert await store.get("LOCATION1") == make_tokens("29")


def test_file_store_repr_is_path_only(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")

    assert repr(store) == f"FileTokenStore({str(tmp_path / 'tokens.json')!r})"


def test_token_set_is_frozen() -> None:
    tokens = make_tokens()

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        tokens.access_token = "changed"  # type: ignore[misc]


def test_now_default_is_wall_clock() -> None:
    tokens = attrs.evolve(make_tokens(), expires_at=time.time() + 3600, obtained_at=time.time())

    assert not tokens.refresh_due(300)
