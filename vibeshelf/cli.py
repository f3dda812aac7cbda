"""The `vibeshelf` command line. Heavy modules are imported inside each command so `--help` stays instant."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console

from vibeshelf.layout import Layout
from vibeshelf.settings import BUNDLED_SOURCE, Settings, get_settings

console = Console(stderr=True)

SOURCES = ("goodbooks", "bookcrossing", "ucsd")


def _layout(settings: Settings, out: Path | None = None) -> Layout:
    return Layout.from_settings(settings, out)


def _fail(message: str, code: int = 2) -> NoReturn:
    # One unwrapped line on stderr (rich would wrap it at the terminal width); click drops colour off a tty.
    click.echo(f"{click.style('error:', fg='red', bold=True)} {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vibeshelf")
def main() -> None:
    """vibeshelf: a conversational book recommender you can plug in anywhere."""


@main.command()
@click.option("--source", "source_format", type=click.Choice(SOURCES), help="Raw data format.")
@click.option(
    "--path",
    type=click.Path(path_type=Path),
    help="Folder with the raw files (default: VIBESHELF_SOURCE, else ../shared/data/goodbooks).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: VIBESHELF_HOME).")
@click.option(
    "--no-embed", is_flag=True, help="Only normalise the catalog and ratings; skip embeddings/index."
)
@click.option("--no-cf", is_flag=True, help="Skip fitting the readers-also-liked model.")
@click.option("--model", help="sentence-transformers model name or path (default: bundled all-MiniLM-L6-v2).")
@click.option(
    "--if-needed",
    is_flag=True,
    help="Do nothing when the index was already built from the same, unchanged source files.",
)
def ingest(
    source_format: str | None,
    path: Path | None,
    out: Path | None,
    no_embed: bool,
    no_cf: bool,
    model: str | None,
    if_needed: bool,
) -> None:
    """Build the catalog, search index and CF model from raw data."""
    # LanceDB's Rust logger prints a WARN line whenever a new table is created (every build), which reads
    # like a problem in the middle of the progress output. It reads its level once, when lancedb loads.
    os.environ.setdefault("LANCEDB_LOG", "error")
    from vibeshelf.ingest.build_stamp import BuildStamp
    from vibeshelf.ingest.input_error import InputFileError

    settings = get_settings()
    layout = _layout(settings, out).ensure()
    source_format = source_format or settings.source_format
    path = path or settings.source_dir()
    if path is None:
        _fail(
            f"no data source: {BUNDLED_SOURCE} does not exist here. Put the goodbooks data there "
            "(see README 'Data'), or pass --path DIR, or set VIBESHELF_SOURCE=DIR."
        )
    path = path.expanduser().resolve()
    if not path.is_dir():
        _fail(f"data source {path} is not a folder (from --path or VIBESHELF_SOURCE)")

    stamp = BuildStamp.for_source(source_format, path, embed=not no_embed, cf=not no_cf, model=model)
    if if_needed and stamp.matches(layout):
        console.print(f"[green]index is up to date[/] in {layout.home} (built from {path}); skipping ingest")
        return

    started = time.perf_counter()
    try:
        from vibeshelf.ingest.normalize import normalize

        console.rule(f"[bold]1/3 normalise[/] {source_format} from {path}")
        report = normalize(source_format, path, layout)
        console.print(report.summary())
        if not no_embed:
            from vibeshelf.ingest.index import build_index

            console.rule("[bold]2/3 embed + index")
            manifest = build_index(layout, model=model or settings.embed_model)
            console.print(f"index table [cyan]{manifest.table}[/] ready ({manifest.counts})")
            from vibeshelf.agent.reading.stance import StanceJudge

            StanceJudge.beside_encoder(layout.encoder)  # else the server's first start fits it (~10 s)
        if not no_cf:
            from vibeshelf.ingest.cf_fit import fit_cf

            console.rule("[bold]3/3 readers-also-liked model")
            cf = fit_cf(layout)
            console.print(
                f"{cf.algorithm} (seeds) / {cf.history_algorithm} (histories) over {cf.items:,} books x "
                f"{cf.users:,} readers "
                f"({cf.ratings:,} ratings) fitted in {cf.fit_seconds:.1f}s; "
                f"{cf.cold_books:,} rated books too sparse for CF -> content fallback"
            )
    except InputFileError as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail("interrupted; rerun the same command to finish (finished work is reused)", code=130)
    stamp.save(layout)
    console.print(
        f"[bold green]done[/] in {time.perf_counter() - started:.1f}s -> {layout.home} "
        f"(report: {layout.ingest_report})"
    )


@main.command()
@click.option("--out", type=click.Path(path_type=Path), help="Index folder (default: VIBESHELF_HOME).")
@click.option("--pairs", "n_pairs", type=click.IntRange(min=100), default=8000, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the pair mining and the fit.")
def tune(out: Path | None, n_pairs: int, epochs: int, seed: int) -> None:
    """Tune the query encoder to the catalog (writes query_adapter.npz beside the index, ~1 min).

    Interrupting writes nothing; rerunning starts over. Searches use it with VIBESHELF_QUERY_ADAPTER=true."""
    from vibeshelf.ingest.tuning.adapter_fit import AdapterConfig
    from vibeshelf.ingest.tuning.run import tune as run_tune
    from vibeshelf.retrieval.book_index import IndexNotBuiltError
    from vibeshelf.retrieval.encoder import EncoderNotFoundError

    layout = _layout(get_settings(), out)
    started = time.perf_counter()
    try:
        summary = run_tune(layout, AdapterConfig(n_pairs=n_pairs, epochs=epochs, seed=seed))
    except (IndexNotBuiltError, EncoderNotFoundError, ValueError) as err:
        _fail(f"{err}; run `vibeshelf ingest` first" if not isinstance(err, ValueError) else str(err))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written (rerun to tune)", code=130)
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(summary.pairs.items()))
    console.print(
        f"[bold green]done[/] in {time.perf_counter() - started:.1f}s: {kinds} pairs over {summary.books:,} "
        f"books ({summary.held_out_books:,} held out); requests encoded in {summary.encode_seconds:.1f}s, "
        f"fitted in {summary.fit_seconds:.1f}s -> {layout.query_adapter}"
    )


@main.command(name="fit-cf")
@click.option(
    "--algorithm",
    type=click.Choice(["auto", "popularity", "item_knn", "rp3beta", "ease"]),
    default="auto",
    show_default=True,
    help="auto: the validation winners (one model for a few seed books, one for whole histories); "
    "a named algorithm serves both.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="local: the in-process models above. spark: implicit ALS on Spark MLlib (pip install -e '.[spark]', "
    "Java 17+), its top neighbours per book precomputed in the job; --algorithm is then ignored.",
)
@click.option(
    "--spark-master",
    default=None,
    help="Spark master for --engine spark: local[N] or a cluster URL (default: VIBESHELF_SPARK_MASTER).",
)
@click.option("--rank", type=click.IntRange(2, 1024), default=64, show_default=True, help="ALS factors.")
@click.option("--iterations", type=click.IntRange(1, 100), default=10, show_default=True, help="ALS sweeps.")
@click.option(
    "--neighbours",
    type=click.IntRange(1, 5000),
    default=200,
    show_default=True,
    help="ALS books kept per book.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Index folder (default: VIBESHELF_HOME).")
def fit_cf_command(
    algorithm: str,
    engine: str,
    spark_master: str | None,
    rank: int,
    iterations: int,
    neighbours: int,
    out: Path | None,
) -> None:
    """Refit the readers-also-liked model alone from the catalog's ratings (no re-ingest).

    The new model is written beside the old one and swapped in by rename; a running server picks it up
    on its next request. Interrupting leaves the previous model in place; rerun to finish.
    """
    from vibeshelf.ingest.cf_fit import fit_cf
    from vibeshelf.ingest.spark_als import ALSParams
    from vibeshelf.retrieval.cf.models import CFDataError

    settings = get_settings()
    layout = _layout(settings, out)
    if not layout.home.is_dir():
        _fail(f"no index folder at {layout.home}: run `vibeshelf ingest` first, or set VIBESHELF_HOME")
    try:
        cf = fit_cf(
            layout,
            algorithm=algorithm,  # type: ignore[arg-type]
            engine=engine,  # type: ignore[arg-type]
            spark_master=spark_master or settings.spark_master,
            als=ALSParams(rank=rank, iterations=iterations, neighbours=neighbours),
        )
    except (FileNotFoundError, CFDataError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail(
            "interrupted; the previous model is still in place. Rerun `vibeshelf fit-cf` to refit.", code=130
        )
    history = (
        ""
        if cf.history_algorithm == cf.algorithm and cf.history_params == cf.params
        else (f", whole histories {cf.history_algorithm}")
    )
    # One unwrapped line (rich would wrap it at the terminal width).
    click.echo(
        f"{click.style('done', fg='green', bold=True)}: seeds {cf.algorithm}{history} over {cf.items:,} books "
        f"x {cf.users:,} readers ({cf.ratings:,} ratings) fitted in {cf.fit_seconds:.1f}s -> {cf.path}; "
        f"{cf.cold_books:,} rated books too sparse for CF -> content fallback",
        err=True,
    )


@main.command(name="library")
@click.argument("export", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-k", "--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Picks to show."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def library_command(export: Path, limit: int, as_json: bool) -> None:
    """Match a Goodreads or StoryGraph CSV EXPORT to the catalog and show what to read next.

    Books are matched by ISBN, then title + author; unmatched rows are listed. The rated books are the
    history for the whole-history model, each weighed by its stars as the server weighs them (no ratings:
    the books read); every book read (or rated) is left out of the picks.
    """
    import pyarrow.parquet as pq

    from vibeshelf.retrieval.cf.store import CFModelMissing
    from vibeshelf.retrieval.library_import import LibraryFormatError, LibraryMatcher, import_library
    from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked

    layout = _layout(get_settings())
    if not layout.catalog.is_file():
        _fail(f"no catalog at {layout.catalog}: run `vibeshelf ingest` first, or set VIBESHELF_HOME")
    try:
        data = export.read_bytes()
    except OSError as err:
        _fail(f"{export}: cannot read ({err.strerror or err})")
    catalog = pq.read_table(layout.catalog)
    try:
        library = import_library(data, LibraryMatcher.from_table(catalog))
    except LibraryFormatError as err:
        _fail(f"{export}: {err}")
    read, ratings = library.read_ids(), library.ratings()
    # As the server scores a library: every rated book, weighted by its stars (no ratings: the books read).
    history = list(ratings) or library.history_ids()
    picks = []
    if history:
        try:
            cf = ReadersAlsoLiked.load(layout)
        except CFModelMissing as err:
            _fail(str(err))
        picks = cf.recommend_history(history, avoid_ids=read, k=limit, ratings=ratings).hits
    titles = dict(zip(catalog["id"].to_pylist(), catalog["title"].to_pylist(), strict=True))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "format": library.format,
                    "matched": len(library.matched),
                    "unmatched": [u.model_dump() for u in library.unmatched],
                    "history": history,
                    "ratings": ratings,
                    "picks": [{**h.model_dump(), "title": titles.get(h.book_id)} for h in picks],
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"{library.format} export: {len(library.matched)} books matched, {len(library.unmatched)} not in the "
        f"catalog; history = {len(history)} books"
        + (
            f", weighed by their stars ({sum(s >= 4 for s in ratings.values())} rated 4+)"
            if ratings
            else " read"
        )
    )
    for row in library.unmatched:
        click.echo(
            f"  unmatched row {row.row}: {row.title!r} by {', '.join(row.authors) or '?'} ({row.reason})"
        )
    for n, hit in enumerate(picks, start=1):
        click.echo(f"{n:>3}. {titles.get(hit.book_id, hit.book_id)}  ({hit.co_readers} co-readers)")
    if not picks:
        click.echo("no picks: no matched book rated (or read) that the model knows")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def stats(as_json: bool) -> None:
    """Show what is in the index."""
    from vibeshelf.ingest.stats import collect_stats
    from vibeshelf.retrieval.book_index import IndexNotBuiltError

    layout = _layout(get_settings())
    try:
        figures = collect_stats(layout)
    except IndexNotBuiltError as err:
        _fail(str(err))
    if as_json:
        click.echo(json.dumps(figures, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"vibeshelf index at {layout.home}", show_header=False)
    for key, value in figures.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    Console().print(table)


@main.command()
@click.option("--host", help="Interface to bind (default: VIBESHELF_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: VIBESHELF_PORT, 8000).")
@click.option("--workers", type=int, default=1, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API, chat widget and plugin surfaces."""
    import uvicorn

    settings = get_settings()
    layout = _layout(settings)
    if not layout.index_manifest.exists():
        # Fail before uvicorn starts: a missing index would otherwise surface as a lifespan traceback.
        _fail(
            f"no index in {layout.home}: build it with `vibeshelf ingest` (or `make run`), or set VIBESHELF_HOME"
        )
    if host:
        # The app (in this process or in workers) reads settings.host, e.g. to decide whether /mcp
        # may restrict Host headers to loopback; make it agree with the address actually bound.
        os.environ["VIBESHELF_HOST"] = host
        get_settings.cache_clear()
    uvicorn.run(
        "vibeshelf.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1; the app decides instead,
        # from VIBESHELF_TRUSTED_PROXIES (web/limits.py).
        proxy_headers=False,
    )


@main.command()
@click.option(
    "--timeout", "timeout_s", default=3.0, show_default=True, help="Seconds to wait for the answer."
)
def healthcheck(timeout_s: float) -> None:
    """Exit 0 when the server configured here (VIBESHELF_HOST, VIBESHELF_PORT) answers /healthz with 200,
    else 1 with one line saying why. The Docker image's HEALTHCHECK runs it."""
    import httpx

    settings = get_settings()
    # A server bound to all interfaces is reached on loopback.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host}:{settings.port}/healthz"
    try:
        status = httpx.get(url, timeout=timeout_s).status_code
    except httpx.HTTPError as err:
        click.echo(f"unhealthy: {url}: {err or type(err).__name__}", err=True)
        sys.exit(1)
    if status != 200:
        click.echo(f"unhealthy: {url} answered HTTP {status}", err=True)
        sys.exit(1)
    click.echo(f"healthy: {url}")


@main.command()
@click.argument("message", required=False)
@click.option("--url", help="Server to talk to (default: http://VIBESHELF_HOST:VIBESHELF_PORT).")
@click.option("--session", "session_id", help="Continue this session id.")
@click.option(
    "--api-key",
    envvar="VIBESHELF_API_KEY",
    help="A key from the server's VIBESHELF_API_KEYS, sent as `Authorization: Bearer KEY` "
    "(env VIBESHELF_API_KEY). Needed when the server has API keys.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also show the tool calls and the session id.")
def chat(
    message: str | None, url: str | None, session_id: str | None, api_key: str | None, verbose: bool
) -> None:
    """Talk to a running vibeshelf server: interactive, or one MESSAGE and exit.

    Start the server first (`vibeshelf serve` or `make run`). Book cards are numbered; in the interactive
    mode /up N, /down N and /read N give feedback on card N of the last answer; /new starts over; /quit
    leaves.
    """
    from vibeshelf.chat_client import run_chat

    settings = get_settings()
    # A server bound to all interfaces is reached on loopback.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    sys.exit(run_chat(url or f"http://{host}:{settings.port}", message, session_id, verbose, api_key))


@main.command(name="mcp")
def mcp_command() -> None:
    """Serve the book tools over MCP on stdin/stdout (Claude Desktop, IDEs, agent frameworks).

    Point an MCP client at the command `vibeshelf mcp` with VIBESHELF_HOME set to a built index.
    Logs go to stderr; stdout carries only the protocol.
    """
    import anyio

    from vibeshelf.web.mcp_server import configure_stderr_logging, serve_stdio

    configure_stderr_logging()
    settings = get_settings()
    try:
        anyio.run(serve_stdio, settings)
    except KeyboardInterrupt:
        pass
    except Exception as err:  # a missing index: one clear line on stderr, not a traceback
        from vibeshelf.retrieval.book_index import IndexNotBuiltError

        cause: BaseException = err
        while isinstance(cause, BaseExceptionGroup) and len(cause.exceptions) == 1:
            cause = cause.exceptions[0]  # anyio's task groups wrap what the server raised
        if isinstance(cause, IndexNotBuiltError):
            _fail(f"{cause} (VIBESHELF_HOME={settings.home_dir}); run `vibeshelf ingest` first")
        raise


@main.command(name="eval")
@click.option(
    "--dev-set",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Only this query set (JSONL). Default: the dev set eval/dev_queries.jsonl (the weights were tuned "
    "on it), then the held-out eval/test_queries.jsonl.",
)
@click.option("--no-cf", is_flag=True, help="Skip the collaborative-filtering table.")
@click.option(
    "--no-tune",
    is_flag=True,
    help="CF: measure the configured models only (the full validation grid takes ~15 min on goodbooks).",
)
@click.option("--grid", is_flag=True, help="Also grid-search the fusion and rerank weights (slow).")
@click.option(
    "--dialogs",
    "dialogs",
    is_flag=True,
    help="Instead: run the dialog set (eval/dialogs/dev.jsonl and test.jsonl) through the chat API and "
    "score the shown books against the catalog.",
)
@click.option(
    "--dialog-set",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="With --dialogs: only this JSONL file.",
)
@click.option("--model", help="With --dialogs: the model to answer with (default: VIBESHELF_MODEL).")
@click.option(
    "--failures",
    is_flag=True,
    help="With --dialogs: list every card that broke a limit (never for the held-out test half).",
)
def eval_command(
    dev_set: Path | None,
    no_cf: bool,
    no_tune: bool,
    grid: bool,
    dialogs: bool,
    dialog_set: Path | None,
    model: str | None,
    failures: bool,
) -> None:
    """Measure retrieval on the dev and held-out query sets (BM25, vector, hybrid, hybrid+rerank) and CF on a
    held-out split; or, with --dialogs, whole conversations."""
    if dialogs:
        _eval_dialogs(dialog_set, model, failures)
        return
    from vibeshelf.retrieval import evaluation as ev
    from vibeshelf.retrieval.book_index import IndexNotBuiltError
    from vibeshelf.retrieval.services import open_services

    out = Console()
    layout = _layout(get_settings())
    query_sets = [dev_set] if dev_set else [ev.DEFAULT_DEV_SET, ev.DEFAULT_TEST_SET]
    evaluator = None
    try:
        services = open_services(layout, load_cf=False)
        for path in query_sets:
            queries = ev.load_dev_set(path)
            with console.status(f"running {len(queries)} queries x {len(ev.SYSTEMS)} systems ..."):
                set_evaluator = ev.Evaluator(services.search, queries)
                rows = set_evaluator.compare()
            evaluator = evaluator or set_evaluator  # --grid tunes on the first set only
            role = {ev.DEFAULT_DEV_SET: "dev set, tuned on", ev.DEFAULT_TEST_SET: "held out"}.get(
                path.resolve()
            )
            label = f"{path.name}, {role}" if role else path.name
            out.print(
                ev.retrieval_table(rows, f"Retrieval on {label} ({len(queries)} queries) - {layout.home}")
            )
    except (IndexNotBuiltError, ev.DevSetError, FileNotFoundError) as err:
        _fail(str(err))

    if grid and evaluator is not None:
        fusions, weights = ev.default_grid()
        with console.status(f"grid: {len(fusions)} fusions x {len(weights) + 1} rerank settings ..."):
            results = evaluator.grid(fusions, weights)
        out.print(ev.grid_table(results))

    if no_cf:
        return
    if not layout.ratings.exists():
        _fail(f"no ratings at {layout.ratings}; run `vibeshelf ingest` first (or pass --no-cf)")
    import pyarrow.parquet as pq

    from vibeshelf.retrieval.cf.eval import evaluate_cf

    ratings = pq.read_table(layout.ratings)
    # The catalog's authors, series and shelves let the seeds model try a blend with content similarity.
    catalog = (
        pq.read_table(layout.catalog, columns=["id", "authors", "series", "genres"])
        if layout.catalog.is_file()
        else None
    )
    rows = evaluate_cf(ratings, tune=not no_tune, catalog=catalog)
    out.print(ev.cf_table(rows, ratings.num_rows))


def _eval_dialogs(dialog_set: Path | None, model: str | None, show_failures: bool) -> None:
    from rich.table import Table

    from vibeshelf import dialog_eval as de
    from vibeshelf.retrieval.book_index import IndexNotBuiltError

    settings = get_settings()
    if model:
        settings = settings.model_copy(update={"model": model})
    layout = _layout(settings)
    if not layout.catalog.exists():
        _fail(f"no catalog at {layout.catalog}; run `vibeshelf ingest` first")
    sets = [dialog_set] if dialog_set else [de.DEV_SET, de.TEST_SET]
    try:
        named = {path: de.load_dialogs(path) for path in sets}
    except (de.DialogSetError, OSError) as err:
        _fail(str(err))
    catalog = de.load_catalog(layout.catalog)
    summaries: dict[str, de.Summary] = {}
    out = Console()
    try:
        with de.DialogRunner(settings.model_copy(update={"home": layout.home})) as runner:
            for path, dialogs in named.items():
                skipped = de.unfair(dialogs, catalog)
                for problem in skipped:
                    console.print(f"[yellow]skipped[/] {path.name} {problem}")
                bad = {p.split(":", 1)[0] for p in skipped}
                results = []
                with console.status(f"{path.name}: {len(dialogs)} conversations ({settings.model}) ..."):
                    for dialog in dialogs:
                        if dialog.id not in bad:
                            results.append(runner.run(dialog, catalog))
                summaries[path.name] = de.summarise(results)
                # The held-out half is scored, never read: its failures are not printed.
                if show_failures and not de.held_out(path):
                    for r in results:
                        for line in [*r.misses, *([r.error] if r.error else [])]:
                            out.print(
                                f"{r.dialog.id} [{r.dialog.kind}] {line}",
                                markup=False,
                                highlight=False,
                                soft_wrap=True,
                            )
    except IndexNotBuiltError as err:
        _fail(f"{err}; run `vibeshelf ingest` first")

    table = Table(title=f"Dialogs ({settings.model}): pass / violations / cards shown")
    table.add_column("kind")
    for name, summary in summaries.items():
        table.add_column(f"{name} (n={summary.dialogs})", justify="right")

    def cell(s: de.Summary | None) -> str:
        if s is None:
            return "-"
        return f"{s.passed:.2f} / {s.violations} / {s.cards:.1f}"

    for kind in de.KINDS:
        table.add_row(kind, *(cell(s.by_kind.get(kind)) for s in summaries.values()))
    table.add_row("overall", *(cell(s) for s in summaries.values()), style="bold")
    table.add_row(
        "tool calls / tokens per turn",
        *(f"{s.tool_calls:.1f} / {s.tokens:.0f}" for s in summaries.values()),
    )
    table.add_row("fallbacks / errors", *(f"{s.fallbacks} / {s.errors}" for s in summaries.values()))
    out.print(table)


if __name__ == "__main__":
    main()
