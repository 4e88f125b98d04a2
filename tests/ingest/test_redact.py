"""One masking rule for every URL shown to a person or written anywhere."""

from __future__ import annotations

import pytest

from ingest.redact import has_secret, redact_url


@pytest.mark.parametrize(
    ("url", "shown", "shown_with_user"),
    [
        ("s3://key:hunter2@bucket/r", "s3://bucket/r", "s3://key:***@bucket/r"),
        ("https://u@h/p", "https://h/p", "https://u@h/p"),
        ("https://u:p@ss@h/p?x=1", "https://h/p?x=1", "https://u:***@h/p?x=1"),
        (
            "https://h/p?access_token=abc&lang=en&api-key=k&sig=s",
            "https://h/p?access_token=***&lang=en&api-key=***&sig=***",
            "https://h/p?access_token=***&lang=en&api-key=***&sig=***",
        ),
        (
            "postgresql://r:pw@h/db?sslpassword=x",
            "postgresql://h/db?sslpassword=***",
            "postgresql://r:***@h/db?sslpassword=***",
        ),
        (
            "https://h/p?monkey=1&keyboard=2#token=3",
            "https://h/p?monkey=1&keyboard=2#token=***",
            "https://h/p?monkey=1&keyboard=2#token=***",
        ),
        ("/tmp/results", "/tmp/results", "/tmp/results"),
    ],
)
def test_secrets_are_masked_and_the_rest_kept_as_written(
    url: str, shown: str, shown_with_user: str
) -> None:
    assert redact_url(url) == shown
    assert redact_url(url, keep_user=True) == shown_with_user


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("s3://key:hunter2@bucket", True),
        ("https://h/?token=t", True),
        ("https://user@h/", False),
        ("https://h/?token=", False),
        ("file:///tmp/x", False),
    ],
)
def test_has_secret(url: str, secret: bool) -> None:
    assert has_secret(url) is secret
