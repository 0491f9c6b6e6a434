"""What `vst-run` and `vst.stylize` do with their inputs: plan every input's output
(engine.inputs), open the model, run them all, in this process (engine.run) or on Ray workers
(engine.cluster, --workers / --ray-address)."""
from pathlib import Path
from typing import Callable

from vst.core.errors import InputError

from .runner import ModelSpec, opened_runner
from .cluster import Scaling, run_on_ray
from .inputs import plan_tasks
from .job import VideoSettings
from .run import Outcome, failed, run_tasks


def stylize_inputs(inputs: list[str], out: Path | None, model: ModelSpec, settings: VideoSettings,
                   scaling: Scaling, tell: Callable[[str], None], notice: Callable[[str], None],
                   progress: bool = True) -> list[Outcome]:
    """notice() gets the backends' notice, tell() each line of what was written."""
    tasks = plan_tasks(inputs, out, model.name)  # a lone refused input before the model loads (or Ray starts)
    if all(task.refused for task in tasks):  # nothing to run: no model to open
        return [failed(task, InputError(task.refused)) for task in tasks]
    if scaling.uses_ray:
        return run_on_ray(tasks, model, settings, scaling, tell, notice, progress)
    with opened_runner(model.engine, model.style, notice, model.backend, model.mix, model.precision) as runner:
        return run_tasks(tasks, runner, settings, tell, progress)
