"""Unit conversions between human YAML units and SI used everywhere inside, and YAML rounding."""

import math

GB = 1e9
MB = 1e6
TERA = 1e12
US = 1e-6



def significant(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant figures (stable, readable YAML); 0, inf and NaN unchanged."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")
