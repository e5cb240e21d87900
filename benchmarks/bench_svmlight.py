"""Benchmark SVMlight / LIBSVM reading: fastopt.datasets.load_svmlight vs scikit-learn.

Files: a9a, w8a, news20 (decompressed to a temporary file, and the .bz2 as shipped) from
``--data-dir``, and a generated file of ``--generated-mb`` MB (random sparse rows, 1-based
indices, shortest round-trip values, written with fastopt.datasets.dump_svmlight).

For each file and reader: the median wall time of ``--repeats`` loads in this process (the file
is in the page cache after the first read), the text bandwidth (bytes of text per second), and
the peak memory of one load in a fresh subprocess: VmHWM after the load minus VmRSS after the
imports, as a ratio to the nbytes of the returned arrays (X.data, X.indices, X.indptr, y).
The roofline is measured in the same run on the same file: reading its bytes into a
preallocated buffer (``readinto``) and summing them as uint64 with NumPy.

Results go to benchmarks/results/svmlight.json and to docs/benchmarks.md between
``<!-- svmlight:begin -->`` and ``<!-- svmlight:end -->``. ``--quick`` uses a 5 MB generated
file and 1 repeat, for a check that the script works, not a measurement.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from _sections import machine_environment, replace_section, write_atomically

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "svmlight.json"
DOCS = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- svmlight:begin -->"
END = "<!-- svmlight:end -->"

# Runs in a fresh interpreter: prints the peak resident memory added by one load and the
# bytes of the arrays it returned.
MEMORY_PROBE = r"""
import sys
import numpy, scipy.sparse, sklearn.datasets, fastopt.datasets

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field + " not in /proc/self/status")

reader, path = sys.argv[1], sys.argv[2]
load = fastopt.datasets.load_svmlight if reader == "fastopt" else sklearn.datasets.load_svmlight_file
baseline = status("VmRSS:")
X, y = load(path)
peak = status("VmHWM:")
X = scipy.sparse.csr_matrix(X)
print(peak - baseline, X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + y.nbytes)
"""


def generate(path: Path, megabytes: float, seed: int = 0) -> None:
    """Write random sparse rows (about 40 values each, 100000 columns) until ``megabytes`` MB."""
    from fastopt.datasets import dump_svmlight

    rng = np.random.default_rng(seed)
    target = int(megabytes * 1e6)
    with open(path, "wb") as out:
        while out.tell() < target:
            X = sp.random(20_000, 100_000, density=4e-4, format="csr", random_state=rng)
            X.data = np.round(X.data * 10, 4)
            y = rng.integers(0, 2, size=X.shape[0]) * 2 - 1
            dump_svmlight(X, y, out, zero_based=False)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def roofline(path: Path, repeats: int) -> dict:
    size = path.stat().st_size
    buffer = bytearray(size + (-size % 8))

    def read():
        with open(path, "rb", buffering=0) as f:
            f.readinto(buffer)

    def scan():
        np.frombuffer(buffer, dtype=np.uint64).sum()

    read()
    return {"read_s": median_time(read, repeats), "scan_s": median_time(scan, repeats)}


def peak_memory(reader: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, reader, str(path)],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    peak, arrays = int(out[0]), int(out[1])
    return {"peak_bytes": peak, "array_bytes": arrays, "ratio": peak / arrays}


def measure(name: str, path: Path, text_bytes: int, repeats: int) -> dict:
    from sklearn.datasets import load_svmlight_file

    from fastopt.datasets import load_svmlight

    readers = {"fastopt": lambda: load_svmlight(path), "sklearn": lambda: load_svmlight_file(str(path))}
    entry = {"file": path.name, "file_bytes": path.stat().st_size, "text_bytes": text_bytes}
    entry["roofline"] = roofline(path, repeats)
    for reader, fn in readers.items():
        fn()  # warm the page cache and the imports
        seconds = median_time(fn, repeats)
        entry[reader] = {"seconds": seconds, "text_mb_per_s": text_bytes / seconds / 1e6}
        entry[reader].update(peak_memory(reader, path))
        print(f"{name:>10} {reader:>8}: {seconds:8.3f} s  {text_bytes / seconds / 1e6:7.1f} MB/s  "
              f"peak {entry[reader]['ratio']:.2f}x arrays", flush=True)
    entry["speedup"] = entry["sklearn"]["seconds"] / entry["fastopt"]["seconds"]
    if path.suffix == ".bz2":
        # No reader can beat one-thread decompression of the whole file: the upper bound of
        # the speedup for a reader that decompresses with Python's bz2 module.
        packed = path.read_bytes()
        entry["decompress_s"] = median_time(lambda: bz2.decompress(packed), repeats)
        entry["speedup_bound"] = entry["sklearn"]["seconds"] / entry["decompress_s"]
        print(f"{name:>10} bz2.decompress: {entry['decompress_s']:.3f} s, so at most "
              f"{entry['speedup_bound']:.1f}x sklearn", flush=True)
    return entry


def environment():
    import sklearn

    return {**machine_environment(), "scikit_learn": sklearn.__version__}


def render_section(result: dict) -> str:
    env = result["environment"]
    lines = [
        BEGIN,
        "## SVMlight / LIBSVM reading (generated by benchmarks/bench_svmlight.py)",
        "",
        f"{env['cpu_count']} CPUs ({env['processor']}), fastopt threads {env['fastopt_threads']}, "
        f"scikit-learn {env['scikit_learn']}, median of {result['repeats']} loads"
        + (" (--quick: not a measurement)" if result["quick"] else "") + ".",
        "Peak memory: VmHWM of a fresh process after one load minus VmRSS after its imports, "
        "divided by the bytes of the returned arrays. Roofline: reading the file into a buffer, "
        "and a NumPy sum over those bytes.",
        "",
        "| file | MB text | fastopt s | sklearn s | speedup | fastopt MB/s | read MB/s | scan MB/s "
        "| fastopt peak/arrays | sklearn peak/arrays |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, e in result["files"].items():
        mb = e["text_bytes"] / 1e6
        disk_mb = e["file_bytes"] / 1e6
        lines.append(
            f"| {name} | {mb:.1f} | {e['fastopt']['seconds']:.3f} | {e['sklearn']['seconds']:.3f} | "
            f"{e['speedup']:.1f}x | {e['fastopt']['text_mb_per_s']:.0f} | "
            f"{disk_mb / e['roofline']['read_s']:.0f} | {disk_mb / e['roofline']['scan_s']:.0f} | "
            f"{e['fastopt']['ratio']:.2f} | {e['sklearn']['ratio']:.2f} |"
        )
    bounds = [
        f"{name}: bz2.decompress takes {e['decompress_s']:.3f} s, so no reader gets past "
        f"{e['speedup_bound']:.1f}x sklearn"
        for name, e in result["files"].items()
        if "decompress_s" in e
    ]
    lines += [
        "",
        "For news20.bz2 the roofline columns are for the compressed file; bzip2 decompression "
        "(Python's bz2 module, one thread) bounds both readers there. fastopt decompresses on a "
        "second thread while it parses"
        + (" (" + "; ".join(bounds) + ")." if bounds else "."),
        END,
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("FASTOPT_DATA_DIR"),
                        help="directory of a9a, w8a, news20.bz2 (default: $FASTOPT_DATA_DIR)")
    parser.add_argument("--generated-mb", type=float, default=None,
                        help="size of the generated file in MB (default 200, 5 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="timed loads per reader (default 3)")
    parser.add_argument("--quick", action="store_true", help="small generated file, 1 repeat")
    parser.add_argument("--no-write", action="store_true", help="print only; write neither JSON nor docs")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="JSON file to write (default benchmarks/results/svmlight.json)")
    parser.add_argument("--docs", type=Path, default=DOCS,
                        help="Markdown file whose svmlight section is replaced (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("--data-dir or FASTOPT_DATA_DIR is required")
    repeats = args.repeats or (1 if args.quick else 3)
    generated_mb = args.generated_mb or (5 if args.quick else 200)
    data_dir = Path(args.data_dir)

    result = {"quick": args.quick, "repeats": repeats, "environment": environment(), "files": {}}
    with tempfile.TemporaryDirectory(prefix="bench_svmlight_") as tmp:
        tmp = Path(tmp)
        news20 = tmp / "news20"
        news20.write_bytes(bz2.decompress((data_dir / "news20.bz2").read_bytes()))
        generated = tmp / "generated.svm"
        generate(generated, generated_mb)
        files = {
            "a9a": data_dir / "a9a",
            "w8a": data_dir / "w8a",
            "news20": news20,
            "news20.bz2": data_dir / "news20.bz2",
            f"generated {generated_mb:g} MB": generated,
        }
        for name, path in files.items():
            text_bytes = news20.stat().st_size if name == "news20.bz2" else path.stat().st_size
            result["files"][name] = measure(name, path, text_bytes, repeats)

    if not args.no_write:
        write_atomically(args.results, json.dumps(result, indent=2) + "\n")
        replace_section(args.docs, BEGIN, END, render_section(result))
        print(f"wrote {args.results} and {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
