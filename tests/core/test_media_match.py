"""Imports find their media in one pass: however a row names its image (media id, file name, name without
extension, id prefix, S3 URI, `media/<id>`), the catalog is read at most once per import, and a name that fits
no item or several items is reported on its own line, in words."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.catalog import KIND as MEDIA_KIND
from core.catalog import POINT_LOOKUPS
from core.service import Service
from tests.media_factory import make_image


class CountingRecords:
    """The service's own record store, counting the catalog reads (queries of media records) made through it."""

    def __init__(self, inner):
        self.inner = inner
        self.media_queries = 0

    def query(self, kind: str, **kw):
        self.media_queries += kind == MEDIA_KIND
        return self.inner.query(kind, **kw)

    def close(self) -> None:  # the fixture's service closes the store it opened
        pass

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.fixture
def counted(service):
    records = CountingRecords(service.records)
    svc = Service(service.config, stores=(records, service.blobs), start_jobs=False, local_admin=True)
    yield svc, records
    svc.close()


def ingest_images(svc: Service, folder: Path, names: list[str]) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    out = {}
    for i, name in enumerate(names):
        outcome = svc.catalog.ingest_file(make_image(folder / f"src-{i}.png", seed=i + 1), name=name)
        assert outcome.status == "ingested", outcome
        out[name] = outcome.media_id
    return out


def test_an_import_keyed_by_file_name_reads_the_catalog_once_and_labels_every_image(counted, tmp_path):
    svc, records = counted
    names = [f"photo-{i:03d}.png" for i in range(POINT_LOOKUPS + 8)]
    ids = ingest_images(svc, tmp_path / "img", names)
    rows = "".join(f"{n},Cat,0.{i % 9 + 1}\n{n},Dog,0.5\n" for i, n in enumerate(names))
    records.media_queries = 0
    report = svc.labeling.import_bytes("by-name.csv", f"media,label,confidence\n{rows}".encode())
    assert (report.imported, report.labels, report.errors) == (len(names), 2 * len(names), ())
    assert records.media_queries == 1
    assert {svc.catalog.get(m).status for m in ids.values()} == {"labeled"}
    by_id = "".join(f"{m},Bird,0.7\n" for m in ids.values())
    records.media_queries = 0
    assert svc.labeling.import_bytes("by-id.csv", f"media,label,confidence\n{by_id}".encode()).imported == len(names)
    assert records.media_queries == 1


def test_a_few_names_are_looked_up_by_key_and_only_an_unknown_one_reads_the_catalog(counted, tmp_path):
    svc, records = counted
    ids = ingest_images(svc, tmp_path / "img", ["cat.png", "dog.png"])
    records.media_queries = 0
    report = svc.labeling.import_bytes("p.csv", b"media,label,confidence\ncat.png,Cat,0.9\nDOG.PNG,Dog,0.8\n")
    assert report.imported == 2 and report.media_ids == (ids["cat.png"], ids["dog.png"])
    assert records.media_queries == 0
    report = svc.labeling.import_bytes("q.csv", b"media,label,confidence\ncat.png,Cat,0.9\nnobody.png,Cat,0.1\n"
                                                b"nobody.png,Dog,0.1\nnobody2.png,Cat,0.1\n")
    assert report.errors == ("line 3: no media item is named 'nobody.png' (use a file name or media id)",
                             "line 4: no media item is named 'nobody.png' (use a file name or media id)",
                             "line 5: no media item is named 'nobody2.png' (use a file name or media id)")
    assert records.media_queries == 1  # a name without its extension could still fit: one pass for all of them


def test_s3_uris_media_keys_paths_prefixes_and_stems_each_name_their_image(service, tmp_path):
    ids = ingest_images(service, tmp_path / "img", ["cat.png", "dog.png", "bird.png", "fish.png", "frog.png"])
    rows = ["s3://some-bucket/photos/cat.png,Cat,0.9", f"s3://loupe/media/{ids['dog.png']},Dog,0.9",
            "exports/2026/bird.png,Bird,0.9", f"{ids['fish.png'][:12]},Fish,0.9", "frog,Frog,0.9"]
    report = service.labeling.import_bytes("p.csv", ("media,label,confidence\n" + "\n".join(rows)).encode())
    assert report.errors == () and report.imported == 5
    for name, label in (("cat.png", "Cat"), ("dog.png", "Dog"), ("bird.png", "Bird"), ("fish.png", "Fish"),
                        ("frog.png", "Frog")):
        assert [lb.name for lb in service.predictions.get(ids[name]).labels] == [label]


@pytest.mark.parametrize("extra", [0, POINT_LOOKUPS], ids=["few rows", "many rows"])
def test_a_name_that_fits_two_images_is_reported_on_its_line_naming_both(service, tmp_path, extra):
    names = ["photo.jpg", "photo.png", "snap.jpg.png"] + [f"other-{i:03d}.png" for i in range(extra)]
    ids = ingest_images(service, tmp_path / "img", names)
    rows = "".join(f"other-{i:03d}.png,Cat,0.5\n" for i in range(extra))
    text = f"media,label,confidence\nphoto.png,Cat,0.9\n{rows}snap.jpg,Dog,0.4\nphoto,Cat,0.1\nmissing.png,Cat,0.1\n"
    report = service.labeling.import_bytes("p.csv", text.encode())
    assert report.errors == (f"line {4 + extra}: 'photo' matches 2 items: photo.jpg, photo.png "
                             "(use the full file name or the media id)",
                             f"line {5 + extra}: no media item is named 'missing.png' (use a file name or media id)")
    assert report.imported == 2 + extra
    assert service.predictions.get(ids["snap.jpg.png"]).labels[0].name == "Dog"
    assert service.predictions.get(ids["photo.png"]).labels[0].name == "Cat"
    assert service.predictions.get(ids["photo.jpg"]) is None


def test_rekognition_response_lines_find_their_images_in_one_pass_and_report_unknown_ones(counted, tmp_path):
    svc, records = counted
    names = [f"shot-{i:03d}.png" for i in range(POINT_LOOKUPS + 1)]
    ingest_images(svc, tmp_path / "img", names)
    response = {"Labels": [{"Name": "Cat", "Confidence": 91.0, "Parents": [], "Instances": []}]}
    lines = [json.dumps({"file": n, **response}) for n in names]
    lines += ["{oops", json.dumps({"file": "gone.png", **response})]
    records.media_queries = 0
    report = svc.labeling.import_bytes("labels.jsonl", "\n".join(lines).encode())
    assert report.imported == len(names) and records.media_queries == 1
    assert report.errors == (f"line {len(names) + 1}: not a Rekognition response object",
                             f"line {len(names) + 2}: no media item matches 'gone.png' (give media_id or file)")


def test_find_keeps_its_exact_reading_of_a_name_or_id(service, tmp_path):
    ids = ingest_images(service, tmp_path / "img", ["cat.png"])
    assert service.catalog.find("CAT.png").media_id == ids["cat.png"]
    assert service.catalog.find(ids["cat.png"][:12]).media_id == ids["cat.png"]
    assert service.catalog.find("cat") is None  # no stems: the CLI names files exactly
    assert service.catalog.find("photos/cat.png") is None  # an S3 object elsewhere is not this item
