"""CodeCommit: approval rule templates and their repository associations.

AWS CodeCommit has approval rule templates (CreateApprovalRuleTemplate,
GetApprovalRuleTemplate, UpdateApprovalRuleTemplateContent/Description/Name,
DeleteApprovalRuleTemplate, ListApprovalRuleTemplates) that are associated with
repositories (AssociateApprovalRuleTemplateWithRepository,
DisassociateApprovalRuleTemplateFromRepository,
ListRepositoriesForApprovalRuleTemplate,
ListAssociatedApprovalRuleTemplatesForRepository). moto 5.2.5 has none of
these actions, so ``aws_codecommit_approval_rule_template`` and
``aws_codecommit_approval_rule_template_association`` fail with HTTP 500.

As on AWS: a template's dates are epoch numbers (JSON 1.1), its
``ruleContentSha256`` is the SHA-256 of the content and guards content updates,
the content must be a JSON object with ``Version`` and ``Statements``, a template
still associated with a repository cannot be deleted
(ApprovalRuleTemplateInUseException), and deleting a repository ends its
associations.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from ._util import add_method

GAP = (
    "CodeCommit has no approval rule template actions: "
    "aws_codecommit_approval_rule_template(_association) fail with HTTP 500."
)


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)  # HTTP 400


def _state(backend: Any) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """Templates by name and, per template name, the associated repositories."""
    templates: dict[str, dict[str, Any]] | None = getattr(backend, "_deployer_templates", None)
    if templates is None:
        templates = {}
        backend._deployer_templates = templates
        backend._deployer_template_repositories = {}
    associations: dict[str, set[str]] = backend._deployer_template_repositories
    # Deleting a repository ends its associations.
    for repositories in associations.values():
        repositories.intersection_update(backend.repositories)
    return templates, associations


def _template(backend: Any, name: str | None) -> dict[str, Any]:
    if not name:
        raise _error(
            "ApprovalRuleTemplateNameRequiredException",
            "An approval rule template name is required, but was not specified.",
        )
    templates, _ = _state(backend)
    if name not in templates:
        raise _error(
            "ApprovalRuleTemplateDoesNotExistException",
            f"The specified approval rule template does not exist: {name}",
        )
    return templates[name]


def _check_name(name: str | None) -> str:
    if not name:
        raise _error(
            "ApprovalRuleTemplateNameRequiredException",
            "An approval rule template name is required, but was not specified.",
        )
    if len(name) > 100:
        raise _error(
            "InvalidApprovalRuleTemplateNameException",
            "The name of the approval rule template is not valid. Template names must be "
            "between 1 and 100 valid characters in length.",
        )
    return name


def _check_content(content: str | None) -> str:
    try:
        document = json.loads(content or "")
    except ValueError:
        document = None
    if not isinstance(document, dict) or "Version" not in document or "Statements" not in document:
        raise _error(
            "InvalidApprovalRuleTemplateContentException",
            "The content of the approval rule template is not valid.",
        )
    return str(content)


def _repository(backend: Any, name: str | None) -> str:
    from moto.codecommit.exceptions import RepositoryDoesNotExistException

    if not name or name not in backend.repositories:
        raise RepositoryDoesNotExistException(name or "")
    return name


def _touch(template: dict[str, Any], account_id: str) -> None:
    from moto.core.utils import unix_time

    template["lastModifiedDate"] = unix_time()
    template["lastModifiedUser"] = f"arn:aws:iam::{account_id}:root"


def _set_content(template: dict[str, Any], content: str) -> None:
    template["approvalRuleTemplateContent"] = content
    template["ruleContentSha256"] = hashlib.sha256(content.encode()).hexdigest()


def apply() -> None:
    from moto.codecommit.responses import CodeCommitResponse
    from moto.core.utils import unix_time

    def create_approval_rule_template(self: Any) -> str:
        backend = self.codecommit_backend
        templates, associations = _state(backend)
        name = _check_name(self._get_param("approvalRuleTemplateName"))
        if name in templates:
            raise _error(
                "ApprovalRuleTemplateNameAlreadyExistsException",
                f"An approval rule template with that name already exists: {name}",
            )
        content = _check_content(self._get_param("approvalRuleTemplateContent"))
        template: dict[str, Any] = {
            "approvalRuleTemplateId": str(uuid.uuid4()),
            "approvalRuleTemplateName": name,
            "approvalRuleTemplateDescription": self._get_param("approvalRuleTemplateDescription")
            or "",
            "creationDate": unix_time(),
        }
        _set_content(template, content)
        _touch(template, backend.account_id)
        templates[name] = template
        associations[name] = set()
        return json.dumps({"approvalRuleTemplate": template})

    def get_approval_rule_template(self: Any) -> str:
        template = _template(self.codecommit_backend, self._get_param("approvalRuleTemplateName"))
        return json.dumps({"approvalRuleTemplate": template})

    def update_approval_rule_template_content(self: Any) -> str:
        backend = self.codecommit_backend
        template = _template(backend, self._get_param("approvalRuleTemplateName"))
        expected = self._get_param("existingRuleContentSha256")
        if expected and expected != template["ruleContentSha256"]:
            raise _error(
                "InvalidRuleContentSha256Exception",
                "The SHA-256 hash signature for the rule content is not valid.",
            )
        _set_content(template, _check_content(self._get_param("newRuleContent")))
        _touch(template, backend.account_id)
        return json.dumps({"approvalRuleTemplate": template})

    def update_approval_rule_template_description(self: Any) -> str:
        backend = self.codecommit_backend
        template = _template(backend, self._get_param("approvalRuleTemplateName"))
        template["approvalRuleTemplateDescription"] = (
            self._get_param("approvalRuleTemplateDescription") or ""
        )
        _touch(template, backend.account_id)
        return json.dumps({"approvalRuleTemplate": template})

    def update_approval_rule_template_name(self: Any) -> str:
        backend = self.codecommit_backend
        templates, associations = _state(backend)
        old = self._get_param("oldApprovalRuleTemplateName")
        template = _template(backend, old)
        new = _check_name(self._get_param("newApprovalRuleTemplateName"))
        if new != old and new in templates:
            raise _error(
                "ApprovalRuleTemplateNameAlreadyExistsException",
                f"An approval rule template with that name already exists: {new}",
            )
        templates[new] = templates.pop(old)
        associations[new] = associations.pop(old)
        template["approvalRuleTemplateName"] = new
        _touch(template, backend.account_id)
        return json.dumps({"approvalRuleTemplate": template})

    def delete_approval_rule_template(self: Any) -> str:
        backend = self.codecommit_backend
        templates, associations = _state(backend)
        name = _check_name(self._get_param("approvalRuleTemplateName"))
        template = templates.get(name)
        if template is None:
            return json.dumps({"approvalRuleTemplateId": ""})
        if associations.get(name):
            raise _error(
                "ApprovalRuleTemplateInUseException",
                "The approval rule template is associated with one or more repositories. "
                "You cannot delete a template that is associated with a repository. "
                "Remove all associations, and then try again.",
            )
        del templates[name]
        associations.pop(name, None)
        return json.dumps({"approvalRuleTemplateId": template["approvalRuleTemplateId"]})

    def list_approval_rule_templates(self: Any) -> str:
        templates, _ = _state(self.codecommit_backend)
        return json.dumps({"approvalRuleTemplateNames": sorted(templates)})

    def associate_approval_rule_template_with_repository(self: Any) -> str:
        backend = self.codecommit_backend
        name = self._get_param("approvalRuleTemplateName")
        _template(backend, name)
        repository = _repository(backend, self._get_param("repositoryName"))
        _state(backend)[1][name].add(repository)
        return "{}"

    def disassociate_approval_rule_template_from_repository(self: Any) -> str:
        backend = self.codecommit_backend
        name = self._get_param("approvalRuleTemplateName")
        _template(backend, name)
        repository = _repository(backend, self._get_param("repositoryName"))
        _state(backend)[1][name].discard(repository)
        return "{}"

    def list_repositories_for_approval_rule_template(self: Any) -> str:
        backend = self.codecommit_backend
        name = self._get_param("approvalRuleTemplateName")
        _template(backend, name)
        return json.dumps({"repositoryNames": sorted(_state(backend)[1][name])})

    def list_associated_approval_rule_templates_for_repository(self: Any) -> str:
        backend = self.codecommit_backend
        repository = _repository(backend, self._get_param("repositoryName"))
        _, associations = _state(backend)
        names = sorted(name for name, repos in associations.items() if repository in repos)
        return json.dumps({"approvalRuleTemplateNames": names})

    for method in (
        create_approval_rule_template,
        get_approval_rule_template,
        update_approval_rule_template_content,
        update_approval_rule_template_description,
        update_approval_rule_template_name,
        delete_approval_rule_template,
        list_approval_rule_templates,
        associate_approval_rule_template_with_repository,
        disassociate_approval_rule_template_from_repository,
        list_repositories_for_approval_rule_template,
        list_associated_approval_rule_templates_for_repository,
    ):
        add_method(CodeCommitResponse, method.__name__, method)
