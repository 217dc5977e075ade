"""veerkracht.lib.uploads: the one size limit, UPLOAD_MAX_BYTES from the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from veerkracht.lib.uploads import UploadTooLarge, check_size, read_file


def test_a_file_over_the_limit_in_the_settings_is_refused(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    check_size("klein.csv", settings.UPLOAD_MAX_BYTES)
    with pytest.raises(UploadTooLarge) as refused:
        check_size("groot.csv", 2 * 1024 * 1024)
    assert str(refused.value) == "“groot.csv” is 2.0 MB; the limit is 1 MB."


def test_a_commands_file_over_the_limit_is_refused_before_it_is_read(
    settings: Any, tmp_path: Path
) -> None:
    settings.UPLOAD_MAX_BYTES = 10
    small, large = tmp_path / "klein.csv", tmp_path / "groot.csv"
    small.write_bytes(b"a;b\r\n1;2\r\n")
    large.write_bytes(b"a" * 11)
    assert read_file(small) == b"a;b\r\n1;2\r\n"
    with pytest.raises(UploadTooLarge, match="“groot.csv” is 0.0 MB"):
        read_file(large)
