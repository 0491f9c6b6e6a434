"""vst.benchmarks: `vst-bench`, per-frame timing of the stylizers on every backend and of the
whole decode -> stylize -> encode pipeline, and `vst-eval`, the flicker and style scores of
Table 2. The layer above the engine: it may use every stage, training's losses included."""
