"""ECR: an image's ``imageSizeInBytes`` is the sum of its layers' sizes.

AWS documents ``imageSizeInBytes`` as the size of the image in the repository,
its layers as pushed (compressed, so smaller than ``docker images`` shows).
moto 5.2.5 reports the size of the image's *config* blob (a few kilobytes), or
50 MiB when the config has no size, so DescribeImages shows a wrong size for
every image the local registry stores. This patch sums the manifest's
``layers[].size``; a manifest list or index keeps moto's answer (none).
"""

from __future__ import annotations

import json
from typing import Any

from ._util import replace

GAP = (
    "ECR DescribeImages reports imageSizeInBytes as the config blob's size (or 50 MiB), "
    "not the sum of the image's layers."
)


def apply() -> None:
    from moto.ecr.models import Image

    def size_factory(original: Any) -> Any:
        def get_image_size_in_bytes(self: Any) -> int | None:
            try:
                layers = json.loads(self.image_manifest).get("layers")
            except ValueError:
                layers = None
            if isinstance(layers, list) and all(isinstance(x, dict) for x in layers):
                return sum(int(layer.get("size", 0)) for layer in layers)
            result: int | None = original(self)
            return result

        return get_image_size_in_bytes

    replace(Image, "get_image_size_in_bytes", size_factory)
