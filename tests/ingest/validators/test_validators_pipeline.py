"""`validate` and the registry: which validators apply, what the policy enables, strict
mode, custom rules by dotted path, and crashing validators turned into rejections."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validator_helpers import codes, content

from ingest.errors import ConfigurationError
from ingest.models import FetchedContent, ValidationResult
from ingest.validators import (
    ValidationPolicy,
    check_policy,
    custom,
    validate,
    validators,
    validators_for,
)
from ingest.validators.json_data import JsonValidator

REPO_ROOT = Path(__file__).resolve().parents[3]
RULES = "tests.ingest.validators.custom_rules"


@pytest.fixture
def rules_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))


@pytest.mark.parametrize(
    ("content_type", "names"),
    [
        ("text/plain", ["text"]),
        ("text/markdown; charset=utf-8", ["text", "markdown"]),
        ("text/x-python", ["text", "python"]),
        ("application/json", ["text", "json"]),
        ("application/ld+json", ["text", "json"]),
        ("application/xml", ["text", "xml"]),
        ("text/csv", ["text", "csv"]),
        ("application/yaml", ["text"]),
        ("application/octet-stream", []),
    ],
)
def test_validators_for_gives_generic_then_specific(content_type: str, names: list[str]) -> None:
    assert [v.name for v in validators_for(content_type)] == names


def test_registry_knows_the_built_ins() -> None:
    assert {"text", "markdown", "python", "json", "xml", "csv"} <= set(validators.names())


def test_disabled_and_enabled_select_validators() -> None:
    doc = content(b"", "application/json", "a.json")
    assert codes(validate(doc, ValidationPolicy()).errors) == ["empty", "invalid-json"]
    assert codes(validate(doc, ValidationPolicy(disabled=["text"])).errors) == ["invalid-json"]
    assert codes(validate(doc, ValidationPolicy(enabled=["text"])).errors) == ["empty"]


def test_unknown_validator_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'jsno'"):
        check_policy(ValidationPolicy(disabled=["jsno"]))
    with pytest.raises(ConfigurationError, match="'jsno'"):
        validate(content("x"), ValidationPolicy(enabled=["jsno"]))


def test_policy_rejects_unknown_fields_and_describes_every_field() -> None:
    with pytest.raises(ValueError, match="extra"):
        ValidationPolicy.model_validate({"stirct": True})
    assert all(field.description for field in ValidationPolicy.model_fields.values())


def test_strict_turns_warnings_into_errors() -> None:
    doc = content("ok\nab\ufffdc")
    assert validate(doc, ValidationPolicy()).ok
    strict = validate(doc, ValidationPolicy(strict=True))
    assert codes(strict.errors) == ["replacement-chars"]
    assert strict.warnings == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(:\n    pass\n",  # broken
        "type Point = tuple[float, float]\n",  # valid on 3.12, a syntax error on 3.11
        "print 'hello'\n",  # Python 2
    ],
)
def test_python_syntax_errors_warn_by_default_and_reject_under_strict(source: str) -> None:
    doc = content(source, "text/x-python", "mod.py")
    lenient = validate(doc, ValidationPolicy())
    assert lenient.ok, "source text is still worth indexing (README: Validation)"
    assert codes(lenient.warnings) == ["syntax"]
    strict = validate(doc, ValidationPolicy(strict=True))
    assert codes(strict.errors) == ["syntax"]


@pytest.mark.usefixtures("rules_importable")
@pytest.mark.parametrize("path", [f"{RULES}:reject_todo", f"{RULES}.reject_todo"])
def test_custom_rule_by_dotted_path_rejects(path: str) -> None:
    policy = ValidationPolicy(custom=[path])
    [issue] = validate(content("fine\nTODO: later\n"), policy).errors
    assert (issue.code, issue.message) == ("custom", "contains TODO")
    assert validate(content("all done\n"), policy).ok


@pytest.mark.usefixtures("rules_importable")
def test_custom_rule_returning_a_result_and_strict() -> None:
    policy = ValidationPolicy(custom=[f"{RULES}:warn_short"])
    assert codes(validate(content("tiny"), policy).warnings) == ["short"]
    strict = policy.model_copy(update={"strict": True})
    assert codes(validate(content("tiny"), strict).errors) == ["short"]


@pytest.mark.usefixtures("rules_importable")
def test_custom_rule_runs_for_every_type_and_can_be_disabled() -> None:
    path = f"{RULES}:reject_todo"
    doc = content('{"a": "TODO"}', "application/json", "a.json")
    assert codes(validate(doc, ValidationPolicy(custom=[path], enabled=["json"])).errors) == [
        "custom"
    ]
    assert validate(doc, ValidationPolicy(custom=[path], disabled=[path])).ok


@pytest.mark.usefixtures("rules_importable")
def test_custom_rules_are_imported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    imported: list[str] = []
    real_import = importlib.import_module

    def counting_import(name: str) -> ModuleType:
        imported.append(name)
        return real_import(name)

    monkeypatch.setattr(importlib, "import_module", counting_import)
    custom.load_rules.cache_clear()
    policy = ValidationPolicy(custom=[f"{RULES}:reject_todo"])
    for i in range(20):
        validate(content(f"doc {i}"), policy)
    assert imported == [RULES]


@pytest.mark.usefixtures("rules_importable")
@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("no_such_module_for_ingest_tests:rule", "cannot import"),
        (f"{RULES}:missing", "has no attribute"),
        (f"{RULES}.missing", "has no attribute"),
        (f"{RULES}:NOT_CALLABLE", "not callable"),
        ("justaname", "not a dotted path"),
        ("module:", "not a dotted path"),
    ],
)
def test_bad_dotted_path_is_a_configuration_error(path: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason) as caught:
        check_policy(ValidationPolicy(custom=[path]))
    assert path in str(caught.value)
    with pytest.raises(ConfigurationError, match=reason):
        validate(content("x"), ValidationPolicy(custom=[path]))


@pytest.mark.usefixtures("rules_importable")
@pytest.mark.parametrize(
    ("rule", "detail"),
    [("explode", "RuntimeError: rule is broken"), ("wrong_type", "returned int")],
)
def test_crashing_custom_rule_rejects_the_item(rule: str, detail: str) -> None:
    path = f"{RULES}:{rule}"
    result = validate(content("text"), ValidationPolicy(custom=[path]))
    [issue] = result.errors
    assert issue.code == "validator-crashed"
    assert repr(path) in issue.message
    assert detail in issue.message


def test_crashing_built_in_validator_rejects_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: JsonValidator, content: FetchedContent) -> ValidationResult:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(JsonValidator, "validate", broken)
    result = validate(content('{"a": 1}', "application/json", "a.json"), ValidationPolicy())
    [issue] = result.errors
    assert issue.code == "validator-crashed"
    assert "'json'" in issue.message
    assert "ZeroDivisionError: oops" in issue.message


def test_validate_without_policy_uses_the_defaults() -> None:
    assert codes(validate(content(b"")).errors) == ["empty"]


TYPES = [
    "text/plain",
    "text/markdown",
    "text/x-python",
    "application/json",
    "application/xml",
    "text/csv",
]


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.text(max_size=300).map(str.encode),
        st.text(alphabet='[]{}",:\\<>/!?-&;#\n\t\x00abc01', max_size=300).map(str.encode),
    ),
    st.sampled_from(TYPES),
)
def test_no_input_crashes_a_built_in_validator(data: bytes, content_type: str) -> None:
    result = validate(content(data, content_type, "fuzz"), ValidationPolicy())
    assert "validator-crashed" not in codes(result.errors), result.errors
