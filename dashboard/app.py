"""perfmodel dashboard: `streamlit run dashboard/app.py`.

Thin by design: widgets → perfmodel API → perfmodel.viz. No model logic lives here.
This file only lists the pages (dashboard/pages/) and sets the layout.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"
# (file, title, Material icon, URL path). Material icons ship with Streamlit, so they render without emoji fonts.
PAGE_LIST = (
    ("1_Estimate.py", "Estimate", "speed", "estimate"),
    ("5_Compare.py", "Compare", "compare_arrows", "compare"),
    ("4_Capacity_planning.py", "Capacity planning", "dns", "capacity-planning"),
    ("2_Serving_simulation.py", "Serving simulation", "traffic", "serving-simulation"),
    ("3_Test_time_scaling.py", "Test-time scaling", "psychology", "test-time-scaling"),
    ("6_Calibration.py", "Calibration", "tune", "calibration"),
    ("7_Validation.py", "Validation", "fact_check", "validation"),
)


def main() -> None:
    st.set_page_config(page_title="perfmodel", layout="wide")
    pages = [st.Page(PAGES / file, title=title, icon=f":material/{icon}:", url_path=url, default=i == 0)
             for i, (file, title, icon, url) in enumerate(PAGE_LIST)]
    st.navigation(pages).run()


main()
