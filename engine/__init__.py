"""vst.engine: pipelined decode -> stylize -> encode runner (issue 4; not built yet)."""
