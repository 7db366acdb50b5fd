"""clv_engine: customer-lifetime-value forecasting as a reproducible DVC pipeline.

Modules, one concept each: ``params`` (validated params.yaml), ``ingest`` (raw log to
canonical transactions), ``synth`` (synthetic logs), ``io`` (atomic outputs),
``stage`` (what stage entry points share).

``from clv_engine import Forecaster`` scores raw transactions with a saved model bundle
outside the pipeline (:mod:`clv_engine.scoring`).
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Forecaster"]


def __getattr__(name: str) -> Any:
    # Imported on first use: ``import clv_engine`` stays light (clv-synth needs no CatBoost).
    if name == "Forecaster":
        from .scoring import Forecaster

        return Forecaster
    raise AttributeError(f"module 'clv_engine' has no attribute {name!r}")
