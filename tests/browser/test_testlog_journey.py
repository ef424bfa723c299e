"""The test log of module 4 in the browser: a unit's tovholder writes a PDSA cycle on its own
page, adds a measure, types its measurements one by one (Danish dates), reads the run chart
and what it says, imports a CSV file (a broken one first), and types a wrong number; the
unit's facilitator reads it all without a form; the measures page fits a phone; the admin
asks a programme's units for a shared measure and sees them side by side. Every page goes
through check_page (axe, CSP, console) and the main views are saved as screenshots."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from laks.enums import Role
from laks.extensions import db
from laks.services import testlog as testlog_service
from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser

MEASURE = "Borgere fra målgruppen, der mødte op"
#: Twelve weeks typed one by one: six before the change, six after – a clear shift upward.
#: (Twelve points cannot hold a run longer than Anhøj's limit – at most six lie on one side
#: of their own median – so the reading says "Tegn på ændring" from the crossings; the four
#: imported weeks make it sixteen, and the run of eight above the median says "forbedring".)
TYPED = [3, 2, 4, 3, 2, 3, 9, 10, 11, 10, 12, 11]
FIRST_DAY = date(2026, 3, 2)
#: Two earlier weeks from before the change and two later ones, as a spreadsheet holds them.
IMPORTED = [(date(2026, 2, 16), 3), (date(2026, 2, 23), 2),
            (date(2026, 5, 25), 12), (date(2026, 6, 1), 13)]
PHONE = 320


def danish(day: date) -> str:
    """A date as Danes type it: 2.3.2026."""
    return f"{day.day}.{day.month}.{day.year}"


def stored_log(unit):
    db.session.expire_all()
    return testlog_service.test_log(unit)


def log_out(page):
    page.get_by_role("button", name="Log ud").first.click()
    page.wait_for_url("**/")


def measure_section(page, name: str):
    return page.locator("section.measure").filter(
        has=page.get_by_role("heading", level=2, name=re.compile(re.escape(name))))


def add_point(page, section, day: date, value: str) -> None:
    form = section.locator("form.point-form")
    form.get_by_label("Dato").fill(danish(day))
    form.get_by_label("Tal").fill(value)
    form.get_by_role("button", name="Gem målingen").click()


def overflowing(page, width: int) -> list[str]:
    """Elements that reach past the right edge of a ``width`` wide screen, outside any box
    that scrolls or clips sideways by itself (the marked scroll regions)."""
    return page.evaluate(
        """(width) => {
          const out = [];
          const clips = (box) => ['auto', 'scroll', 'hidden', 'clip'].includes(
            getComputedStyle(box).overflowX);
          // Clipped by a box it is drawn in: an absolutely placed element only by the boxes
          // from its containing block (the nearest placed ancestor) upwards.
          const clipped = (el) => {
            for (let box = el; box && box !== document.body;) {
              const position = getComputedStyle(box).position;
              if (position === 'fixed') return false;
              let up = box.parentElement;
              if (position === 'absolute') {
                while (up && up !== document.body && getComputedStyle(up).position === 'static')
                  up = up.parentElement;
              }
              if (!up || up === document.body) return false;
              if (clips(up)) return true;
              box = up;
            }
            return false;
          };
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;  // not shown
            if (r.right > width + 0.5 && !clipped(el)) {
              out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                       (el.className && typeof el.className === 'string'
                        ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                       ' right=' + Math.round(r.right));
            }
          }
          return out;
        }""", width)


def test_browser_test_log_journey(page, log_in, team):
    unit = team.unit
    log_in(team.tovholder)

    # --- a PDSA cycle on its own page ---------------------------------------------------
    page.goto(f"/enheder/{unit.id}/moduler/afproevning")
    check_page(page, "testlog-module-4")
    page.get_by_role("link", name="Skriv en ny cyklus på sin egen side").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny cyklus")
    check_page(page, "testlog-cycle-new")
    page.get_by_label("Startdato").fill("2026-03-02")
    page.get_by_label("Slutdato").fill("2026-03-27")
    page.get_by_label("Ændringen, vi afprøver").fill(
        "Sygeplejersken ringer dagen før det første holdmøde")
    page.get_by_label("Spørgsmål, cyklussen skal besvare").fill(
        "Kommer flere til første holdmøde, når de er ringet op dagen før?")
    page.get_by_label("Forventet udfald", exact=True).fill(
        "Mindst 8 af 10 inviterede møder op (før: 3 af 10).")
    page.get_by_label("Plan: hvem, hvad, hvor og hvornår").fill(
        "Sygeplejersken ringer til de 10 næste inviterede dagen før, kl. 9–12, fra "
        "Sundhedscenteret i uge 10–13.")
    page.get_by_label("Plan for dataindsamling").fill(
        "Holdlederen tæller fremmødte ved hvert første holdmøde.")
    page.get_by_label("Hvad skete der?").fill(
        "Sygeplejersken nåede 9 af 10; én havde ikke oplyst telefonnummer.")
    page.get_by_label("Antal borgere i cyklussen").fill("10")
    page.get_by_label("Justér og afprøv igen").check()
    page.get_by_label("Hvad afprøver næste cyklus?").fill(
        "En sms to dage før til dem, vi ikke når i telefonen.")
    page.get_by_role("button", name="Gem cyklussen").click()

    expect(page.locator(".alert-success")).to_contain_text("Cyklus 1 er gemt.")
    expect(page).to_have_url(re.compile(rf"/enheder/{unit.id}/afproevning/cyklusser/1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cyklus 1: Sygeplejersken ringer dagen før det første holdmøde")
    expect(page.get_by_label("Forventet udfald", exact=True)).to_have_value(
        "Mindst 8 af 10 inviterede møder op (før: 3 af 10).")
    expect(page.get_by_label("Justér og afprøv igen")).to_be_checked()
    check_page(page, "testlog-cycle-1-filled")
    cycle = stored_log(unit).cycles[0]
    assert cycle["prediction"] == "Mindst 8 af 10 inviterede møder op (før: 3 af 10)."
    assert cycle["decision"] == "adapt"
    assert cycle["date"] == "2026-03-02"

    # --- a measure, and twelve measurements typed one by one -----------------------------
    page.get_by_role("link", name="Målinger og forløbsdiagrammer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Målinger og forløbsdiagrammer")
    expect(page.get_by_text("Ingen målinger endnu.")).to_be_visible()
    check_page(page, "testlog-measures-empty")
    new = page.locator("#new-measure")
    new.get_by_label("Navn").fill(MEASURE)
    new.get_by_label("Antal", exact=True).check()
    new.get_by_label("Højere er bedre").check()
    new.get_by_role("button", name="Tilføj målingen").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Målingen “{MEASURE}” er tilføjet.")
    check_page(page, "testlog-measure-added", screenshot=False)
    measure = stored_log(unit).measures[0]
    assert (measure["name"], measure["kind"], measure["better"]) == (MEASURE, "count", "up")

    section = measure_section(page, MEASURE)
    chart = section.locator("svg[role=img]")
    reading = section.locator(".chart-reading")
    for n, value in enumerate(TYPED, start=1):
        add_point(page, section, FIRST_DAY + timedelta(weeks=n - 1), str(value))
        expect(page.locator(".alert-success")).to_contain_text("Målingen er gemt.")
        expect(chart.locator(".point")).to_have_count(n)
        if n == 9:
            expect(reading).to_have_text(
                "Kan ikke vurderes endnu: 9 punkter, der skal mindst 10 til.")
        check_page(page, f"testlog-measures-{n}-points", screenshot=False)
    points = stored_log(unit).points[measure["key"]]
    assert [p["value"] for p in points] == TYPED
    assert points[0]["date"] == "2026-03-02" and points[-1]["date"] == "2026-05-18"
    expect(chart).to_be_visible()
    # Twelve points, six below the median and six above: too few crossings is a sign of
    # change, but a run of six is not yet longer than chance allows.
    expect(reading).to_have_text(
        "Tegn på ændring: for få krydsninger af medianen (1, forventet mindst 3).")

    # The table of the points, behind its summary.
    table = section.locator("details.chart-table")
    expect(table.locator("table")).to_be_hidden()
    table.locator("summary").click()
    expect(table.locator("summary")).to_have_text("Målingerne som tabel (12)")
    expect(table.locator("tbody tr")).to_have_count(12)
    expect(table.locator("tbody tr").first.locator("td").nth(1)).to_have_text("3")
    expect(table.get_by_role("button", name="Slet målingen fra 2. marts 2026")).to_be_visible()
    check_page(page, "testlog-measures-table-open", screenshot=False)

    # --- CSV: the template, a broken file (nothing imported), a good one ------------------
    importer = section.locator("form.import-form")
    with page.expect_download() as download:
        importer.get_by_role("link", name="Hent en skabelon").click()
    template = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    header = template.splitlines()[0]
    assert header.split(";")[0].lower() == "dato"

    def csv_file(lines: list[str]) -> dict:
        text = "\r\n".join([header, *lines]) + "\r\n"
        return {"name": "maalinger.csv", "mimeType": "text/csv",
                "buffer": text.encode("utf-8-sig")}

    broken = [f"{danish(IMPORTED[0][0])};{IMPORTED[0][1]}", f"{danish(IMPORTED[1][0])};to"]
    importer.get_by_label("CSV-fil").set_input_files(csv_file(broken))
    importer.get_by_role("button", name="Importér").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Intet blev importeret")
    errors = section.locator("form.import-form .form-error-message")
    expect(errors).to_contain_text("Intet blev importeret")
    expect(errors).to_contain_text(re.compile(r"Linje 3, kolonne „[^“]+“: Skriv et tal"))
    expect(importer.get_by_label("CSV-fil")).to_have_attribute("aria-invalid", "true")
    check_page(page, "testlog-measures-import-refused")
    summary.get_by_role("link", name=re.compile("^Linje 3")).click()
    expect(importer.get_by_label("CSV-fil")).to_be_focused()
    assert len(stored_log(unit).points[measure["key"]]) == 12

    importer.get_by_label("CSV-fil").set_input_files(
        csv_file([f"{danish(day)};{value}" for day, value in IMPORTED]))
    importer.get_by_role("button", name="Importér").click()
    expect(page.locator(".alert-success")).to_contain_text("4 målinger er importeret.")
    expect(chart.locator(".point")).to_have_count(16)
    # Eight weeks below the median, then eight above: longer than chance allows.
    expect(reading).to_contain_text("Tegn på forbedring: 8 punkter i træk over medianen.")
    expect(chart.locator(".point.signal")).to_have_count(16)
    table.locator("summary").click()
    expect(table.locator("summary")).to_have_text("Målingerne som tabel (16)")
    expect(table.locator("tbody tr").first.locator("td").first).to_contain_text("2026")
    check_page(page, "testlog-measures-chart-1280px")
    assert len(stored_log(unit).points[measure["key"]]) == 16

    # --- a wrong number: a Danish message at the field, and what was typed stays ----------
    add_point(page, section, date(2026, 6, 8), "tolv")
    form = section.locator("form.point-form")
    expect(form.locator(".form-error-message")).to_contain_text("Skriv et tal")
    expect(form.get_by_label("Tal")).to_have_value("tolv")
    expect(form.get_by_label("Tal")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Dato")).to_have_value("8.6.2026")
    expect(page.locator("#error-summary")).to_contain_text("Skriv et tal")
    check_page(page, "testlog-measures-wrong-number")
    page.locator("#error-summary").get_by_role("link", name=re.compile("Skriv et tal")).click()
    expect(form.get_by_label("Tal")).to_be_focused()
    assert len(stored_log(unit).points[measure["key"]]) == 16

    # --- the equity reach on a date -------------------------------------------------------
    reach = page.locator("#reach-form")
    reach.get_by_label("Dato").fill("27.3.2026")
    for label, count in (("Inviteret – Målgruppen", 10), ("Inviteret – Alle", 40),
                         ("Rekrutteret – Målgruppen", 8), ("Rekrutteret – Alle", 30),
                         ("Startet – Målgruppen", 8), ("Startet – Alle", 28),
                         ("Gennemført – Målgruppen", 6), ("Gennemført – Alle", 25)):
        reach.get_by_label(label, exact=True).fill(str(count))
    reach.get_by_role("button", name="Gem rækkevidden").click()
    expect(page.locator(".alert-success")).to_contain_text("Rækkevidden er gemt.")
    expect(page.locator(".reach-table tbody tr")).to_have_count(1)
    expect(page.locator(".reach-table tbody tr td").nth(2)).to_have_text("25 %")
    check_page(page, "testlog-measures-reach", screenshot=False)
    assert stored_log(unit).reach[0]["completed_target"] == 6

    # --- a phone: the chart scales down, nothing scrolls sideways but the scroll regions --
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.goto(f"/enheder/{unit.id}/afproevning/maalinger")
    section.locator("details.chart-table summary").click()
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, box
    assert box["height"] >= 120, box  # still a chart one can read
    wide = overflowing(page, PHONE)
    assert not wide, "wider than the phone: " + ", ".join(wide)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    check_page(page, "testlog-measures-chart-320px")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- the facilitator reads the measures and the cycle, with no form -------------------
    log_out(page)
    log_in(team.facilitator)
    page.goto(f"/enheder/{unit.id}/afproevning/maalinger")
    main = page.locator("main")
    expect(measure_section(page, MEASURE).locator("svg[role=img]")).to_be_visible()
    expect(measure_section(page, MEASURE).locator(".chart-reading")).to_contain_text(
        "Tegn på forbedring")
    expect(main.locator("form")).to_have_count(0)
    expect(main.locator("input, textarea, button[type=submit]")).to_have_count(0)
    check_page(page, "testlog-measures-facilitator")

    page.goto(f"/enheder/{unit.id}/moduler/afproevning")
    expect(page.get_by_role("link", name="Skriv en ny cyklus på sin egen side")).to_have_count(0)
    check_page(page, "testlog-module-4-facilitator", screenshot=False)
    page.get_by_role("link", name=re.compile("^Cyklus 1: Sygeplejersken")).click()
    expect(page).to_have_url(re.compile(r"/cyklusser/1$"))
    card = main.locator(".row-card")
    expect(card).to_contain_text("Forventet udfald")
    expect(card).to_contain_text("Mindst 8 af 10 inviterede møder op (før: 3 af 10).")
    expect(card).to_contain_text("Justér og afprøv igen")
    expect(main.locator("form")).to_have_count(0)
    expect(main.locator("input, textarea")).to_have_count(0)
    check_page(page, "testlog-cycle-1-facilitator")
    response = page.goto(f"/enheder/{unit.id}/afproevning/cyklusser/ny")
    assert response.status == 403
    check_page(page, "testlog-cycle-new-facilitator-refused", screenshot=False)


def test_browser_shared_measure_on_the_programme_overview(page, log_in, team, make_unit,
                                                          make_user):
    programme = team.unit.programme
    # A second unit of the same programme; it reports the measure once the admin asks for it.
    neighbour = make_unit("Rådhuset", programme=programme)
    neighbour_staff = make_user(Role.STAFF, neighbour, tovholder=True)

    log_in(team.admin)
    page.goto(f"/programmer/{programme.id}")
    expect(page.get_by_text("Forløbet har ingen fælles målinger.")).to_be_visible()
    check_page(page, "testlog-programme-no-shared-measure", screenshot=False)
    form = page.locator("#shared-form")
    form.get_by_label("Navn").fill(MEASURE)
    form.get_by_label("Antal", exact=True).check()
    form.get_by_label("Højere er bedre").check()
    form.get_by_role("button", name="Spørg alle enheder om denne måling").click()
    expect(page.locator(".alert-success")).to_contain_text(MEASURE)
    check_page(page, "testlog-programme-shared-measure-added", screenshot=False)

    db.session.expire_all()
    shared = programme.shared_measures[0].as_measure()
    log = testlog_service.test_log(neighbour)
    testlog_service.add_points(log, shared, [{"date": "2026-03-02", "value": 6},
                                             {"date": "2026-03-09", "value": 9},
                                             {"date": "2026-03-16", "value": 11}],
                               actor=neighbour_staff,
                               base_version=log.unit_module.version)
    db.session.commit()

    # The unit reports two measurements of it on its own measures page.
    log_out(page)
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/afproevning/maalinger")
    section = measure_section(page, MEASURE)
    expect(section.locator(".badge")).to_have_text("Fælles måling")
    add_point(page, section, date(2026, 3, 2), "7")
    expect(page.locator(".alert-success")).to_contain_text("Målingen er gemt.")
    add_point(page, section, date(2026, 3, 9), "3")
    expect(page.locator(".alert-success")).to_contain_text("Målingen er gemt.")
    expect(section.locator("svg[role=img] .point")).to_have_count(2)
    check_page(page, "testlog-measures-shared")

    # The overview: the units side by side, 1–4 citizens as "<5", the sum across them.
    log_out(page)
    log_in(team.admin)
    page.goto(f"/programmer/{programme.id}")
    table = page.get_by_role("region", name=MEASURE).locator("table")
    ours = table.locator("tbody tr").filter(has_text=team.unit.name)
    theirs = table.locator("tbody tr").filter(has_text="Rådhuset")
    expect(ours.locator("td")).to_have_text(["2", re.compile(r"^<5 "), "10"])
    expect(theirs.locator("td")).to_have_text(["3", re.compile(r"^11 "), "26"])
    expect(table.locator("tfoot td").last).to_have_text("36")
    check_page(page, "testlog-programme-shared-overview")
