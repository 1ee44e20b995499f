"""The package metadata setuptools builds from ``pyproject.toml``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_license_is_an_spdx_expression_setuptools_reads_as_such() -> None:
    # A TOML table is deprecated and refused by setuptools after 2027-02-18;
    # the SPDX string needs setuptools 77 (PEP 639).
    document = tomllib.loads(PYPROJECT.read_text())
    assert document["project"]["license"] == "Apache-2.0"
    (setuptools,) = [r for r in document["build-system"]["requires"] if "setuptools" in r]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools)
    assert minimum, setuptools
    assert int(minimum[1]) >= 77
