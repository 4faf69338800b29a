"""scikit-learn estimators over nnscratch models: ``NNClassifier`` and ``NNRegressor``.

    from nnscratch.sklearn import NNClassifier
    clf = NNClassifier(hidden_layer_sizes=(64,), epochs=50, random_state=0).fit(X, y)
    clf.predict_proba(X_test)            # (samples, classes)

Needs scikit-learn >= 1.6 (``pip install "nnscratch[sklearn]"``); without it importing this package
raises ``MissingDependencyError`` (an ``ImportError`` and an ``NNScratchError``) saying so.
"""

from __future__ import annotations

from ..core.errors import MissingDependencyError

try:
    from sklearn.utils.validation import validate_data  # noqa: F401  (scikit-learn >= 1.6)
except ImportError as exc:
    raise MissingDependencyError(
        "nnscratch.sklearn needs scikit-learn >= 1.6, which is not installed or too old "
        f"({exc}); install the extra: pip install \"nnscratch[sklearn]\"") from exc

from .classifier import NNClassifier
from .regressor import NNRegressor

__all__ = ["MissingDependencyError", "NNClassifier", "NNRegressor"]
