"""The request path's fast parts give exactly what the plain ones give: the C-API predictor and
XGBoost's `inplace_predict`, the CSV fast path and a row-by-row `float()` reading of the same body."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_pipelines.serving.model import load_model
from ml_pipelines.serving.payload import BadRequest, parse_csv
from ml_pipelines.serving.predict import DensePredictor
from tests.ml_pipelines.serving.conftest import FEATURES, train_model

WIDTH = len(FEATURES)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(train_model(tmp_path_factory.mktemp("model") / "blue", rounds=30))


@pytest.mark.parametrize("rows", [1, 2, 100, 1000])
def test_the_c_api_predictor_equals_inplace_predict_bit_for_bit(model, rows):
    x = np.random.default_rng(rows).normal(size=(rows, WIDTH)).astype(np.float32)
    x[::3, 2] = np.nan  # missing values take the default branch in both
    assert isinstance(model.predictor, DensePredictor)
    got = model.predict(x)
    want = model.booster.inplace_predict(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True)
    # float64 and non-contiguous input are converted as inplace_predict's float32 view of them
    wide = x.astype(np.float64)
    assert np.array_equal(model.predict(wide[:, :]), want)
    assert np.array_equal(model.predict(np.asfortranarray(x)), want)


def test_the_predictor_serves_several_threads_each_with_its_own_proxy(model):
    x = np.random.default_rng(1).normal(size=(50, WIDTH)).astype(np.float32)
    want = model.booster.inplace_predict(x)
    results: list[bool] = []

    def work() -> None:
        results.extend(np.array_equal(model.predict(x), want) for _ in range(50))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 200 and all(results)


def test_a_wrong_width_is_refused_by_the_library_not_a_crash(model):
    with pytest.raises(RuntimeError, match="xgboost"):
        model.predictor(np.zeros((2, WIDTH + 3), dtype=np.float32))


def reference(body: bytes) -> np.ndarray:
    """The CSV rules read slowly: `float()` per field, empty or nan = NaN, infinity refused."""
    lines = [line for line in body.decode().splitlines() if line.strip()]
    if not lines:
        raise ValueError("no rows")
    matrix = np.empty((len(lines), WIDTH), dtype=np.float32)
    for r, line in enumerate(lines):
        fields = line.split(",")
        if len(fields) != WIDTH:
            raise ValueError("width")
        values = []
        for field in fields:
            text = field.strip()
            value = math.nan if text in ("", "nan", "NaN") or text.lower() == "nan" else float(text)
            if math.isinf(value):
                raise ValueError("inf")
            values.append(value)
        with np.errstate(over="ignore"):  # 1e39 is finite as a float and inf as a float32, as served
            matrix[r] = values
    return matrix


NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:.6f}"),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", " 1", "1 ", ".5", "+1", "01", "-0", "1e5", "1E-5", "1.e3", "nan", "-", "e", "1e39"]),
)


@settings(max_examples=400, deadline=None)
@given(
    rows=st.lists(st.lists(NUMBER, min_size=WIDTH - 1, max_size=WIDTH + 1), min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n"]),
    trailing=st.booleans(),
)
def test_csv_fast_path_reads_what_float_reads(rows, newline, trailing):
    body = (newline.join(",".join(row) for row in rows) + (newline if trailing else "")).encode()
    try:
        want = reference(body)
    except ValueError:
        with pytest.raises(BadRequest):
            parse_csv(body, FEATURES)
        return
    assert np.array_equal(parse_csv(body, FEATURES), want, equal_nan=True)


def test_a_header_of_numeric_feature_names_is_still_skipped():
    names = [str(i) for i in range(3)]
    assert parse_csv(b"0,1,2\n5,6,7\n", names).tolist() == [[5.0, 6.0, 7.0]]
    assert parse_csv(b"5,6,7\n", names).tolist() == [[5.0, 6.0, 7.0]]
