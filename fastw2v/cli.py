"""The ``fastw2v`` command line; every command calls the Python API only.

Errors a user can cause end with one ``Error: ...`` line on stderr and a
non-zero exit, never a traceback.
"""
from __future__ import annotations

import json
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
EXIT_INTERRUPTED = 130
_COMPRESSED = (".gz", ".bz2", ".xz", ".lzma")


def fail(message: str, code: int = EXIT_ERROR):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns user-caused exceptions into one ``Error:`` line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TrainingInterrupted as e:
            fail(str(e), EXIT_INTERRUPTED)
        except FastW2VError as e:
            fail(str(e))
        except MemoryError:
            fail("out of memory: lower --dim or --max-vocab, or raise --min-count")
        except KeyboardInterrupt:
            click.echo("", err=True)
            fail("interrupted", EXIT_INTERRUPTED)
        except OSError as e:
            where = f" {e.filename}" if getattr(e, "filename", None) else ""
            fail(f"{e.strerror or e}{':' if where else ''}{where}")


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
@click.option("--alpha", type=float, default=None, help="Initial learning rate [default: 0.025 sg, 0.05 cbow].")
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
              help="--batch shares the noise draws of a centre word across its context (fast); "
                   "--exact draws them per pair, as word2vec C.")
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
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
@click.pass_context
def train(ctx, corpus, output, fmt, cache_dir, report, plot_loss, checkpoint, checkpoint_every, resume_path,
          init_path, quiet, **settings):
    """Train word vectors on CORPUS (files or directories; .gz/.bz2/.xz by extension)."""
    from click.core import ParameterSource

    from .checkpoint import STOP

    t0 = time.perf_counter()
    given = {k for k in settings if ctx.get_parameter_source(k) in (ParameterSource.COMMANDLINE,
                                                                     ParameterSource.ENVIRONMENT)}
    if resume_path and init_path:
        fail("--resume and --init cannot be combined")
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
        from .io import load_native

        _, _, meta = load_native(resume_path, required=("syn0", "syn1", "bias", "counts"))
        if not isinstance(meta.get("checkpoint"), dict):
            fail(f"{resume_path} is a model, not a checkpoint (use --init to train a model further)")
        recorded = meta["checkpoint"].get("cli") or {}
        stored = meta.get("config", {})
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
    if plot_loss:
        _need_matplotlib()
    info = {"cli": {"output": str(out.resolve()), "format": fmt,
                    "report": str(Path(report).resolve()) if report else None}}
    progress = Progress(quiet=quiet)
    previous = signal.getsignal(signal.SIGINT)
    STOP.clear()

    def on_sigint(signum, frame):
        if STOP.is_set():
            raise KeyboardInterrupt
        STOP.set()
        progress.message("Stopping at the next safe point (press Ctrl-C again to abort at once)...")

    signal.signal(signal.SIGINT, on_sigint)
    try:
        if resume_path:
            model = Word2Vec.resume(resume_path, corpus=list(corpus) or None, progress=progress,
                                    checkpoint=checkpoint or resume_path, checkpoint_every=every,
                                    threads=settings["threads"] if "threads" in given else None,
                                    cache_dir=cache_dir, quiet=quiet)
        elif init_path:
            model = Word2Vec.load(init_path)
            model.cache_dir, model.quiet = cache_dir, quiet
            overrides = {k: settings[k] for k in given}
            model.continue_training(list(corpus), progress=progress, checkpoint=checkpoint, checkpoint_every=every,
                                    checkpoint_info=info, **overrides)
        else:
            model = Word2Vec(cache_dir=cache_dir, quiet=quiet, **settings)
            model.fit(list(corpus), progress=progress, checkpoint=checkpoint, checkpoint_every=every,
                      checkpoint_info=info)
    finally:
        signal.signal(signal.SIGINT, previous)
    t_save = time.perf_counter()
    kind = model.save(out, fmt=fmt)
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
    wv = load_vectors(model_path)
    words, vectors = wv.index_to_key, wv.vectors
    if top is not None:
        words, vectors = words[:top], vectors[:top]
    out = Path(output)
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
    if any(Path(c).resolve() == out.resolve() for c in corpus if Path(c).exists()):
        fail("output would overwrite the corpus")
    r = find_phrases(list(corpus), out, min_count=min_count, threshold=threshold, passes=passes,
                     cache_dir=cache_dir)
    if not quiet:
        for p in r["passes"]:
            click.echo(f"pass {p['pass']}: {p['phrases']:,} phrases, {p['tokens_before']:,} -> "
                       f"{p['tokens_after']:,} tokens", err=True)
        click.echo(f"wrote {out}; most frequent phrases: {', '.join(r['phrases'][:10])}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
