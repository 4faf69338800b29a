"""Checkpoints and resumed training: a run interrupted and resumed ends with the weights of an uninterrupted one."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ModelFileError, NotBuiltError, ShapeError
from nnscratch.training.checkpoint import (
    LAST,
    add_arguments,
    fit_with_checkpoints,
    latest_checkpoint,
    read_checkpoint,
    save_checkpoint,
)

REPO = Path(__file__).resolve().parents[1]


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return (rng.standard_normal((n, 4)) + np.eye(3, 4)[y] * 2).astype(np.float32), y


X, Y = blobs()
FIT = {"batch_size": 16, "validation_split": 0.2, "verbose": 0}


def network(seed=7, rng=None, units=16):
    layers = [nn.Dense(units, activation="relu"), nn.Dropout(0.3), nn.Dense(3), nn.Softmax()]
    return nn.Sequential(layers, seed=seed if rng is None else rng)


def model(seed=7, schedule=False, **kwargs):
    lr = nn.schedules.CosineDecay(0.02, decay_steps=30, final=0.002) if schedule else 0.01
    return network(seed, **kwargs).compile("categorical_crossentropy", nn.Adam(lr=lr), metrics=["accuracy"])


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert np.array_equal(sa[name], sb[name]), name


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "compiled-from-checkpoint"])
def test_interrupted_and_resumed_run_is_bit_identical(tmp_path, compiled):
    straight = model(schedule=True)
    full = straight.fit(X, Y, epochs=4, **FIT)

    model(schedule=True).fit(X, Y, epochs=2, callbacks=[nn.Checkpoint(tmp_path)], **FIT)
    assert read_checkpoint(tmp_path).epoch == 2
    resumed = model(schedule=True) if compiled else network()  # a new object, as in a new process
    history = resumed.fit(X, Y, epochs=4, callbacks=[nn.Checkpoint(tmp_path)], resume_from=tmp_path, **FIT)

    assert_same_weights(resumed, straight)
    assert history.to_dict() == full.to_dict()
    assert history.epoch == [0, 1, 2, 3] and not history.interrupted
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 4 * 5
    assert read_checkpoint(tmp_path).epoch == 4


def test_resume_in_a_new_process(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import numpy as np
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_checkpoint_resume import FIT, X, Y, model
        import nnscratch as nn
        epochs, resume = int(sys.argv[1]), sys.argv[2] == "resume"
        m = model()
        m.fit(X, Y, epochs=epochs, callbacks=[nn.Checkpoint(sys.argv[3])],
              resume_from=sys.argv[3] if resume else None, **FIT)
        np.savez(sys.argv[4], **m.state_dict())
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    ckpt, out = tmp_path / "ckpt", tmp_path / "weights.npz"
    for epochs, mode in ((2, "fresh"), (4, "resume")):
        proc = subprocess.run([sys.executable, str(script), str(epochs), mode, str(ckpt), str(out)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
    straight = model()
    straight.fit(X, Y, epochs=4, **FIT)
    with np.load(out) as weights:
        for name, value in straight.state_dict().items():
            assert np.array_equal(weights[name], value), name


def test_legacy_random_state_is_restored(tmp_path):
    def legacy():
        return model(rng=np.random.RandomState(3))

    straight = legacy()
    straight.fit(X, Y, epochs=3, **FIT)
    legacy().fit(X, Y, epochs=1, callbacks=[nn.Checkpoint(tmp_path)], **FIT)
    resumed = legacy()
    resumed.fit(X, Y, epochs=3, resume_from=tmp_path, **FIT)
    assert_same_weights(resumed, straight)


def test_early_stopping_state_survives_a_resume(tmp_path):
    def run(epochs, resume=False):
        m = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3), nn.Softmax()], seed=1)
        m.compile("categorical_crossentropy", nn.SGD(lr=2.0))  # too large: validation loss gets worse
        stop = nn.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
        history = m.fit(X, Y, epochs=epochs, callbacks=[stop, nn.Checkpoint(tmp_path)],
                        resume_from=tmp_path if resume else None, **FIT)
        return m, stop, history

    straight, stop, full = run(30)
    shutil_rmtree(tmp_path)
    assert stop.stopped_epoch is not None and stop.stopped_epoch > 2
    run(stop.best_epoch + 2)  # interrupted after the best epoch, with some patience used up
    resumed, stop2, history = run(30, resume=True)
    assert stop2.best_epoch == stop.best_epoch and stop2.stopped_epoch == stop.stopped_epoch
    assert history.to_dict() == full.to_dict()
    assert_same_weights(resumed, straight)
    again, _, history = run(30, resume=True)  # the run had stopped: nothing more to do
    assert history.epoch == full.epoch
    assert_same_weights(again, straight)


def shutil_rmtree(path: Path) -> None:
    for p in path.iterdir():
        p.unlink()


def test_resuming_a_finished_run_can_extend_it(tmp_path):
    straight = model()
    straight.fit(X, Y, epochs=5, **FIT)
    model().fit(X, Y, epochs=3, callbacks=[nn.Checkpoint(tmp_path)], **FIT)
    done = model()
    history = done.fit(X, Y, epochs=3, resume_from=tmp_path, **FIT)  # already done: nothing to train
    assert history.epoch == [0, 1, 2] and done.optimizer.iterations == 15
    longer = model()
    longer.fit(X, Y, epochs=5, resume_from=tmp_path / LAST, **FIT)
    assert_same_weights(longer, straight)


def test_every_and_keep(tmp_path):
    model().fit(X, Y, epochs=5, callbacks=[nn.Checkpoint(tmp_path, every=2, keep=2)], **FIT)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["epoch-0004.npz", "epoch-0005.npz", "last.npz"]  # epochs 2, 4 and the last one
    assert read_checkpoint(tmp_path / "epoch-0004.npz").epoch == 4
    assert read_checkpoint(tmp_path).epoch == 5
    assert latest_checkpoint(tmp_path) == tmp_path / LAST and latest_checkpoint(tmp_path / "nothing") is None


def test_a_checkpoint_is_a_model_file(tmp_path):
    m = model()
    m.fit(X, Y, epochs=2, callbacks=[nn.Checkpoint(tmp_path)], **FIT)
    loaded = nn.load_model(tmp_path / LAST)
    np.testing.assert_array_equal(loaded.predict(X), m.predict(X))
    other = network()
    other.load_weights(tmp_path / LAST)  # weights only: the optimizer and random state are ignored
    np.testing.assert_array_equal(other.predict(X), m.predict(X))


def test_checkpoint_contents(tmp_path):
    m = model()
    m.fit(X, Y, epochs=2, callbacks=[nn.Checkpoint(tmp_path)], **FIT)
    state = read_checkpoint(tmp_path)
    assert state.epoch == 2 and state.history.to_dict() == m.history.to_dict()
    assert state.compile["loss"] == {"name": "categorical_crossentropy", "from_logits": False}
    assert state.compile["optimizer"]["name"] == "adam" and state.compile["metrics"] == ["accuracy"]
    assert state.fit == {"epochs": 2, "batch_size": 16, "samples": 77, "shuffle": True, "validation_samples": 19}
    assert int(state.optimizer_state["iterations"]) == 10 and "0.m" in state.optimizer_state
    assert state.rng[0]["kind"] == "Generator" and state.rng[0]["state"] == m.rng.bit_generator.state
    with np.load(tmp_path / LAST, allow_pickle=False) as archive:  # plain arrays only: never pickle
        assert all(archive[key].dtype != object for key in archive.files)


def test_save_checkpoint_by_hand(tmp_path):
    m = model()
    with pytest.raises(NotBuiltError, match="fit it"):
        save_checkpoint(m, tmp_path / "c.npz")
    m.fit(X, Y, epochs=1, **FIT)
    save_checkpoint(m, tmp_path / "c.npz")
    resumed = model()
    resumed.fit(X, Y, epochs=2, resume_from=tmp_path / "c.npz", **FIT)
    straight = model()
    straight.fit(X, Y, epochs=2, **FIT)
    assert_same_weights(resumed, straight)


def test_stale_temporary_files_are_removed(tmp_path):
    stale = tmp_path / ".last.npz.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    model().fit(X, Y, epochs=1, callbacks=[nn.Checkpoint(tmp_path)], **FIT)
    assert sorted(p.name for p in tmp_path.iterdir()) == [LAST]


# ----------------------------------------------------------------------------- what cannot be resumed
@pytest.fixture
def ckpt(tmp_path):
    model().fit(X, Y, epochs=1, callbacks=[nn.Checkpoint(tmp_path / "ckpt")], **FIT)
    return tmp_path / "ckpt"


def rewrite(path: Path, edit_record=None, drop=(), **arrays) -> None:
    """Rewrite a checkpoint with its JSON record edited, some arrays dropped or replaced."""
    with np.load(path) as archive:
        content = {k: archive[k] for k in archive.files if k not in drop}
    record = json.loads(content["__config__"].tobytes())
    if edit_record:
        edit_record(record)
    content["__config__"] = np.frombuffer(json.dumps(record).encode(), np.uint8)
    content.update(arrays)
    np.savez(path, **content)


def test_resume_errors(ckpt, tmp_path):
    def resume(m=None, source=ckpt, **kwargs):
        return (m or model()).fit(X, Y, epochs=2, resume_from=source, **{**FIT, **kwargs})

    plain = model()
    plain.fit(X, Y, epochs=1, **FIT)
    plain.save(tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="is a model file, not a training checkpoint.*load_weights"):
        resume(source=tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="no checkpoint file or folder at"):
        resume(source=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match=r"no checkpoint in folder .*empty.*last\.npz"):
        resume(source=tmp_path / "empty")
    with pytest.raises(ModelFileError, match=r"another architecture: layers\[0\]\.units is 16 in the checkpoint, 17 in the model"):
        resume(model(units=17))
    with pytest.raises(ShapeError, match=r"x has shape \(96, 5\), but the checkpoint .* \(batch, 4\)"):
        model().fit(np.zeros((96, 5)), Y, epochs=2, resume_from=ckpt, verbose=0)
    with pytest.raises(InvalidValueError, match="trained with loss .*categorical_crossentropy.*compiled with"):
        resume(network().compile("mse", "adam"))
    with pytest.raises(InvalidValueError, match="trained with optimizer 'adam'.*compiled with 'sgd'"):
        resume(network().compile("categorical_crossentropy", "sgd"))
    with pytest.raises(InvalidValueError, match="either initial_epoch or resume_from"):
        resume(initial_epoch=1)
    with pytest.warns(UserWarning, match="batch_size=8, but it was written with batch_size=16"):
        resume(batch_size=8)


@pytest.mark.parametrize("corrupt, match", [
    (lambda p: p.write_bytes(p.read_bytes()[:-100]), "truncated|not an nnscratch model file"),
    (lambda p: p.write_bytes(b""), "not an nnscratch model file"),
    (lambda p: rewrite(p, lambda r: r["checkpoint"].update(version=2)), "checkpoint of format version 2"),
    (lambda p: rewrite(p, lambda r: r.update(version=7)), "model format version 7"),
    (lambda p: rewrite(p, lambda r: r["checkpoint"].update(epoch=-3)), "bad epoch count -3"),
    (lambda p: rewrite(p, lambda r: r["checkpoint"]["history"].update(loss=[1.0, 2.0])), "corrupt history"),
    (lambda p: rewrite(p, lambda r: r["checkpoint"].pop("rng")), "corrupt checkpoint record"),
    (lambda p: rewrite(p, lambda r: r["checkpoint"]["rng"][0].update(kind="RandomState")), "RandomState random state"),
    (lambda p: rewrite(p, lambda r: r["checkpoint"]["rng"][0]["state"].update(bit_generator="MT19937")),
     "random state does not fit"),
    (lambda p: rewrite(p, drop=("optimizer/0.m",)), "optimizer state: missing entry '0.m'"),
    (lambda p: rewrite(p, **{"optimizer/0.m": np.zeros(3)}), r"entry '0\.m' has shape \(3,\)"),
    (lambda p: rewrite(p, drop=("layers.0.weight",)), "tensor 'layers.0.weight'.*missing"),
], ids=["truncated", "empty", "checkpoint-version", "model-version", "epoch", "history", "no-rng", "rng-kind",
        "rng-generator", "optimizer-slot-missing", "optimizer-slot-shape", "weight-missing"])
def test_broken_checkpoints_are_refused_with_a_clear_message(ckpt, corrupt, match):
    corrupt(ckpt / LAST)
    fresh = model()
    with pytest.raises(ModelFileError, match=match):
        fresh.fit(X, Y, epochs=2, resume_from=ckpt, **FIT)


def test_checkpoint_with_a_pickle_payload_runs_no_code(ckpt, pickle_payload):
    payload, marker = pickle_payload
    rewrite(ckpt / LAST, **{"optimizer/0.m": payload})
    with pytest.raises(ModelFileError, match="pickle"):
        model().fit(X, Y, epochs=2, resume_from=ckpt, **FIT)
    with pytest.raises(ModelFileError, match="pickle"):
        nn.load_model(ckpt / LAST)
    assert not marker.exists()


# ----------------------------------------------------------------------------- the helper for scripts
def test_fit_with_checkpoints_and_cli_arguments(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--checkpoint-dir", str(tmp_path / "ck"), "--resume"])
    assert args.checkpoint_dir == str(tmp_path / "ck") and args.resume
    assert parser.parse_args([]).checkpoint_dir is None

    with pytest.raises(InvalidValueError, match="--resume needs --checkpoint-dir"):
        fit_with_checkpoints(model(), X, Y, resume=True, epochs=2, **FIT)
    with pytest.raises(ModelFileError, match="no checkpoint"):
        fit_with_checkpoints(model(), X, Y, checkpoint_dir=args.checkpoint_dir, resume=True, epochs=2, **FIT)
    first = fit_with_checkpoints(model(), X, Y, checkpoint_dir=args.checkpoint_dir, epochs=1, **FIT)
    resumed = model()
    history = fit_with_checkpoints(resumed, X, Y, checkpoint_dir=args.checkpoint_dir, resume=True, epochs=3, **FIT)
    err = capsys.readouterr().err
    assert "resuming from" in err and "after epoch 1" in err
    assert history.epoch == [0, 1, 2] and history["loss"][0] == first["loss"][0]
    straight = model()
    straight.fit(X, Y, epochs=3, **FIT)
    assert_same_weights(resumed, straight)
    plain = fit_with_checkpoints(model(), X, Y, epochs=1, **FIT)  # no folder: plain fit
    assert plain.epoch == [0]


def test_no_warning_when_resuming_with_the_same_settings(ckpt):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model().fit(X, Y, epochs=2, resume_from=ckpt, **FIT)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "compiled-from-checkpoint"])
def test_a_model_with_two_outputs_resumes(tmp_path, compiled):
    """Checkpoints of a model with a loss per output (writing one raised AttributeError)."""
    def two_headed() -> nn.Model:
        nn.set_random_seed(4)
        try:
            inputs = nn.Input(shape=(4,))
            hidden = nn.Dense(8, activation="relu")(inputs)
            return nn.Model(inputs, [nn.Dense(1, name="size")(hidden), nn.Dense(3, activation="softmax")(hidden)],
                            seed=2)
        finally:
            nn.set_random_seed(None)

    def compiled_model() -> nn.Model:
        model = two_headed()
        return model.compile(loss={model.output_names[1]: "categorical_crossentropy", "size": "mse"},
                             optimizer=nn.Adam(lr=0.01))

    targets = [X[:, :1], Y]
    straight = compiled_model()
    straight.fit(X, targets, epochs=3, batch_size=16, verbose=0)
    compiled_model().fit(X, targets, epochs=2, batch_size=16, verbose=0, callbacks=[nn.Checkpoint(tmp_path)])
    resumed = compiled_model() if compiled else two_headed()
    resumed.fit(X, targets, epochs=3, batch_size=16, verbose=0, resume_from=tmp_path)
    assert_same_weights(resumed, straight)
