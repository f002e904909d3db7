"""Names the front ends show before the cost core is loaded (kept free of heavy imports)."""

DEFAULT_ENGINE = "vllm"
"""The engine profile used when none is named."""
