"""The embedded local AWS emulator: moto in server mode plus fidelity patches."""

from __future__ import annotations

from deployer.emulator.process import Emulator, EmulatorStatus

#: Credentials the emulator accepts; never real ones.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}

__all__ = ["TEST_CREDENTIALS", "Emulator", "EmulatorStatus"]
