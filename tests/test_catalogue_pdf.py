"""The catalogue's PDF: built outside the request once an edition is published, stored in the
instance folder, served as a download; incremental, claimed by one worker only, and a failed
build leaves the previous PDF in place and tells the admin why."""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from laks import jobs
from laks.enums import BuildStatus, EditionStatus
from laks.extensions import db
from laks.models import Edition, User
from laks.render.pdf import plan_batches
from laks.services import catalogue, catalogue_pdf
from tests.catalogue_factories import make_edition, snapshot
from tests.catalogue_support import fill_case

OTHER_TITLE = "Den anden case om mental sundhed"


def pdf_text(path: Path | bytes) -> str:
    if isinstance(path, bytes):
        return subprocess.run(["pdftotext", "-", "-"], input=path, capture_output=True,
                              check=True).stdout.decode()
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                          check=True).stdout.decode()


def squash(value: str) -> str:
    """Text from a PDF with its line breaks and hyphenation undone, for finding titles."""
    return " ".join(value.replace("-\n", "").split())


@pytest.fixture(autouse=True)
def storage(app, tmp_path) -> Path:
    """Each test has its own folder of PDFs and its own cache of rendered cases."""
    app.config["LAKS_CATALOGUE_DIR"] = str(tmp_path / "catalogue")
    return tmp_path / "catalogue"


@pytest.fixture
def two_cases(team, make_user):
    """Two units of one programme with complete, consented cases (through the services)."""
    other = team.other_unit
    other.programme = team.unit.programme
    other_tovholder = make_user("staff", other, tovholder=True)
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    fill_case(other, staff=other_tovholder, facilitator=team.other_facilitator,
              changes={"udfordring": {"themes": ["mental_sundhed"]},
                       "refleksion": {"case_title": OTHER_TITLE, "case_reached": 3}})
    catalogue.give_consent(team.unit, team.tovholder)
    catalogue.give_consent(other, other_tovholder)
    db.session.commit()
    return team


def publish(team) -> Edition:
    edition = catalogue.create_edition(team.admin, "Inspirationskatalog", team.unit.programme,
                                       "theme")
    catalogue.set_edition_cases(edition, [team.unit.id, team.other_unit.id], team.admin)
    catalogue.publish_edition(edition, team.admin)
    db.session.commit()
    return edition


def case(unit_id: int, **fields) -> dict:
    return snapshot(unit_id=unit_id, title=fields.pop("title", f"Casen fra enhed {unit_id}"),
                    **fields)


def queued(contents: list[dict], **kwargs) -> Edition:
    return make_edition(contents, pdf_status=BuildStatus.QUEUED, **kwargs)


def reload(edition: Edition) -> Edition:
    db.session.expire_all()
    return db.session.get(Edition, edition.id)


# --- publishing asks for the PDF; the job builds and stores it ------------------------------

def test_publish_queues_the_pdf_and_the_job_builds_it(app, client, two_cases, storage):
    edition = publish(two_cases)
    assert edition.pdf_status == BuildStatus.QUEUED  # asked for, not built in the request
    assert not storage.exists() or not list(storage.glob("*.pdf"))
    titles = [content["title"] for _case, content in catalogue.edition_cases(edition)]

    seen = []

    def progress(done: int, message: str) -> None:
        # Each step is written in a transaction of its own: another connection sees it.
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT pdf_status, pdf_progress FROM catalogue_edition "
                                       "WHERE id = :id"), {"id": edition.id}).one()
        seen.append((done, tuple(stored)))

    report = catalogue_pdf.build_edition_pdf(edition.id, progress=progress)

    assert [done for done, _ in seen] == [10, 75, 90, 100]
    assert all(stored[0] == "building" for _, stored in seen)
    assert [stored[1] for _, stored in seen] == [10, 75, 90, 99]
    edition = reload(edition)
    assert edition.pdf_status == BuildStatus.READY and edition.pdf_progress == 100
    path = storage / edition.pdf_file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert edition.pdf_file == f"edition-{edition.number}-{digest[:12]}.pdf"
    assert (edition.pdf_pages, edition.pdf_bytes) == (report.pages, path.stat().st_size)
    assert edition.pdf_built_at is not None and edition.pdf_error == ""
    assert report.chapters_rendered == 2
    assert list(storage.glob("*.part")) == []  # no temporary file left behind
    words = squash(pdf_text(path))
    for title in titles:
        assert squash(title) in words
    assert "Kort fortalt" in words and "Gode råd til andre" in words
    assert "<5" in words  # 3 citizens reached is a small number outside the unit
    import pikepdf

    with pikepdf.open(path) as pdf:  # the network publishes it: author and running header
        assert str(pdf.docinfo["/Author"]) == app.config["LAKS_NETWORK_NAME"]
    assert app.config["LAKS_NETWORK_NAME"] == "Sund By Netværket"
    assert "Sund By Netværket" in words

    response = client.get(f"/katalog/{edition.number}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=inspirationskatalog-udgave-{edition.number}.pdf")
    assert response.data == path.read_bytes()
    response.close()


def test_the_pdf_job_runs_only_once_the_request_commits(app, two_cases):
    """A publish that is rolled back leaves no build behind; the job sees committed data."""
    edition = catalogue.create_edition(two_cases.admin, "Katalog", two_cases.unit.programme,
                                       "theme")
    catalogue.set_edition_cases(edition, [two_cases.unit.id], two_cases.admin)
    db.session.commit()
    catalogue.publish_edition(edition, two_cases.admin)
    assert db.session.info["laks_jobs_pending_editions"] == [edition.id]
    db.session.rollback()
    assert "laks_jobs_pending_editions" not in db.session.info
    assert reload(edition).status == EditionStatus.DRAFT
    assert catalogue_pdf.queued_edition_ids() == []


def test_in_process_worker_builds_after_the_commit(make_app, two_cases, storage):
    """The real thread: started by the first request, handed the build by the commit."""
    threaded = make_app(LAKS_JOBS="thread", LAKS_CATALOGUE_DIR=str(storage))
    # Ids read here, in this app's session: objects of one app's session must not load in
    # another's (they would take a connection from the other app's pool).
    admin_id, unit_ids = two_cases.admin.id, [two_cases.unit.id, two_cases.other_unit.id]
    try:
        with threaded.app_context():
            assert threaded.test_client().get("/").status_code == 200
            worker = jobs._workers[id(threaded)]
            assert worker.alive and worker.thread.daemon
            admin = db.session.get(User, admin_id)
            edition = catalogue.create_edition(admin, "Katalog", None, "theme")
            catalogue.set_edition_cases(edition, unit_ids, admin)
            catalogue.publish_edition(edition, admin)
            edition_id = edition.id
            db.session.commit()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                db.session.expire_all()
                if db.session.get(Edition, edition_id).pdf_status in (BuildStatus.READY,
                                                                      BuildStatus.FAILED):
                    break
                time.sleep(0.2)
            built = db.session.get(Edition, edition_id)
            assert built.pdf_status == BuildStatus.READY, built.pdf_error
            assert (storage / built.pdf_file).is_file()
            db.session.remove()
    finally:
        jobs.stop_worker(threaded)


def test_two_workers_claiming_at_once_build_only_once(app, make_app, storage):
    edition_id = queued([case(1), case(2)]).id
    other = make_app(LAKS_CATALOGUE_DIR=str(storage))
    start = threading.Barrier(2)
    results: dict[str, bool] = {}

    def work(name, on):
        with on.app_context():
            start.wait()
            try:
                results[name] = jobs.run_edition_pdf(edition_id)
            except Exception as error:  # noqa: BLE001 - shown by the assertion below
                results[name] = error

    threads = [threading.Thread(target=work, args=(n, a)) for n, a in (("a", app), ("b", other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(results.values()) == [False, True], results
    assert db.session.get(Edition, edition_id).pdf_status == BuildStatus.READY
    assert len(list(storage.glob("*.pdf"))) == 1


def test_claim_takes_only_queued_builds(app):
    edition = queued([case(1)])
    assert catalogue_pdf.claim(edition.id) is True
    assert catalogue_pdf.claim(edition.id) is False  # building: not again
    assert catalogue_pdf.build_edition_pdf(edition.id) is None
    assert reload(edition).pdf_status == BuildStatus.BUILDING


# --- incremental: a new edition with one changed case renders that case's batch -------------

def test_new_edition_with_one_changed_case_renders_only_its_batch(app, storage):
    unit_ids = [1, 2, 5, 6]
    first = queued([case(n) for n in unit_ids], number=1)
    full = catalogue_pdf.build_edition_pdf(first.id)
    assert (full.chapters_rendered, full.chapters_cached) == (4, 0)

    changed = [case(n) for n in unit_ids]
    changed[3] = case(6, summary="Ny tekst i anden udgave.")
    second = queued(changed, number=2)
    batches = plan_batches(list(catalogue_pdf.book_for(second).chapters))
    assert len(batches) > 1  # otherwise this test would prove nothing
    batch = next(b for b in batches if any(c.key == "unit-6" for c in b))
    report = catalogue_pdf.build_edition_pdf(second.id)
    assert report.chapters_rendered == len(batch) < 4
    assert report.chapters_cached == 4 - len(batch)
    assert "Ny tekst i anden udgave." in squash(pdf_text(storage / reload(second).pdf_file))
    # Each edition keeps its own file.
    assert len(list(storage.glob("edition-*.pdf"))) == 2


def test_book_follows_the_editions_parts_and_leaves_the_web_facts_to_the_engine(app):
    edition = make_edition([
        case(1, title="Om rygning", theme_labels=["Tobak"]),
        case(2, title="Om motion", theme_labels=["Fysisk aktivitet"]),
        case(3, title="Mere om rygning", theme_labels=["Tobak"],
             chart_svg='<svg xmlns="http://www.w3.org/2000/svg"/>', chart_alt="Fremmøde"),
    ], foreword="Et *forord*.")
    book = catalogue_pdf.book_for(edition)
    assert [c.title for c in book.chapters] == ["Om rygning", "Mere om rygning", "Om motion"]
    assert [c.group for c in book.chapters] == ["Tobak", "Tobak", "Fysisk aktivitet"]
    chapter = book.chapters[1]
    assert chapter.key == "unit-3" and chapter.themes == ("Tobak",)
    assert (chapter.chart_svg, chapter.chart_alt) == (
        '<svg xmlns="http://www.w3.org/2000/svg"/>', "Fremmøde")
    body = chapter.body_html
    assert "<h2>Kort fortalt</h2>" in body and "<h2>Kontakt</h2>" in body  # in Danish
    assert "catalogue-case-facts" not in body  # the engine prints the facts
    assert "<svg" not in body  # the engine draws the chart
    assert "<dd>&lt;5</dd>" in body  # 3 started
    assert book.foreword_html == "<p>Et <em>forord</em>.</p>"
    assert book.edition_number == edition.number


# --- a failed build ---------------------------------------------------------------------------

def test_failed_build_keeps_the_previous_pdf_and_tells_the_admin(app, client, login, team,
                                                                  storage):
    edition = queued([case(1, title="Første case"), case(2, title="Anden case")])
    catalogue_pdf.build_edition_pdf(edition.id)
    edition = reload(edition)
    previous, before = edition.pdf_file, (storage / edition.pdf_file).read_bytes()

    # Bad data: two cases that claim the same unit make the engine refuse the book.
    broken = edition.cases[1]
    broken.snapshot = {**broken.snapshot, "unit_id": 1}
    jobs.enqueue_edition_pdf(edition)
    db.session.commit()
    with pytest.raises(catalogue_pdf.PdfBuildError, match="samme nøgle"):
        catalogue_pdf.build_edition_pdf(edition.id)

    edition = reload(edition)
    assert edition.pdf_status == BuildStatus.FAILED
    assert edition.pdf_error == "PDF'en kunne ikke laves: To cases har samme nøgle."
    assert edition.pdf_file == previous
    assert (storage / previous).read_bytes() == before
    assert list(storage.glob("*.part")) == []
    download = client.get(f"/katalog/{edition.number}/pdf")  # the previous PDF, still
    assert download.status_code == 200 and download.data == before
    download.close()

    login(team.admin)
    page = client.get(f"/admin/katalog/{edition.id}").get_data(as_text=True)
    assert "Mislykkedes" in page
    assert "PDF&#39;en kunne ikke laves: To cases har samme nøgle." in page
    assert "den forrige PDF hentes, indtil en ny er lavet." in page
    assert "Byg PDF igen" in page


def test_failed_first_build_has_no_download(app, client):
    edition = queued([case(1), case(2)])
    broken = edition.cases[1]
    broken.snapshot = {**broken.snapshot, "unit_id": 1}
    db.session.commit()
    edition_id = edition.id
    assert jobs.run_edition_pdf(edition_id) is False  # recorded, not raised
    edition = db.session.get(Edition, edition_id)
    assert edition.pdf_status == BuildStatus.FAILED and edition.pdf_file is None
    response = client.get(f"/katalog/{edition.number}/pdf")
    assert response.status_code == 404
    assert "Denne udgave har ingen PDF lige nu." in response.get_data(as_text=True)


# --- the download -----------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "pdf_status", "code", "says"), [
    (EditionStatus.WITHDRAWN, BuildStatus.READY, 410, "Denne udgave er trukket tilbage"),
    (EditionStatus.DRAFT, BuildStatus.NONE, 404, "Siden findes ikke"),
    (EditionStatus.PUBLISHED, BuildStatus.QUEUED, 503, "PDF'en til denne udgave bliver lavet"),
    (EditionStatus.PUBLISHED, BuildStatus.BUILDING, 503, "PDF'en er ved at blive lavet."),
    (EditionStatus.PUBLISHED, BuildStatus.NONE, 404, "Denne udgave har ingen PDF lige nu."),
], ids=["withdrawn", "draft", "queued", "building", "never-built"])
def test_download_answers_for_each_state(app, client, storage, status, pdf_status, code, says):
    edition = make_edition([case(1)], status=status, pdf_status=pdf_status)
    if pdf_status == BuildStatus.READY:  # a withdrawn edition's file is there, not served
        storage.mkdir(parents=True)
        (storage / "edition-x.pdf").write_bytes(b"%PDF-1.7")
        edition.pdf_file = "edition-x.pdf"
        db.session.commit()
    response = client.get(f"/katalog/{edition.number}/pdf")
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert says.replace("'", "&#39;") in response.get_data(as_text=True)
    if code == 503:
        assert response.headers["Retry-After"] == "30"


def test_download_of_an_unknown_edition_is_not_found(client):
    assert client.get("/katalog/99/pdf").status_code == 404
    assert client.get("/katalog/99999999999/pdf").status_code == 404


# --- the admin's view of the build ------------------------------------------------------------

def test_admin_page_shows_progress_while_the_pdf_is_made(app, client, login, team):
    edition = make_edition([case(1)], pdf_status=BuildStatus.BUILDING)
    edition.pdf_progress = 75
    db.session.commit()
    login(team.admin)
    page = client.get(f"/admin/katalog/{edition.id}").get_data(as_text=True)
    status_url = f"/admin/katalog/{edition.id}/pdf-status"
    assert f'role="status" data-pdf-poll-url="{status_url}"' in page
    assert '<progress class="catalogue-pdf-progress" max="100" value="75"' in page
    assert "Bliver lavet: 75 procent" in page
    assert re.search(r"/static/js/catalogue-admin\.[0-9a-f]{12}\.js", page)  # fingerprinted
    assert "Byg PDF igen" not in page  # not while it is being made
    state = client.get(status_url).get_json()
    assert state == {"status": "building", "progress": 75, "label": "Bliver lavet: 75 procent",
                     "error": "", "done": False}


def test_admin_page_without_a_running_build_has_no_polling(app, client, login, team):
    edition = make_edition([case(1)], pdf_status=BuildStatus.READY)
    login(team.admin)
    page = client.get(f"/admin/katalog/{edition.id}").get_data(as_text=True)
    assert "data-pdf-poll-url" not in page and "catalogue-admin.js" not in page
    assert "Byg PDF igen" in page


@pytest.mark.parametrize("who", ["facilitator", "tovholder", "observer"])
def test_pdf_status_and_rebuild_are_the_admins(client, login, team, who):
    edition = make_edition([case(1)], pdf_status=BuildStatus.FAILED)
    login(getattr(team, who))
    assert client.get(f"/admin/katalog/{edition.id}/pdf-status").status_code == 403
    assert client.post(f"/admin/katalog/{edition.id}/pdf").status_code == 403
    assert reload(edition).pdf_status == BuildStatus.FAILED


def test_pdf_status_needs_a_login(client):
    edition = make_edition([case(1)])
    response = client.get(f"/admin/katalog/{edition.id}/pdf-status")
    assert response.status_code == 302 and "/log-ind" in response.headers["Location"]


def test_rebuild_queues_the_pdf_again(app, client, login, team):
    edition = make_edition([case(1)], pdf_status=BuildStatus.FAILED)
    edition.pdf_error = "PDF'en kunne ikke laves: noget"
    db.session.commit()
    login(team.admin)
    response = client.post(f"/admin/katalog/{edition.id}/pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/katalog/{edition.id}")
    edition = reload(edition)
    assert (edition.pdf_status, edition.pdf_error, edition.pdf_progress) == (
        BuildStatus.QUEUED, "", 0)
    assert catalogue_pdf.queued_edition_ids() == [edition.id]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"PDF&#39;en til udgave {edition.number} bliver lavet igen." in page


@pytest.mark.parametrize(("status", "pdf_status", "message"), [
    (EditionStatus.DRAFT, BuildStatus.NONE, "Kun en udgivet udgave har en PDF."),
    (EditionStatus.WITHDRAWN, BuildStatus.READY, "Kun en udgivet udgave har en PDF."),
    (EditionStatus.PUBLISHED, BuildStatus.BUILDING, "PDF&#39;en bliver lavet lige nu."),
], ids=["draft", "withdrawn", "building"])
def test_rebuild_refused(client, login, team, status, pdf_status, message):
    edition = make_edition([case(1)], status=status, pdf_status=pdf_status)
    login(team.admin)
    response = client.post(f"/admin/katalog/{edition.id}/pdf", follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert reload(edition).pdf_status == pdf_status


def test_rebuild_without_csrf_token_changes_nothing(client, login, team):
    edition = make_edition([case(1)], pdf_status=BuildStatus.FAILED)
    login(team.admin)
    response = client.post(f"/admin/katalog/{edition.id}/pdf", csrf=False)
    assert response.status_code == 400
    assert reload(edition).pdf_status == BuildStatus.FAILED

