"""Atomic writes of benchmark outputs and of one marked section of docs/benchmarks.md."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a crash leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def replace_section(path: Path, begin: str, end: str, section: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in place of the
    marked section of ``path``, or append it, keeping every other section."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_atomically(path, text)


def last_level_cache_bytes() -> int | None:
    """Return the size of the largest CPU cache that Linux reports, or None elsewhere."""
    sizes = []
    for entry in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = entry.read_text().strip()
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        if text[-1:] in units and text[:-1].isdigit():
            sizes.append(int(text[:-1]) * units[text[-1]])
        elif text.isdigit():
            sizes.append(int(text))
    return max(sizes, default=None)


def machine_environment() -> dict:
    """Return the interpreter, machine and fastopt thread count that every benchmark records."""
    import platform

    import fastopt

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "fastopt_threads": fastopt.get_num_threads(),
        "last_level_cache_bytes": last_level_cache_bytes(),
    }


def write_outputs(results: Path, docs: Path, begin: str, end: str, result: dict,
                  section: str, repo: Path) -> None:
    """Write the JSON record and the docs section of one benchmark, then print both paths."""
    import json

    write_atomically(results, json.dumps(result, indent=2) + "\n")
    replace_section(docs, begin, end, section)
    display_paths = [path.relative_to(repo) if path.is_relative_to(repo) else path
             for path in (results, docs)]
    print(f"wrote {display_paths[0]} and {display_paths[1]}")


def parse_choices(parser, flag: str, value: str, noun: str, allowed) -> list[str]:
    """Split a comma-separated option into names, exiting through ``parser`` on an unknown one."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in allowed:
            parser.error(f"{flag}: unknown {noun} {name!r}; expected some of {', '.join(allowed)}")
    return names


def command_line(script: str, argv) -> str:
    """Return the command that reruns ``script`` with ``argv`` (``sys.argv[1:]`` when None)."""
    import shlex
    import sys

    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", f"benchmarks/{script}", *args])


def format_power(value: float) -> str:
    """Return a tolerance or penalty such as 1e-4 as ``1e-4``, other values as ``%g``."""
    mantissa, exponent = f"{value:.0e}".split("e")
    if mantissa != "1" or int(exponent) == 0 or float(f"{value:.0e}") != value:
        return f"{value:g}"
    return f"1e{int(exponent)}"


def start_run(script: str, argv, versions: dict) -> dict:
    """Return the run record that a section's header renders.

    The record has the date, the command, the machine, the versions and the 1-minute load
    average at the start, and ``finish_run`` adds the load at the end. ``versions`` maps
    package names to versions, and this adds fastopt's, NumPy's and Python's.
    """
    import datetime
    import platform

    import numpy

    import fastopt

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line(script, argv),
        "machine": {**machine_environment(), "platform": platform.platform(),
                    "isa": fastopt.active_isa()},
        "versions": {"Python": platform.python_version(), "fastopt": fastopt.__version__,
                     "NumPy": numpy.__version__, **versions},
        "load_average": {"start": os.getloadavg()[0]},
    }


def finish_run(run: dict) -> None:
    """Record the 1-minute load average at the end of the run in ``run``."""
    run["load_average"]["end"] = os.getloadavg()[0]


def render_run(run: dict) -> list[str]:
    """Return the Markdown bullet lines that describe a run record from ``start_run``.

    A field the record lacks is rendered as not recorded, so a record saved before a field
    existed still renders. An optional ``note`` is rendered last.
    """
    machine = run.get("machine", {})
    parts = [machine.get("platform") or machine.get("machine") or "platform not recorded"]
    if "cpu_count" in machine:
        parts.append(f"{machine['cpu_count']} logical CPUs")
    if "fastopt_threads" in machine:
        parts.append(f"{machine['fastopt_threads']} fastopt threads")
    if "isa" in machine:
        parts.append(f"{machine['isa']} kernels")
    if machine.get("last_level_cache_bytes"):
        parts.append(f"{machine['last_level_cache_bytes'] / 2**20:.0f} MiB last-level cache")
    versions = run.get("versions") or {}
    software = ", ".join(f"{name} {version}" for name, version in versions.items())
    load = run.get("load_average", {})
    load_parts = [f"{load[key]:.2f} at the {key}" for key in ("start", "end") if key in load]
    threads = machine.get("cpu_count")
    busy = f" (above {threads} means other processes competed for the cores)" if threads else ""
    lines = [
        f"- Date: {run.get('date', 'not recorded')}",
        f"- Command: `{run['command']}`" if "command" in run else "- Command: not recorded",
        "- Machine: " + ", ".join(parts),
        "- Versions: " + (software or "not recorded by this run"),
        "- 1-minute load average: " + (", ".join(load_parts) + busy if load_parts
                                       else "not recorded"),
    ]
    if run.get("note"):
        lines.append(f"- Note: {run['note']}")
    return lines


def read_record(path: Path) -> dict:
    """Return the JSON record at ``path``, exiting with a message when it cannot be read."""
    import json

    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"--from-json: failed to read the results record {path}: {error}. "
                         "Pass a JSON file that this benchmark wrote.")


def add_docs_options(parser, docs: Path, section: str) -> None:
    """Add ``--docs``, ``--no-write`` and ``--from-json`` to a benchmark's ``parser``."""
    parser.add_argument("--docs", type=Path, default=docs,
                        help=f"Markdown page whose {section} section is replaced "
                             "(default docs/benchmarks.md)")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; write neither JSON nor docs")
    parser.add_argument("--from-json", type=Path, metavar="PATH",
                        help="rewrite the docs section from this saved record and exit, "
                             "timing nothing")


def rewrite_from_json(args, begin: str, end: str, render) -> dict:
    """Replace the section of ``args.docs`` with ``render`` of the record at ``args.from_json``."""
    record = read_record(args.from_json)
    replace_section(args.docs, begin, end, render(record))
    print(f"wrote {args.docs} from {args.from_json}")
    return record
