"""The front-end libraries are vendored from npm, recorded in theme/vendor.json, and nothing loads from a CDN.

No network: scripts/update-vendor is exercised with a stand-in for `npm pack` that builds
tarballs from the vendored files themselves.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THEME = ROOT / "theme"
VENDOR = THEME / "static" / "vendor"
MANIFEST_PATH = THEME / "vendor.json"
SCRIPT = ROOT / "scripts" / "update-vendor"

CDN_PATTERN = re.compile(r"unpkg|jsdelivr|cdnjs|googleapis|bootstrapcdn|code\.jquery", re.IGNORECASE)
LICENCE_NAME = re.compile(r"^(?:[A-Z]+-)?LICEN[CS]E(?:[.-].*)?$", re.IGNORECASE)
SPDX_EXPRESSION = re.compile(r"^[A-Za-z0-9.+-]+(?: (?:AND|OR) [A-Za-z0-9.+-]+)*$")


def load_script():
    loader = importlib.machinery.SourceFileLoader("update_vendor", str(SCRIPT))
    spec = importlib.util.spec_from_loader("update_vendor", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


uv = load_script()
MANIFEST = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
PACKAGES = MANIFEST["packages"]


def all_entries():
    """Every package and every bundled package, each with the files it supplies."""
    for pkg in PACKAGES:
        yield pkg
        yield from pkg.get("bundles", [])


def listed_files() -> dict[str, dict]:
    return {dest: entry for entry in all_entries() for dest in entry["files"].values()}


def is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def cdn_hits(folder: Path) -> list[str]:
    hits = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if is_binary(data):
            continue
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            for match in CDN_PATTERN.finditer(line):
                hits.append(f"{path.relative_to(folder).as_posix()}:{number}: {match.group(0)}")
    return hits


def js_files(pkg: dict) -> list[Path]:
    return [VENDOR / dest for dest in pkg["files"].values() if dest.endswith(".js")]


# --------------------------------------------------------------------------- the manifest and the vendored files


def test_manifest_is_well_formed():
    assert uv.manifest_problems(MANIFEST) == []
    names = [pkg["name"] for pkg in PACKAGES]
    assert {"leaflet", "leaflet.markercluster", "js-yaml"} <= set(names)
    for entry in all_entries():
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), f"{entry['name']}: pin an exact version"
        assert SPDX_EXPRESSION.match(entry["license"]), f"{entry['name']}: licence should be an SPDX identifier"
        for dest in entry["files"].values():
            # templates refer to vendor/<package>/<file>: no version numbers in the paths
            assert entry["version"] not in dest, f"{dest}: keep versions out of vendored paths"


def test_manifest_validation_rejects_bad_entries():
    bad = json.loads(json.dumps(MANIFEST))
    bad["packages"][0]["version"] = "^1.9.4"
    bad["packages"][1]["files"] = {"dist/x.js": "../escape.js"}
    bad["packages"][2].pop("license")
    problems = uv.manifest_problems(bad)
    assert len(problems) == 3, problems


def test_every_listed_file_exists():
    missing = [dest for dest in listed_files() if not (VENDOR / dest).is_file() or (VENDOR / dest).stat().st_size == 0]
    assert missing == [], f"missing vendored files (run scripts/update-vendor): {missing}"


def test_nothing_unlisted_in_vendor():
    listed = set(listed_files()) | {uv.VERSIONS_FILE}
    present = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert present - listed == set(), "files in theme/static/vendor/ that theme/vendor.json does not record"


def test_every_package_folder_has_a_licence():
    for pkg in PACKAGES:
        folder = VENDOR / uv.folder_of(pkg["name"])
        licences = [p for p in folder.iterdir() if p.is_file() and LICENCE_NAME.match(p.name)]
        assert licences, f"{folder.relative_to(ROOT)} has no licence file"
        own = [dest for dest in pkg["files"].values() if LICENCE_NAME.match(Path(dest).name)]
        assert own, f"{pkg['name']}: its own licence file must be listed in 'files'"
        text = (VENDOR / own[0]).read_text(encoding="utf-8").lower()
        assert "permission" in text or "redistribution" in text, f"{own[0]} does not read like a licence"
    for pkg in PACKAGES:
        for extra in pkg.get("bundles", []):
            assert any(LICENCE_NAME.match(Path(d).name) for d in extra["files"].values()), f"{extra['name']}: bundled code needs its licence"


def test_versions_md_matches_manifest():
    text = (VENDOR / uv.VERSIONS_FILE).read_text(encoding="utf-8")
    for pkg in PACKAGES:
        row = re.search(rf"^\| {re.escape(pkg['name'])} \| ([^|]+) \| ([^|]+) \|", text, re.MULTILINE)
        assert row, f"VERSIONS.md has no row for {pkg['name']}"
        assert row.group(1).strip() == pkg["version"]
        assert row.group(2).strip().startswith(pkg["license"])
    assert text == uv.render_versions(MANIFEST), "VERSIONS.md is stale: run scripts/update-vendor"


def test_leaflet_banner_matches_manifest():
    version = next(pkg["version"] for pkg in PACKAGES if pkg["name"] == "leaflet")
    head = (VENDOR / "leaflet" / "leaflet.js").read_bytes()[:200].decode("utf-8")
    banner = re.match(r"/\* @preserve\s*\n \* Leaflet (\d+\.\d+\.\d+),", head)
    assert banner, "leaflet.js does not start with Leaflet's version banner"
    assert banner.group(1) == version


def test_leaflet_css_finds_its_images():
    css = (VENDOR / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    for image in re.findall(r"url\((images/[^)]+)\)", css):
        assert (VENDOR / "leaflet" / image).is_file(), f"leaflet.css refers to {image}, which is not vendored"


def test_declared_globals_are_defined():
    for pkg in PACKAGES:
        wanted = {pkg["global"]: js_files(pkg)[0]} | {g: VENDOR / dest for g, dest in pkg.get("extra_globals", {}).items()}
        for name, path in wanted.items():
            last = name.rsplit(".", 1)[-1]
            prefix = re.escape(name.rsplit(".", 1)[0]) + r"\." if "." in name else r"(?:\bvar\s+|\.)"
            pattern = re.compile(prefix + re.escape(last) + r"\s*=(?!=)")
            assert pattern.search(path.read_text(encoding="utf-8")), f"{path.name} does not define the global {name}"


# --------------------------------------------------------------------------- no CDN


def test_no_cdn_urls_under_theme():
    assert cdn_hits(THEME) == []


def test_cdn_scan_finds_links_and_skips_binaries(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "base.html").write_text('<script src="https://unpkg.com/leaflet@1.9.4/dist/leaflet.js"></script>\n')
    (tmp_path / "site.css").write_text("/* ok */\n@import url('https://fonts.googleapis.com/css?family=Inter');\n")
    (tmp_path / "app.js").write_text("load('https://cdn.jsdelivr.net/npm/x'); load('//code.jquery.com/jquery.js')\n")
    (tmp_path / "clean.js").write_text("const tiles = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';\n")
    (tmp_path / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n\0unpkg")
    assert cdn_hits(tmp_path) == [
        "app.js:1: jsdelivr",
        "app.js:1: code.jquery",
        "site.css:2: googleapis",
        "templates/base.html:1: unpkg",
    ]


# --------------------------------------------------------------------------- the bundles work in a browser-like, eval-free sandbox

SMOKE = r"""
const vm = require('vm'), fs = require('fs'), path = require('path');
const vendor = process.argv[1];  // node -e: argv is [node, ...args]
// The site's Content-Security-Policy has no 'unsafe-eval': forbid code generation like a browser would.
const ctx = vm.createContext({ console, URL }, { codeGeneration: { strings: false, wasm: false } });
vm.runInContext('var window = this, self = this;', ctx);
for (const f of process.argv.slice(2)) vm.runInContext(fs.readFileSync(path.join(vendor, f), 'utf8'), ctx, { filename: f });
const out = vm.runInContext(`(function () {
  jlibFormats.addFormats([jlib.draft2020]);
  var root = jlib.compileSchema({
    $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false,
    required: ['name'],
    properties: { name: { type: 'string', minLength: 2 }, joined: { type: 'string', format: 'date' },
      email: { type: 'string', format: 'email' }, website: { type: 'string', format: 'uri' },
      tags: { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'integer' } } } });
  var good = { name: 'Co-op Leith', joined: '2023-05-02', email: 'hi@leith.example', website: 'https://leith.example/', tags: ['a', 1] };
  var bad = { name: 'X', joined: '2023-02-30', email: 'nope', website: 'https://exa mple/', tags: ['a', 'b'], extra: 1 };
  var yaml = jsyaml.dump(good);
  return JSON.stringify({ good: root.validate(good).valid, bad: root.validate(bad).errors.length,
                          roundtrip: JSON.stringify(jsyaml.load(yaml)) === JSON.stringify(good) });
})()`, ctx);
console.log(out);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_validator_and_yaml_work_without_eval():
    files = {pkg["name"]: [d for d in pkg["files"].values() if d.endswith(".js")] for pkg in PACKAGES}
    scripts = files["json-schema-library"] + files["js-yaml"]
    result = subprocess.run(["node", "-e", SMOKE, "--", str(VENDOR), *scripts], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"good": True, "bad": 6, "roundtrip": True}, out


# --------------------------------------------------------------------------- scripts/update-vendor


def test_script_is_an_executable_stdlib_only_python_script():
    text = SCRIPT.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3\n")
    if os.name == "posix":
        assert os.access(SCRIPT, os.X_OK)
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()


def make_tarball(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


@pytest.mark.parametrize(
    ("members", "links"),
    [
        ({"package/ok.js": b"1", "../evil.js": b"2"}, None),
        ({"package/../../evil.js": b"2"}, None),
        ({"/etc/evil": b"2"}, None),
        ({"package/ok.js": b"1"}, {"package/link": "/etc/passwd"}),
    ],
)
def test_extraction_refuses_paths_that_escape(tmp_path, members, links):
    tarball = make_tarball(tmp_path / "bad.tgz", members, links)
    (tmp_path / "out").mkdir()
    with pytest.raises(uv.VendorError, match="Refusing"):
        uv.safe_extract(tarball, tmp_path / "out")
    assert not (tmp_path / "evil.js").exists()


def test_extraction_returns_the_package_folder(tmp_path):
    tarball = make_tarball(tmp_path / "good.tgz", {"package/dist/a.js": b"a", "package/LICENSE": b"MIT"})
    (tmp_path / "out").mkdir()
    root = uv.safe_extract(tarball, tmp_path / "out")
    assert (root / "dist" / "a.js").read_bytes() == b"a"


def fake_npm(name: str, version: str, workdir: Path) -> tuple[Path, str]:
    """Stand-in for `npm pack`: a tarball rebuilt from the repository's vendored files."""
    entry = next(e for e in all_entries() if e["name"] == name)
    members = {f"package/{src}": (VENDOR / dest).read_bytes() for src, dest in entry["files"].items()}
    tarball = make_tarball(workdir / f"{name}-{version}.tgz", members)
    return tarball, entry.get("integrity", "")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "theme" / "static").mkdir(parents=True)
    shutil.copy(MANIFEST_PATH, tmp_path / "theme" / "vendor.json")
    shutil.copytree(VENDOR, tmp_path / "theme" / "static" / "vendor")
    return tmp_path


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def test_check_passes_on_untouched_copies(project, capsys):
    assert uv.main(["--check"], root=project, packer=fake_npm) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["edit", "delete", "stray", "old-package", "versions"])
def test_check_fails_on_any_difference_and_a_rerun_repairs_it(project, capsys, damage):
    vendor = project / "theme" / "static" / "vendor"
    before = digest(vendor)
    if damage == "edit":
        path = vendor / "leaflet" / "leaflet.js"
        path.write_bytes(path.read_bytes().replace(b"Leaflet", b"Leafl3t", 1))
    elif damage == "delete":
        (vendor / "js-yaml" / "LICENSE").unlink()
    elif damage == "stray":
        (vendor / "leaflet" / "extra.js").write_text("alert(1)")
    elif damage == "old-package":
        (vendor / "jquery").mkdir()
        (vendor / "jquery" / "jquery.min.js").write_text("/* a library no longer in vendor.json */")
    else:
        (vendor / "VERSIONS.md").write_text("hand-edited\n")
    assert uv.main(["--check"], root=project, packer=fake_npm) == 1
    assert "To put them right" in capsys.readouterr().out
    assert uv.main([], root=project, packer=fake_npm) == 0
    assert digest(vendor) == before
    assert uv.main(["--check"], root=project, packer=fake_npm) == 0


def test_a_tampered_download_is_refused(project, capsys):
    def tampered(name, version, workdir):
        tarball, _ = fake_npm(name, version, workdir)
        return tarball, "sha512-not-the-recorded-one"

    before = digest(project)
    assert uv.main([], root=project, packer=tampered) == 1
    assert "integrity" in capsys.readouterr().err
    assert digest(project) == before


def test_bump_updates_manifest_and_versions(project, capsys):
    assert uv.main(["--bump", "js-yaml", "9.9.9"], root=project, packer=fake_npm) == 0
    manifest = json.loads((project / "theme" / "vendor.json").read_text())
    assert next(p for p in manifest["packages"] if p["name"] == "js-yaml")["version"] == "9.9.9"
    assert "| js-yaml | 9.9.9 |" in (project / "theme" / "static" / "vendor" / "VERSIONS.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bump", "no-such-package", "1.0.0"], "There is no package"),
        (["--bump", "leaflet", "^1.9"], "not an exact version"),
    ],
)
def test_bad_requests_get_plain_messages_and_change_nothing(project, capsys, argv, message):
    before = digest(project)
    assert uv.main(argv, root=project, packer=fake_npm) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert digest(project) == before


def test_missing_npm_and_broken_manifest_are_explained(project, capsys, monkeypatch):
    monkeypatch.setattr(uv.shutil, "which", lambda _name: None)
    assert uv.main(["--check"], root=project) == 2
    assert "Install Node.js" in capsys.readouterr().err
    (project / "theme" / "vendor.json").write_text("{ not json")
    assert uv.main([], root=project, packer=fake_npm) == 2
    assert "not valid JSON" in capsys.readouterr().err
