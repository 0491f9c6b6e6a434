"""What the host CPU is and which number formats it computes natively."""
import os
import platform
from functools import cache
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 flags for native BF16 dot products
# ... and for INT8 ones: AVX2 multiplies bytes and adds the pairs (VPMADDUBSW), VNNI and AMX
# do the whole dot product in one instruction
INT8_FLAGS = ("avx2", "avx512_vnni", "avx_vnni", "amx_int8")
# ONEDNN_MAX_CPU_ISA, oneDNN's ceiling on the instructions its kernels use, binds the oneDNN
# kernels of OpenVINO's CPU plugin (its convolutions) and of torch: with it, and vst choosing
# by these flags, a newer CPU runs as an older one does (=AVX2: INT8 in three instructions,
# float layers in FP32). The ceilings in rising order, each with the flags of this file it
# is the first to allow; an unknown value caps nothing.
ISA_CEILINGS = (("SSE41", ()), ("AVX", ()), ("AVX2", ("avx2",)), ("AVX2_VNNI", ("avx_vnni",)),
                ("AVX2_VNNI_2", ()), ("AVX512_CORE", ()), ("AVX512_CORE_VNNI", ("avx512_vnni",)),
                ("AVX512_CORE_BF16", ("avx512_bf16",)), ("AVX512_CORE_FP16", ()),
                ("AVX512_CORE_AMX", ("amx_int8", "amx_bf16")))


@cache
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo; empty where there is none (not Linux)."""
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return {}
    fields = {}
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_model() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def above_ceiling() -> set[str]:
    """The flags of this file that ONEDNN_MAX_CPU_ISA, where set, keeps from oneDNN."""
    ceiling = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    names = [name for name, _ in ISA_CEILINGS]
    if ceiling not in names:
        return set()
    return {flag for _, flags in ISA_CEILINGS[names.index(ceiling) + 1:] for flag in flags}


def cpu_flags() -> set[str]:
    """The CPU's flags, less those above ONEDNN_MAX_CPU_ISA."""
    return set(_cpuinfo().get("flags", "").split()) - above_ceiling()


def usable_cores() -> int:
    """Cores this process may run on (a container's limit, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def has_native_bf16() -> bool:
    # oneDNN also accepts BF16 on CPUs without these instructions by converting to FP32,
    # which keeps BF16's rounding without its speed
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def has_native_int8() -> bool:
    # even where AVX2 takes three instructions for what VNNI does in one, OpenVINO's INT8
    # graphs ran the shipped styles 1.3-1.6x faster than FP32 (docs/results.md)
    return any(flag in cpu_flags() for flag in INT8_FLAGS)
