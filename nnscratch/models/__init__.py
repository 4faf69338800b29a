"""Models: ``Model`` (graphs of layers), ``Sequential``, ``Ensemble`` and loading a model file."""

# every built-in layer and model class registers itself on import, so a model file can name it
from .. import layers  # noqa: F401
from . import ensemble, input_layer, model, sequential  # noqa: F401
