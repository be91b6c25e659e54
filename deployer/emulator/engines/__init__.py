"""The engines: AWS's background processes, played in the emulator on its clock.

Each engine is a module here whose class follows ``scheduler.Engine`` (a ``name``,
``start(scheduler)``, ``status()``) and whose docstring says what it reproduces,
after AWS's documentation, and what it leaves out. ``create()`` makes one of each
for an emulator process; ``serve.py`` registers them with the scheduler.
"""

from __future__ import annotations

from deployer.emulator.scheduler import Engine


def create() -> list[Engine]:
    from deployer.emulator.engines.ecr_lifecycle import EcrLifecycle

    return [EcrLifecycle()]
