from __future__ import annotations

import copy
from typing import Any

import pytest

from opentms.domain.errors import PreconditionFailed
from opentms.domain.resources import check_if_match, etag, merge_attributes


@pytest.mark.parametrize(
    ("current", "patch", "expected"),
    [
        pytest.param(
            {"billTo": {"firstName": "Ada", "lastName": "Byron"}, "card": {"type": "001"}},
            {"billTo": {"lastName": "Lovelace"}},
            {"billTo": {"firstName": "Ada", "lastName": "Lovelace"}, "card": {"type": "001"}},
            id="nested-objects-merge",
        ),
        pytest.param(
            {"a": {"b": {"c": 1, "d": 2}}},
            {"a": {"b": {"d": 3, "e": 4}}},
            {"a": {"b": {"c": 1, "d": 3, "e": 4}}},
            id="deep-merge",
        ),
        pytest.param(
            {"billTo": {"firstName": "Ada"}, "card": {"type": "001"}},
            {"billTo": None},
            {"card": {"type": "001"}},
            id="null-removes-top-level",
        ),
        pytest.param(
            {"billTo": {"firstName": "Ada", "email": "a@example.com"}},
            {"billTo": {"email": None}},
            {"billTo": {"firstName": "Ada"}},
            id="null-removes-nested",
        ),
        pytest.param(
            {"card": {"type": "001"}},
            {"billTo": None},
            {"card": {"type": "001"}},
            id="null-for-absent-field-is-a-no-op",
        ),
        pytest.param(
            {"tags": [{"tag": "5A"}, {"tag": "9F"}], "other": 1},
            {"tags": [{"tag": "57"}]},
            {"tags": [{"tag": "57"}], "other": 1},
            id="lists-replace",
        ),
        pytest.param(
            {"tags": [1, 2, 3]},
            {"tags": []},
            {"tags": []},
            id="empty-list-replaces",
        ),
        pytest.param(
            {"billTo": {"firstName": "Ada"}},
            {"billTo": "flat"},
            {"billTo": "flat"},
            id="scalar-replaces-object",
        ),
        pytest.param(
            {"billTo": "flat"},
            {"billTo": {"firstName": "Ada"}},
            {"billTo": {"firstName": "Ada"}},
            id="object-replaces-scalar",
        ),
        pytest.param(
            {"flag": True},
            {"flag": False},
            {"flag": False},
            id="false-is-a-value-not-a-removal",
        ),
        pytest.param({"a": 1}, {}, {"a": 1}, id="empty-patch"),
    ],
)
def test_merge_attributes(
    current: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert merge_attributes(current, patch) == expected


@pytest.mark.parametrize(
    ("current", "patch", "expected"),
    [
        pytest.param(
            {},
            {"billTo": {"firstName": None, "lastName": "Lovelace"}},
            {"billTo": {"lastName": "Lovelace"}},
            id="new-object",
        ),
        pytest.param(
            {"billTo": "flat"},
            {"billTo": {"firstName": None, "lastName": "Lovelace"}},
            {"billTo": {"lastName": "Lovelace"}},
            id="object-over-scalar",
        ),
        pytest.param(
            {"a": {}},
            {"a": {"b": {"c": None, "d": 1}}},
            {"a": {"b": {"d": 1}}},
            id="nested-new-object",
        ),
    ],
)
def test_merge_attributes_never_stores_null_inside_a_new_object(
    current: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    # JSON Merge Patch (RFC 7386): a patch object applied where the target has
    # no object is merged into {}, so its nulls remove (store nothing).
    assert merge_attributes(current, patch) == expected


def test_merge_attributes_does_not_modify_its_inputs() -> None:
    current: dict[str, Any] = {"billTo": {"firstName": "Ada", "lastName": "Byron"}, "x": [1]}
    patch: dict[str, Any] = {"billTo": {"lastName": None, "email": "a@example.com"}, "x": [2]}
    current_before, patch_before = copy.deepcopy(current), copy.deepcopy(patch)
    merged = merge_attributes(current, patch)
    assert current == current_before
    assert patch == patch_before
    assert merged == {"billTo": {"firstName": "Ada", "email": "a@example.com"}, "x": [2]}


def test_etag_is_the_quoted_version() -> None:
    assert etag(1) == '"1"'
    assert etag(110) == '"110"'


WEAK_HINT = 'A weak tag (W/"...") never matches'
MALFORMED_HINT = "The header is not a list of entity tags"


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param(None, id="absent"),
        pytest.param("*", id="star"),
        pytest.param(" * ", id="star-with-spaces"),
        pytest.param('"3"', id="exact"),
        pytest.param('"1", "3"', id="list-contains-current"),
        pytest.param('"1",,  "3" ,', id="list-with-empty-elements"),
        pytest.param("3", id="unquoted-read-as-quoted"),
        pytest.param(" 3 ", id="unquoted-with-spaces"),
        pytest.param('"1", 3', id="list-with-unquoted-current"),
        pytest.param('"a,b", "3"', id="quoted-comma-is-part-of-a-tag"),
    ],
)
def test_check_if_match_passes(if_match: str | None) -> None:
    check_if_match(if_match, 3)


def test_check_if_match_passes_the_sdk_capture() -> None:
    check_if_match('"110"', 110)


@pytest.mark.parametrize(
    ("if_match", "hint"),
    [
        pytest.param('"2"', None, id="stale"),
        pytest.param('"4"', None, id="ahead"),
        pytest.param('"1","2"', None, id="list-without-current"),
        pytest.param("2", None, id="unquoted-stale"),
        pytest.param('"31"', None, id="prefix-is-not-a-match"),
        pytest.param('"x,3,y"', None, id="comma-in-a-quoted-tag-is-no-separator"),
        pytest.param("", None, id="empty-list"),
        pytest.param('W/"3"', WEAK_HINT, id="weak-never-matches"),
        pytest.param("W/3", WEAK_HINT, id="weak-unquoted-never-matches"),
        pytest.param('"1", W/"3"', WEAK_HINT, id="list-with-weak-current-never-matches"),
        pytest.param('W/"2"', WEAK_HINT, id="weak-stale"),
        pytest.param('"3', MALFORMED_HINT, id="unbalanced-quote"),
        pytest.param('"3"x', MALFORMED_HINT, id="text-after-a-tag"),
        pytest.param('*, "2"', None, id="star-in-a-list-is-no-wildcard"),
    ],
)
def test_check_if_match_fails_naming_the_current_etag(if_match: str, hint: str | None) -> None:
    with pytest.raises(PreconditionFailed) as failed:
        check_if_match(if_match, 3)
    assert failed.value.current_etag == '"3"'
    assert failed.value.message.startswith(
        'Action cannot be performed as the if-match header value does not match the token etag "3".'
    )
    if hint is None:
        assert failed.value.message.endswith('etag "3".')
    else:
        assert hint in failed.value.message


def test_a_lost_race_names_no_etag() -> None:
    failed = PreconditionFailed()
    assert failed.current_etag is None
    assert "changed while this request was carried out" in failed.message
