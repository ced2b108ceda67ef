"""Form templates uploaded in the editor: checked by content and size, stored under generated
names inside the uploads folder, served with their original name, kept when replaced."""

from __future__ import annotations

import functools
import io
import os
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from services import uploads
from services.db import db
from services.errors import ValidationError
from services.models import Attachment
from tests.helpers import read_forms, submit

P = "/staff/procedures/1.000001"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def app(staff_app):
    return staff_app


def _zip(entries: dict[str, bytes]) -> bytes:
    """A ZIP archive with `entries` in order (ODF needs "mimetype" first)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _docx() -> bytes:
    return _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def _odt() -> bytes:
    return _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


def _ole(stream: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + stream.encode("utf-16-le")


def _files_in(folder: Path) -> set[Path]:
    """Files under `folder`, less the database's own (SQLite keeps a journal beside it)."""
    return {p for p in folder.rglob("*") if p.is_file() and ".sqlite3" not in p.name}


def _upload(client, data: bytes, filename: str, **changes):
    page = client.get(f"{P}/edit")
    files = {"dossier-0-template_upload": (io.BytesIO(data), filename)}
    return submit(client, page, "", files=files, **changes)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (PDF, "mau.pdf"),
        (_docx(), "Tờ khai.docx"),
        (_zip({"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"}), "bang.xlsx"),
        (_odt(), "to-khai.odt"),
        (_ole("WordDocument"), "cu.doc"),
        (_ole("Workbook"), "cu.xls"),
    ],
)
def test_each_allowed_type_is_recognised_by_its_content(staff_app, data, filename):
    with staff_app.test_request_context():
        attachment = uploads.store_upload(io.BytesIO(data), filename, None)
        db.session.commit()
        stored = Path(staff_app.config["UPLOAD_DIR"]) / attachment.stored_name
        assert stored.read_bytes() == data
        assert attachment.original_name == filename


def test_an_uploaded_form_is_offered_on_the_public_page_under_its_name(staff_app, login_as):
    editor, publisher = login_as("editor"), login_as("publisher")
    docx = _docx()
    response = _upload(editor, docx, "Tờ khai đăng ký.docx", dossier__0__template_name="")
    assert response.status_code == 302, response.text
    submit(publisher, publisher.get(P), f"{P}/publish")
    page = staff_app.test_client().get("/thu-tuc/1.000001").text
    name = page.split('href="/tep-mau/')[1].split('"')[0]
    assert "Tờ khai đăng ký" in page  # the template's name defaults to the file's
    download = staff_app.test_client().get(f"/tep-mau/{name}")
    assert download.status_code == 200
    assert download.data == docx
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''T%E1%BB%9D%20khai%20%C4%91%C4%83ng%20k%C3%BD.docx" in disposition


def test_a_replaced_file_stays_reachable_from_history(staff_app, login_as):
    editor = login_as("editor")
    _upload(editor, PDF, "ban-cu.pdf")
    _upload(editor, _docx(), "ban-moi.docx")
    old = editor.get(f"{P}/history/2").text  # revision 1 is the state before the first edit
    new = editor.get(f"{P}/history/3").text
    old_name = old.split('href="/tep-mau/')[1].split('"')[0]
    new_name = new.split('href="/tep-mau/')[1].split('"')[0]
    assert old_name != new_name
    assert staff_app.test_client().get(f"/tep-mau/{old_name}").data == PDF
    assert "Tệp mẫu" in editor.get(f"{P}/diff?a=2&b=3").text


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"MZ\x90\x00 not a pdf", "mau.pdf", "Nội dung tệp không phải là tệp .pdf thật."),
        (PDF, "mau.docx", "Nội dung tệp không phải là tệp .docx thật."),
        (_zip({"payload.exe": b"MZ"}), "mau.docx", "Nội dung tệp không phải là tệp .docx thật."),
        (b"<?php echo 1;", "mau.odt", "Nội dung tệp không phải là tệp .odt thật."),
        (b"print('x')", "../../app.py", "Chỉ nhận tệp .doc, .docx, .pdf, .xls, .xlsx hoặc .odt."),
        (b"<html>", "mau.html", "Chỉ nhận tệp .doc, .docx, .pdf, .xls, .xlsx hoặc .odt."),
        (b"", "rong.pdf", "Tệp rỗng."),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(
    staff_app, login_as, tmp_path, data, filename, message
):
    editor = login_as("editor")
    before = _files_in(tmp_path)
    response = _upload(editor, data, filename, name="Tên giữ lại")
    assert response.status_code == 400
    assert message in response.text
    assert "Tên giữ lại" in response.text
    assert _files_in(tmp_path) == before
    assert "Tên giữ lại" not in editor.get(f"{P}/preview").text


def test_an_oversized_file_is_refused(staff_app, login_as, tmp_path):
    staff_app.config["UPLOAD_MAX_BYTES"] = 1000
    editor = login_as("editor")
    before = _files_in(tmp_path)
    response = _upload(editor, PDF + b"0" * 1000, "lon.pdf")
    assert response.status_code == 400
    assert "Tệp quá lớn: tối đa" in response.text
    assert _files_in(tmp_path) == before


def test_a_traversal_name_is_stored_inside_the_uploads_folder(staff_app, tmp_path):
    outside = _files_in(tmp_path) - _files_in(Path(staff_app.config["UPLOAD_DIR"]))
    with staff_app.test_request_context():
        attachment = uploads.store_upload(io.BytesIO(PDF), "../../../etc/evil.pdf", None)
        db.session.commit()
        original, stored = attachment.original_name, attachment.stored_name
        with pytest.raises(ValidationError):
            uploads.store_upload(io.BytesIO(b"x = 1"), "../../app.py", None)
    assert original == "evil.pdf"
    folder = Path(staff_app.config["UPLOAD_DIR"])
    assert (folder / stored).is_file()
    assert _files_in(tmp_path) - _files_in(folder) == outside
    assert staff_app.test_client().get("/tep-mau/..%2F..%2Fapp.py").status_code == 404
    assert staff_app.test_client().get("/tep-mau/" + "0" * 32 + ".pdf").status_code == 404


# --- zip-based uploads that inflate like decompression bombs -------------------------------------


@functools.cache
def _bomb(entry: str, mib: int = 256) -> bytes:
    """A zip whose `entry` inflates to `mib` MiB of zeros (about 1 MB on disk), written in
    streaming fashion; for a docx, the other entries make it look like one."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(entry, "w") as stream:
            chunk = b"\0" * (1 << 20)
            for _ in range(mib):
                stream.write(chunk)
        if entry != "mimetype":
            archive.writestr("[Content_Types].xml", b"<Types/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("entry", "filename"), [("mimetype", "to-khai.odt"), ("word/document.xml", "to-khai.docx")]
)
def test_a_zip_bomb_is_refused_after_a_bounded_read(staff_app, entry, filename):
    bomb = _bomb(entry)
    assert len(bomb) < 2 * 1024 * 1024  # well under the upload limit: only inflating hurts
    with staff_app.test_request_context():
        tracemalloc.start()
        try:
            with pytest.raises(ValidationError) as refused:
                uploads.store_upload(io.BytesIO(bomb), filename, None)
            _size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "Tệp nén bất thường" in refused.value.errors["file"]
    assert peak < 16 * 1024 * 1024, peak  # the archive itself is read, not what it inflates to


def test_a_zip_bomb_sent_with_the_editor_is_explained_and_not_stored(staff_app, login_as, tmp_path):
    editor = login_as("editor")
    before = _files_in(tmp_path)
    response = _upload(editor, _bomb("mimetype"), "to-khai.odt", name="Tên giữ lại")
    assert response.status_code == 400
    assert "Tệp nén bất thường (giải nén ra quá lớn hoặc quá nhiều phần): không nhận." in (
        response.text
    )
    assert "Tên giữ lại" in response.text
    assert _files_in(tmp_path) == before


def test_an_archive_of_too_many_entries_is_refused(staff_app):
    entries = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
    entries |= {f"word/media/{i}.xml": b"<x/>" for i in range(uploads.ZIP_MAX_ENTRIES)}
    with staff_app.test_request_context(), pytest.raises(ValidationError) as refused:
        uploads.store_upload(io.BytesIO(_zip(entries)), "nhieu.docx", None)
    assert "quá nhiều phần" in refused.value.errors["file"]


def test_an_entry_compressed_as_office_files_never_are_is_not_a_document(staff_app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"<w:document/>")
    with staff_app.test_request_context(), pytest.raises(ValidationError) as refused:
        uploads.store_upload(io.BytesIO(out.getvalue()), "nen-la.docx", None)
    assert refused.value.errors["file"] == "Nội dung tệp không phải là tệp .docx thật."


def test_a_large_document_that_inflates_as_documents_do_is_accepted(staff_app):
    # Four MiB of varied text (it deflates about twice, as real document XML does at worst).
    text = os.urandom(2 * 1024 * 1024).hex().encode()
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": text})
    with staff_app.test_request_context():
        attachment = uploads.store_upload(io.BytesIO(data), "dai.docx", None)
        assert attachment.size == len(data)


# --- kept only when the save commits; orphans cleaned ------------------------------------------


def _uploads_state(app) -> tuple[set[str], list[str]]:
    """The names in the uploads folder and the stored names of the attachment rows."""
    folder = Path(app.config["UPLOAD_DIR"])
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    with app.app_context():
        rows = db.session.execute(db.select(Attachment.stored_name)).scalars().all()
    return names, rows


def _dossier_field(page, name: str) -> str:
    return dict(next(f for f in read_forms(page.text) if f["action"] == "")["fields"])[name]


@pytest.mark.parametrize(
    "refusal",
    [
        {"decision_date": "2024-13-45"},  # the form's own check
        {"fields": ["Không có trong danh mục"]},  # the service's rule
    ],
)
def test_a_file_sent_with_a_refused_save_is_not_kept(staff_app, login_as, refusal):
    editor = login_as("editor")
    response = _upload(editor, PDF, "mau.pdf", name="Tên giữ lại", **refusal)
    assert response.status_code == 400
    assert "Tên giữ lại" in response.text
    assert "Tệp chưa được lưu vì thủ tục chưa lưu được: hãy chọn lại tệp." in response.text
    assert _dossier_field(response, "dossier-0-template_file") == ""
    assert "/tep-mau/" not in response.text
    assert _uploads_state(staff_app) == (set(), [])

    # Chosen again with a save that commits, it is kept and public.
    page = editor.get(f"{P}/edit")
    files = {"dossier-0-template_upload": (io.BytesIO(PDF), "mau.pdf")}
    assert submit(editor, page, "", files=files).status_code == 302
    names, rows = _uploads_state(staff_app)
    assert names == set(rows)
    assert len(rows) == 1
    assert staff_app.test_client().get(f"/tep-mau/{rows[0]}").data == PDF


def test_a_file_sent_with_a_conflicting_save_is_not_kept(staff_app, login_as):
    first, second = login_as("editor"), login_as("publisher")
    page_second = second.get(f"{P}/edit")
    assert _edit_name(first, "Tên của người thứ nhất").status_code == 302
    files = {"dossier-0-template_upload": (io.BytesIO(_docx()), "mau.docx")}
    response = submit(second, page_second, "", files=files, name="Tên của người thứ hai")
    assert response.status_code == 409
    assert "hãy chọn lại tệp" in response.text
    assert _dossier_field(response, "dossier-0-template_file") == ""
    assert _uploads_state(staff_app) == (set(), [])


def test_a_file_sent_with_a_row_action_is_not_kept(staff_app, login_as):
    editor = login_as("editor")
    response = _upload(editor, PDF, "mau.pdf", action="add:steps")
    assert response.status_code == 200
    assert "Tệp đã chọn chỉ được tải lên khi bấm Lưu: hãy chọn lại tệp." in response.text
    assert _uploads_state(staff_app) == (set(), [])


def test_an_upload_is_not_public_before_its_save_commits(staff_app):
    with staff_app.test_request_context(method="POST"):
        name = uploads.store_upload(io.BytesIO(PDF), "mau.pdf", None).stored_name
        assert staff_app.test_client().get(f"/tep-mau/{name}").status_code == 404
        assert not (Path(staff_app.config["UPLOAD_DIR"]) / name).exists()
        db.session.commit()
    assert staff_app.test_client().get(f"/tep-mau/{name}").data == PDF
    assert _uploads_state(staff_app) == ({name}, [name])


def _edit_name(client, name: str):
    return submit(client, client.get(f"{P}/edit"), "", name=name)


def _age(path: Path, hours: float) -> None:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))


def test_uploads_clean_removes_only_orphans(staff_app, login_as):
    editor = login_as("editor")
    folder = Path(staff_app.config["UPLOAD_DIR"])
    _upload(editor, PDF, "cu.pdf")  # named by revision 2 only, once replaced
    _upload(editor, _docx(), "moi.docx")  # named by the draft
    kept = set(_uploads_state(staff_app)[1])
    with staff_app.test_request_context(method="POST"):  # a row no record names (old bug)
        unnamed = uploads.store_upload(io.BytesIO(PDF), "lac.pdf", None).stored_name
        db.session.commit()
    fresh = folder / ("f" * 32 + ".pdf")  # an upload in flight: no record names it yet
    fresh.write_bytes(PDF)
    partial = folder / f".{'a' * 32}.pdf.part"  # left by a worker killed mid-save
    partial.write_bytes(PDF)
    other = folder / "doc-truoc.txt"  # not an upload: never touched
    other.write_text("x")
    for path in folder.iterdir():
        if path != fresh:
            _age(path, 48)
    runner = staff_app.test_cli_runner()

    result = runner.invoke(args=["uploads-clean", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Chạy thử, không xóa gì: 2 tệp mồ côi" in result.output
    assert unnamed in result.output
    assert "lac.pdf" in result.output
    assert partial.name in result.output
    assert len(list(folder.iterdir())) == 6

    result = runner.invoke(args=["uploads-clean", "--older-than", "72"])
    assert "Đã xóa 0 tệp mồ côi" in result.output
    result = runner.invoke(args=["uploads-clean"])
    assert result.exit_code == 0, result.output
    assert "Đã xóa 2 tệp mồ côi" in result.output
    names, rows = _uploads_state(staff_app)
    assert names == kept | {fresh.name, other.name}
    assert set(rows) == kept
    assert staff_app.test_client().get(f"/tep-mau/{unnamed}").status_code == 404
    history = editor.get(f"{P}/history/2").text  # the replaced file is still offered
    old = history.split('href="/tep-mau/')[1].split('"')[0]
    assert staff_app.test_client().get(f"/tep-mau/{old}").data == PDF

    assert runner.invoke(args=["uploads-clean", "--older-than", "0"]).exit_code == 2
