"""ECR: PutImage of an existing tag in an IMMUTABLE repository fails as AWS fails it.

AWS: "After tag immutability is turned on, the ImageTagAlreadyExistsException
error is returned if you push an image with a tag that is already in the
repository", with the message "The image tag '<tag>' already exists in the
'<name>' repository and cannot be overwritten because the tag is immutable."
moto 5.2.5 raises ImageAlreadyExistsException (the error for pushing the same
image and tag again to a mutable repository) instead, so a client that tells
the two apart (the deployer's build-image: "raise build_image_tag") takes the
wrong branch. This patch raises ImageTagAlreadyExistsException first.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "ECR PutImage of an existing tag in an IMMUTABLE repository raises "
    "ImageAlreadyExistsException instead of ImageTagAlreadyExistsException."
)


def apply() -> None:
    from moto.core.exceptions import ServiceException
    from moto.ecr.models import ECRBackend

    class ImageTagAlreadyExistsException(ServiceException):
        code = "ImageTagAlreadyExistsException"

    def put_factory(original: Any) -> Any:
        def put_image(
            self: Any, repository_name: str, image_manifest: str, image_tag: str, *args: Any,
            **kwargs: Any,
        ) -> Any:  # fmt: skip
            repository = self.repositories.get(repository_name)
            if (
                repository is not None
                and image_tag
                and repository.image_tag_mutability == "IMMUTABLE"
                and any(image_tag in image.image_tags for image in repository.images)
            ):
                raise ImageTagAlreadyExistsException(
                    f"The image tag '{image_tag}' already exists in the '{repository_name}' "
                    "repository and cannot be overwritten because the tag is immutable."
                )
            return original(self, repository_name, image_manifest, image_tag, *args, **kwargs)

        return put_image

    replace(ECRBackend, "put_image", put_factory)
