"""A measurement's engine version picks the profile whose `versions` range holds it."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import perfmodel as pm
from perfmodel.cost.engine import engine_files, profile_for_version


@pytest.mark.parametrize(("engine", "version", "profile"), [
    ("TensorRT-LLM", "0.6.1", "trtllm-0.6"),
    ("trtllm", "0.17.post1.dev+9b931c0f6305", "trtllm-0.17"),
    ("trtllm", "0.19.0", "trtllm-0.17"),
    ("trtllm", "0.21.0rc2", "trtllm"),
    ("trtllm", "1.0.0", "trtllm"),
    ("trtllm", "nightly-2e669133c276", "trtllm"),  # a nightly counts as the current version
    ("sglang", "0.4.2.post4", "sglang-0.4"),
    ("sglang", "0.4.4.post3", "sglang-0.4"),
    ("sglang", "0.4.6", "sglang"),
    ("sglang", "v0.5.7", "sglang"),
    ("vllm", "0.7.3.dev138+g21f6ca217", "vllm-v0"),
    ("vllm", "0.8.4", "vllm"),
    ("llama.cpp", "b7825", "llama.cpp"),
])
def test_version_picks_profile(engine: str, version: str, profile: str) -> None:
    assert profile_for_version(engine, version) == profile


def test_version_ranges_of_one_family_do_not_overlap() -> None:
    profiles = [pm.load_engine(name) for name in engine_files()]
    probes = [Version(v) for v in ("0.1", "0.4.0", "0.4.4.post3", "0.4.5", "0.6.1", "0.7.4.dev1", "0.8.0",
                                   "0.16.9", "0.17.0", "0.19.1", "0.20.0", "0.21.0rc2", "1.0", "2.3")]
    for family in {p.family for p in profiles if p.family}:
        ranges = [SpecifierSet(p.versions) for p in profiles if p.family == family and p.versions]
        for version in probes:
            assert sum(r.contains(version, prereleases=True) for r in ranges) <= 1, (family, version)


def test_every_family_has_a_current_profile() -> None:
    profiles = [pm.load_engine(name) for name in engine_files()]
    families = {p.family for p in profiles if p.family}
    names = {p.name for p in profiles}
    assert families <= names
