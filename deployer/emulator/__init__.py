"""The embedded local AWS emulator: moto in server mode plus fidelity patches."""

from __future__ import annotations

#: Whether the emulator runs its local runtime (runtime.py); read by the CLI's help,
#: so defined here, where importing it costs nothing.
RUNTIME_ENV = "DEPLOYER_EMULATOR_RUNTIME"
#: The address ECR's local registry listens on (runtime.py).
ADDRESS_ENV = "DEPLOYER_REGISTRY_ADDRESS"

from deployer.emulator.process import Emulator, EmulatorStatus  # noqa: E402

#: Credentials the emulator accepts; never real ones.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}

__all__ = ["ADDRESS_ENV", "RUNTIME_ENV", "TEST_CREDENTIALS", "Emulator", "EmulatorStatus"]
