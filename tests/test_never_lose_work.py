"""Never lose work: outputs that would replace inputs, SIGTERM/SIGHUP, leak-free caches, unstorable tokens."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v import corpus as corpus_mod
from fastw2v.cli import main

from .conftest import wait_training, zipf_corpus


def start(*args, cwd, env=None):
    return subprocess.Popen([sys.executable, "-m", "fastw2v", *map(str, args)], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})))


def cache_files_of(pid, folder):
    """{fd: size} of the open files of process ``pid`` that live (unnamed) in ``folder``."""
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            size = os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            found[target] = size
    return found


@pytest.fixture(scope="module")
def mid_corpus(tmp_path_factory):
    return zipf_corpus(tmp_path_factory.mktemp("mid") / "mid.txt", n_words=1_000_000, vocab=3000, line_len=400)


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")


# ------------------------------------------------------------ signals
def test_sigterm_writes_checkpoint_exits_143_and_resume_finishes(mid_corpus, tmp_path):
    cache, ckpt, out = tmp_path / "cache", tmp_path / "ck.fw2v", tmp_path / "m.fw2v"
    p = start("train", mid_corpus, "-o", out, "--epochs", 12, "--threads", 1, "--dim", 20, "--checkpoint", ckpt,
              "--cache-dir", cache, cwd=tmp_path)
    wait_training(p)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: interrupted by SIGTERM in epoch") and f"fastw2v train --resume {ckpt}" in last
    assert ckpt.is_file() and not out.exists()
    assert list(cache.iterdir()) == []
    r = subprocess.run([sys.executable, "-m", "fastw2v", "train", "--resume", ckpt, "--cache-dir", cache, "-q"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    m = fastw2v.load(out)
    assert len(m.history) == 12 and m.history[-1]["loss"] < m.history[0]["loss"]
    assert list(cache.iterdir()) == []


def test_sighup_stops_at_a_safe_point_with_exit_129(mid_corpus, tmp_path):
    ckpt = tmp_path / "ck.fw2v"
    p = start("train", mid_corpus, "-o", tmp_path / "m.fw2v", "--epochs", 50, "--threads", 1, "--dim", 20,
              "--checkpoint", ckpt, cwd=tmp_path)
    wait_training(p)
    p.send_signal(signal.SIGHUP)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 129, err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted by SIGHUP in epoch")
    assert ckpt.is_file() and not (tmp_path / "m.fw2v").exists()


def test_second_sigterm_aborts_at_once_and_leaves_nothing(mid_corpus, tmp_path):
    cache = tmp_path / "cache"
    p = start("train", mid_corpus, "-o", tmp_path / "m.fw2v", "--epochs", 50, "--threads", 1, "--dim", 20,
              "--checkpoint", tmp_path / "ck.fw2v", "--cache-dir", cache, cwd=tmp_path)
    wait_training(p)
    os.kill(p.pid, signal.SIGTERM)
    os.kill(p.pid, signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted by SIGTERM")
    assert not (tmp_path / "m.fw2v").exists() and list(cache.iterdir()) == []
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


@needs_proc
def test_sigterm_while_reading_the_corpus_stops_there(mid_corpus, tmp_path):
    corpus = tmp_path / "three.txt"
    corpus.write_bytes(mid_corpus.read_bytes() * 3)
    cache = tmp_path / "c"
    p = start("train", corpus, "-o", tmp_path / "m.fw2v", "--checkpoint", tmp_path / "ck.fw2v", "--cache-dir", cache,
              cwd=tmp_path)
    t = time.time()
    while not any(target == str(corpus) for target in cache_files_of(p.pid, tmp_path)):  # the corpus is open
        assert p.poll() is None and time.time() - t < 300, p.communicate()
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert err.strip().splitlines()[-1] == ("Error: interrupted by SIGTERM while reading the corpus, "
                                            "before training started")
    assert sorted(os.listdir(tmp_path)) == ["c", "three.txt"] and os.listdir(cache) == []


@needs_proc
def test_sigterm_stops_phrases_at_once_without_partial_output(mid_corpus, tmp_path):
    corpus = tmp_path / "two.txt"
    corpus.write_bytes(mid_corpus.read_bytes() * 2)
    p = start("phrases", corpus, "-o", tmp_path / "ph.txt", "--cache-dir", tmp_path / "c", cwd=tmp_path)
    t = time.time()
    while not [f for f in cache_files_of(p.pid, tmp_path) if "/#" in f]:  # the (unnamed) output is being written
        assert p.poll() is None and time.time() - t < 300, p.communicate()
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert err.strip().splitlines() == ["Error: interrupted by SIGTERM"]
    assert sorted(os.listdir(tmp_path)) == ["c", "two.txt"] and os.listdir(tmp_path / "c") == []


@needs_proc
@pytest.mark.parametrize("where", ["cache-dir", "TMPDIR"])
def test_sigkill_leaves_no_cache_behind(mid_corpus, tmp_path, where):
    """The cache really is on disk while training (unnamed files in the folder), and SIGKILL leaves nothing."""
    folder = tmp_path / "cachehere"
    folder.mkdir()
    args = ("--cache-dir", folder) if where == "cache-dir" else ()
    p = start("train", mid_corpus, "-o", tmp_path / "m.fw2v", "--epochs", 50, "--threads", 1, "--dim", 20, *args,
              cwd=tmp_path, env={"TMPDIR": str(folder)} if where == "TMPDIR" else None)
    wait_training(p)
    files = cache_files_of(p.pid, folder)
    listing = os.listdir(folder)
    p.kill()
    p.communicate(timeout=60)
    assert listing == []  # nothing has a name, even while the run is alive
    assert files and all(target.endswith("(deleted)") for target in files), files
    # the token ids (4 bytes per kept word) are on disk in the folder, not in memory
    assert sum(files.values()) >= 4 * 1_000_000 * 0.9, files
    assert os.listdir(folder) == []


@needs_proc
def test_sigkill_while_checkpointing_leaves_no_partial_file(mid_corpus, tmp_path):
    """Outputs are written unnamed and linked in when complete: kill -9 mid-write leaves no stray .tmp."""
    ckpt = tmp_path / "ck.fw2v"
    p = start("train", mid_corpus, "-o", tmp_path / "m.fw2v", "--epochs", 50, "--threads", 1, "--dim", 100,
              "--checkpoint", ckpt, "--checkpoint-every", 0.01, cwd=tmp_path)
    wait_training(p)
    t = time.time()
    while not ckpt.exists() or not [f for f in cache_files_of(p.pid, tmp_path) if "/#" in f]:  # the next one
        assert p.poll() is None and time.time() - t < 120, p.communicate()
    p.kill()
    p.communicate(timeout=60)
    assert sorted(os.listdir(tmp_path)) == ["ck.fw2v"]
    assert fastw2v.Word2Vec._load_checkpoint(ckpt)[2]["position"]["token"] >= 0


def test_cache_files_are_unnamed_from_the_start(small_corpus, tmp_path, monkeypatch):
    """fit and phrases: every cache file is created without a name in the cache folder (st_nlink 0)."""
    seen = []
    new_file = corpus_mod.WorkDir.new_file

    def spy(self):
        f = new_file(self)
        seen.append((os.fstat(f.fileno()).st_nlink, os.listdir(self.dir)))
        return f

    monkeypatch.setattr(corpus_mod.WorkDir, "new_file", spy)
    cache = tmp_path / "cache"
    fastw2v.Word2Vec(dim=8, epochs=1, min_count=2, threads=1, cache_dir=cache).fit(small_corpus)
    n_fit = len(seen)
    from fastw2v.phrases import find_phrases

    find_phrases(small_corpus, tmp_path / "ph.txt", min_count=2, threshold=1.0, passes=2, cache_dir=cache)
    assert n_fit >= 4 and len(seen) > n_fit + 4
    assert all(links == 0 and listing == [] for links, listing in seen), seen
    assert os.listdir(cache) == []


def test_a_full_cache_disk_is_one_error_line(small_corpus, tmp_path):
    """A cache folder that runs out of space (here: a file size limit) ends with one Error naming --cache-dir."""
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); "
            "from fastw2v.cli import main; sys.argv = ['fastw2v'] + sys.argv[1:]; main()")
    r = subprocess.run([sys.executable, "-c", code, "train", small_corpus, "-o", tmp_path / "m.fw2v",
                        "--cache-dir", tmp_path / "c"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write the token cache") and "--cache-dir" in lines[0]
    assert os.listdir(tmp_path / "c") == [] and not (tmp_path / "m.fw2v").exists()


def test_trained_model_is_rescued_when_the_output_folder_vanished(mid_corpus, tmp_path):
    """Hours of training are not lost to an output folder removed (or a disk filled) meanwhile."""
    outdir, cache = tmp_path / "out", tmp_path / "cache"
    outdir.mkdir()
    p = start("train", mid_corpus, "-o", outdir / "m.txt", "--epochs", 2, "--threads", 1, "--dim", 10,
              "--cache-dir", cache, cwd=tmp_path)
    wait_training(p)
    outdir.rmdir()
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1, err
    line = err.strip().splitlines()[-1]
    rescued = cache / f"fastw2v-rescued-{p.pid}.fw2v"
    assert line.startswith(f"Error: cannot write {outdir / 'm.txt'}") and str(rescued) in line, err
    m = fastw2v.load(rescued)
    assert len(m.history) == 2 and len(m.wv) > 1000


def test_outputs_into_special_files_write_into_them(tmp_path, trained_small):
    """-o /dev/null or a FIFO gets the data; it is never replaced by a regular file (atomic rename)."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    trained_small.save(fifo, fmt="text")
    reader.join(30)
    assert got and got[0].startswith(f"{len(trained_small.wv)} 16\n".encode())
    import stat

    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]


# ------------------------------------------------- outputs that name inputs
def cli(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


@pytest.fixture
def texts(tmp_path):
    d = tmp_path / "texts"
    d.mkdir()
    (d / "a.txt").write_text("w1 w2 w3 w1 w2\n" * 20)
    (d / "b.txt").write_text("w2 w3 w4\n" * 20)
    return d


def assert_refused(code, out, *needles):
    lines = out.strip().splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith("Error: "), out
    for n in needles:
        assert n in lines[0], out


def test_train_refuses_outputs_that_name_the_corpus(texts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = texts / "a.txt"
    before = corpus.read_bytes()
    os.symlink(corpus, tmp_path / "link.txt")
    os.link(corpus, tmp_path / "hard.txt")
    (tmp_path / "sub").mkdir()
    cases = [
        ("-o", corpus),                                   # the very name
        ("-o", tmp_path / "sub" / ".." / "texts" / "a.txt"),  # another spelling
        ("-o", "texts/a.txt"),                            # relative
        ("-o", tmp_path / "link.txt"),                    # a symbolic link to it
        ("-o", tmp_path / "hard.txt"),                    # a hard link to it
        ("--report", corpus),
        ("--plot-loss", corpus),
        ("--checkpoint", corpus),
    ]
    for option, path in cases:
        code, out = cli("train", corpus, option, path, "--min-count", 1)
        assert_refused(code, out, option, "destroy the input")
        assert corpus.read_bytes() == before
    # a corpus folder: each of its files is an input
    code, out = cli("train", texts, "-o", texts / "b.txt", "--min-count", 1)
    assert_refused(code, out, "b.txt", "corpus file")
    # the link itself given as the corpus, the real file as output
    code, out = cli("train", tmp_path / "link.txt", "-o", corpus, "--min-count", 1)
    assert_refused(code, out, "destroy the input")
    assert corpus.read_bytes() == before and (texts / "b.txt").read_text().startswith("w2 w3 w4")
    # the default output (corpus name + .fw2v, here) when that file is itself one of the corpus files
    (tmp_path / "c.fw2v").write_text("w1 w2 w3\n" * 20)
    (tmp_path / "c").write_text("w1\n")
    code, out = cli("train", "c", "c.fw2v", "--min-count", 1)
    assert_refused(code, out, "destroy the input")


def test_outputs_must_differ_and_checkpoints_stay_out_of_corpus_folders(texts, tmp_path):
    corpus = texts / "a.txt"
    code, out = cli("train", corpus, "-o", tmp_path / "m.fw2v", "--report", tmp_path / "m.fw2v")
    assert_refused(code, out, "the same file")
    code, out = cli("train", corpus, "-o", tmp_path / "m.fw2v", "--plot-loss", texts / ".." / "m.fw2v")
    assert_refused(code, out, "the same file")
    code, out = cli("train", corpus, "-o", tmp_path / "m.fw2v", "--checkpoint", tmp_path / "m.fw2v")
    assert_refused(code, out, "the same file")
    code, out = cli("train", texts, "-o", tmp_path / "m.fw2v", "--checkpoint", texts / "run.ckpt")
    assert_refused(code, out, "inside the corpus folder")
    assert sorted(os.listdir(texts)) == ["a.txt", "b.txt"]


def test_init_and_resume_inputs(trained_small, small_corpus, tmp_path):
    base = tmp_path / "base.fw2v"
    trained_small.save(base)
    before = base.read_bytes()
    for option in ("-o", "--checkpoint", "--report"):
        code, out = cli("train", "--init", base, small_corpus, option, base, *(["-o", tmp_path / "o.fw2v"]
                                                                           if option != "-o" else []))
        assert_refused(code, out, "--init model", "destroy the input")
    assert base.read_bytes() == before
    ckpt = tmp_path / "ck.fw2v"
    fastw2v.Word2Vec(dim=8, epochs=2, min_count=2, threads=1).fit(small_corpus, checkpoint=ckpt,
                                                                     checkpoint_every=0.0)
    code, out = cli("train", "--resume", ckpt, "-o", ckpt)
    assert_refused(code, out, "--resume checkpoint")
    code, out = cli("train", "--resume", ckpt, "-o", small_corpus)  # the recorded corpus is an input too
    assert_refused(code, out, "corpus file")
    # --resume goes on writing its own checkpoint: allowed, by default and when named
    code, out = cli("train", "--resume", ckpt, "--checkpoint", ckpt, "-o", tmp_path / "fin.fw2v", "-q")
    assert code == 0, out
    assert len(fastw2v.load(tmp_path / "fin.fw2v").history) == 2


def test_export_plot_phrases_refuse_their_input(trained_small, small_corpus, tmp_path, texts):
    model = tmp_path / "m.fw2v"
    trained_small.save(model)
    before = model.read_bytes()
    for fmt in ("text", "binary"):
        assert_refused(*cli("export", model, "--format", fmt, "-o", model), "destroy the input")
    folder = tmp_path / "arrays"
    folder.mkdir()
    trained_small.save(folder / "vocab.txt")  # vectors that happen to be named like an export member
    assert_refused(*cli("export", folder / "vocab.txt", "--format", "npy", "-o", folder), "destroy the input")
    assert_refused(*cli("plot", model, "w1", "-o", model), "destroy the input")
    assert model.read_bytes() == before
    assert_refused(*cli("phrases", texts, "-o", texts / "a.txt"), "destroy the input")
    assert_refused(*cli("phrases", small_corpus, "-o", small_corpus), "destroy the input")
    assert (texts / "a.txt").read_text().startswith("w1 w2 w3")
    # a new file in another folder is fine
    code, out = cli("export", model, "--format", "text", "-o", tmp_path / "v.txt")
    assert code == 0, out


# ------------------------------------------------------- unstorable tokens
@pytest.mark.parametrize("token,shown", [
    ("new york", "U+0020"), ("tab\there", "U+0009"), ("no\u00a0break", "U+00A0"), ("ideo\u3000space", "U+3000"),
    ("", "empty"), ("half\ud800surrogate", "surrogate"),
])
def test_fit_refuses_unstorable_tokens_before_training(token, shown):
    sents = [["good", "words", token]] * 5 + [["good", "words"]] * 5
    m = fastw2v.Word2Vec(dim=8, epochs=1, min_count=1, threads=1)
    with pytest.raises(fastw2v.CorpusError, match="cannot be saved") as e:
        m.fit(sents)
    assert shown in str(e.value) and repr(token) in str(e.value)
    assert m.wv is None  # refused before any weight existed


def test_pruned_unstorable_tokens_do_not_matter():
    sents = [["good", "words"]] * 5 + [["rare thing"]]
    m = fastw2v.Word2Vec(dim=8, epochs=1, min_count=2, threads=1).fit(sents)
    assert sorted(m.wv.index_to_key) == ["good", "words"]


def test_whatever_trains_from_a_file_can_be_saved_and_read_by_gensim(tmp_path):
    """Odd but legal tokens (controls, U+FFFD, invalid UTF-8, combining marks, astral) survive every format."""
    gensim_models = pytest.importorskip("gensim.models")
    odd = ["ctl\x01\x1b\x7f", "repl\ufffd", "caf\xc3", "e\u0301", "\U0001f600", "zw\u200bj", "bidi\u202e",
           "line\u2028sep", "ideo\u3000sp", "nb\u00a0sp", "fs\x1cgs\x1d", "nel\u0085x", "plain"]
    raw = b" ".join(b"caf\xc3" if o == "caf\xc3" else o.encode("utf-8") for o in odd)  # \xc3: invalid UTF-8
    path = tmp_path / "odd.txt"
    path.write_bytes((raw + b"\n") * 10)
    m = fastw2v.Word2Vec(dim=8, epochs=1, min_count=1, threads=1).fit(path)
    words = set(m.wv.index_to_key)
    assert words == set(raw.decode("utf-8", "replace").split())
    assert {"ideo", "sp", "nb", "line", "sep", "fs", "gs", "nel", "x"} <= words  # split on every kind of space
    for name in ("v.txt", "v.bin", "v.fw2v"):
        m.save(tmp_path / name)
    for name, binary in (("v.txt", False), ("v.bin", True)):
        ours = fastw2v.KeyedVectors.load_word2vec_format(tmp_path / name)
        assert ours.index_to_key == m.wv.index_to_key
        theirs = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)
        assert theirs.index_to_key == m.wv.index_to_key
        assert np.allclose(theirs.vectors, m.wv.vectors, atol=1e-5)
    assert fastw2v.load(tmp_path / "v.fw2v").wv.index_to_key == m.wv.index_to_key
