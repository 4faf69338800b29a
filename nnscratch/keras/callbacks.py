"""``keras.callbacks``: nnscratch's callbacks under Keras's names; ``Callback`` has Keras's hook names."""

from __future__ import annotations

from ..training.callbacks import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint, TerminateOnNaN
from ..training.csv_logger import CSVLogger
from ..training.history import History
from ..training.lambda_callback import LambdaCallback
from ..training.plateau import ReduceLROnPlateau
from ..training.progress import ProgressBar as ProgbarLogger
from ._names import module_getattr

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "LambdaCallback", "LearningRateScheduler",
           "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]

__getattr__ = module_getattr("keras.callbacks", globals(), {
    "TensorBoard": "nnscratch writes no TensorBoard logs; use CSVLogger, or read the History fit returns",
    "BackupAndRestore": "use nnscratch.Checkpoint and fit(resume_from=...) to resume an interrupted run",
    "RemoteMonitor": "nnscratch sends nothing over the network; use CSVLogger or a LambdaCallback",
    "SwapEMAWeights": "nnscratch's optimizers keep no moving average of the weights (use_ema)",
    "CallbackList": "pass a plain list of callbacks to fit",
})
