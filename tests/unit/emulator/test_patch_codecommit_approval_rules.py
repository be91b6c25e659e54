"""codecommit_approval_rule_templates."""

from __future__ import annotations

import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from ._helpers import error_code, unique
from .conftest import Server

TARGET = "CodeCommit_20150413"
CONTENT = json.dumps(
    {
        "Version": "2018-11-08",
        "DestinationReferences": ["refs/heads/main"],
        "Statements": [{"Type": "Approvers", "NumberOfApprovalsNeeded": 2}],
    }
)


def test_template_lifecycle(patched: Server, stock: Server) -> None:
    codecommit = patched.client("codecommit")
    name = unique("review")
    created = codecommit.create_approval_rule_template(
        approvalRuleTemplateName=name,
        approvalRuleTemplateContent=CONTENT,
        approvalRuleTemplateDescription="two approvals",
    )["approvalRuleTemplate"]
    assert created["approvalRuleTemplateName"] == name
    assert created["ruleContentSha256"] == hashlib.sha256(CONTENT.encode()).hexdigest()

    # JSON 1.1: the dates the Go SDK decodes must be epoch numbers.
    raw = patched.raw_json(
        "codecommit", f"{TARGET}.GetApprovalRuleTemplate", {"approvalRuleTemplateName": name}
    )["approvalRuleTemplate"]
    assert isinstance(raw["creationDate"], (int, float))
    assert isinstance(raw["lastModifiedDate"], (int, float))
    assert raw["approvalRuleTemplateDescription"] == "two approvals"
    assert raw["approvalRuleTemplateContent"] == CONTENT

    changed = CONTENT.replace('"NumberOfApprovalsNeeded": 2', '"NumberOfApprovalsNeeded": 3')
    with pytest.raises(ClientError) as excinfo:
        codecommit.update_approval_rule_template_content(
            approvalRuleTemplateName=name, newRuleContent=changed, existingRuleContentSha256="0"
        )
    assert error_code(excinfo) == "InvalidRuleContentSha256Exception"
    updated = codecommit.update_approval_rule_template_content(
        approvalRuleTemplateName=name,
        newRuleContent=changed,
        existingRuleContentSha256=created["ruleContentSha256"],
    )["approvalRuleTemplate"]
    assert updated["approvalRuleTemplateContent"] == changed
    assert name in codecommit.list_approval_rule_templates()["approvalRuleTemplateNames"]

    codecommit.delete_approval_rule_template(approvalRuleTemplateName=name)
    with pytest.raises(ClientError) as excinfo:
        codecommit.get_approval_rule_template(approvalRuleTemplateName=name)
    assert error_code(excinfo) == "ApprovalRuleTemplateDoesNotExistException"

    with pytest.raises(ClientError):
        stock.client("codecommit").create_approval_rule_template(
            approvalRuleTemplateName=unique("review"), approvalRuleTemplateContent=CONTENT
        )


def test_associations(patched: Server) -> None:
    codecommit = patched.client("codecommit")
    name, repository = unique("review"), unique("repo")
    codecommit.create_approval_rule_template(
        approvalRuleTemplateName=name, approvalRuleTemplateContent=CONTENT
    )
    codecommit.create_repository(repositoryName=repository)

    codecommit.associate_approval_rule_template_with_repository(
        approvalRuleTemplateName=name, repositoryName=repository
    )
    assert codecommit.list_repositories_for_approval_rule_template(approvalRuleTemplateName=name)[
        "repositoryNames"
    ] == [repository]
    assert codecommit.list_associated_approval_rule_templates_for_repository(
        repositoryName=repository
    )["approvalRuleTemplateNames"] == [name]

    # A template in use cannot be deleted.
    with pytest.raises(ClientError) as excinfo:
        codecommit.delete_approval_rule_template(approvalRuleTemplateName=name)
    assert error_code(excinfo) == "ApprovalRuleTemplateInUseException"

    codecommit.disassociate_approval_rule_template_from_repository(
        approvalRuleTemplateName=name, repositoryName=repository
    )
    assert (
        codecommit.list_repositories_for_approval_rule_template(approvalRuleTemplateName=name)[
            "repositoryNames"
        ]
        == []
    )
    codecommit.delete_approval_rule_template(approvalRuleTemplateName=name)


def test_deleting_the_repository_ends_the_association(patched: Server) -> None:
    codecommit = patched.client("codecommit")
    name, repository = unique("review"), unique("repo")
    codecommit.create_approval_rule_template(
        approvalRuleTemplateName=name, approvalRuleTemplateContent=CONTENT
    )
    codecommit.create_repository(repositoryName=repository)
    codecommit.associate_approval_rule_template_with_repository(
        approvalRuleTemplateName=name, repositoryName=repository
    )
    codecommit.delete_repository(repositoryName=repository)
    assert (
        codecommit.list_repositories_for_approval_rule_template(approvalRuleTemplateName=name)[
            "repositoryNames"
        ]
        == []
    )
    codecommit.delete_approval_rule_template(approvalRuleTemplateName=name)


def test_refusals(patched: Server) -> None:
    codecommit = patched.client("codecommit")
    name = unique("review")
    with pytest.raises(ClientError) as excinfo:
        codecommit.create_approval_rule_template(
            approvalRuleTemplateName=name, approvalRuleTemplateContent='{"Statements": []}'
        )
    assert error_code(excinfo) == "InvalidApprovalRuleTemplateContentException"

    codecommit.create_approval_rule_template(
        approvalRuleTemplateName=name, approvalRuleTemplateContent=CONTENT
    )
    with pytest.raises(ClientError) as excinfo:
        codecommit.create_approval_rule_template(
            approvalRuleTemplateName=name, approvalRuleTemplateContent=CONTENT
        )
    assert error_code(excinfo) == "ApprovalRuleTemplateNameAlreadyExistsException"

    with pytest.raises(ClientError) as excinfo:
        codecommit.associate_approval_rule_template_with_repository(
            approvalRuleTemplateName=name, repositoryName=unique("missing")
        )
    assert error_code(excinfo) == "RepositoryDoesNotExistException"

    with pytest.raises(ClientError) as excinfo:
        codecommit.list_repositories_for_approval_rule_template(
            approvalRuleTemplateName=unique("missing")
        )
    assert error_code(excinfo) == "ApprovalRuleTemplateDoesNotExistException"
