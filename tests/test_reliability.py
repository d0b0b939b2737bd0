"""Checkpoints, interruption, resume, hostile inputs and cleanup (issue: reliability and safety)."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastw2v

from .conftest import DEMO, WORDSIM, wait_training, zipf_corpus


def start(*args, cwd):
    return subprocess.Popen([sys.executable, "-m", "fastw2v", *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastw2v", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def wait_for(path, proc, timeout=120):
    t = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t < timeout
        time.sleep(0.05)


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    return zipf_corpus(tmp_path_factory.mktemp("big") / "big.txt", n_words=1_500_000, vocab=3000, line_len=400)


def test_ctrl_c_writes_checkpoint_then_resume_finishes(big_corpus, tmp_path):
    cache = tmp_path / "cache"
    ckpt = tmp_path / "ck.fw2v"
    p = start("train", big_corpus, "-o", tmp_path / "m.fw2v", "--epochs", 20, "--threads", 1, "--checkpoint", ckpt,
              "--cache-dir", cache, cwd=tmp_path)
    wait_training(p)  # training proper has started
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: interrupted by SIGINT in epoch") and f"fastw2v train --resume {ckpt}" in last
    assert "Traceback" not in err
    assert ckpt.is_file() and not (tmp_path / "m.fw2v").exists()
    assert list(cache.iterdir()) == []  # token cache removed on Ctrl-C
    info = json.loads(np.load(ckpt)["meta_json"].tobytes())["checkpoint"]
    assert info["position"]["epoch"] < 20
    r = run("train", "--resume", ckpt, "--epochs", 3)
    assert r.returncode != 0 and "contradict" in r.stderr and "--epochs 3" in r.stderr
    r = run("train", "--resume", ckpt, "--cache-dir", cache, "--threads", 2, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = fastw2v.load(tmp_path / "m.fw2v")  # the output recorded in the checkpoint
    assert len(m.history) == 20 and m.history[-1]["loss"] < m.history[0]["loss"]
    assert list(cache.iterdir()) == []


def test_second_ctrl_c_aborts_at_once(big_corpus, tmp_path):
    cache = tmp_path / "cache"
    p = start("train", big_corpus, "-o", tmp_path / "m.fw2v", "--epochs", 50, "--threads", 1,
              "--cache-dir", cache, cwd=tmp_path)
    wait_training(p)
    # two signals back to back: the second arrives before the next safe point
    os.kill(p.pid, signal.SIGINT)
    os.kill(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "Traceback" not in err
    assert not (tmp_path / "m.fw2v").exists() and list(cache.iterdir()) == []


def test_sigkill_mid_epoch_then_resume_scores_as_uninterrupted(tmp_path):
    ckpt = tmp_path / "ck.fw2v"
    p = start("train", DEMO, "-o", tmp_path / "m.fw2v", "--sample", "1e-4", "--threads", 2, "--seed", 2,
              "--checkpoint", ckpt, "--checkpoint-every", 0.5, cwd=tmp_path)
    wait_for(ckpt, p)
    time.sleep(0.7)
    p.kill()  # SIGKILL: no clean-up, no last checkpoint
    p.communicate()
    info = json.loads(np.load(ckpt)["meta_json"].tobytes())["checkpoint"]
    assert (info["position"]["epoch"], info["position"]["token"]) != (0, 0)
    assert not (tmp_path / "m.fw2v").exists()
    r = run("train", "--resume", ckpt, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = fastw2v.load(tmp_path / "m.fw2v")
    assert len(m.history) == 5
    # test_quality: an uninterrupted run scores 0.438-0.443
    assert m.wv.evaluate_word_pairs(WORDSIM)["spearman"] >= 0.40


def test_resume_refuses_another_corpus(big_corpus, small_corpus, tmp_path):
    ckpt = tmp_path / "ck.fw2v"
    m = fastw2v.Word2Vec(dim=8, epochs=2, min_count=2, threads=1)
    m.fit(small_corpus, checkpoint=ckpt, checkpoint_every=0.0)  # one safe point: between the epochs
    assert ckpt.is_file()
    with pytest.raises(fastw2v.CorpusError, match="not the corpus"):
        fastw2v.Word2Vec.resume(ckpt, corpus=big_corpus)
    r = run("train", "--resume", tmp_path / "missing.fw2v")
    assert r.returncode != 0 and "no such file" in r.stderr
    m.save(tmp_path / "model.fw2v")
    r = run("train", "--resume", tmp_path / "model.fw2v")
    assert r.returncode != 0 and "not a checkpoint" in r.stderr


def test_init_continues_a_model_on_new_text(small_corpus, tmp_path):
    base = fastw2v.Word2Vec(dim=8, epochs=1, min_count=2, threads=1).fit(small_corpus)
    base.save(tmp_path / "base.fw2v")
    new = tmp_path / "new.txt"
    new.write_text("w1 w2 brandnew w3 w1 another w2\n" * 50)
    r = run("train", "--init", tmp_path / "base.fw2v", new, "-o", tmp_path / "more.fw2v", "--epochs", 2,
            "--report", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    assert "100 unknown tokens" in r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["unknown_tokens"] == 100 and report["unknown_words"] == 2
    more = fastw2v.load(tmp_path / "more.fw2v")
    assert more.wv.index_to_key == base.wv.index_to_key
    changed = ~np.all(more.wv.vectors == base.wv.vectors, axis=1)
    assert set(np.flatnonzero(changed)) >= {base.wv.key_to_index[w] for w in ("w1", "w2", "w3")}
    # the API: queries after further training see the new vectors, not cached norms
    sims_before = base.wv.most_similar("w1", topn=3)
    base.continue_training(new, epochs=3)
    normed = base.wv.vectors / np.linalg.norm(base.wv.vectors, axis=1, keepdims=True)
    assert np.allclose(base.wv.get_normed_vectors(), normed, atol=1e-6)
    assert base.wv.most_similar("w1", topn=3) != sims_before
    r = run("train", "--init", tmp_path / "base.fw2v", new, "-o", tmp_path / "x.fw2v", "--dim", 20)
    assert r.returncode != 0 and "cannot change dim" in r.stderr


def _write(path, data):
    path.write_bytes(data)
    return path


HOSTILE = {
    "missing": (lambda d: d / "nope.txt", "no such file"),
    "empty dir": (lambda d: (d / "emptydir").mkdir() or d / "emptydir", "no files"),
    "empty file": (lambda d: _write(d / "e.txt", b""), "empty"),
    "whitespace": (lambda d: _write(d / "w.txt", b" \n\t\r\n  \n"), "empty"),
    "random bytes": (lambda d: _write(d / "r.bin", np.random.default_rng(0).bytes(100_000)), "binary"),
    "nul bytes": (lambda d: _write(d / "n.txt", b"word " * 100 + b"\0" * 50), "binary"),
    "all rare": (lambda d: _write(d / "rare.txt", " ".join(f"w{i}" for i in range(1000)).encode()),
                 "vocabulary is empty"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_corpora_fail_cleanly(tmp_path, case):
    make, message = HOSTILE[case]
    corpus = make(tmp_path)
    cache = tmp_path / "cache"
    r = run("train", corpus, "-o", tmp_path / "out.fw2v", "--cache-dir", cache, cwd=tmp_path)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], r.stderr
    assert not (tmp_path / "out.fw2v").exists()
    assert not cache.exists() or list(cache.iterdir()) == []


def test_inputs_that_train_with_a_warning_or_as_they_are(tmp_path):
    bad_utf8 = _write(tmp_path / "u.txt", b"caf\xe9 ok fine \xff\xfe good\n" * 20)
    r = run("train", bad_utf8, "-o", tmp_path / "u.fw2v", "--min-count", 1, "--dim", 8, "--epochs", 1)
    assert r.returncode == 0 and "Warning: 60 invalid UTF-8" in r.stderr  # \xe9, \xff, \xfe x 20
    one = _write(tmp_path / "one.txt", b"same " * 1000)
    r = run("train", one, "-o", tmp_path / "one.txt.vec", "--dim", 8, "--epochs", 1)
    assert r.returncode == 0, r.stderr
    assert len(fastw2v.KeyedVectors.load_word2vec_format(tmp_path / "one.txt.vec")) == 1
    token = b"x" * (1 << 20)
    big_token = _write(tmp_path / "tok.txt", (b"a b c " + token + b" d\n") * 6)
    r = run("train", big_token, "-o", tmp_path / "tok.fw2v", "--dim", 8, "--epochs", 1, "--min-count", 1)
    assert r.returncode == 0, r.stderr
    assert len(fastw2v.load(tmp_path / "tok.fw2v").wv.index_to_key[0]) in (1, 1 << 20)


def test_two_hundred_megabyte_line(tmp_path):
    path = tmp_path / "long.txt"
    unit = b" ".join(b"w%d" % (i % 500) for i in range(20000)) + b" "
    with open(path, "wb") as f:
        for _ in range((200 << 20) // len(unit) + 1):
            f.write(unit)
    r = run("train", path, "-o", tmp_path / "long.fw2v", "--dim", 4, "--epochs", 1, "--window", 1,
            "--negative", 1, "--sample", 0, "--report", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["corpus_sentences"] == 1 and report["corpus_words"] > 30_000_000


@pytest.mark.parametrize("content,message", [
    (b"5 3\nfoo 1 2 3\n", "declares"),
    (b"1 3\nfoo 1 2 3\nbar 1 2 3\n", "more"),
    (b"2 4\nfoo 1 2 3\nbar 1 2 3\n", "expected a word and 4 numbers"),
    (b"1000000000000 300\nfoo 1 2 3\n", "declares 1000000000000 words"),
])
def test_lying_word2vec_headers(tmp_path, content, message):
    path = _write(tmp_path / "v.txt", content)
    r = run("similar", path, "foo")
    assert r.returncode != 0 and r.stderr.strip().startswith("Error: ") and message in r.stderr, r.stderr


def test_truncated_and_corrupt_models(trained_small, tmp_path):
    trained_small.save(tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    _write(tmp_path / "t.bin", data[: len(data) // 2])
    trained_small.save(tmp_path / "m.fw2v")
    model = (tmp_path / "m.fw2v").read_bytes()
    _write(tmp_path / "corrupt.fw2v", model[:1000] + b"\x00" * 500 + model[1500:])
    _write(tmp_path / "half.fw2v", model[: len(model) // 2])
    with np.load(tmp_path / "m.fw2v") as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta_json"].tobytes())
    meta["version"] = 99
    arrays["meta_json"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(tmp_path / "future.fw2v", "wb") as f:
        np.savez(f, **arrays)
    for name, message in [("t.bin", "truncated"), ("corrupt.fw2v", ""), ("half.fw2v", ""),
                          ("future.fw2v", "version 99")]:
        r = run("similar", tmp_path / name, "w1")
        assert r.returncode != 0 and "Traceback" not in r.stderr, (name, r.stderr)
        assert r.stderr.strip().splitlines()[-1].startswith("Error: ") and message in r.stderr, (name, r.stderr)


def test_divergence_names_alpha(small_corpus):
    with pytest.raises(fastw2v.TrainingDiverged, match="alpha"):
        fastw2v.Word2Vec(alpha=1e30, min_alpha=1e29, dim=8, epochs=2, min_count=2, threads=1).fit(small_corpus)


def test_cache_removed_after_success(small_corpus, tmp_path):
    cache = tmp_path / "cache"
    fastw2v.Word2Vec(dim=8, epochs=1, min_count=2, threads=1, cache_dir=cache).fit(small_corpus)
    assert list(cache.iterdir()) == []
