"""Names and places of the images the deployer builds, for the commands' help texts.

Kept apart from ``deployer.images`` and ``deployer.build_image`` (which re-export them) so
that building the command line, which every command does, needs neither module: a
`deployer plan` imports only what it runs (issue 9: the deployer's own time on a plan).
"""

from __future__ import annotations

from pathlib import Path

#: The tag the runtime stack's task definitions name until the first release
#: (environments/stacks/runtime, variable image_tag).
TAG = "bootstrap"
#: Where the monorepo is, relative to the project root, unless --source says.
DEFAULT_SOURCE = Path("examples") / "monorepo"
#: What bin/base-images builds, and the script that builds it.
OFFLINE_BASE = "deployer-base/python-runtime:bookworm"
BASE_IMAGES_SCRIPT = Path("bin") / "base-images"
#: How a push that found the tag in ECR with the same image is reported.
ALREADY_THERE = "already there"
#: The build image's Dockerfile and build context, relative to the project root.
BUILD_CONTEXT = Path("images") / "build-image"
BUILD_COMMAND = "deployer build-image --push"
