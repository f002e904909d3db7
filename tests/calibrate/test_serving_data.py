"""The serving-measurement loader: validation messages and grouping rows by configuration."""

from __future__ import annotations

import pytest

from perfmodel.calibrate.serving_data import SERVING_COLUMNS, configurations, load_serving
from perfmodel.errors import SpecError


def test_rows_of_one_run_share_a_configuration(tmp_path, serving_csv) -> None:
    path = serving_csv(tmp_path / "serving.csv",
                         {"quantity": "output_tokens_per_s", "value": "500"},
                         {"quantity": "tpot_mean_s", "value": "0.01"},
                         {"quantity": "tpot_mean_s", "value": "0.02", "concurrency": "16"},
                         {"quantity": "ttft_p99_s", "value": "0.5", "concurrency": "", "request_rate": "2.5"})
    table = load_serving([path])
    assert table["config_id"].tolist() == [0, 0, 1, 2]
    groups = configurations(table)
    assert [len(rows) for _, rows in groups] == [2, 1, 1]
    assert groups[2][0]["request_rate"] == 2.5
    assert table["weight"].tolist() == [0.8] * 4
    assert table["line"].tolist() == [2, 3, 4, 5]


def test_defaults_for_optional_fields(tmp_path, serving_csv) -> None:
    path = serving_csv(tmp_path / "s.csv", {"tp": "", "pp": "", "ep": "", "dp": "", "range_ratio": "",
                                              "engine": "", "reliability": "", "num_requests": ""})
    row = load_serving([path]).iloc[0]
    assert (row.tp, row.pp, row.ep, row.dp, row.range_ratio) == (1, 1, 1, 1, 1.0)
    assert row.engine == "vllm" and row.reliability == "B"  # no engine named: the default profile


@pytest.mark.parametrize(("update", "column", "words"), [
    ({"concurrency": "8", "request_rate": "3"}, "concurrency", "exactly one"),
    ({"concurrency": "", "request_rate": ""}, "concurrency", "exactly one"),
    ({"concurrency": "2.5"}, "concurrency", "whole number"),
    ({"request_rate": "-1", "concurrency": ""}, "request_rate", "> 0"),
    ({"quantity": "tpot_p90_s"}, "quantity", "tpot_p50_s"),
    ({"value": "0"}, "value", "> 0"),
    ({"value": "fast"}, "value", "not a number"),
    ({"range_ratio": "1.5"}, "range_ratio", "(0, 1]"),
    ({"num_devices": "4", "tp": "2"}, "num_devices", "dp·tp·pp"),
    ({"disagg": "2x1"}, "disagg", "1p1d"),
    ({"num_devices": "2", "disagg": "2p1d"}, "num_devices", "prefill + decode"),
    ({"input_len": ""}, "input_len", "empty"),
    ({"model": ""}, "model", "empty"),
])
def test_bad_values_name_file_column_and_line(tmp_path, serving_csv, update, column, words) -> None:
    path = serving_csv(tmp_path / "bad.csv", {}, update)
    with pytest.raises(SpecError) as info:
        load_serving([path])
    message = str(info.value)
    assert str(path) in message and f"'{column}'" in message and "line 3" in message
    assert words in message and "\n" not in message


def test_disaggregated_device_count_is_accepted(tmp_path, serving_csv) -> None:
    path = serving_csv(tmp_path / "d.csv", {"num_devices": "6", "tp": "2", "disagg": "2p1d"})
    assert load_serving([path]).iloc[0].disagg == "2p1d"


def test_missing_column_and_no_files(tmp_path, serving_csv) -> None:
    path = serving_csv(tmp_path / "m.csv", {}, columns=tuple(c for c in SERVING_COLUMNS if c != "range_ratio"))
    with pytest.raises(SpecError, match="missing column.*range_ratio"):
        load_serving([path])
    with pytest.raises(SpecError, match="no serving measurement files"):
        load_serving([])
    with pytest.raises(SpecError, match="cannot read"):
        load_serving([tmp_path / "absent.csv"])
