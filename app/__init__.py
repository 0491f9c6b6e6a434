"""vst.app: `vst-app`, a local web page (Gradio) to try the shipped styles on a video or an
image, tune strength and colour on a preview frame, and stylize the whole file."""
