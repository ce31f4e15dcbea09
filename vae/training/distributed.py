"""Data-parallel training on PyTorch's own engine (torch.distributed + DistributedDataParallel).

`torchrun --nproc_per_node N -m vae.train ...` sets RANK / WORLD_SIZE / LOCAL_RANK and the
rendezvous; `vae.train` then joins the group (NCCL on GPUs, Gloo on CPU). Every rank keeps the
whole dataset in memory and, each step, takes its slice of the same shuffled global batch, so a
run with N processes follows a one-process run with the same --batch-size and seed."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Group:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def shard(self, items: torch.Tensor) -> torch.Tensor:
        """This rank's share of a batch or an index list: every world_size-th item."""
        return items[self.rank :: self.world_size] if self.active else items

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over ranks (a copy; the input is left alone)."""
        if not self.active:
            return values
        total = values.detach().clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    def barrier(self) -> None:
        if self.active:
            dist.barrier()


def join(device_name: str) -> tuple[Group, str]:
    """Join the process group when started by torchrun (WORLD_SIZE > 1); returns the group and
    the device this rank should use (cuda:LOCAL_RANK for NCCL)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Group(), device_name
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    elif device_name == "auto":
        device_name = "cpu"
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Group(rank, world_size, local_rank), device_name


def is_main_process() -> bool:
    """True outside torchrun and on its rank 0: the one process that reports and writes."""
    return int(os.environ.get("RANK", "0")) == 0


def leave(group: Group) -> None:
    if group.active and dist.is_initialized():
        dist.destroy_process_group()


class Objective(nn.Module):
    """The training loss as a module, so DistributedDataParallel sees a forward call (it
    prepares its gradient all-reduce there) around `VAE.elbo_terms`."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x, y, **options):
        return self.model.elbo_terms(x, y, **options)
