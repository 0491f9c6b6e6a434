"""vst.benchmarks: `vst-bench`, per-frame timing of the stylizers on every backend and of the
whole decode -> stylize -> encode pipeline."""
