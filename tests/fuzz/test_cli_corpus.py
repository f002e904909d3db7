"""Every CLI command that reads a file, fed every malformed file of the corpus: a clean exit each time."""

from __future__ import annotations

import pytest

ESTIMATE = ["--input-len", "64", "--output-len", "8"]
# command template: the corpus file goes where "{}" stands.
COMMANDS = {
    "estimate-model": ["estimate", "-m", "{}", "-H", "h100-sxm-80gb", *ESTIMATE, "--json"],
    "estimate-hardware": ["estimate", "-m", "qwen3-0.6b", "-H", "{}", *ESTIMATE, "--json"],
    "estimate-engine": ["estimate", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--engine", "{}", *ESTIMATE],
    "hardware-show": ["hardware", "show", "{}"],
    "model-show": ["model", "show", "{}"],
    "simulate": ["simulate", "{}", "--json"],
    "plan": ["plan", "{}", "--backend", "serial", "--no-cache", "--json"],
    "calibrate": ["calibrate", "{}"],
    "validate": ["validate", "{}", "--json"],
    "validate-serving": ["validate", "--serving", "--fast", "{}", "--json"],
    "tts-frontier": ["tts", "frontier", "{}", "--json"],
    "tts-cost-lengths": ["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--output-lengths", "{}", "--json"],
    "tts-cost-model": ["tts", "cost", "-m", "{}", "-H", "h100-sxm-80gb", "--output-len", "64", "--json"],
}
# Which corpus files each command reads (its own kind, plus the files that are wrong for every reader).
ANY = ("binary", "utf16", "empty", "latin1", "deep", "list.yaml", "hf-toplist", "hf-truncated")
KINDS = {
    "estimate-model": ("model", "hf-", "syntax", "alias", "scalar"),
    "estimate-hardware": (".yaml",),
    "estimate-engine": (".yaml", "hf-string"),
    "hardware-show": (".yaml",),
    "model-show": ("model", "hf-"),
    "simulate": ("scenario", "alias", "syntax", "inf", "nan.yaml"),
    "plan": ("scenario", "alias", "syntax", "inf.yaml"),
    "calibrate": ("bundle",),
    "validate": (".csv",),
    "validate-serving": (".csv",),
    "tts-frontier": ("trials", ".csv"),
    "tts-cost-lengths": ("lengths", ".csv"),
    "tts-cost-model": ("hf-", "model"),
}
SKIP = {  # pairs that would run a real workload rather than test a reader
    "validate": {"header-only.csv"},
}


def _reads(command: str, name: str) -> bool:
    return name not in SKIP.get(command, ()) and any(k in name for k in (*KINDS[command], *ANY))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_corpus_file(command: str, corpus, run_all) -> None:
    template = COMMANDS[command]
    runs = [[str(path) if a == "{}" else a for a in template] for name, path in sorted(corpus.items())
            if _reads(command, name)]
    assert runs
    failures = run_all(runs)
    assert not failures, "\n".join(failures)


def test_missing_and_odd_paths(run_all, tmp_path) -> None:
    odd = [str(tmp_path / "missing.yaml"), str(tmp_path), "/", "", " ", "-", "\x7f", "a" * 5000, "/dev/null",
           str(tmp_path / "nope" / "config.json")]
    runs = []
    for path in odd:
        runs += [["estimate", "-m", path, "-H", "h100-sxm-80gb", *ESTIMATE], ["hardware", "show", path],
                 ["simulate", path], ["plan", path], ["calibrate", path], ["validate", path],
                 ["tts", "frontier", path]]
    failures = run_all(runs)
    assert not failures, "\n".join(failures)


def test_output_paths_in_missing_folders(cli, run_all, tmp_path) -> None:
    """Writers refuse a folder that does not exist (and create nothing)."""
    missing = tmp_path / "no" / "such" / "dir"
    runs = [["hardware", "detect", "-o", missing / "x.yaml"],
            ["simulate", "chat", "-n", "3", "--trace", missing / "t.json"],
            ["validate", "--report", missing / "r.html"], ["validate", "--csv", missing / "r.csv"],
            ["tts", "frontier", "x.csv", "--csv", missing / "f.csv"],
            ["calibrate", "b.json", "-o", missing / "x.yaml"],
            ["probe", "--only", "gemm", "-o", missing / "b.json"],
            ["plan", "chat-70b", "--csv", missing / "p.csv"],
            ["plan", "chat-70b", "--out", missing / "out"],
            ["hardware", "detect", "-o", tmp_path]]
    failures = run_all(runs)
    assert not failures, "\n".join(failures)
    assert not (tmp_path / "no").exists()
    for args in runs[:-1]:
        assert cli(args).code == 2, args
