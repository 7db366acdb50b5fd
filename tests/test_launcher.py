"""stages/py, the interpreter of every stage: the same floating-point bits on any x86-64."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
from tests.conftest import ROOT

_CHECK = """
import math, os
import numpy as np
x = np.random.default_rng(0).uniform(1e-3, 1e3, 50_000)
same = [
    bool(np.all(np.log(x) == np.array([math.log(v) for v in x]))),
    bool(np.all(np.exp(-x / 100) == np.array([math.exp(-v / 100) for v in x]))),
    bool(np.all(np.log1p(x) == np.array([math.log1p(v) for v in x]))),
]
print(same, os.environ.get("OPENBLAS_CORETYPE"))
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the pinning is for x86-64 machines")
def test_stages_get_the_c_library_log_and_exp_bits_and_the_haswell_blas_kernels():
    # numpy's AVX-512 log/exp differ from the C library's in the last bit for some inputs
    # (on this kind of machine for 0.01% to 5% of them): a BG/NBD fit then moved in the 5th
    # digit between machines. Under stages/py they are the C library's on every x86-64.
    env = {k: v for k, v in os.environ.items() if k not in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")}
    proc = subprocess.run(
        ["sh", str(ROOT / "stages" / "py"), "-c", _CHECK], capture_output=True, text=True, env=env, check=True
    )
    assert proc.stdout.split() == ["[True,", "True,", "True]", "Haswell"], proc.stdout + proc.stderr
    # A choice the user made is kept.
    mine = env | {"OPENBLAS_CORETYPE": "SkylakeX"}
    proc = subprocess.run(
        ["sh", str(ROOT / "stages" / "py"), "-c", _CHECK],
        capture_output=True,
        text=True,
        env=mine,
        check=True,
    )
    assert proc.stdout.split()[-1] == "SkylakeX"


_THREADS = """
import numpy  # loads OpenBLAS
from threadpoolctl import threadpool_info
print(sorted({pool["num_threads"] for pool in threadpool_info() if pool["internal_api"] == "openblas"}))
"""


def test_stages_run_openblas_on_one_thread_unless_the_user_chose():
    # On 2 cores OpenBLAS's threads fought polars' for every small dot product of a BTYD
    # search (features at 10M rows 48.6 s -> 37.5 s on one thread), and a threaded dot
    # product's sum depends on the thread count.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    launch = ["sh", str(ROOT / "stages" / "py"), "-c", _THREADS]
    proc = subprocess.run(launch, capture_output=True, text=True, env=env, check=True)
    assert proc.stdout.strip() == "[1]", proc.stdout + proc.stderr
    proc = subprocess.run(
        launch, capture_output=True, text=True, env=env | {"OPENBLAS_NUM_THREADS": "2"}, check=True
    )
    assert proc.stdout.strip() == "[2]", proc.stdout + proc.stderr


def test_the_stages_that_only_read_and_write_do_not_import_scipy_stats_or_catboost():
    # scipy.stats takes about 0.5 s to import and CatBoost (with pandas) about as long: paid
    # by each of the 15 stage processes of every `dvc repro`. publish, segments and report
    # use neither, so their modules must not import them at the top.
    code = (
        "import sys\n"
        "import clv_engine.outputs, clv_engine.report, clv_engine.segments, clv_engine.plots\n"
        "print(sorted(m for m in ('scipy.stats', 'catboost') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
