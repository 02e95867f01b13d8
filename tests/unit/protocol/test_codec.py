"""One JSON encoder for the wire and the store: what it cannot represent is an error."""

from __future__ import annotations

import pytest
from lambdagraph.protocol.codec import dumps
from lambdagraph.store.dynamo import get_j, j


def test_stored_json_is_what_the_wire_carries() -> None:
    value = {"a": (1, 2), "b": {3: "x"}}

    assert j(value) == {"S": dumps(value).decode()}
    assert get_j({"v": j(value)}, "v") == {"a": [1, 2], "b": {"3": "x"}}


def test_a_value_without_a_json_form_is_refused_not_stored_as_repr() -> None:
    with pytest.raises(TypeError, match="object"):
        j({"x": object()})
