"""Writes oneroster-bundle.zip: a OneRoster 1.2 CSV bundle as a school's SIS exports it.

    python docs/integrators/samples/make_oneroster_bundle.py [--students 300] [--site US-KY-0013]

Fictional people (names drawn from short lists, no real student), one school whose
``identifier`` is the demo school's center, five classes with one CPT assessment each (a line
item scored in questions answered), and results for every student on every module: most
fully graded, a few still ``submitted`` or ``exempt``, one marked ``tobedeleted``. The same
arguments always write the same bytes. How the registry reads it:
docs/integrators/report-results-from-your-sis.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import zipfile
from datetime import date, timedelta
from pathlib import Path

SEED = 1818
EXPORTED = "2026-11-30T18:00:00Z"
GIVEN = (
    "Avery", "Bianca", "Caleb", "Dara", "Elias", "Farah", "Gideon", "Hana", "Ivo", "Jolene",
    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Soren", "Tamsin",
)  # fmt: skip
FAMILY = (
    "Abernathy", "Brightwater", "Castellan", "Dunmore", "Everly", "Fairbanks", "Greaves",
    "Holloway", "Ingram", "Jessup", "Kettering", "Lindqvist", "Marchetti", "Northcott",
    "Okonkwo", "Pemberton", "Quillfeather", "Ravensworth", "Stromberg", "Thackeray",
)  # fmt: skip
# (line item, title, class, course sourcedId, course code, questions): the course codes are the
# state's (seed 003); 5926 aligns to two modules and MFG-GREEN to none, so the school maps them.
ASSESSMENTS = (
    ("li-safety", "CPT Safety assessment", "cls-machining-1", "crs-5929", "5929", 83),
    ("li-quality", "CPT Quality Practices & Measurement assessment", "cls-machining-2",
     "crs-5923", "5923", 84),
    ("li-production", "CPT Manufacturing Processes & Production assessment", "cls-practicum",
     "crs-5926", "5926", 83),
    ("li-maintenance", "CPT Maintenance Awareness assessment", "cls-practicum", "crs-5926",
     "5926", 86),
    ("li-green", "CPT Green Production assessment", "cls-green", "crs-green", "MFG-GREEN", 94),
)  # fmt: skip
COURSES = {
    "crs-5929": ("Principles of Machining I", "5929"),
    "crs-5923": ("Principles of Machining II", "5923"),
    "crs-5926": ("Manufacturing Practicum", "5926"),
    "crs-green": ("Green Manufacturing", "MFG-GREEN"),
}
CLASSES = {
    "cls-machining-1": ("Principles of Machining I - P1", "crs-5929"),
    "cls-machining-2": ("Principles of Machining II - P2", "crs-5923"),
    "cls-practicum": ("Manufacturing Practicum - P3", "crs-5926"),
    "cls-green": ("Green Manufacturing - P4", "crs-green"),
}
FIRST_DAY = date(2026, 10, 5)
MANIFEST_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
    "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems",
    "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds", "results",
    "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources", "users",
)  # fmt: skip
PRESENT = {"orgs", "courses", "classes", "users", "roles", "enrollments", "lineItems", "results"}


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def files(students: int = 300, site_code: str = "US-KY-0013") -> dict[str, bytes]:
    """The bundle's files by name."""
    rng = random.Random(SEED)  # noqa: S311 (sample data, not secrets)
    common = ["sourcedId", "status", "dateLastModified"]
    manifest = [
        ["propertyName", "value"],
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.2"],
    ]
    manifest += [[f"file.{f}", "bulk" if f in PRESENT else "absent"] for f in MANIFEST_FILES]
    manifest += [
        ["source.systemName", "Bluegrass Valley SIS (sample)"],
        ["source.systemCode", "BV"],
    ]
    orgs = [
        [*common, "name", "type", "identifier", "parentSourcedId"],
        ["org-district", "active", EXPORTED, "Bluegrass Valley Schools", "district", "BVS", ""],
        ["org-bvths", "active", EXPORTED, "Bluegrass Valley Technical High School", "school",
         site_code, "org-district"],
    ]  # fmt: skip
    courses = [[*common, "title", "courseCode", "orgSourcedId"]] + [
        [sid, "active", EXPORTED, title, code, "org-bvths"]
        for sid, (title, code) in COURSES.items()
    ]
    classes = [[*common, "title", "courseSourcedId", "classCode", "classType", "schoolSourcedId"]]
    classes += [
        [sid, "active", EXPORTED, title, course, sid.upper(), "scheduled", "org-bvths"]
        for sid, (title, course) in CLASSES.items()
    ]
    users = [[*common, "enabledUser", "username", "givenName", "familyName", "email"]]
    roles = [[*common, "userSourcedId", "role", "orgSourcedId", "roleType"]]
    enrollments = [[*common, "classSourcedId", "schoolSourcedId", "userSourcedId", "role"]]
    users.append(["usr-t001", "active", EXPORTED, "true", "mwhitlock", "Marion", "Whitlock",
                  "m.whitlock@bvths.example"])  # fmt: skip
    roles.append(["rol-t001", "active", EXPORTED, "usr-t001", "teacher", "org-bvths", "primary"])
    for klass in CLASSES:
        enrollments.append(
            [f"enr-t001-{klass}", "active", EXPORTED, klass, "org-bvths", "usr-t001", "teacher"]
        )
    line_items = [
        [*common, "title", "assignDate", "dueDate", "classSourcedId", "schoolSourcedId",
         "resultValueMin", "resultValueMax"],
    ]  # fmt: skip
    for n, (sid, title, klass, _, _, questions) in enumerate(ASSESSMENTS):
        due = FIRST_DAY + timedelta(weeks=2 * n)
        line_items.append(
            [sid, "active", EXPORTED, title, due.isoformat(), due.isoformat(), klass, "org-bvths",
             "0", str(questions)]
        )  # fmt: skip
    results = [
        [*common, "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate",
         "comment"],
    ]  # fmt: skip
    for s in range(1, students + 1):
        user = f"usr-s{s:04d}"
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        users.append([user, "active", EXPORTED, "true", f"stu{s:04d}", given, family,
                      f"stu{s:04d}@bvths.example"])  # fmt: skip
        roles.append([f"rol-s{s:04d}", "active", EXPORTED, user, "student", "org-bvths", "primary"])
        for klass in CLASSES:
            enrollments.append(
                [f"enr-s{s:04d}-{klass}", "active", EXPORTED, klass, "org-bvths", user, "student"]
            )
        ability = rng.uniform(0.62, 0.97)
        for n, (line_item, _, _, _, _, questions) in enumerate(ASSESSMENTS):
            day = FIRST_DAY + timedelta(weeks=2 * n, days=rng.randrange(3))
            correct = max(0, min(questions, round(questions * rng.gauss(ability, 0.06))))
            status, score_status = "active", "fully graded"
            roll = rng.random()
            if roll < 0.01:
                score_status = "submitted"
            elif roll < 0.015:
                score_status = "exempt"
            results.append(
                [f"res-s{s:04d}-{line_item[3:]}", status, EXPORTED, line_item, user, score_status,
                 str(correct) if score_status == "fully graded" else "", day.isoformat(), ""]
            )  # fmt: skip
    results[-1][1] = "tobedeleted"
    return {
        "manifest.csv": _csv(manifest),
        "orgs.csv": _csv(orgs),
        "courses.csv": _csv(courses),
        "classes.csv": _csv(classes),
        "users.csv": _csv(users),
        "roles.csv": _csv(roles),
        "enrollments.csv": _csv(enrollments),
        "lineItems.csv": _csv(line_items),
        "results.csv": _csv(results),
    }


def zipped(members: dict[str, bytes]) -> bytes:
    """The files as a zip, the same bytes every time (fixed member dates)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 30, 18, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--site", default="US-KY-0013", help="the site code of your center")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("oneroster-bundle.zip")
    )
    arguments = parser.parse_args()
    arguments.out.write_bytes(zipped(files(arguments.students, arguments.site)))
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
