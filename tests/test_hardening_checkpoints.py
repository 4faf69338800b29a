"""Damaged checkpoints, made here from a real one: refused on resume naming the file and what is wrong
(never blaming the learning rate); a damaged ``last.npz`` falls back to the newest intact kept copy."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ModelFileError
from nnscratch.training import checkpoint

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((32, 3)).astype(np.float32), RNG.integers(0, 2, 32)


def model() -> nn.Sequential:
    net = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    return net.compile("binary_crossentropy", "adam")


def trained(folder: Path, keep: int = 2) -> Path:
    """Three epochs of 4 steps with checkpoints in ``folder`` (``last.npz``, ``epoch-0002/3.npz``)."""
    model().fit(X, Y, epochs=3, batch_size=8, verbose=0, callbacks=[nn.Checkpoint(folder, keep=keep)])
    return folder / "last.npz"


def rewrite(path: Path, arrays=None, record=None) -> None:
    """Rewrite the checkpoint at ``path`` with ``arrays(dict)`` and ``record(dict)`` applied to its content."""
    with np.load(path, allow_pickle=False) as archive:
        content = {k: archive[k] for k in archive.files}
    config = json.loads(content.pop("__config__").tobytes())
    if arrays:
        arrays(content)
    if record:
        record(config["checkpoint"])
    np.savez(path, __config__=np.frombuffer(json.dumps(config).encode(), np.uint8), **content)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def resume_refused(folder: Path, match: str) -> str:
    before = snapshot(folder)
    with pytest.raises(ModelFileError, match=match) as info:
        model().fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[nn.Checkpoint(folder)], resume_from=folder)
    message = str(info.value)
    assert str(folder / "last.npz") in message and "learning rate" not in message
    assert snapshot(folder) == before  # nothing written
    return message


def nan_at(key: str):
    def change(arrays: dict) -> None:
        arrays[key] = arrays[key].copy()
        arrays[key].flat[0] = np.nan
    return change


def test_a_nan_weight_is_refused_on_resume(tmp_path):
    trained(tmp_path, keep=0)
    rewrite(tmp_path / "last.npz", arrays=nan_at("layers.1.weight"))
    resume_refused(tmp_path, "weight tensor 'layers.1.weight' holds 1 NaN or infinite value")


def test_a_nan_adam_moment_is_refused_on_resume(tmp_path):
    trained(tmp_path, keep=0)
    rewrite(tmp_path / "last.npz", arrays=nan_at("optimizer/0.v"))
    resume_refused(tmp_path, "optimizer state '0.v' holds 1 NaN or infinite value: the checkpoint is damaged")


def test_an_epoch_count_beyond_the_history_is_refused(tmp_path):
    trained(tmp_path, keep=0)
    rewrite(tmp_path / "last.npz", record=lambda r: r.update(epoch=999))
    resume_refused(tmp_path, "claims 999 completed epochs but its history holds epochs 1-3")


def test_an_epoch_count_without_history_is_refused(tmp_path):
    trained(tmp_path, keep=0)
    rewrite(tmp_path / "last.npz", record=lambda r: r.update(history={"epoch": [], "loss": []}))
    resume_refused(tmp_path, "claims 3 completed epochs but its history holds none")


def test_too_few_optimizer_steps_for_the_history_is_refused(tmp_path):
    trained(tmp_path, keep=0)
    rewrite(tmp_path / "last.npz", record=lambda r: r["optimizer"].update(iterations=2))
    resume_refused(tmp_path, "records 3 epochs of 4 steps but only 2 optimizer steps")


def test_a_damaged_last_falls_back_to_the_newest_intact_copy_and_says_so(tmp_path):
    last = trained(tmp_path)
    data = last.read_bytes()
    last.unlink()  # (epoch-0003.npz is a hard link of it: damage only last.npz)
    last.write_bytes(data[:200])
    with pytest.warns(UserWarning, match=r"last.npz' cannot be used .*resuming from '.*epoch-0003.npz', the newest"):
        state = checkpoint.read_checkpoint(tmp_path)
    assert state.epoch == 3 and state.path == tmp_path / "epoch-0003.npz"
    straight = model()
    straight.fit(X, Y, epochs=4, batch_size=8, verbose=0)
    resumed = model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        history = resumed.fit(X, Y, epochs=4, batch_size=8, verbose=0, resume_from=tmp_path)
    assert history.epoch == [0, 1, 2, 3]
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value)


def test_a_damaged_copy_is_skipped_for_an_older_intact_one(tmp_path):
    last = trained(tmp_path)
    rewrite(last, arrays=nan_at("layers.0.weight"))
    (tmp_path / "epoch-0003.npz").unlink()  # (a hard link of last: damage it separately)
    (tmp_path / "epoch-0003.npz").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="epoch-0002.npz"):
        assert checkpoint.read_checkpoint(tmp_path).epoch == 2


def test_when_no_copy_is_intact_the_error_says_so(tmp_path):
    last = trained(tmp_path)
    for path in (last, tmp_path / "epoch-0002.npz", tmp_path / "epoch-0003.npz"):
        path.unlink()
        path.write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"last.npz' is an empty file.*none of the kept copies in .* is intact "
                                             r"either \(epoch-0003.npz, epoch-0002.npz\)"):
        checkpoint.read_checkpoint(tmp_path)


def test_stale_temporary_files_are_cleaned_at_the_start_of_training(tmp_path):
    stale = [tmp_path / ".epoch-0002.npz.4242.tmp", tmp_path / ".last.npz.abc123.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    model().fit(X, Y, epochs=1, batch_size=8, verbose=0, callbacks=[nn.Checkpoint(tmp_path, keep=1)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0001.npz", "last.npz"]


def test_every_rename_of_a_kept_copy_is_followed_by_a_folder_sync(tmp_path, monkeypatch):
    synced = []
    real_replace = checkpoint.os.replace
    monkeypatch.setattr(checkpoint, "fsync_folder", lambda folder: synced.append(("sync", Path(folder))))
    monkeypatch.setattr(checkpoint.os, "replace", lambda a, b: (synced.append(("replace", Path(b))), real_replace(a, b)))
    model().fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=[nn.Checkpoint(tmp_path, keep=1)])
    renames = [i for i, (what, _) in enumerate(synced) if what == "replace" and synced[i][1].name.startswith("epoch-")]
    assert len(renames) == 2
    for i in renames:
        assert synced[i + 1] == ("sync", tmp_path)
