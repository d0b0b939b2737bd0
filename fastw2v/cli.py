"""The ``fastw2v`` command line; every command calls the Python API only.

Errors a user can cause end with one ``Error: ...`` line on stderr and a
non-zero exit, never a traceback.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import click

from . import __version__, io
from .config import LOSSES, MODELS, NOISES, VECTOR_CHOICES
from .errors import FastW2VError, TrainingInterrupted
from .model import Word2Vec
from .trainer import Progress

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 143, SIGHUP 129
_COMPRESSED = (".gz", ".bz2", ".xz", ".lzma")
#: what job schedulers (Slurm, Kubernetes, systemd, timeout) and closed terminals send before killing
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Aborted(KeyboardInterrupt):
    """A stop signal that ends the command at once (a second one during training, any one elsewhere).

    Raised from the signal handler, so ``finally`` blocks still run: temporary
    outputs are removed and the token cache closed.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _abort_at_once(signum, frame):
    raise Aborted(signum)


def _set_handlers(handler) -> dict:
    """Install ``handler`` for the stop signals; returns the previous handlers.

    SIGINT is left alone for :func:`_abort_at_once`: Python's own handler already raises KeyboardInterrupt.
    """
    previous = {}
    for sig in STOP_SIGNALS:
        if handler is _abort_at_once and sig == signal.SIGINT:
            continue  # Python's own SIGINT handler already raises KeyboardInterrupt
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread, or an embedded interpreter
            pass
    return previous


def _restore_handlers(previous: dict):
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, OSError):
            pass


def fail(message: str, code: int = EXIT_ERROR):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns user-caused exceptions into one ``Error:`` line."""

    def invoke(self, ctx):
        from .checkpoint import signal_name, stop_signal

        previous = _set_handlers(_abort_at_once)  # SIGTERM/SIGHUP end any command like Ctrl-C does
        try:
            return super().invoke(ctx)
        except TrainingInterrupted as e:
            fail(str(e), 128 + stop_signal())
        except FastW2VError as e:
            fail(str(e))
        except MemoryError:
            fail("out of memory: lower --dim or --max-vocab, or raise --min-count")
        except KeyboardInterrupt as e:
            signum = getattr(e, "signum", signal.SIGINT)
            if signum == signal.SIGINT:
                click.echo("", err=True)  # end the line the terminal's ^C was echoed on
            fail(f"interrupted by {signal_name(signum)}", 128 + signum)
        except OSError as e:
            where = f" {e.filename}" if getattr(e, "filename", None) else ""
            fail(f"{e.strerror or e}{':' if where else ''}{where}")
        finally:
            _restore_handlers(previous)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastw2v")
def main():
    """fastw2v: fast word2vec on the CPU."""


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss where /proc is missing).

    VmHWM belongs to the current address space, so unlike ru_maxrss it does not
    inherit the parent's size from before exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def default_output(corpus: str) -> Path:
    """The corpus name without compression/text suffixes plus the native extension, in the current folder."""
    name = Path(corpus.rstrip("/\\")).name or "model"
    for suffix in _COMPRESSED + (".txt", ".text"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return Path(name + io.NATIVE_SUFFIX)


def _check_output_dir(path: Path):
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"output folder does not exist: {parent}")
    if path.is_dir():
        fail(f"output path is a directory: {path}")
    import os

    if not os.access(parent, os.W_OK):
        fail(f"cannot write to output folder {parent}: permission denied")


def _input_files(path) -> list:
    """The files a corpus or model path reads: itself, or every non-hidden file of a folder; [] if missing."""
    p = Path(path)
    try:
        if p.is_dir():
            return [q for q in p.iterdir() if not q.name.startswith(".") and q.is_file()]
        return [p] if p.exists() else []
    except OSError:
        return []  # unreadable: the reader says so later


def _file_key(path: Path):
    """(st_dev, st_ino) of the file a path leads to (links followed), or None if there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def refuse_clobbering(inputs, outputs, may_replace=()):
    """Fail before anything is read if an output would replace an input or another output.

    inputs: (what, path) pairs: corpus paths (files or folders) and models.
    outputs: (option, path) pairs of the files this command will write.
    may_replace: (option, input path) pairs an output may legitimately replace (``--checkpoint`` and
    ``--resume``'s own checkpoint).
    Files are compared by (device, inode), so another spelling, a symbolic or
    hard link, or a member of a corpus folder is the same file.
    """
    allowed = {(option, _file_key(Path(p))) for option, p in may_replace}
    seen_in = {}
    for what, path in inputs:
        for f in _input_files(path):
            key = _file_key(f)
            if key is not None:
                seen_in.setdefault(key, (what, f))
    seen_out = {}
    for option, path in outputs:
        path = Path(path)
        key = _file_key(path)
        if key is not None and not path.is_file():
            continue  # /dev/null or a FIFO: written into, never replaced
        if key in seen_in and (option, key) not in allowed:
            what, f = seen_in[key]
            same = "" if os.path.abspath(f) == os.path.abspath(path) else f" (the same file as {f})"
            fail(f"{option} {path} is the {what}{same}: writing it would destroy the input; choose another path")
        name = key if key is not None else os.path.realpath(path)
        if name in seen_out:
            fail(f"{option} and {seen_out[name][0]} name the same file {path}: give each output its own path")
        seen_out[name] = (option, path)


@main.command()
@click.argument("corpus", nargs=-1, type=click.Path())
@click.option("-o", "--output", type=click.Path(), help="Output path (default: CORPUS name + .fw2v, here).")
@click.option("--format", "fmt", type=click.Choice(["native", "text", "binary"]),
              help="Output format (default: by extension; .txt/.vec text, .bin binary, else native).")
@click.option("--model", type=click.Choice(list(MODELS)), default="sg", show_default=True)
@click.option("--loss", type=click.Choice(list(LOSSES)), default="ns", show_default=True)
@click.option("--dim", type=int, default=100, show_default=True, help="Vector size.")
@click.option("--window", type=int, default=5, show_default=True, help="Maximum context distance.")
@click.option("--negative", type=int, default=5, show_default=True, help="Noise words per target.")
@click.option("--alpha", type=float, default=None, help="Initial learning rate [default: 0.05 sg, 0.075 cbow, 0.05 with --subwords].")
@click.option("--min-alpha", type=float, default=0.0001, show_default=True)
@click.option("--epochs", type=int, default=5, show_default=True)
@click.option("--min-count", type=int, default=5, show_default=True, help="Drop words rarer than this.")
@click.option("--max-vocab", type=int, default=None, help="Keep only the most frequent words.")
@click.option("--sample", type=float, default=1e-3, show_default=True, help="Subsampling threshold; 0 = off.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--threads", type=int, default=None, help="Worker threads [default: all cores].")
@click.option("--max-sentence-length", type=int, default=10000, show_default=True)
@click.option("--noise", type=click.Choice(list(NOISES)), default="unigram", show_default=True)
@click.option("--batch/--exact", default=True, show_default=True,
              help="--batch shares the noise draws of a centre word across its context (skip-gram) or of 4 "
                   "consecutive centre words (CBOW with ns/nce) (fast); --exact draws them per pair, as word2vec C.")
@click.option("--vectors", type=click.Choice(list(VECTOR_CHOICES)), default="in", show_default=True,
              help="What text/binary outputs hold: input, output or summed vectors.")
@click.option("--subwords/--no-subwords", default=False, show_default=True,
              help="fastText-style character n-grams: a word's input vector is the mean of its row and its "
                   "n-gram rows, so words never seen get vectors too.")
@click.option("--minn", type=int, default=3, show_default=True, help="Shortest n-gram (characters, with < and >).")
@click.option("--maxn", type=int, default=6, show_default=True, help="Longest n-gram; 0 turns n-grams off.")
@click.option("--buckets", type=int, default=2_000_000, show_default=True,
              help="Hashed n-gram rows (memory: buckets x dim x 4 bytes).")
@click.option("--share-noise", is_flag=True, default=False,
              help="With --subwords, skip-gram, ns/nce, --batch: one set of noise draws per window instead of per "
                   "pair (fewer output rows touched; measured a little lower quality).")
@click.option("--cache-dir", type=click.Path(), default=None, help="Where the temporary token cache goes.")
@click.option("--report", type=click.Path(), default=None, help="Write a JSON report of the run here.")
@click.option("--plot-loss", type=click.Path(), default=None,
              help="Save a PNG of loss and words/s over training (needs fastw2v[plot]).")
@click.option("--checkpoint", type=click.Path(), default=None,
              help="Write a resumable checkpoint here every --checkpoint-every seconds and on Ctrl-C.")
@click.option("--checkpoint-every", type=float, default=None, help="Seconds between checkpoints [default: 600].")
@click.option("--resume", "resume_path", type=click.Path(), default=None,
              help="Continue the run this checkpoint was written by (CORPUS defaults to the recorded one).")
@click.option("--init", "init_path", type=click.Path(), default=None,
              help="Train this native model further on CORPUS (vocabulary fixed).")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Train data-parallel on a Dask LocalCluster of this many worker processes (needs fastw2v[dask]).")
@click.option("--scheduler", default=None, metavar="ADDR",
              help="Train data-parallel on the Dask cluster of this scheduler (tcp://HOST:8786).")
@click.option("--merge", type=click.Choice(["capped", "sum", "mean"]), default="capped", show_default=True,
              help="With --workers/--scheduler: a synced row moves by the sum of the workers' changes, "
                   "shortened where they agree to about two of them (capped), by their plain sum, or by their mean over "
                   "the workers that touched it (README: More than one machine).")
@click.option("--round-tokens", type=click.IntRange(1), default=None, metavar="N",
              help="With --workers/--scheduler: tokens each worker trains between syncs [default: one kernel call, "
                   "at least 32 syncs an epoch]. Shorter rounds keep quality with many workers but sync more often.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
@click.pass_context
def train(ctx, corpus, output, fmt, cache_dir, report, plot_loss, checkpoint, checkpoint_every, resume_path,
          init_path, quiet, workers, scheduler, merge, round_tokens, **settings):
    """Train word vectors on CORPUS (files or directories; .gz/.bz2/.xz by extension)."""
    from click.core import ParameterSource

    from .checkpoint import STOP, clear_stop, request_stop, signal_name, stop_signal

    t0 = time.perf_counter()
    given = {k for k in settings if ctx.get_parameter_source(k) in (ParameterSource.COMMANDLINE,
                                                                     ParameterSource.ENVIRONMENT)}
    if resume_path and init_path:
        fail("--resume and --init cannot be combined")
    cluster = {"workers": workers, "scheduler": scheduler}
    if workers or scheduler:
        cluster["merge"] = merge
        cluster["round_tokens"] = round_tokens
    elif round_tokens is not None:
        fail("--round-tokens sets the rounds of --workers/--scheduler training")
    if resume_path and round_tokens is not None:
        fail("--resume continues with the rounds the run started with (drop --round-tokens)")
    if workers and scheduler:
        fail("--workers and --scheduler cannot be combined")
    if (workers or scheduler) and init_path:
        fail("--init trains locally only (drop --workers/--scheduler)")
    if not corpus and not resume_path:
        fail("give a corpus to train on")
    if checkpoint_every is not None:
        if not checkpoint_every > 0:
            fail("--checkpoint-every must be > 0 seconds")
        if not checkpoint and not resume_path:
            fail("--checkpoint-every needs --checkpoint PATH")
    every = checkpoint_every if checkpoint_every is not None else 600.0
    for path in (resume_path, init_path):
        if path and not Path(path).is_file():
            fail(f"no such file: {path}")
    recorded = {}
    if resume_path:
        m, _, ckpt_info = Word2Vec._load_checkpoint(resume_path)  # every field checked
        stored = m.config.to_dict()
        del m
        recorded = ckpt_info.get("cli") or {}
        clash = [f"--{k.replace('_', '-')} {settings[k]} (checkpoint: {stored.get(k)})" for k in sorted(given)
                 if k != "threads" and stored.get(k) != settings[k]]
        if clash:
            fail("settings contradict the checkpoint: " + ", ".join(clash))
        output = output or recorded.get("output")
        fmt = fmt or recorded.get("format")
        report = report or recorded.get("report")
    out = Path(output) if output else default_output(corpus[0] if corpus else "model")
    _check_output_dir(out)
    for extra in (report, plot_loss, checkpoint):
        if extra:
            _check_output_dir(Path(extra))
    corpus_paths = list(corpus) or (ckpt_info.get("corpus") or [] if resume_path else [])
    inputs = [("corpus file", c) for c in corpus_paths]
    inputs += [("--init model", init_path)] if init_path else []
    inputs += [("--resume checkpoint", resume_path)] if resume_path else []
    written = [("--checkpoint", checkpoint or resume_path)] if (checkpoint or resume_path) else []
    written += [("--output", out)] + [(o, p) for o, p in (("--report", report), ("--plot-loss", plot_loss)) if p]
    # --resume goes on writing its own checkpoint (the default --checkpoint); nothing else may replace an input
    refuse_clobbering(inputs, written, may_replace=[("--checkpoint", resume_path)] if resume_path else [])
    if checkpoint or resume_path:
        _refuse_checkpoint_in_corpus_folder(Path(checkpoint or resume_path), corpus_paths)
    if plot_loss:
        _need_matplotlib()
    info = {"cli": {"output": str(out.resolve()), "format": fmt,
                    "report": str(Path(report).resolve()) if report else None}}
    progress = Progress(quiet=quiet)
    clear_stop()

    def on_stop_signal(signum, frame):
        if STOP.is_set():
            raise Aborted(signum)
        request_stop(signum)
        again = "press Ctrl-C again" if signum == signal.SIGINT else f"a second {signal_name(signum)}"
        try:
            progress.message(f"Stopping at the next safe point ({again} to abort at once)...")
        except (RuntimeError, OSError):  # the signal interrupted a write to stderr: stopping matters, not the note
            pass

    # installed until the end: a signal while the output is saved lets the save finish
    previous = _set_handlers(on_stop_signal)
    try:
        _train_and_save(corpus, out, fmt, settings, given, cache_dir, report, plot_loss, checkpoint, every,
                        resume_path, init_path, quiet, info, progress, t0, cluster)
    except TrainingInterrupted as e:
        if resume_path and e.checkpoint is None:  # stopped before training: the old checkpoint still holds
            raise TrainingInterrupted(f"{e}; {resume_path} is unchanged; resume with: fastw2v train --resume "
                                      f"{shlex.quote(str(resume_path))}", checkpoint=resume_path) from None
        raise
    finally:
        _restore_handlers(previous)
    if STOP.is_set() and not quiet:
        click.echo(f"fastw2v: {signal_name(stop_signal())} arrived after training; the outputs were written first",
                   err=True)


def _train_and_save(corpus, out, fmt, settings, given, cache_dir, report, plot_loss, checkpoint, every, resume_path,
                    init_path, quiet, info, progress, t0, cluster):
    """cluster: {"workers", "scheduler"} (and "merge", "round_tokens" when one is set) for training on Dask."""
    if resume_path:
        model = Word2Vec.resume(resume_path, corpus=list(corpus) or None, progress=progress,
                                checkpoint=checkpoint or resume_path, checkpoint_every=every,
                                threads=settings["threads"] if "threads" in given else None,
                                cache_dir=cache_dir, quiet=quiet, workers=cluster["workers"],
                                scheduler=cluster["scheduler"])
    elif init_path:
        model = Word2Vec.load(init_path)
        model.cache_dir, model.quiet = cache_dir, quiet
        overrides = {k: settings[k] for k in given}
        model.continue_training(list(corpus), progress=progress, checkpoint=checkpoint, checkpoint_every=every,
                                checkpoint_info=info, **overrides)
    else:
        model = Word2Vec(cache_dir=cache_dir, quiet=quiet, **settings)
        model.fit(list(corpus), progress=progress, checkpoint=checkpoint, checkpoint_every=every,
                  checkpoint_info=info, **cluster)
    t_save = time.perf_counter()
    kind = _save_or_rescue(model, out, fmt, cache_dir)
    saving = time.perf_counter() - t_save
    model.report["seconds"]["saving"] = saving
    if plot_loss:
        from .plot import plot_training

        plot_training(model.trace, plot_loss)
    total = time.perf_counter() - t0
    rep = dict(model.report, output=str(out), format=kind, total_seconds=total, peak_rss_mb=peak_rss_mb(),
               settings=model.config.to_dict(), history=model.history)
    if report:
        with io.atomic_write(report) as f:
            f.write(json.dumps(rep, indent=2).encode("utf-8"))
    if not quiet:
        r = model.report
        unknown = f", {r['unknown_tokens']:,} unknown tokens skipped" if r.get("unknown_tokens") else ""
        click.echo(f"fastw2v: {r['vocabulary_size']:,} words x {model.config.dim} from "
                   f"{r['corpus_words']:,} corpus words{unknown}, {model.config.epochs} epochs in "
                   f"{r['seconds']['training']:.1f} s ({r['training_words_per_sec'] / 1e3:,.0f}K words/s"
                   f"{_compile_note(r['seconds'])}), "
                   f"final loss {_fmt_loss(model.history[-1]['loss'])}; saved {out} ({kind}) in {total:.1f} s total",
                   err=True)


def _compile_note(seconds: dict) -> str:
    """', plus N s compiling' when the kernels were compiled rather than loaded from the cache."""
    c = seconds.get("compile", 0.0)
    return f"; plus {c:.1f} s compiling, first run only" if c >= 1.0 else ""


def _save_or_rescue(model, out: Path, fmt, cache_dir) -> str:
    """Save the trained model; if that fails (disk full, folder gone), save it natively elsewhere and say where.

    The output folder was checked before training, but hours may have passed:
    losing the trained weights to a vanished folder or a full disk is never
    the right answer.
    """
    try:
        return model.save(out, fmt=fmt)
    except (FastW2VError, OSError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        reason = reason.split(": ", 1)[1] if reason.startswith(f"cannot write {out}: ") else reason
    import tempfile

    for folder in [d for d in (cache_dir, tempfile.gettempdir(), ".") if d]:
        rescue = Path(folder) / f"fastw2v-rescued-{os.getpid()}{io.NATIVE_SUFFIX}"
        try:
            model.save(rescue, fmt="native")
        except (FastW2VError, OSError):
            continue
        raise FastW2VError(f"cannot write {out} ({reason}); the trained model was saved to {rescue} instead "
                           f"(fastw2v export {shlex.quote(str(rescue))} --format text -o FILE converts it)")
    raise FastW2VError(f"cannot write {out} ({reason}), nor a rescue copy in {cache_dir or tempfile.gettempdir()} "
                       f"or the current folder")


def _refuse_checkpoint_in_corpus_folder(ckpt: Path, corpus_paths):
    """A checkpoint written into a corpus folder would be read as corpus text by the resume."""
    if ckpt.name.startswith("."):
        return  # hidden files are not read as corpus
    parent = os.path.realpath(ckpt.parent if str(ckpt.parent) else ".")
    for c in corpus_paths:
        if Path(c).is_dir() and os.path.realpath(c) == parent:
            fail(f"--checkpoint {ckpt} is inside the corpus folder {c}: the resume would read it as corpus text; "
                 f"put it elsewhere")


def _fmt_loss(x) -> str:
    return "n/a" if x != x else f"{x:.4f}"  # nan: no example had its loss measured


def load_vectors(path: str):
    """KeyedVectors from a native model, a word2vec text/binary file (by extension) or a fastText .bin."""
    p = Path(path)
    if not p.exists():
        fail(f"no such file: {path}")
    from .keyedvectors import KeyedVectors

    if io.is_fasttext_bin(p):  # a model fastText saved, whatever its extension
        return KeyedVectors.load_fasttext(p)
    if io.format_for(p) == "native":
        return Word2Vec.load(p).wv
    return KeyedVectors.load_word2vec_format(p)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path())
@click.argument("words", nargs=-1, required=True)
@click.option("-n", "--topn", type=click.IntRange(1), default=10, show_default=True)
@click.option("--negative", "negative", multiple=True, help="Words to subtract (repeatable).")
def similar(model_path, words, topn, negative):
    """Nearest words to the sum of WORDS minus --negative words, by cosine."""
    wv = load_vectors(model_path)
    try:
        hits = wv.most_similar(positive=list(words), negative=list(negative), topn=topn)
    except KeyError as e:
        fail(e.args[0])
    click.echo(" + ".join(words) + "".join(f" - {w}" for w in negative) + ":")
    for word, sim in hits:
        click.echo(f"  {word:<20} {sim:.4f}")


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path())
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("-n", "--topn", type=click.IntRange(1), default=5, show_default=True)
def analogy(model_path, a, b, c, topn):
    """A is to B as C is to ?  (nearest words to B - A + C, 3CosAdd)."""
    wv = load_vectors(model_path)
    try:
        hits = wv.most_similar(positive=[b, c], negative=[a], topn=topn)
    except KeyError as e:
        fail(e.args[0])
    click.echo(f"{a} : {b} :: {c} : ?")
    for word, sim in hits:
        click.echo(f"  {word:<20} {sim:.4f}")


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path())
@click.option("--analogies", "analogy_file", type=click.Path(), default=None,
              help="questions-words file [default: the bundled Google set].")
@click.option("--pairs", "pair_files", type=click.Path(), multiple=True,
              help="word-pair similarity file(s) [default: the bundled WordSim-353].")
@click.option("--restrict-vocab", type=click.IntRange(1), default=30000, show_default=True,
              help="Analogies use only this many most frequent words.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def evaluate(model_path, analogy_file, pair_files, restrict_vocab, as_json):
    """Score vectors on analogy and word-pair similarity benchmarks."""
    from .keyedvectors import DATA_DIR

    for f in ([analogy_file] if analogy_file else []) + list(pair_files):
        if not Path(f).is_file():
            fail(f"no such file: {f}")
    wv = load_vectors(model_path)
    if not analogy_file and not pair_files:
        analogy_file = DATA_DIR / "questions-words.txt"
        pair_files = [DATA_DIR / "wordsim353.tsv"]
    out = {"model": str(model_path)}
    if analogy_file:
        r = wv.evaluate_word_analogies(analogy_file, restrict_vocab=restrict_vocab)
        out["analogies"] = {
            "file": str(analogy_file), "accuracy": r["accuracy"], "correct": r["correct"],
            "incorrect": r["incorrect"], "oov": r["oov"], "oov_ratio": r["oov_ratio"],
            "sections": [{"section": s["section"], "correct": len(s["correct"]), "incorrect": len(s["incorrect"])}
                         for s in r["sections"]],
        }
    out["pairs"] = [dict(wv.evaluate_word_pairs(f), file=str(f)) for f in pair_files]
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    if analogy_file:
        a = out["analogies"]
        click.echo(f"Analogies: {a['file']} (top {restrict_vocab} words)")
        click.echo(f"  {'section':<32} {'correct':>8} {'total':>8} {'accuracy':>9}")
        for s in a["sections"]:
            n = s["correct"] + s["incorrect"]
            click.echo(f"  {s['section']:<32} {s['correct']:>8} {n:>8} {s['correct'] / n if n else 0:>9.3f}")
        click.echo(f"  questions skipped as out of vocabulary: {a['oov']} ({100 * a['oov_ratio']:.1f}%)")
    for p in out["pairs"]:
        click.echo(f"Word pairs: {p['file']}")
        click.echo(f"  pearson {p['pearson']:.4f}  spearman {p['spearman']:.4f}  pairs {p['pairs']}  "
                   f"out of vocabulary {100 * p['oov_ratio']:.1f}%")


def _need_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail("plots need matplotlib: pip install 'fastw2v[plot]'")


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path())
@click.argument("words", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(), help="PNG file to write.")
@click.option("-n", "--neighbours", type=click.IntRange(0), default=0, show_default=True,
              help="Also draw each word's N nearest neighbours.")
def plot(model_path, words, output, neighbours):
    """A labelled 2-D PCA map of WORDS (needs fastw2v[plot])."""
    _need_matplotlib()
    out = Path(output)
    _check_output_dir(out)
    refuse_clobbering([("model", model_path)], [("--output", out)])
    wv = load_vectors(model_path)
    from .plot import plot_words

    try:
        drawn = plot_words(wv, words, out, neighbours=neighbours)
    except KeyError as e:
        fail(e.args[0])
    click.echo(f"wrote {out} ({len(drawn)} words)", err=True)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["projector", "npy", "text", "binary"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(),
              help="A folder for projector/npy, a file for text/binary.")
@click.option("--top", type=click.IntRange(1), default=None, help="Only the N most frequent words.")
def export(model_path, fmt, output, top):
    """Export vectors: TensorFlow projector TSVs, NumPy .npy + vocab.txt, or word2vec text/binary."""
    out = Path(output)
    members = {"projector": ("vectors.tsv", "metadata.tsv"), "npy": ("vectors.npy", "vocab.txt")}.get(fmt)
    refuse_clobbering([("model", model_path)],
                      [("--output", out / m) for m in members] if members else [("--output", out)])
    wv = load_vectors(model_path)
    words, vectors = wv.index_to_key, wv.vectors
    if top is not None:
        words, vectors = words[:top], vectors[:top]
    if fmt in ("projector", "npy"):
        if out.exists() and not out.is_dir():
            fail(f"{out} exists and is not a folder")
        written = (io.export_projector if fmt == "projector" else io.export_npy)(out, words, vectors)
    else:
        _check_output_dir(out)
        io.save_word2vec(out, words, vectors, binary=(fmt == "binary"))
        written = [out]
    click.echo(f"wrote {len(words):,} vectors: " + ", ".join(str(p) for p in written), err=True)


@main.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="Text file to write.")
@click.option("--min-count", type=int, default=5, show_default=True, help="Ignore words rarer than this.")
@click.option("--threshold", type=float, default=100.0, show_default=True,
              help="Join a bigram when its score exceeds this (higher: fewer phrases).")
@click.option("--passes", type=int, default=2, show_default=True, help="Each pass can join longer phrases.")
@click.option("--cache-dir", type=click.Path(), default=None)
@click.option("-q", "--quiet", is_flag=True)
def phrases(corpus, output, min_count, threshold, passes, cache_dir, quiet):
    """Join frequent collocations ("new york" -> "new_york"), word2phrase's score, then train on OUTPUT."""
    from .phrases import find_phrases

    out = Path(output)
    _check_output_dir(out)
    refuse_clobbering([("corpus file", c) for c in corpus], [("--output", out)])
    r = find_phrases(list(corpus), out, min_count=min_count, threshold=threshold, passes=passes,
                     cache_dir=cache_dir)
    if not quiet:
        for p in r["passes"]:
            click.echo(f"pass {p['pass']}: {p['phrases']:,} phrases, {p['tokens_before']:,} -> "
                       f"{p['tokens_after']:,} tokens", err=True)
        click.echo(f"wrote {out}; most frequent phrases: {', '.join(r['phrases'][:10])}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
