"""clv_engine: customer-lifetime-value forecasting as a reproducible DVC pipeline.

Modules, one concept each: ``params`` (validated params.yaml), ``ingest`` (raw log to
canonical transactions), ``synth`` (synthetic logs), ``io`` (atomic outputs),
``stage`` (what stage entry points share).
"""

__version__ = "0.1.0"
