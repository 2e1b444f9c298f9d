"""Benchmark reading a vault into the concept graph.

`python -m benchmarks.bench_load [--notes 1000 10000] [--jobs N]`
Generates the synthetic vaults (once, under benchmarks/out/), then measures in fresh
processes: a cold load (empty cache), a warm load (cache present, nothing changed) and a
warm `kgraph query neighbors` through the CLI, with peak memory (parent + workers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate_vault import generate, title_of

OUT = Path(__file__).parent / "out"

_CHILD = """
import json, resource, sys, time
t = time.perf_counter()
import kgraph
kg = kgraph.load(sys.argv[1], cache_dir=sys.argv[2], jobs=int(sys.argv[3]))
wall = time.perf_counter() - t
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "nodes": kg.graph.number_of_nodes(),
                  "edges": kg.graph.number_of_edges(), "peak_mb": (self_kb + kids_kb) / 1024}))
"""


def vault_for(n: int) -> Path:
    path = OUT / f"vault-{n}"
    if not (path / ".complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        generate(path, n)
        (path / ".complete").write_text("ok")
    return path


def load_once(vault: Path, cache: Path, jobs: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(vault), str(cache), str(jobs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def query_once(vault: Path, cache: Path) -> float:
    env = {**os.environ, "KGRAPH_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "kgraph", "query", "--vault", str(vault), "neighbors", title_of(1)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, jobs: {args.jobs}, python {sys.version.split()[0]}")
    for n in args.notes:
        vault = vault_for(n)
        cache = OUT / f"cache-{n}"
        shutil.rmtree(cache, ignore_errors=True)
        cold = load_once(vault, cache, args.jobs)
        warm = load_once(vault, cache, args.jobs)
        q = min(query_once(vault, cache) for _ in range(3))
        print(
            f"{n:>6} notes: cold load {cold['wall']:.2f} s (peak {cold['peak_mb']:.0f} MB), "
            f"warm load {warm['wall']:.2f} s (peak {warm['peak_mb']:.0f} MB), "
            f"warm `kgraph query neighbors` {q:.2f} s; "
            f"{int(cold['nodes'])} nodes, {int(cold['edges'])} edges"
        )


if __name__ == "__main__":
    main()
