"""CodeDeploy deployment statuses (the API's ``DeploymentStatus``), in one place.

The guard, the deployer (its drill) and the local emulator's controls all reason
about where a deployment is; each named set below means one thing, so two
copies can no longer disagree. (The guard ships as its own Lambda package, so
the one copy lives here and the deployer imports it.)
"""

from __future__ import annotations

CREATED = "Created"
QUEUED = "Queued"
IN_PROGRESS = "InProgress"
BAKING = "Baking"
READY = "Ready"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
STOPPED = "Stopped"

#: Every DeploymentStatus, as CodeDeploy reports it.
ALL = (CREATED, QUEUED, IN_PROGRESS, BAKING, READY, SUCCEEDED, FAILED, STOPPED)
#: Finished: nothing more happens to the deployment.
FINISHED = (SUCCEEDED, FAILED, STOPPED)
#: Not finished: a deployment group with one of these is busy (CreateDeployment refuses
#: a second deployment while one is).
UNFINISHED = tuple(s for s in ALL if s not in FINISHED)
#: What an alarm stops: shifting or serving traffic (InProgress), waiting for it (Ready),
#: or in the bake time after the shift, before the old version is terminated (Baking).
STOPPABLE = (IN_PROGRESS, READY, BAKING)
#: Where a deployment that was rolled back ends.
ROLLED_BACK = (FAILED, STOPPED)
