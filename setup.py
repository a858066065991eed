"""Maps the repository's top-level folders into the one import package ``opensupport``.

``opensupport.codec`` is ``codec/``, ``opensupport.native`` is ``native/`` and so on; the C kernel is built
by cffi (``cffi_modules``). Everything else (metadata, dependencies) lives in pyproject.toml.
"""

import os

from setuptools import setup

# folder -> import name; benchmarks are installed too so that ``opensupport bench`` can run them.
FOLDERS = {
    "opensupport": "opensupport",
    "native": "opensupport.native",
    "codec": "opensupport.codec",
    "protocol": "opensupport.protocol",
    "host": "opensupport.host",
    "viewer": "opensupport.viewer",
    "server": "opensupport.server",
    "benchmarks": "opensupport.benchmarks",
    "link": "opensupport.link",
    "tools": "opensupport.tools",
}


def _packages() -> tuple[list[str], dict[str, str]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    for folder, name in FOLDERS.items():
        if not os.path.isfile(os.path.join(folder, "__init__.py")):
            continue
        package_dir[name] = folder
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and d != "__pycache__")
            if "__init__.py" in files:
                rel = os.path.relpath(root, folder)
                packages.append(name if rel == "." else name + "." + rel.replace(os.sep, "."))
    return packages, package_dir


packages, package_dir = _packages()

setup(
    packages=packages,
    package_dir=package_dir,
    include_package_data=True,
    package_data={
        "": ["*.md", "*.html", "*.css", "*.js", "*.po", "*.mo", "*.ini", "*.mako", "*.txt", "*.c", "*.h"]
    },
    cffi_modules=["native/_build.py:ffibuilder"],
)
