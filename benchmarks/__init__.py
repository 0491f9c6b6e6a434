"""vst.benchmarks: timing and temporal-error evaluation (issues 5, 6; not built yet)."""
