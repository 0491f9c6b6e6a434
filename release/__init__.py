"""vst.release: maintainers' tools that turn a vst-train checkpoint into a shipped style
(vst.styles). The top layer: it may use training, export and evaluation alike."""
