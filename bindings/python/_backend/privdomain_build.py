"""A PEP 517 build backend for this pure-Python package, standard library
only, so `pip install bindings/python` works offline with or without build
isolation (it has no build requirements to download).

It builds a py3-none-any wheel of the privdomain/ directory (and an sdist,
and a PEP 660 editable wheel) from the metadata in pyproject.toml.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "privdomain"


def _project():
    """name, version, description, requires-python of [project]."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text,
                        re.S | re.M).group(1)
    meta = {}
    for key in ("name", "version", "description", "requires-python"):
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), section, re.M)
        if m:
            meta[key] = m.group(1)
    return meta


def _metadata():
    meta = _project()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    lines = ["Metadata-Version: 2.1", f"Name: {meta['name']}",
             f"Version: {meta['version']}",
             f"Summary: {meta.get('description', '')}", "License: MIT"]
    if "requires-python" in meta:
        lines.append(f"Requires-Python: {meta['requires-python']}")
    lines.append("Description-Content-Type: text/markdown")
    return meta, "\n".join(lines) + "\n\n" + readme


def _dist_info(meta):
    return f"{meta['name']}-{meta['version']}.dist-info"


def _sources():
    pkg = os.path.join(ROOT, PACKAGE)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            yield f"{PACKAGE}/{name}", os.path.join(pkg, name)


class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.record = []

    def add(self, arcname, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.record.append(f"{arcname},sha256={digest},{len(data)}")

    def close(self, dist_info):
        record = f"{dist_info}/RECORD"
        self.record.append(f"{record},,")
        info = zipfile.ZipInfo(record, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, "\n".join(self.record) + "\n")
        self.zip.close()


def _write_dist_info(add, meta, metadata):
    di = _dist_info(meta)
    add(f"{di}/METADATA", metadata)
    add(f"{di}/WHEEL", "Wheel-Version: 1.0\nGenerator: privdomain_build\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n")
    add(f"{di}/top_level.txt", PACKAGE + "\n")


def _wheel_name(meta):
    return f"{meta['name']}-{meta['version']}-py3-none-any.whl"


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory,
                                     config_settings=None):
    meta, metadata = _metadata()
    di = _dist_info(meta)

    def add(arcname, data):
        path = os.path.join(metadata_directory, *arcname.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)
    _write_dist_info(add, meta, metadata)
    return di


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    meta, metadata = _metadata()
    name = _wheel_name(meta)
    wheel = _Wheel(os.path.join(wheel_directory, name))
    for arcname, path in _sources():
        with open(path, "rb") as f:
            wheel.add(arcname, f.read())
    _write_dist_info(wheel.add, meta, metadata)
    wheel.close(_dist_info(meta))
    return name


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    meta, metadata = _metadata()
    name = _wheel_name(meta)
    wheel = _Wheel(os.path.join(wheel_directory, name))
    wheel.add(f"_{PACKAGE}_editable.pth", ROOT + "\n")
    _write_dist_info(wheel.add, meta, metadata)
    wheel.close(_dist_info(meta))
    return name


def build_sdist(sdist_directory, config_settings=None):
    meta, metadata = _metadata()
    base = f"{meta['name']}-{meta['version']}"
    name = base + ".tar.gz"
    files = ["pyproject.toml", "README.md", "_backend/privdomain_build.py"]
    files += [arc for arc, _ in _sources()]
    for sub in ("tests", "examples"):
        d = os.path.join(ROOT, sub)
        files += [f"{sub}/{n}" for n in sorted(os.listdir(d))
                  if n.endswith((".py", ".csv"))]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for rel in files:
            tar.add(os.path.join(ROOT, rel), f"{base}/{rel}")
        data = metadata.encode("utf-8")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name
