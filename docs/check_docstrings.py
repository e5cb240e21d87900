"""Validate the docstring of every public fastopt object with numpydoc.

    python docs/check_docstrings.py [--verbose] [NAME_PREFIX ...]

The public objects are the ones the API reference renders. They are the names in ``__all__``
of each module that docs/api/index.rst lists, or the names that a module without ``__all__``
defines, and the methods and properties that each public class defines itself. A class
attribute that refers to a function defined elsewhere is checked where it is defined. A
method without its own docstring that overrides a documented one is rendered with the
inherited text, so it is checked there as well.

Exits with status 1 and lists every report when one of the enabled checks fails.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys

from numpydoc.validate import validate

# Checks that every public function, class, method and property must pass.
CHECKS = {
    "GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL09", "GL10",
    "SS01", "SS02", "SS03", "SS04", "SS05", "SS06",
    "PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PR10",
    "RT01", "RT02", "RT03",
    "YD01",
}
# Checks for functions and classes only, because the API reference shows an example on each
# of them. A method is covered by its class's example, and a property has no example.
CHECKS_FUNCTION_OR_CLASS = {"EX01"}
# Checks that do not apply to properties, whose docstring is a noun phrase.
NOT_FOR_PROPERTIES = {"SS05", "RT01", "PR01"}

_DOCS = os.path.dirname(os.path.abspath(__file__))


def documented_modules() -> list[str]:
    """Read the module list of the API reference from docs/api/index.rst."""
    with open(os.path.join(_DOCS, "api", "index.rst"), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^   (fastopt[\w.]*)$", text, flags=re.MULTILINE)


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__]


def _own_member(cls: type, name: str, value) -> bool:
    """Tell whether ``cls.name`` is a method or property that the reference renders here."""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, property):
        return value.fget is not None and value.fget.__qualname__.startswith(cls.__qualname__ + ".")
    if not inspect.isfunction(value):
        return False
    if value.__qualname__ != f"{cls.__qualname__}.{name}":
        return False  # an alias of a function documented where it is defined
    if value.__doc__ is None:
        # An undocumented override is rendered with the docstring it inherits.
        return not any(getattr(base, name, None) is not None and getattr(base, name).__doc__
                       for base in cls.__mro__[1:])
    return True


def public_objects(modules: list[str]) -> list[tuple[str, str]]:
    """List ``(dotted name, kind)`` of every public object, kind being function, class,
    method or property; each object once, under the first module that exports it."""
    seen: set[int] = set()
    found = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or id(obj) in seen:
                continue
            if not (inspect.isclass(obj) or callable(obj)):
                continue  # constants are rendered with autodata and have no sections
            seen.add(id(obj))
            full = f"{module_name}.{name}"
            found.append((full, "class" if inspect.isclass(obj) else "function"))
            if not inspect.isclass(obj):
                continue
            for member, value in vars(obj).items():
                if member.startswith("_") and member != "__call__":
                    continue
                if _own_member(obj, member, value):
                    kind = "property" if isinstance(value, property) else "method"
                    found.append((f"{full}.{member}", kind))
    return found


def _init_from_elsewhere(name: str) -> bool:
    """Tell whether class ``name`` takes its constructor from outside fastopt (an Enum, a
    torch.autograd.Function), whose arguments its own docstring does not describe."""
    module_name, _, attribute = name.rpartition(".")
    cls = getattr(importlib.import_module(module_name), attribute)
    init = cls.__dict__.get("__init__") or next(
        (base.__dict__["__init__"] for base in cls.__mro__ if "__init__" in base.__dict__), None)
    module = getattr(init, "__module__", None) or ""
    return not (module == "fastopt" or module.startswith("fastopt."))


def enabled(code: str, kind: str) -> bool:
    if kind == "property" and code in NOT_FOR_PROPERTIES:
        return False
    if code in CHECKS_FUNCTION_OR_CLASS:
        return kind in ("function", "class")
    return code in CHECKS


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    prefixes = [a for a in argv if not a.startswith("--")]
    reports = []
    objects = public_objects(documented_modules())
    for name, kind in objects:
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        foreign_init = kind == "class" and _init_from_elsewhere(name)
        for code, message in validate(name)["errors"]:
            if foreign_init and code in ("PR01", "PR02"):
                continue
            if enabled(code, kind):
                reports.append(f"{name}: {code} {message}")
    for line in reports:
        print(line)
    if verbose or reports:
        print(f"{len(reports)} numpydoc reports over {len(objects)} public objects")
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
