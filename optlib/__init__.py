"""optlib: the library behind the interactive optimizer textbook.

Optimizers (``GradientDescent``, ``Momentum``, ``RMSprop``, ``Adagrad``, ``Adam``,
``AdamW``, ``Lion``, ``Muon``, ``ScheduleFreeSGD``, ``ScheduleFreeAdamW``; ``Partition`` for
one optimizer per group of parameters), objectives with analytic gradients (``optlib.objectives``), the
trajectory runner (``optlib.run`` → ``Trajectory``), gradient clipping
(``clip_by_global_norm``), closed-form analysis (``optlib.analysis``) and learning-rate
schedules (``optlib.schedules``). The library never prints; bad input raises
``TypeError``/``ValueError`` naming the argument and the value given.
"""

from . import analysis, clipping, experiments, objectives, schedules
from ._engine import NonFiniteWarning
from .clipping import clip_by_global_norm, global_norm
from .optimizers import (Adagrad, Adam, AdamW, GradientDescent, Lion, Momentum, Muon, Optimizer,
                         RMSprop, ScheduleFreeAdamW, ScheduleFreeSGD)
from .partition import Partition
from .runs import Trajectory, run

__all__ = [
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "RMSprop",
    "Adagrad",
    "Adam",
    "AdamW",
    "Lion",
    "Muon",
    "ScheduleFreeSGD",
    "ScheduleFreeAdamW",
    "Partition",
    "run",
    "Trajectory",
    "clip_by_global_norm",
    "global_norm",
    "NonFiniteWarning",
    "analysis",
    "clipping",
    "experiments",
    "objectives",
    "schedules",
]

__version__ = "0.1.0"
#: The distribution that ships this package (the import name optlib is not unique on PyPI).
__distribution__ = "optlib-textbook"
