"""The rollback drill's scenarios, apart from deployer.drill: the CLI's help and
choices name them on every command, and the drill itself is imported only to run."""

from __future__ import annotations

#: Scenarios: the lifecycle hook at which green is found broken, or an alarm after both.
AFTER_ALLOW_TRAFFIC = "AfterAllowTraffic"
AFTER_ALLOW_TEST_TRAFFIC = "AfterAllowTestTraffic"
ALARM = "alarm"
SCENARIOS = (AFTER_ALLOW_TRAFFIC, AFTER_ALLOW_TEST_TRAFFIC, ALARM)
