"""The `vibeshelf` command line. Heavy modules are imported inside each command so `--help` stays instant."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console

from vibeshelf.layout import Layout
from vibeshelf.settings import BUNDLED_SOURCE, Settings, get_settings

console = Console(stderr=True)

SOURCES = ("goodbooks", "bookcrossing", "ucsd")


def _layout(settings: Settings, out: Path | None = None) -> Layout:
    return Layout((out or settings.home).expanduser().resolve())


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}")
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
@click.option("--no-embed", is_flag=True, help="Only normalise the catalog and ratings; skip embeddings/index.")
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
        if not no_cf:
            from vibeshelf.ingest.cf_fit import fit_cf

            console.rule("[bold]3/3 readers-also-liked model")
            cf_report = fit_cf(layout)
            console.print(cf_report.summary())
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
    uvicorn.run(
        "vibeshelf.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
    )


if __name__ == "__main__":
    main()
