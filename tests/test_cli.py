"""The CLI end to end, in subprocesses."""
import json
import os
import subprocess
import sys

import pytest

from fastw2v import KeyedVectors

from .conftest import ROOT

ROOT_DATA = ROOT / "fastw2v" / "data"


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "fastw2v", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_train_writes_vectors_report_and_summary(small_corpus, tmp_path):
    out = tmp_path / "v.txt"
    rep = tmp_path / "r.json"
    r = run("train", small_corpus, "-o", out, "--dim", 8, "--epochs", 2, "--min-count", 2, "--report", rep)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "saved" in r.stderr.splitlines()[-1]
    kv = KeyedVectors.load_word2vec_format(out)
    assert kv.vector_size == 8 and len(kv) > 100
    report = json.loads(rep.read_text())
    assert report["corpus_words"] == 20000
    assert report["vocabulary_size"] == len(kv)
    assert set(report["seconds"]) == {"read", "vocabulary", "compile", "training", "saving"}
    assert len(report["loss_per_epoch"]) == 2 and report["training_words_per_sec"] > 0


def test_default_output_name_and_quiet(small_corpus, tmp_path):
    r = run("train", small_corpus, "--dim", 8, "--epochs", 1, "--min-count", 2, "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert (tmp_path / "small.fw2v").is_file()
    r = run("similar", tmp_path / "small.fw2v", "w1", "-n", 3)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 4


def test_non_terminal_progress_is_log_lines(small_corpus, tmp_path):
    r = run("train", small_corpus, "-o", tmp_path / "m.bin", "--dim", 8, "--epochs", 1, "--min-count", 2)
    assert r.returncode == 0
    assert "\r" not in r.stderr
    assert r.stderr.splitlines()[-1].startswith("fastw2v:")


@pytest.mark.parametrize("args,message", [
    (["missing.txt"], "no such file"),
    (["{empty}"], "empty"),
    (["{small}", "--min-count", "100000"], "vocabulary is empty"),
    (["{small}", "--dim", "0"], "dim must be >= 1"),
    (["{small}", "--window", "0"], "window must be >= 1"),
    (["{small}", "--negative", "0"], "negative must be >= 1"),
    (["{small}", "--alpha", "0"], "alpha must be > 0"),
    (["{small}", "--sample", "-1"], "sample must be >= 0"),
    (["{small}", "-o", "/nonexistent-dir/x.txt"], "output folder does not exist"),
])
def test_user_errors_are_one_line(small_corpus, tmp_path, args, message):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n")
    args = [a.format(small=small_corpus, empty=empty) for a in args]
    r = run("train", *args, "-o" if "-o" not in args else "--quiet", *([tmp_path / "out.fw2v"] if "-o" not in args else []),
            cwd=tmp_path)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and message in lines[-1], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out.fw2v").exists()
    assert not list(tmp_path.glob(".out*"))


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_word2vec_output_given_as_a_model_says_what_it_is(small_corpus, tmp_path, name):
    """`-o NAME.bin` / `.txt` write vectors only; given back to --init or --resume, the error says so (it
    used to pass on NumPy's answer about pickles, with its advice to load unsafely)."""
    vec = tmp_path / name
    assert run("train", small_corpus, "-o", vec, "--dim", 8, "--epochs", 1, "--min-count", 2, "-q").returncode == 0
    before = vec.read_bytes()
    for args in (["train", small_corpus, "--init", vec, "-o", tmp_path / "out.fw2v"], ["train", "--resume", vec]):
        r = run(*args, cwd=tmp_path)
        assert r.returncode != 0
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
        assert "word2vec-format file" in lines[0] and "NAME.fw2v" in lines[0]
        assert "pickle" not in lines[0]
    assert vec.read_bytes() == before
    assert not (tmp_path / "out.fw2v").exists()


def test_terminal_progress_bar(small_corpus, tmp_path):
    """On a terminal stderr gets a redrawn bar (carriage returns) with words/s, lr and loss."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "fastw2v", "train", str(small_corpus), "-o", str(tmp_path / "m.txt"),
                          "--dim", "8", "--epochs", "3", "--min-count", "2"], stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=300)
    os.close(master)
    text = b"".join(chunks).decode()
    assert p.returncode == 0
    assert "\r[" in text and "words/s" in text and "lr " in text and "loss " in text
    assert "saved" in text


def test_query_commands(text8_vectors, tmp_path):
    r = run("similar", text8_vectors, "king", "-n", 3)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 4
    r = run("analogy", text8_vectors, "man", "king", "woman", "-n", 2)
    assert r.returncode == 0 and r.stdout.startswith("man : king :: woman : ?")
    r = run("evaluate", text8_vectors)
    assert r.returncode == 0, r.stderr
    assert "capital-common-countries" in r.stdout and "spearman" in r.stdout
    r = run("evaluate", text8_vectors, "--json", "--pairs", ROOT_DATA / "wordsim353.tsv")
    data = json.loads(r.stdout)
    assert "analogies" not in data and len(data["pairs"]) == 1


@pytest.mark.parametrize("args,message", [
    (["similar", "{vec}", "kingg"], "'kingg' not in vocabulary"),
    (["analogy", "{vec}", "man", "king", "wommman"], "'wommman' not in vocabulary"),
    (["similar", "missing.bin", "king"], "no such file"),
    (["evaluate", "{vec}", "--analogies", "{bad}"], "line 2"),
    (["evaluate", "{vec}", "--pairs", "missing.tsv"], "no such file"),
])
def test_query_errors_are_one_line(text8_vectors, tmp_path, args, message):
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\na b c\n")
    r = run(*[a.format(vec=text8_vectors, bad=bad) for a in args], cwd=tmp_path)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1].startswith("Error: ") and message in r.stderr
    assert "Traceback" not in r.stderr
