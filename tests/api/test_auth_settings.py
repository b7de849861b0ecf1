"""Authentication settings read from the environment."""

from __future__ import annotations

import pytest

from api.settings import AuthLimits, Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.signing_keys is None
    assert settings.auth_refresh_seconds == 2.0
    assert settings.auth_limits == AuthLimits(
        failures_per_client=1_000,
        failures_per_address=50,
        window_seconds=300,
        failures_per_client_address=10,
        share_code_failures_per_client=20,
    )


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "MSSC_ISSUER": "https://registry.example.org/",
            "MSSC_SIGNING_KEYS": '{"keys": []}',
            "MSSC_AUTH_REFRESH_SECONDS": "0.5",
            "MSSC_AUTH_FAILURES_PER_CLIENT": "3",
            "MSSC_AUTH_FAILURES_PER_ADDRESS": "7",
            "MSSC_AUTH_FAILURE_WINDOW_SECONDS": "60",
            "MSSC_AUTH_FAILURES_PER_CLIENT_ADDRESS": "2",
            "MSSC_SHARE_CODE_FAILURES_PER_CLIENT": "4",
        }
    )

    assert settings.issuer == "https://registry.example.org"
    assert settings.signing_keys == '{"keys": []}'
    assert settings.auth_refresh_seconds == 0.5
    assert settings.auth_limits == AuthLimits(3, 7, 60, 2, 4)
    assert "keys" not in repr(settings)  # private keys stay out of logs


@pytest.mark.parametrize(
    ("issuer", "ok"),
    [
        ("https://registry.example.org", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://registry.example.org", False),
        ("https://registry.example.org/?x=1", False),
        ("registry.example.org", False),
    ],
)
def test_the_issuer_must_be_https_except_on_localhost(issuer: str, ok: bool) -> None:
    if ok:
        assert Settings.from_env({"MSSC_ISSUER": issuer}).issuer == issuer
    else:
        with pytest.raises(SettingsError, match="MSSC_ISSUER"):
            Settings.from_env({"MSSC_ISSUER": issuer})


def test_a_bad_refresh_interval_is_refused() -> None:
    with pytest.raises(SettingsError, match="MSSC_AUTH_REFRESH_SECONDS"):
        Settings.from_env({"MSSC_AUTH_REFRESH_SECONDS": "0"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 5.0), ("0.5", 0.5), ("60", 60.0), ("0.01", None), ("61", None), ("soon", None)],
)
def test_the_catalog_refresh_interval_is_bounded(raw: str | None, expected: float | None) -> None:
    """Its bound is the documented time a published version takes to reach every process."""
    env = {} if raw is None else {"MSSC_CATALOG_REFRESH_SECONDS": raw}
    if expected is None:
        with pytest.raises(SettingsError, match="MSSC_CATALOG_REFRESH_SECONDS"):
            Settings.from_env(env)
    else:
        assert Settings.from_env(env).catalog_refresh_seconds == expected
