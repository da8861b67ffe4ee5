"""Build hook: a regular install compiles the parser and the classifier with mypyc.

The metadata is in pyproject.toml; this file only adds the compiled modules. A wheel
(`pip install .`) gets C extensions for `bounceback.parse`, `bounceback.classify` and
`bounceback.model`, which parse and classify about 1.6x as fast (docs/benchmarks.md).
An editable install (`pip install -e .`, what ./run.sh sets up for development) stays
pure Python, so an edited module is what runs.

BOUNCEBACK_MYPYC=0 builds a pure-Python wheel; =1 insists on compiling (an error if it
cannot); unset, it compiles when a C compiler and Python's headers are there.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

from setuptools import setup

# The hot path of parse -> classify; the rest (ledger, web, sources) waits on I/O.
COMPILED = ["src/bounceback/parse", "src/bounceback/classify", "src/bounceback/model.py"]
# Commands that build a wheel or install; metadata and editable builds do not compile.
_BUILDING = {"bdist_wheel", "build", "build_ext", "install"}


def _can_compile() -> bool:
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return shutil.which(compiler) is not None and headers.is_file()


def _compile() -> bool:
    choice = os.environ.get("BOUNCEBACK_MYPYC", "").strip()
    if choice == "0" or "editable_wheel" in sys.argv or not _BUILDING & set(sys.argv):
        return False
    if _can_compile():
        return True
    if choice == "1":
        sys.exit("BOUNCEBACK_MYPYC=1, but there is no C compiler or no Python.h")
    print("bounceback: no C compiler or Python.h; building pure Python", file=sys.stderr)
    return False


def _extensions() -> list[Any]:
    if not _compile():
        return []
    from mypyc.build import mypycify

    # The ledger and web modules the package's __init__ reaches import libraries the
    # isolated build environment does not have; they are not compiled, only read.
    return mypycify(
        ["--follow-imports=silent", "--ignore-missing-imports", *COMPILED],
        opt_level="3",
        group_name="bounceback",
    )


setup(ext_modules=_extensions())
