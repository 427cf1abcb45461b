"""An upload reaches the store whole, by whichever copy applies, and one over the limit never does."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import pytest

from service.errors import ServiceError
from service.storage import stream_to_file

DATA = os.urandom(3 * 1024 * 1024 + 17)  # not a multiple of any chunk size


def spooled(rolled: bool) -> BinaryIO:
    """The web server's upload file: in memory while small, on disk once past its spool size."""
    spool = tempfile.SpooledTemporaryFile(max_size=len(DATA) + 1 if not rolled else 1024)  # noqa: SIM115 (the caller owns it)
    spool.write(DATA)
    spool.seek(0)
    assert bool(getattr(spool, "_rolled")) is rolled  # noqa: B009 (private, untyped) the case meant
    return spool  # type: ignore[return-value]


@pytest.mark.parametrize(
    "source", [lambda: io.BytesIO(DATA), lambda: spooled(rolled=False), lambda: spooled(rolled=True)]
)
def test_the_stored_file_is_the_upload_byte_for_byte(tmp_path: Path, source: object) -> None:
    stream = source()  # type: ignore[operator]
    assert stream_to_file(stream, tmp_path / "stored", limit=len(DATA)) == len(DATA)
    assert (tmp_path / "stored").read_bytes() == DATA


def test_a_spooled_upload_read_partly_is_stored_from_where_it_stands(tmp_path: Path) -> None:
    stream = spooled(rolled=True)
    stream.seek(1000)
    stream_to_file(stream, tmp_path / "stored", limit=len(DATA))
    assert (tmp_path / "stored").read_bytes() == DATA[1000:]


@pytest.mark.parametrize("rolled", [False, True])
def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(tmp_path: Path, rolled: bool) -> None:
    with pytest.raises(ServiceError) as refused:
        stream_to_file(spooled(rolled), tmp_path / "stored", limit=len(DATA) - 1)
    assert refused.value.status == 413
    assert not (tmp_path / "stored").exists()
