"""Fit engine profiles and device efficiencies to published measurements, and score them."""

from perfmodel.calibrate.data import data_hash, default_measurement_files, load_measurements
from perfmodel.calibrate.fit import FitResult, cross_validate, fit
from perfmodel.calibrate.report import passes_gate, summary, summary_by
from perfmodel.calibrate.run import calibrate_engines, validate
from perfmodel.calibrate.serving_data import default_serving_files, load_serving
from perfmodel.calibrate.serving_predict import predict_serving_rows, predict_serving_steady, validate_serving

__all__ = ["FitResult", "calibrate_engines", "cross_validate", "data_hash", "default_measurement_files", "fit",
           "load_measurements", "load_serving", "default_serving_files", "passes_gate", "predict_serving_rows",
           "predict_serving_steady", "summary", "summary_by", "validate", "validate_serving"]
