"""ECS: a task stays RUNNING until something stops it.

On AWS a task's ``lastStatus`` moves only when something happens to it: its
containers exit, StopTask, a deployment or a scale-in. moto 5.2.5 drives tasks
through a "managed state" whose default progression is one step per
DescribeTasks (RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED), so a
task that is merely described a few times reports STOPPED while its desired
status is still RUNNING, and a reader (the deploy guard, the ECS engine) sees
a running service lose its tasks. This patch makes the progression wait for
ever: tasks keep the status StopTask, DeleteTaskSet or the ECS engine set.
"""

from __future__ import annotations

import sys

GAP = (
    "ECS tasks step from RUNNING towards STOPPED by themselves each time DescribeTasks "
    "reports them (moto's managed-state default), though nothing stopped them."
)


def apply() -> None:
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual", "times": sys.maxsize})
