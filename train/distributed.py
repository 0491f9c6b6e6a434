"""Training on several processes with torch.distributed, as `torchrun --nproc_per_node N
vst-train ...` starts them: DistributedDataParallel over NCCL on GPUs (one per process) or
gloo on CPUs. A plain `vst-train` is one rank of one, and none of this changes it.

Rank 0 computes the flows (the others wait, then read its cache), writes the checkpoints,
the log and the preview; every rank trains on its own shard of the pairs.
"""
import os
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from vst.core.errors import CommandError, InputError

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    world: int          # processes
    rank: int           # this one's
    device: torch.device

    @classmethod
    def from_environment(cls, device: str) -> "Ranks":
        """One rank of one, or this process's place among those torchrun started (its
        WORLD_SIZE, RANK and LOCAL_RANK), the process group joined."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        if cuda and not torch.cuda.is_available():
            raise InputError("--device cuda: no CUDA device is available to PyTorch")
        if world == 1:
            return cls(1, 0, torch.device("cuda" if cuda else "cpu"))
        local = int(os.environ["LOCAL_RANK"])
        if cuda:
            if local >= torch.cuda.device_count():
                raise InputError(f"rank {local} has no GPU of its own ({torch.cuda.device_count()} visible)")
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if cuda else "gloo")
        return cls(world, dist.get_rank(), torch.device("cuda", local) if cuda else torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def main_first(self, make: Callable[[], T]) -> T:
        """make() on rank 0, then on the others: what rank 0 caches, they find. Where rank 0
        fails (bad data, say), every rank stops instead of waiting for it."""
        if self.world == 1:
            return make()
        made, failure = None, None
        if self.is_main:
            try:
                made = make()
            except Exception as exc:  # noqa: BLE001 - raised below, after the others are told
                failure = exc
        succeeded = torch.tensor([failure is None], dtype=torch.int32, device=self.device)
        dist.broadcast(succeeded, 0)
        if failure is not None:
            raise failure
        if not succeeded.item():
            raise CommandError(f"rank {self.rank}: rank 0 failed to prepare the data (its message says why)")
        return made if self.is_main else make()

    def wrap(self, model: nn.Module) -> nn.Module:
        if self.world == 1:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def loader(self, pairs: Dataset, batch_size: int, seed: int) -> Iterator:
        """Batches without end: each rank its own shard, reshuffled every pass."""
        cuda = self.device.type == "cuda"
        common = dict(batch_size=batch_size, num_workers=4 if cuda else 0, pin_memory=cuda,
                      persistent_workers=cuda, drop_last=len(pairs) >= batch_size * self.world)
        if self.world == 1:
            sampler, order = None, dict(shuffle=True, generator=torch.Generator().manual_seed(seed))
        else:
            sampler = DistributedSampler(pairs, self.world, self.rank, shuffle=True, seed=seed)
            order = dict(sampler=sampler)
        loader = DataLoader(pairs, **order, **common)
        epoch = 0
        while True:
            if sampler is not None:
                sampler.set_epoch(epoch)
            yield from loader
            epoch += 1

    def mean(self, values: list[float]) -> list[float]:
        """The mean over ranks, for the log."""
        if self.world == 1:
            return values
        total = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return (total / self.world).tolist()

    def check_agree(self, model: nn.Module) -> None:
        """Every rank must end with rank 0's weights; DDP keeps them equal, this proves it."""
        if self.world == 1:
            return
        for name, tensor in model.state_dict().items():
            reference = tensor.clone()
            dist.broadcast(reference, 0)
            if not torch.equal(reference, tensor):
                raise RuntimeError(f"rank {self.rank}: {name} differs from rank 0's")

    def wait_for_all(self) -> None:
        """Every rank here before any tears its group down: a rank that leaves while rank 0
        still writes the last checkpoint aborts in gloo's teardown."""
        if self.world > 1:
            dist.barrier()

    def close(self) -> None:
        if self.world > 1:
            dist.destroy_process_group()
