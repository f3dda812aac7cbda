"""Records what an index was built from, so `make run` can skip a rebuild of unchanged data."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import BaseModel

from vibeshelf.layout import Layout
from vibeshelf.retrieval.encoder import EXPORT_FORMAT


def _fingerprint(path: Path) -> str:
    # Names, sizes and mtimes are enough to notice a changed data drop without reading GBs.
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class BuildStamp(BaseModel):
    source_format: str
    source_path: str
    fingerprint: str
    embed: bool
    cf: bool
    model: str | None
    # An index whose query encoder predates the current export format is rebuilt (cheaply: the
    # embedding cache answers), so `make run` picks up encoder changes such as the token table.
    encoder_format: int

    @classmethod
    def for_source(
        cls, source_format: str, path: Path, *, embed: bool, cf: bool, model: str | None
    ) -> BuildStamp:
        return cls(
            source_format=source_format,
            source_path=str(path),
            fingerprint=_fingerprint(path),
            embed=embed,
            cf=cf,
            model=model,
            encoder_format=EXPORT_FORMAT,
        )

    @staticmethod
    def path(layout: Layout) -> Path:
        return layout.home / "build_stamp.json"

    def matches(self, layout: Layout) -> bool:
        stamp_file = self.path(layout)
        if not stamp_file.exists() or not layout.index_manifest.exists():
            return False
        try:
            return BuildStamp.model_validate_json(stamp_file.read_text()) == self
        except ValueError:
            return False

    def save(self, layout: Layout) -> None:
        tmp = self.path(layout).with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        os.replace(tmp, self.path(layout))
