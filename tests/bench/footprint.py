"""Item 12: the Lambda footprint, the layer's size per architecture and the ``stream``
function's memory high-water mark over a 1,000-token run.

Sizes (``layer_size``): the layer built with pip for the template's default ``Runtime`` on
``x86_64`` and ``arm64``, unzipped (what Lambda's 250 MiB limit counts, a function's code and
layers together) and zipped. Memory (``stream_memory``): the function started as Lambda starts
it, in a fresh process, ``VmHWM`` after init and after the run, against the function's
``MemorySize``; measured on this machine's architecture, estimated for the other one from the
layer's compiled libraries. Run alone: ``python -m tests.bench.footprint``.
"""

from __future__ import annotations

import platform

from tests.bench.layer_size import (
    ARCHITECTURES,
    LAMBDA_UNZIPPED_LIMIT,
    LayerSize,
    default_runtime,
    dependencies,
    layer_size,
)
from tests.bench.rows import Row, render
from tests.bench.session_cost import memory_mb
from tests.bench.stream_memory import (
    TOKENS,
    arm64_estimate,
    library_ratios,
    measure_stream_memory,
)
from tests.bench.venvs import ROOT

MIB = 2**20


def _mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"


def _function_code() -> int:
    return sum(
        p.stat().st_size for p in (ROOT / "functions").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def _size_rows(sizes: list[LayerSize]) -> list[Row]:
    rows = []
    for size in sizes:
        largest = ", ".join(f"{name} {size_ / MIB:.0f}" for name, size_ in size.largest)
        rows.append(Row(
            12, f"layer unzipped ({size.runtime}, {size.architecture}; zipped; largest, MiB)",
            f"{_mib(size.unzipped)} ({_mib(size.zipped)} zipped; {largest})",
            "Lambda limit: 250 MiB unzipped", size.unzipped / LAMBDA_UNZIPPED_LIMIT,
            "< 250 MiB", size.unzipped < LAMBDA_UNZIPPED_LIMIT,
        ))
    rows.append(Row(
        12, "function code (functions/*) / lambdagraph package in the layer",
        f"{_function_code() / 1e3:.0f} KB / {sizes[0].package / 1e3:.0f} KB",
    ))
    return rows


def _memory_rows() -> list[Row]:
    figures = measure_stream_memory()
    limit = memory_mb("StreamFunction")
    init, after = figures.init, figures.after_run
    here = platform.machine()
    other = "arm64" if here == "x86_64" else "x86_64"
    runtime = default_runtime()
    by_arch = {arch: dependencies(runtime, arch) for arch in ARCHITECTURES}
    ratios = library_ratios(by_arch["x86_64"], by_arch["arm64"])
    if here != "x86_64":
        ratios = {key: 1 / ratio for key, ratio in ratios.items()}
    estimate = arm64_estimate(after, ratios)
    ok = figures.tokens == TOKENS
    return [
        Row(12, f"stream function, {here}: peak resident memory (VmHWM) after init / after a "
                f"{TOKENS:,}-token run ({figures.tokens} tokens received)",
            f"{_mib(init.hwm)} / {_mib(after.hwm)}", f"MemorySize: {limit} MB",
            after.hwm / (limit * MIB), f"≤ MemorySize ({TOKENS:,} tokens)",
            ok and after.hwm < limit * MIB),
        Row(12, "of which compiled libraries resident (layer and runtime *.so) / the rest",
            f"{_mib(after.library_total)} / {_mib(after.hwm - after.library_total)}"),
        Row(12, "with the Bedrock model built (the template's default Model; not called)",
            f"≈ {_mib(after.hwm + figures.bedrock_imports)} "
            f"(+{_mib(figures.bedrock_imports)})", f"MemorySize: {limit} MB",
            (after.hwm + figures.bedrock_imports) / (limit * MIB)),
        Row(12, f"stream function, {other}: estimated from the {other} wheels' library sizes",
            f"≈ {_mib(estimate)} after the run", f"{here} measured: {_mib(after.hwm)}",
            estimate / after.hwm),
        Row(12, "stream function CPU time: init / the run (fraction of a vCPU at MemorySize: "
                f"{limit / 1769:.2f})", f"{init.cpu:.2f} s / {after.cpu - init.cpu:.2f} s"),
    ]


def measure() -> list[Row]:
    """Item 12 rows."""
    sizes = [layer_size(arch) for arch in ARCHITECTURES]
    return [*_size_rows(sizes), *_memory_rows()]


if __name__ == "__main__":
    print(render(measure()))
