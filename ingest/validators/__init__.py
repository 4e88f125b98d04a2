"""Validators: the registry of checks by content type, and `validate`, which runs every
check that applies to an item and that the policy enables."""

from __future__ import annotations

import logging
from functools import cache, lru_cache
from typing import cast

from ..content_types import JSON, XML
from ..errors import ConfigurationError, ItemSkippedError
from ..models import FetchedContent, ValidationIssue, ValidationResult
from ..registry import Registry
from .base import Validator
from .csv_data import CsvValidator
from .custom import Check, load_rules
from .documents import DocumentValidator
from .json_data import JsonValidator
from .markdown import MarkdownValidator
from .policy import PolicyAware, PolicyValidator, SchemaMapping, ValidationPolicy
from .python_code import PythonValidator
from .schemas import load_any_schema
from .text import TextValidator
from .xml_data import XmlValidator

__all__ = [
    "PolicyValidator",
    "SchemaMapping",
    "ValidationPolicy",
    "Validator",
    "check_policy",
    "validate",
    "validators",
    "validators_for",
]

logger = logging.getLogger(__name__)
_crashed: set[str] = set()

validators: Registry[Validator] = Registry("aichemist_ingest.validators")
validators.register(TextValidator())
validators.register(MarkdownValidator())
validators.register(PythonValidator())
validators.register(JsonValidator())
validators.register(XmlValidator())
validators.register(CsvValidator())
validators.register(DocumentValidator())

# Structured-syntax suffixes (RFC 6839): application/ld+json is JSON, image/svg+xml is XML.
_SUFFIXES = (("+json", JSON), ("+xml", XML))


def validators_for(content_type: str) -> list[Validator]:
    """Every validator that applies to `content_type`, the generic ones first: those for
    any type, for the family (`text/*`), then for the exact type."""
    base = content_type.split(";", 1)[0].strip().lower()
    keys = ["*/*", base.split("/", 1)[0] + "/*"]
    keys += [alias for suffix, alias in _SUFFIXES if base.endswith(suffix)]
    keys.append(base)
    found: dict[int, Validator] = {}
    for key in keys:
        for validator in validators.for_type(key):
            found.setdefault(id(validator), validator)
    return list(found.values())


def check_policy(policy: ValidationPolicy) -> None:
    """Load everything the policy names (once per process, then cached); raises
    ConfigurationError if it is wrong. Call it before any work to fail early."""
    _check_names(tuple(policy.enabled), tuple(policy.disabled), tuple(policy.custom))
    load_rules(tuple(policy.custom))
    for mapping in policy.schemas:
        load_any_schema(mapping.schema_path)


def validate(content: FetchedContent, policy: ValidationPolicy | None = None) -> ValidationResult:
    """Run the applicable, enabled validators and the custom rules on `content`.

    Bad content is a result. A validator that raises becomes a `validator-crashed`
    error (the item is rejected, the run goes on); with `policy.strict` every warning
    is an error. Raises ItemSkippedError when a check says the item is not ingested by
    policy or by type, and ConfigurationError only for a policy that names unknown
    validators or custom rules that cannot be loaded.
    """
    policy = policy if policy is not None else ValidationPolicy()
    check_policy(policy)  # cached: cheap after the first item
    checks: list[tuple[str, Check]] = [
        (validator.name, _bind(validator, policy).validate)
        for validator in validators_for(content.content_type)
        if policy.is_enabled(validator.name)
    ]
    checks += [rule for rule in load_rules(tuple(policy.custom)) if rule[0] not in policy.disabled]

    errors: list[ValidationIssue] = []
    warnings: list[ValidationIssue] = []
    for name, check in checks:
        try:
            result = check(content)
        except ItemSkippedError:
            raise  # not a crash: the check says the item is not for this tool (skipped)
        except Exception as exc:  # a buggy plug-in rejects the item, not the run
            _log_crash(name, content.item.uri)
            errors.append(
                ValidationIssue(
                    code="validator-crashed",
                    message=f"validator {name!r} crashed: {type(exc).__name__}: {exc}",
                )
            )
            continue
        errors.extend(result.errors)
        warnings.extend(result.warnings)
    if policy.strict:
        errors, warnings = errors + warnings, []
    return ValidationResult(errors=_unique(errors), warnings=_unique(warnings))


def _log_crash(name: str, uri: str) -> None:
    # The traceback once per validator: a broken plug-in must not flood the log.
    first = name not in _crashed
    _crashed.add(name)
    logger.log(
        logging.WARNING if first else logging.DEBUG,
        "validator %r crashed on %s",
        name,
        uri,
        exc_info=True,
    )


def _bind(validator: Validator, policy: ValidationPolicy) -> Validator:
    if _policy_aware(type(validator)):
        return cast(PolicyAware, validator).configured(policy)
    return validator


@cache
def _policy_aware(kind: type) -> bool:
    # A runtime-checkable Protocol check costs more than most validators: once per class.
    return issubclass(kind, PolicyAware)


@lru_cache(maxsize=64)
def _check_names(
    enabled: tuple[str, ...], disabled: tuple[str, ...], custom: tuple[str, ...]
) -> None:
    # Cached only when the names are known; the registry only grows.
    known = set(validators.names()) | set(custom)
    unknown = sorted(set(enabled) - known | set(disabled) - known)
    if unknown:
        raise ConfigurationError(
            f"unknown validator(s) {', '.join(map(repr, unknown))} in the validation policy "
            f"(known: {', '.join(sorted(known))})"
        )


def _unique(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    # Format validators repeat the text check's `binary`/`undecodable` so they stand alone.
    seen: dict[tuple[str, str, str | None], ValidationIssue] = {}
    for issue in issues:
        seen.setdefault((issue.code, issue.message, issue.location), issue)
    return list(seen.values())
