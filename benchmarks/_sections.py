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
    }


def write_outputs(results: Path, docs: Path, begin: str, end: str, result: dict,
                  section: str, repo: Path) -> None:
    """Write the JSON record and the docs section of one benchmark, then print both paths."""
    import json

    write_atomically(results, json.dumps(result, indent=2) + "\n")
    replace_section(docs, begin, end, section)
    print(f"wrote {results.relative_to(repo)} and {docs.relative_to(repo)}")


def parse_choices(parser, flag: str, value: str, noun: str, allowed) -> list[str]:
    """Split a comma-separated option into names, exiting through ``parser`` on an unknown one."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in allowed:
            parser.error(f"{flag}: unknown {noun} {name!r}; expected some of {', '.join(allowed)}")
    return names
