"""Masking of secrets in URLs and locations, with one rule for every message, log,
report, artifact and export: a password in the user info and the value of any
secret-looking query parameter become `***`."""

from __future__ import annotations

import re

MASK = "***"

#: Names of query parameters (and fields) whose values are secrets.
SECRET_NAME = re.compile(
    r"(?:^|[-_.])(?:pass(?:word|wd)?|pwd|sslpassword|secret|token|api[-_]?key|apikey|key|sig"
    r"|signature|auth|authorization|credentials?|session(?:id)?|code)$",
    re.IGNORECASE,
)

# scheme://userinfo@ , greedy up to the last "@" before the path, so that a password
# holding an unescaped "@" is hidden whole.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@", re.DOTALL)
# A name=value pair of the query, or of a fragment (OAuth puts tokens there).
_QUERY_PAIR = re.compile(r"([?&;#])([^=&#;?]+)=([^&#;]*)")


def redact_url(url: str, *, keep_user: bool = False) -> str:
    """`url` without secrets: the user info is dropped (an access key id is a secret
    too), or with `keep_user` only its password is masked (a database role is not);
    secret-looking query values are masked. Text that is not a URL comes back as is."""
    match = _USERINFO.match(url)
    if match:
        scheme, userinfo = match.group(1), match.group(2)
        user, has_password, _ = userinfo.partition(":")
        if not keep_user:
            kept = ""
        elif has_password:
            kept = f"{user}:{MASK}@"
        else:
            kept = f"{user}@"
        url = scheme + kept + url[match.end() :]
    return _QUERY_PAIR.sub(_mask_pair, url)


def has_secret(url: str) -> bool:
    """Whether `url` carries a password or a secret-looking query value."""
    match = _USERINFO.match(url)
    if match and ":" in match.group(2):
        return True
    return redact_url(url, keep_user=True) != url


def _mask_pair(match: re.Match[str]) -> str:
    separator, name, value = match.groups()
    if value and SECRET_NAME.search(name):
        return f"{separator}{name}={MASK}"
    return match.group(0)
