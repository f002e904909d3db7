"""Compare, Calibration and Validation pages headless (AppTest), and the shared inputs (bounds, URL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import perfmodel as pm

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "pages"
GEMM_PEAK_FLOPS_PER_S = 1e11  # the rate the gemm_bundle fixture (conftest.py) times its GEMMs at
CV_HEADER = ("kind,study,engine,hardware,num_devices,model,weight_dtype,batch,input_len,output_len,quantity,value,"
             "prior,fitted,cv_source,cv_device,cv_engine\n")


def _page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=90)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_compare_two_devices_side_by_side() -> None:
    at = _page("5_Compare.py", model="qwen3-0.6b")
    assert not at.exception and not at.error
    values = [m.value for m in at.metric]
    assert len(values) == 8 and len(at.get("plotly_chart")) == 3
    h100 = pm.estimate("qwen3-0.6b", "h100-sxm-80gb", engine=pm.DEFAULT_ENGINE, input_len=1024, output_len=256)
    a100 = pm.estimate("qwen3-0.6b", "a100-sxm-80gb", engine=pm.DEFAULT_ENGINE, input_len=1024, output_len=256)
    assert at.dataframe[0].value["tpot_s"].tolist() == pytest.approx([h100.tpot_s, a100.tpot_s])


def test_compare_needs_two_and_takes_engines() -> None:
    at = _page("5_Compare.py", model="qwen3-0.6b", cmp_dimension="precisions", cmp_precisions=["bf16"])
    assert not at.exception and at.info and "Pick 2–4" in at.info[0].value
    at = _page("5_Compare.py", model="qwen3-0.6b", cmp_dimension="engines", cmp_engines=["vllm", "sglang", "trtllm"])
    assert not at.exception and not at.error
    assert at.dataframe[0].value["configuration"].tolist() == ["vllm", "sglang", "trtllm"]


def test_validation_page_filters_a_small_csv(tmp_path: Path) -> None:
    csv = tmp_path / "cv.csv"
    csv.write_text(CV_HEADER
                   + "e2e,s1,vllm,h100-sxm-80gb,1,m,bf16,1,128,128,e2e_s,1.0,1.3,1.1,s1,h100,vllm\n"
                   + "e2e,s2,sglang,a100-sxm-80gb,1,m,bf16,8,512,128,e2e_s,2.0,2.6,1.8,s2,a100,sglang\n"
                   + "serving,s3,vllm,h100-sxm-80gb,1,m,bf16,16,512,256,ttft_s,0.1,0.2,0.13,s3,h100,vllm\n")
    at = _page("7_Validation.py", val_csv=str(csv))
    assert not at.exception and not at.error
    assert [m.value for m in at.metric] == ["3", "10.0%", "67%"]  # |errors| 10%, 10%, 30%: two of three within 25%
    assert len(at.get("plotly_chart")) == 1
    at.multiselect(key="val_engines").set_value(["vllm"])
    at.selectbox(key="val_prediction").set_value("prior (uncalibrated)").run()
    assert [m.value for m in at.metric] == ["2", "65.0%", "0%"]  # |errors| 30%, 100%
    assert at.dataframe[0].value["rows"].tolist() == [2]


def test_validation_page_without_data_says_so_in_one_line(tmp_path: Path) -> None:
    at = _page("7_Validation.py", val_csv=str(tmp_path / "absent.csv"))
    assert not at.exception and not at.error
    assert len(at.info) == 1 and "perfmodel calibrate-engines" in at.info[0].value
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    at = _page("7_Validation.py", val_csv=str(bad))
    assert not at.exception and len(at.error) == 1 and "missing columns" in at.error[0].value


def test_calibration_page_fits_a_bundle_and_offers_the_yaml(gemm_bundle: Path) -> None:
    """GEMMs timed on an exact roofline: the fit recovers the peak, so the efficiency against the base spec is
    that peak / the spec's fp32 peak."""
    at = _page("6_Calibration.py", cal_path=str(gemm_bundle), cal_base="epyc-9654")
    assert not at.exception and not at.error
    spec = pm.load_device("epyc-9654").peak_flops_per_s("fp32")
    efficiency = float(at.metric[0].value.rstrip(" %")) / 100
    assert efficiency == pytest.approx(GEMM_PEAK_FLOPS_PER_S / spec, rel=0.03)
    assert len(at.get("plotly_chart")) == 1
    assert at.get("download_button")


def test_calibration_page_missing_bundle_is_one_line(tmp_path: Path) -> None:
    at = _page("6_Calibration.py", cal_path=str(tmp_path / "nope.json"))
    assert not at.exception and len(at.error) == 1 and "file not found" in at.error[0].value


def test_url_values_seed_inputs_and_bad_ones_are_ignored() -> None:
    at = AppTest.from_file(str(PAGES / "1_Estimate.py"), default_timeout=60)
    at.query_params["batch"] = "32"
    at.query_params["output_len"] = "99999999999"
    at.query_params["model"] = "no-such-model"
    at.run()
    assert not at.exception and not at.error
    assert at.number_input(key="batch").value == 32
    assert at.number_input(key="output_len").value == 256  # out of bounds: the default
    assert at.selectbox(key="model").value == "llama-3.1-8b"
    assert at.number_input(key="output_len").max == 131_072


@pytest.mark.parametrize("name, state", [("1_Estimate.py", {}), ("5_Compare.py", {"model": "qwen3-0.6b"}),
                                         ("2_Serving_simulation.py", {"sim_requests": 20}),
                                         ("4_Capacity_planning.py", {}), ("6_Calibration.py", {})])
def test_every_number_input_is_bounded(name: str, state: dict) -> None:
    at = _page(name, **state)
    assert not at.exception
    assert at.number_input, name
    for box in at.number_input:
        assert box.proto.has_min and box.proto.has_max, f"{name}: '{box.label}' has no bounds"


def test_entry_point_lists_every_page_and_opens_estimate() -> None:
    at = AppTest.from_file(str(PAGES.parent / "app.py"), default_timeout=90).run()
    assert not at.exception and not at.error
    assert at.title[0].value == "LLM inference estimate"
    listing = (PAGES.parent / "app.py").read_text()
    missing = [p.name for p in PAGES.glob("*.py") if f'"{p.name}"' not in listing]
    assert not missing, f"pages not in app.py's PAGE_LIST: {missing}"
