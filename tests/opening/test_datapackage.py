"""Frictionless data packages (OPN-8): ``/datasets/<code>/datapackage.json`` describes the CSV download
with a table schema that follows the served items, and ``frictionless validate`` passes on the package
and its CSV (a local copy of the download)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.catalog import population, publish
from tests.support.opening import CONDITIONAL_PLAN, checkups, open_conditional, open_resource


def _validate(path: Path) -> dict:
    frictionless = Path(sys.executable).parent / "frictionless"
    done = subprocess.run(
        [str(frictionless), "validate", "--json", str(path)], capture_output=True, text=True, timeout=300
    )
    report = json.loads(done.stdout)
    assert report["valid"], json.dumps(report, ensure_ascii=False)[:3000]
    return report


def test_the_data_package_of_an_open_dataset_validates_with_its_csv(client, as_user, tmp_path):
    # typed items served in clear (integer, date) and a level-1 pseudonymised one served as text
    body = checkups()
    for item in body["items"]:
        if item["code"] in ("nl", "csrq"):
            item["level"] = 1
    code = open_resource(client, as_user, body, plan={"xzqh": "pseudonymise"})

    answer = client.get(f"/datasets/{code}/datapackage.json")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    package = answer.json()
    resource = package["resources"][0]
    assert resource["path"] == f"http://testserver/datasets/{code}/download.csv"
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert list(fields) == ["bh", "xzqh", "jg", "nl", "csrq"]  # level 3 and 4 never served
    assert fields["nl"]["type"] == "integer" and fields["csrq"]["type"] == "date"
    assert fields["xzqh"]["type"] == "string" and fields["bh"]["title"] == "记录编号"

    csv = client.get(resource["path"].removeprefix("http://testserver"))
    assert csv.status_code == 200
    (tmp_path / "data.csv").write_bytes(csv.content)
    local = {**package, "resources": [{**resource, "path": "data.csv"}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(local, ensure_ascii=False), encoding="utf-8")
    report = _validate(tmp_path / "datapackage.json")
    assert report["tasks"][0]["stats"]["rows"] == 30


def test_a_conditional_package_describes_what_an_application_may_be_granted(client, as_user):
    code = open_conditional(client, as_user)
    hidden = publish(client, as_user, "ga_officer", population())
    package = client.get(f"/datasets/{code}/datapackage.json").json()
    fields = {f["name"]: f["type"] for f in package["resources"][0]["schema"]["fields"]}
    assert "zd" not in fields  # level 4 never
    assert {fields[c] for c in CONDITIONAL_PLAN} == {"string"}  # de-identified: served as text
    assert client.get(f"/datasets/{hidden}/datapackage.json").status_code == 404
