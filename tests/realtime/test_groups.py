import pytest

from realtime.groups import group_name


def test_group_names_are_schema_scoped_and_channels_safe():
    assert group_name(schema_name="t_alpha", audience="desk") == "t.t_alpha.desk"
    assert group_name(schema_name="t_alpha", audience="ticket:42") == "t.t_alpha.ticket_42"
    with pytest.raises(ValueError):
        group_name(schema_name="t_alpha", audience="x" * 100)
