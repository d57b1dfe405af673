"""Pool(image=...): a name looked up in the image store (SCPOOL_STORE, here an
empty temporary directory); an unknown or malformed name raises InvalidArgument
naming it, before any container is made."""

from __future__ import annotations

import pytest

import scpool


def test_an_unknown_image_is_named_in_the_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCPOOL_STORE", str(tmp_path))
    with pytest.raises(scpool.InvalidArgument, match="no image named gcc:13 in the store"):
        scpool.Pool(size=1, image="gcc:13")
    with pytest.raises(scpool.InvalidArgument, match="invalid image name"):
        scpool.Pool(size=1, image="Not A Name")
    with pytest.raises(TypeError, match="image must be a str"):
        scpool.Pool(size=1, image=13)
