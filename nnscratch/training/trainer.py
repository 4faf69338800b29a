"""``Trainer``: what ``compile`` sets up, and one batch's forward, loss, backward and update.

It holds the loss of each model output (and its weight in the total, Keras's ``loss_weights``), the
optimizer, the metrics and their running totals. The loop (``nnscratch.training.loop``) calls
``model.train_step``, whose default is ``Trainer.train_step``; a model that overrides ``train_step``
(a GAN's) can still use ``forward_loss``/``backward`` or ``model.compute_gradients``.

Loss fusion: where an output comes from an activation whose pairing with the loss is registered
(``nnscratch.core.rewrites``: softmax or sigmoid + cross-entropy), the loss is computed from the
activation's input, exactly, and backward starts there.

Masks, as in Keras: where a model output carries a mask ``(N, T)`` (``Embedding(mask_zero=True)`` or ``Masking``
upstream), the graph leaves it on the call record (``ctx.output_masks``) and the output's loss leaves the padding
steps out (``loss.forward(pred, y, mask=mask)``: ``sum(loss_t * mask_t * w) / sum(mask)`` with sample weights ``w``),
its per-batch metrics weigh their steps by it, and ``MeanMetricWrapper`` metrics get it as ``sample_weight``.
"""

from __future__ import annotations

import copy
import inspect
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, NotBuiltError
from ..core.rewrites import find_loss_fusion
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers
from .parallel import DataParallel
from .regularization import add_penalty_gradients, penalized, penalty, weighted_value

if TYPE_CHECKING:
    from .guards import Snapshots

# The modules of the built-in losses whose check_targets validates the target values before training.
BUILT_IN = (losses_mod.__name__, losses_mod.CategoricalCrossEntropy.__module__)


def per_output(spec: Any, names: list[str], what: str) -> list[Any]:
    """``spec`` for each output: one value for all, a list in output order, or a dict by output name."""
    if isinstance(spec, dict) and not (what == "loss" and "name" in spec):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise InvalidValueError(f"{what} names outputs {unknown}; the model's outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and what != "metrics":
        if len(spec) != len(names):
            raise InvalidValueError(f"{what} has {len(spec)} entries; the model has {len(names)} outputs {names}")
        return list(spec)
    return [spec] * len(names)



def as_list(spec: Any) -> list[Any]:
    """One output's metrics: a list or tuple of them, one metric (a name, a ``Metric``, a function) or None."""
    if spec is None:
        return []
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


class Trainer:
    """The compiled state of a model; ``model.trainer`` after ``compile``."""

    snapshots: Snapshots | None  # set by fit: the last finite weights, put back when training diverges

    def __init__(self, model: Any, loss: Any, optimizer: Any, metrics: Any = (), loss_weights: Any = None,
                 **options: Any) -> None:
        unknown = set(options) - {"run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss"}
        if unknown:
            raise InvalidValueError(f"compile got unexpected arguments {sorted(unknown)}")
        self.model = model
        self.loss_spec = loss
        self.loss = self._resolve_losses(loss, check_only=True)
        self.optimizer = optimizers.get(optimizer) if optimizer is not None else None
        if metrics is None:  # Keras's default
            metrics = []
        if isinstance(metrics, (str, metrics_mod.Metric)) or (callable(metrics) and not isinstance(metrics, type)):
            metrics = [metrics]
        try:
            self.metric_names = list(metrics) if not isinstance(metrics, dict) else metrics
        except TypeError:
            raise InvalidTypeError(f"metrics must be a list of names or Metric objects, got {metrics!r}") from None
        for name in (self.metric_names.values() if isinstance(self.metric_names, dict) else self.metric_names):
            for m in (name if isinstance(name, (list, tuple)) else [name]):
                metrics_mod.get(m, 2)  # unknown names fail here, with a suggestion, not at fit time
        self.loss_weights = loss_weights
        self.prepared_for: Any = None
        # the fit loop's state, public for callbacks and checkpoints
        self.callbacks: list[Any] = []
        self.fit_settings: dict[str, Any] = {}
        self.interrupted = False
        self.validation_skipped = False  # the epoch just ended was not validated (fit's validation_freq)
        self.ctx = Call(training=True, input_grad=False)
        self.eval_ctx = Call(training=False, input_grad=False)
        self.parallel: DataParallel | None = None
        self.penalties: list[tuple[Any, Any]] = []  # (weight, regularizer) pairs, from prepare
        self.sample_weight: np.ndarray | None = None  # the current batch's weights (set by the fit loop)
        self.weighted = False
        self.output_masks: list[Any] | None = None  # the last forward_loss's output masks (ctx.output_masks)
        self.reset_metrics()

    # ------------------------------------------------------------------ set-up
    def _resolve_losses(self, spec: Any, check_only: bool = False) -> Any:
        if isinstance(spec, (list, tuple)) or (isinstance(spec, dict) and "name" not in spec):
            return [losses_mod.get(s) if s is not None else None
                    for s in (spec.values() if isinstance(spec, dict) else spec)]
        return losses_mod.get(spec)

    def loss_config(self) -> Any:
        """The loss as a model file records it: its config, or a list of one per output (None: no loss)."""
        if not isinstance(self.loss, list):
            return self.loss.get_config()
        specs = per_output(self.loss_spec, self.model.output_names, "loss")
        return [None if s is None else losses_mod.get(s).get_config() for s in specs]

    def set_loss(self, loss: Any) -> None:
        self.loss_spec, self.loss = loss, self._resolve_losses(loss)
        self.prepared_for = None

    def prepare(self, training: bool) -> None:
        """Per output: the loss (fused where registered), its weight, the metrics; the optimizer's parameters."""
        model = self.model
        graph = model._graph()
        names = model.output_names
        key = (id(graph), training, model.rewrites)
        if self.prepared_for != key:
            self.losses = [losses_mod.get(s) for s in per_output(self.loss_spec, names, "loss")]
            weights = per_output(1.0 if self.loss_weights is None else self.loss_weights, names, "loss_weights")
            self.weights = [1.0 if w is None else float(w) for w in weights]
            self.output_shapes = [t.sample_shape for t in graph.outputs]
            self.any_masked = any(t.masked for t in graph.outputs)
            specs = per_output(self.metric_names, names, "metrics")
            self.metrics = [[metrics_mod.get(m, (shape[-1] or 0) if shape else 1) for m in as_list(s)]
                            for s, shape in zip(specs, self.output_shapes)]  # "accuracy": Keras's, by the last axis
            if self.any_masked:
                self._check_masked(graph.outputs)
            for metrics in self.metrics:
                logged = [m.name for m in metrics]
                twice = sorted({n for n in logged if logged.count(n) > 1 or n == "loss"})
                if twice:
                    raise InvalidValueError(f"two metrics would be logged as '{twice[0]}' (or clash with a loss); "
                                            f"give one another name, e.g. ...(name='{twice[0]}_2')")
            self.train_losses, fused = [], set()
            for i, loss in enumerate(self.losses):
                step = graph.output_step(i)
                act = step.layer.output_activation() if step is not None else None
                fusable = act is not None and model.rewrites and not loss.from_logits
                fused_loss = find_loss_fusion(act, loss) if fusable else None
                if fused_loss is not None:
                    fused.add(i)
                train_loss = fused_loss or (copy.copy(loss) if type(loss).__module__ in BUILT_IN else loss)
                if type(train_loss).__module__ in BUILT_IN:
                    train_loss.validate_values = False  # fit/evaluate check the whole target array up front
                self.train_losses.append(train_loss)
            self.fused = frozenset(fused)
            self.names = names
            self.loss_keys = ["loss"] + ([f"{n}_loss" for n in names] if len(names) > 1 else [])
            self.any_metrics = any(self.metrics)
            self.prepared_for = key
            self.reset_metrics()
        self.penalties = list(penalized(model))  # looked up once per fit, not per step
        if training:
            if self.optimizer is None:
                raise NotBuiltError("call model.compile(loss=..., optimizer=...) before training")
            self.optimizer.attach(model.parameters())
            attached = {id(p) for p in self.optimizer.params}
            self.unattached = [p for p in model.weights if id(p) not in attached]  # frozen, running statistics
            self.parallel = DataParallel(self) if DataParallel.eligible(model) else None  # (never with masks)

    def _check_masked(self, outputs: list[Any]) -> None:
        """One clear error where a masked output's loss or metrics cannot leave its padding steps out."""
        for name, t, loss, metrics in zip(self.model.output_names, outputs, self.losses, self.metrics):
            if not t.masked:
                continue
            where = f"model output {name!r} carries a mask (N, T) (Embedding(mask_zero=True) or Masking upstream)"
            if len(t.sample_shape) < 2:
                raise InvalidValueError(f"{where}, but has shape (samples, {t.sample_shape[0]}): a loss reduces its "
                                        "last axis, so the mask needs an output (samples, steps, ..., last)")
            if "mask" not in inspect.signature(loss.forward).parameters:
                raise InvalidValueError(f"{where}: Keras leaves the padding steps out of the loss, and loss "
                                        f"{loss.name!r} ({type(loss).__name__}) takes no mask; give its forward a "
                                        "mask=None argument (see nnscratch.training.loss_base) or define call()")
            for metric in metrics:
                if not metric.stateful and type(metric).step_values is metrics_mod.Metric.step_values:
                    raise InvalidValueError(f"{where}: metric {metric.name!r} ({type(metric).__name__}) cannot leave "
                                            "the padding steps out; define step_values(target, probs) (one value per "
                                            "step) or update_state")

    def check_targets(self, ys: list[np.ndarray], name: str = "y") -> None:
        for i, (y, loss, shape) in enumerate(zip(ys, self.losses, self.output_shapes)):
            loss.check_targets(y, shape, name if len(ys) == 1 else f"{name}[{i}]")

    # ------------------------------------------------------------------ one batch
    def forward_loss(self, ctx: Call, xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """The weighted total loss of a batch and the outputs; the call is recorded in ``ctx`` (a masked output's
        loss leaves its padding steps out; the masks are kept in ``output_masks`` for the metrics)."""
        model = self.model
        ctx.losses.clear()
        outs = model.run(ctx, xs)
        total = float(sum(ctx.losses))  # what layers added with add_loss
        self.output_losses = []
        masks = self.output_masks = ctx.output_masks if self.any_masked else None
        for i, (loss, weight) in enumerate(zip(self.train_losses, self.weights)):
            pred = model.graph.output_logits(ctx, i) if i in self.fused else outs[i]
            if masks is not None and masks[i] is not None:
                value = loss.forward(pred, ys[i], mask=masks[i])
            else:
                value = loss.forward(pred, ys[i])
            if self.sample_weight is not None:
                value = weighted_value(loss, self.sample_weight)
            self.output_losses.append(value)
            total += weight * value
        return (total + penalty(self.penalties) if self.penalties else total), outs

    def backward(self, ctx: Call, scale: float = 1.0) -> None:
        """Add ``scale`` times the gradients of the last ``forward_loss`` into the parameters' ``grad``."""
        grads = []
        for loss, weight in zip(self.train_losses, self.weights):
            g = loss.backward()  # a fresh array
            if weight * scale != 1.0:
                g *= g.dtype.type(weight * scale)
            if self.sample_weight is not None:
                g *= self.sample_weight.astype(g.dtype).reshape(-1, *[1] * (g.ndim - 1))
            grads.append(g)
        self.model.run_backward(ctx, grads, self.fused)
        if self.penalties:
            add_penalty_gradients(self.penalties, scale)

    def forward_backward(self, xs: list[np.ndarray], ys: list[np.ndarray], scale: float = 1.0
                         ) -> tuple[float, list[np.ndarray]]:
        """Forward, loss and (when the loss is finite) backward of a batch in training mode."""
        self.ctx.loss_scale = scale
        value, outs = self.forward_loss(self.ctx, xs, ys)
        if math.isfinite(value):
            self.backward(self.ctx, scale)
        return value, outs

    def replica(self, model: Any) -> Trainer:
        """A trainer for a copy of the model (data-parallel workers): own losses and call records."""
        twin = copy.copy(self)
        twin.model = model
        twin.penalties = list(penalized(model))  # the copy's own weights
        twin.train_losses = [copy.copy(loss) for loss in self.train_losses]
        twin.ctx = Call(training=True, input_grad=False)
        twin.parallel = None
        return twin

    def train_step(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> dict[str, float]:
        """Zero the gradients, forward/loss/backward (split across threads when the model allows), step."""
        assert self.optimizer is not None  # prepare(training=True) checked it
        self.optimizer.zero_grad()
        for p in self.unattached:
            p.zero_grad()
        threads = (self.parallel.threads_for(len(xs[0])) if self.parallel is not None and self.sample_weight is None
                   else 1)
        if threads > 1:
            assert self.parallel is not None  # threads > 1 comes from it
            value, outs = self.parallel.step(xs, ys, threads)
        else:
            value, outs = self.forward_backward(xs, ys)
        if math.isfinite(value):
            self.optimizer.step()
        self.last_outputs = outs
        self.update_metrics(ys, outs, value, self.output_masks)
        return self.logs(value)

    def test_step(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> dict[str, float]:
        value, outs = self.forward_loss(self.eval_ctx, xs, ys)
        self.update_metrics(ys, outs, value, self.output_masks)
        return self.logs(value)

    # ------------------------------------------------------------------ metrics
    def reset_metrics(self) -> None:
        """Start new running means of the losses and metrics (stateful metrics: ``reset_state``)."""
        self.seen = 0
        self.totals: dict[str, float] = {}
        self.counts: dict[str, float] = {}  # a masked output's metrics: the total weight of their steps
        self.tracked: set[str] = set()  # the keys update_metrics keeps
        for metrics in getattr(self, "metrics", ()):
            for metric in metrics:
                if metric.stateful:
                    metric.reset_state()

    def _stateful(self) -> list[Any]:
        return [m for metrics in getattr(self, "metrics", ()) for m in metrics if m.stateful]

    def save_metrics(self) -> Any:
        """The running totals and stateful metrics' states (``evaluate`` inside ``fit`` keeps them apart)."""
        return (self.seen, dict(self.totals), dict(self.counts), set(self.tracked),
                [copy.deepcopy(vars(m)) for m in self._stateful()])

    def restore_metrics(self, saved: Any) -> None:
        self.seen, self.totals, self.counts, self.tracked, states = saved
        for metric, state in zip(self._stateful(), states):
            vars(metric).update(state)

    def update_metrics(self, ys: list[np.ndarray], outs: list[np.ndarray], value: float,
                       masks: list[Any] | None = None) -> None:
        """Add a batch's losses and metrics to the running means (stateful metrics: ``update_state``); ``masks``:
        the outputs' masks ``(N, T)`` (or None), which weigh the steps of their metrics as in Keras."""
        n = len(ys[0])
        self.seen += n
        totals = self.totals
        totals["loss"] = totals.get("loss", 0.0) + value * n
        several = len(outs) > 1
        if several:
            for name, v in zip(self.names, self.output_losses):
                key = f"{name}_loss"
                totals[key] = totals.get(key, 0.0) + v * n
        self.tracked.update(self.loss_keys)
        if not self.any_metrics:
            return
        for i, metrics in enumerate(self.metrics):
            if not metrics:
                continue
            probs = self.losses[i].to_probabilities(outs[i])
            mask = masks[i] if masks is not None else None
            for metric in metrics:
                key = f"{self.names[i]}_{metric.name}" if several else metric.name
                self.tracked.add(key)
                if metric.stateful:
                    if mask is not None and metric.uses_mask:
                        metric.update_state(ys[i], probs, sample_weight=mask)
                    else:
                        metric.update_state(ys[i], probs)
                    totals.setdefault(key, 0.0)  # its place in the logs; the value is metric.result()
                elif mask is not None:  # Keras: the mean over the real steps of every batch so far
                    total, count = metric.masked_totals(ys[i], probs, mask)
                    totals[key] = totals.get(key, 0.0) + total
                    self.counts[key] = self.counts.get(key, 0.0) + count
                else:
                    totals[key] = totals.get(key, 0.0) + float(metric(ys[i], probs)) * n

    def metric_results(self) -> dict[str, float]:
        """The metrics so far (running means, or the stateful metrics' results)."""
        return {k: v for k, v in self.results().items() if k not in self.loss_keys}

    def results(self) -> dict[str, float]:
        """The running means of the losses and metrics since ``reset_metrics``."""
        if not self.seen:
            return {}
        stateful = {(f"{self.names[i]}_{m.name}" if len(self.metrics) > 1 else m.name): m
                    for i, metrics in enumerate(self.metrics) for m in metrics if m.stateful}
        counts = self.counts
        return {k: float(stateful[k].result()) if k in stateful else
                v / self.seen if k not in counts else (v / counts[k] if counts[k] else 0.0)
                for k, v in self.totals.items()}

    def logs(self, value: float) -> dict[str, float]:
        return {"loss": value}
