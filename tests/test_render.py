"""Tests for analysis.render: briefs rendered by pandoc + Typst from a fixture findings file."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.figures.draw import bar_with_ci, save_figure
from analysis.markdown import escape_md
from analysis.render import RenderInputError, engine_versions, render_brief
from analysis.render.docx_reference import normalise_docx
from analysis.render.findings_file import load_findings
from analysis.render.fonts import font_dirs, missing_scripts
from analysis.render.projects import brief_source_files, unresolved_includes
from analysis.render.quarto_md import resolve_shortcodes
from analysis.render.staging import stage_brief, write_brief_inputs

REPO = Path(__file__).resolve().parents[1]
REGIONAL = REPO / "reports" / "regional" / "regional.qmd"
COUNTRY = REPO / "reports" / "country" / "country.qmd"
EPOCH = 1735603200  # 2024-12-31
RUN_ID = "run-2025-test-0042"
MANIFEST = "9f2c" + "ab" * 30
PLACES = {
    "Thai": "กรุงเทพมหานคร",
    "Khmer": "ភ្នំពេញ",
    "Lao": "ວຽງຈັນ",
    "Myanmar": "ရန်ကုန်",
    "Vietnamese": "Hà Nội",
}
TEXTS = {
    "women_share": "14%",
    "women_senior_share": "7%",
    "women_border_share": "11%",
    "training_women": "38%",
    "training_men": "21%",
    "training_gain": "4.6",
    "gs_procedure_trained": "71%",
    "gs_procedure_untrained": "52%",
    "harassment_women": "27%",
    "report_safe_women": "33%",
    "intend_stay_women": "64%",
    "intend_stay_men": "79%",
    "model_harassment_or": "0.61",
    "model_harassment_ci": "0.48–0.78",
}
COUNTRIES = [
    ("Cambodia", 0.09, 0.07, 0.11, False),
    ("Indonesia", 0.06, 0.05, 0.08, False),
    ("Lao PDR", 0.20, 0.16, 0.24, False),
    ("Malaysia", 0.12, 0.10, 0.15, False),
    ("Myanmar", None, None, None, True),
    ("Philippines", 0.22, 0.19, 0.25, False),
    ("Thailand", 0.10, 0.08, 0.13, False),
    ("Viet Nam", 0.08, 0.06, 0.10, False),
]


def _pct(x: float | None) -> str:
    return "suppressed" if x is None else f"{round(x * 100)}%"


RESERVED = {"title", "brief", "wave", "date", "run_id", "git_commit", "manifest_hash"}
RESERVED |= {"render_engine", "suppressed_cells", "suppressed_note"}


def qmd_keys(qmd: Path) -> set[str]:
    """Finding keys a brief source prints through {{< var >}}, in the words it includes too."""
    source = qmd.read_text(encoding="utf-8")
    included = re.findall(r"\{\{<\s*include\s+(text/[\w.-]+)\s*>\}\}", source)
    words = [(qmd.parent / rel).read_text(encoding="utf-8") for rel in included]
    text = "\n".join([source, *words])
    keys = set(re.findall(r"\{\{<\s*var\s+([\w.-]+)\s*>\}\}", text))
    return keys - RESERVED


def qmd_figures(qmd: Path) -> set[str]:
    return set(re.findall(r"_figures/([\w-]+)\.md", qmd.read_text(encoding="utf-8")))


def qmd_tables(qmd: Path) -> set[str]:
    names = set(re.findall(r"_tables/([\w-]+)\.md", qmd.read_text(encoding="utf-8")))
    return {name for name in names if not name.startswith("provenance_")}


def qmd_sections(qmd: Path) -> set[str]:
    return set(re.findall(r"_sections/([\w-]+)\.md", qmd.read_text(encoding="utf-8")))


def placeholder(key: str) -> str:
    """Distinct text for a finding the fixture does not set by hand."""
    return "v" + hashlib.sha256(key.encode()).hexdigest()[:6]


def make_fixture(root: Path, qmd: Path = REGIONAL) -> Path:
    """A findings file for the brief `qmd` with real (house-style) figures and tables; returns
    its path.

    Hand-set texts for the main findings; every other key the .qmd prints gets a distinct
    placeholder, and every figure it includes is drawn, so the source can grow without this
    fixture going stale. Only what this one brief needs: a staged brief must render without
    any other brief's figures, tables or sections."""
    fig_dir = root / "results" / "figures" / "2025"
    table = pd.DataFrame(
        COUNTRIES, columns=["group_value", "estimate", "ci_lower", "ci_upper", "suppressed"]
    )
    alt = "Horizontal bar chart of the share of women among officers by country."
    names = qmd_figures(qmd)
    for name in sorted(names):
        fig = bar_with_ci(table, xlabel="Women among officers (weighted %, 95% CI)")
        save_figure(fig, fig_dir / name, alt)
    texts = {key: placeholder(key) for key in qmd_keys(qmd)}
    # Place names in the region's scripts, printed through findings the brief shows.
    spare = sorted(qmd_keys(qmd) - set(TEXTS))
    texts.update(zip(spare, PLACES.values(), strict=False))
    texts.update({key: text for key, text in TEXTS.items() if key in texts})
    findings = {
        "brief": "regional",
        "wave": "2025",
        "title": "Women in law enforcement and the gendered dynamics of trafficking: ASEAN, 2025",
        "source_date_epoch": EPOCH,
        "suppressed_cells": 3,
        "provenance": {
            "run_id": RUN_ID,
            "git_commit": "0123456789abcdef0123456789abcdef01234567",
            "manifest_hash": MANIFEST,
            "engine": "pandoc + typst",
            "data_files": [
                {"path": "data/raw/officer_survey/2025.sav", "sha256": "a1" * 32},
                {"path": "data/raw/training/2024.dta", "sha256": "b2" * 32},
            ],
            "software": {"python": "3.11.7", "pandas": "3.1.1", "statsmodels": "0.15.0"},
        },
        "findings": {
            k: {"value": 0.0, "text": v, "source": {"table": "t.csv", "column": "estimate"}}
            for k, v in sorted(texts.items())
        },
        "tables": {
            "women_by_country": {
                "caption": "Women among officers by country, 2025 (weighted)",
                "columns": ["Country", "Capital", "Women (%)", "95% CI"],
                "rows": [
                    [c, cap, _pct(e), "suppressed" if lo is None else f"{_pct(lo)[:-1]}–{_pct(hi)}"]
                    for (c, e, lo, hi, _), cap in zip(
                        COUNTRIES,
                        [
                            "ភ្នំពេញ",
                            "Jakarta",
                            "ວຽງຈັນ",
                            "Kuala Lumpur",
                            "ရန်ကုန်",
                            "Manila",
                            "กรุงเทพมหานคร",
                            "Hà Nội",
                        ],
                        strict=True,
                    )
                ],
                "note": "Cells based on fewer than 10 officers are suppressed.",
            },
            "model_stay": {
                "caption": "Odds of intending to stay five more years (design-based logit)",
                "columns": ["Predictor", "Odds ratio", "95% CI"],
                "rows": [
                    ["Experienced harassment", "0.61", "0.48–0.78"],
                    ["Woman", "0.83", "0.70–0.98"],
                    ["Had gender-sensitive training", "1.19", "1.02–1.39"],
                ],
            },
        },
        "figures": {
            name: {
                "path": f"results/figures/2025/{name}.svg",
                "png": f"results/figures/2025/{name}.png",
                "alt": alt,
                "caption": "Women as a share of officers, by country, 2025",
            }
            for name in sorted(names)
        },
    }
    findings["sections"] = {
        name: {"markdown": f"## Section {name}\n\nWords of the {name} section.\n"}
        for name in sorted(qmd_sections(qmd))
    }
    for name in sorted(qmd_tables(qmd)):
        findings["tables"].setdefault(
            name,
            {"caption": f"Table {name}", "columns": ["Group", "Value"], "rows": [["All", "1%"]]},
        )
    path = root / "results" / "findings" / "2025" / "regional.yaml"
    if qmd != REGIONAL:
        findings["tables"] = {k: v for k, v in findings["tables"].items() if k in qmd_tables(qmd)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(findings, allow_unicode=True, sort_keys=True), encoding="utf-8")
    return path


def _render(root: Path, out: str, formats=("html", "pdf", "docx"), qmd: Path = REGIONAL):
    return render_brief(
        qmd,
        root / "results" / "findings" / "2025" / "regional.yaml",
        root / out,
        formats=formats,
        engine="pandoc",
        work_dir=root / f"work-{out}",
        data_root=root,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("brief")
    make_fixture(root)
    return _render(root, "out")


@pytest.fixture(scope="module")
def pdf_pages(rendered: dict[str, Path]) -> list[str]:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(rendered["pdf"])
    return [page.extract_text() for page in reader.pages]


def test_engine_versions_name_pandoc_and_typst():
    versions = engine_versions()
    assert re.match(r"^\d+\.\d+", versions["pandoc"])
    assert re.match(r"^\d+\.\d+", versions["typst"])
    assert ("quarto" in versions) == (shutil.which("quarto") is not None)


def test_pandoc_engine_writes_every_format(rendered: dict[str, Path]):
    assert set(rendered) == {"html", "pdf", "docx"}
    for fmt, path in rendered.items():
        assert path.name == f"regional.{fmt}"
        assert path.stat().st_size > 1000
    assert rendered["pdf"].read_bytes().startswith(b"%PDF-")
    assert zipfile.is_zipfile(rendered["docx"])


def test_rendering_twice_is_byte_identical(rendered: dict[str, Path], tmp_path: Path):
    make_fixture(tmp_path)
    again = _render(tmp_path, "again")
    for fmt in rendered:
        a = hashlib.sha256(rendered[fmt].read_bytes()).hexdigest()
        b = hashlib.sha256(again[fmt].read_bytes()).hexdigest()
        assert a == b, f"{fmt} differs between two renders"


def test_pdf_has_title_numbers_and_footer_on_every_page(pdf_pages: list[str]):
    assert 2 <= len(pdf_pages) <= 4, f"{len(pdf_pages)} pages"
    text = re.sub(r"\s+", " ", " ".join(pdf_pages))
    assert "Women in law enforcement and the gendered dynamics" in text
    for key, value in TEXTS.items():
        assert value in text, f"finding {key} ({value}) not printed"
    assert "3 table cells were suppressed" in text
    for i, page in enumerate(pdf_pages, start=1):
        assert RUN_ID in page, f"run ID missing from page {i}"
        assert MANIFEST in page.replace("\n", ""), f"manifest hash missing from page {i}"
        assert f"Page {i} of {len(pdf_pages)}" in page


def test_pdf_pages_are_not_blank(rendered: dict[str, Path], tmp_path: Path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    from PIL import Image, ImageStat

    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(rendered["pdf"]), str(tmp_path / "p")], check=True
    )
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) >= 2
    for png in pngs:
        stat = ImageStat.Stat(Image.open(png).convert("L"))
        assert stat.var[0] > 50, f"{png.name} looks blank (variance {stat.var[0]:.1f})"


def test_pdf_shows_south_east_asian_scripts_with_real_glyphs(rendered: dict[str, Path]):
    missing = missing_scripts(font_dirs())
    if missing:
        pytest.skip(f"Noto fonts for {missing} not installed (apt-get install fonts-noto-core)")
    if shutil.which("pdftotext") is None or shutil.which("pdffonts") is None:
        pytest.skip("pdftotext/pdffonts (poppler-utils) not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(rendered["pdf"]), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for script, place in PLACES.items():
        assert place in text, f"{script} place name {place!r} not extractable from the PDF"
    fonts = subprocess.run(
        ["pdffonts", str(rendered["pdf"])], check=True, capture_output=True, text=True
    ).stdout
    for family in ("NotoSans-", "NotoSansThai", "NotoSansKhmer", "NotoSansLao", "NotoSansMyanmar"):
        assert family in fonts, f"{family} not embedded:\n{fonts}"
    for line in fonts.splitlines()[2:]:
        assert " yes " in line, f"font not embedded: {line}"


def test_pdf_records_fixed_creation_date(rendered: dict[str, Path]):
    pypdf = pytest.importorskip("pypdf")
    info = pypdf.PdfReader(rendered["pdf"]).metadata
    assert info.creation_date is not None
    assert info.creation_date.strftime("%Y-%m-%d") == "2024-12-31"


class _HtmlAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.headings: list[int] = []
        self.imgs: list[dict[str, str | None]] = []
        self.tables = 0
        self.tables_with_th = 0
        self.resource_urls: list[str] = []
        self._in_table = False
        self._table_has_th = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.imgs.append(a)
        if tag == "table":
            self.tables += 1
            self._table_has_th = False
        if tag == "th":
            self._table_has_th = True
        for key in ("src", "href", "data"):
            value = a.get(key) or ""
            if re.match(r"^(https?:)?//", value) and not (tag == "a" and key == "href"):
                self.resource_urls.append(value)

    def handle_endtag(self, tag):
        if tag == "table" and self._table_has_th:
            self.tables_with_th += 1


def test_html_is_accessible_and_self_contained(rendered: dict[str, Path]):
    html = rendered["html"].read_text(encoding="utf-8")
    audit = _HtmlAudit()
    audit.feed(html)
    assert audit.html_lang and audit.html_lang.startswith("en")
    assert audit.headings.count(1) == 1, audit.headings
    for prev, cur in zip(audit.headings, audit.headings[1:], strict=False):
        assert cur <= prev + 1, f"heading level skips from h{prev} to h{cur}"
    assert audit.imgs, "no images in the HTML"
    for img in audit.imgs:
        assert img.get("alt"), f"img without alt: {str(img)[:120]}"
        assert str(img.get("src", "")).startswith("data:"), "image not embedded"
    assert audit.tables >= 2 and audit.tables_with_th == audit.tables
    assert audit.resource_urls == []
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), "CSS fetches a remote resource"
    assert not re.search(r"@import", html)
    assert "Horizontal bar chart of the share of women" in html
    for value in TEXTS.values():
        assert value in html


def test_docx_has_numbers_alt_text_and_fixed_dates(rendered: dict[str, Path]):
    with zipfile.ZipFile(rendered["docx"]) as z:
        doc = z.read("word/document.xml").decode("utf-8")
        core = z.read("docProps/core.xml").decode("utf-8")
        names = z.namelist()
        stamps = {info.date_time for info in z.infolist()}
    assert names == sorted(names)
    assert stamps == {(2024, 12, 31, 0, 0, 0)}
    assert "2024-12-31T00:00:00Z" in core
    assert 'descr="Horizontal bar chart of the share of women' in doc
    assert "CalloutTitle" in doc
    for value in TEXTS.values():
        assert escape_xml(value) in doc


def test_docx_footer_names_run_manifest_and_page_on_every_page(rendered: dict[str, Path]):
    from xml.etree import ElementTree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    rel_ns = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    with zipfile.ZipFile(rendered["docx"]) as z:
        names = set(z.namelist())
        doc = ElementTree.fromstring(z.read("word/document.xml"))
        rels = ElementTree.fromstring(z.read("word/_rels/document.xml.rels"))
        types = ElementTree.fromstring(z.read("[Content_Types].xml"))
        sections = list(doc.iter(f"{w}sectPr"))
        assert sections, "document.xml has no section properties"
        targets = {rel.get("Id"): rel for rel in rels.iter(f"{rel_ns}Relationship")}
        footers = set()
        for sect in sections:
            refs = [
                f for f in sect.findall(f"{w}footerReference") if f.get(f"{w}type") == "default"
            ]
            assert len(refs) == 1, "a section without exactly one default footer"
            rel = targets[refs[0].get(r_id)]
            assert rel.get("Type").endswith("/relationships/footer")
            footers.add("word/" + rel.get("Target"))
        assert len(footers) == 1 and footers <= names
        part = footers.pop()
        overrides = {o.get("PartName"): o.get("ContentType") for o in types}
        assert overrides.get("/" + part, "").endswith("wordprocessingml.footer+xml")
        footer = ElementTree.fromstring(z.read(part))
    text = "".join(t.text or "" for t in footer.iter(f"{w}t"))
    fields = " ".join((t.text or "").strip() for t in footer.iter(f"{w}instrText"))
    assert f"Run ID: {RUN_ID}" in text
    assert f"Inputs manifest SHA-256: {MANIFEST}" in text
    assert "Page " in text and " of " in text
    assert fields.split() == ["PAGE", "NUMPAGES"]


def escape_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def test_html_in_headless_chromium(rendered: dict[str, Path], tmp_path: Path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    if chromium is None or driver_path is None:
        pytest.skip(
            "chromium and chromedriver not installed (apt-get install chromium chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=420,900",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.get(rendered["html"].resolve().as_uri())
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        assert images and all(done and width > 0 for done, width in images), images
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth;"
        )
        assert overflow <= 1, f"page scrolls sideways on a phone by {overflow}px"
        shot = tmp_path / "phone.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000
    finally:
        driver.quit()


@pytest.mark.parametrize("qmd", [REGIONAL, COUNTRY], ids=["regional", "country"])
def test_staged_brief_is_a_quarto_project_of_one_document(tmp_path: Path, qmd: Path):
    """Quarto resolves the includes of every document of a project, even when asked to render
    one: the staged copy holds the brief's own document only, names it as the one render
    target, and every include in it resolves with this brief's findings alone."""
    findings = load_findings(make_fixture(tmp_path, qmd))
    staged = stage_brief(qmd, findings, tmp_path / "stage", "quarto", tmp_path)
    assert sorted(p.name for p in staged.root.rglob("*.qmd")) == [qmd.name]
    config = yaml.safe_load((staged.root / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"]["render"] == [qmd.name]
    assert unresolved_includes(staged.root) == []
    assert (staged.root / "_typst" / "typst-show.typ").is_file()


def test_an_include_the_findings_cannot_fill_is_refused_before_rendering(tmp_path: Path):
    path = make_fixture(tmp_path, COUNTRY)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tables"].pop("country_vs_region")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RenderInputError, match="country_vs_region"):
        stage_brief(COUNTRY, load_findings(path), tmp_path / "stage", "quarto", tmp_path)


def test_unresolved_includes_sees_a_sibling_documents_includes(tmp_path: Path):
    (tmp_path / "a.qmd").write_text("{{< include _tables/a.md >}}\n", encoding="utf-8")
    (tmp_path / "_tables").mkdir()
    (tmp_path / "_tables" / "a.md").write_text("A\n", encoding="utf-8")
    assert unresolved_includes(tmp_path) == []
    (tmp_path / "b.qmd").write_text("{{< include _tables/b.md >}}\n", encoding="utf-8")
    assert unresolved_includes(tmp_path) == ["b.qmd: _tables/b.md"]


def test_preview_files_are_not_brief_sources(tmp_path: Path):
    project = tmp_path / "regional"
    shutil.copytree(REGIONAL.parent, project)
    before = brief_source_files(project)
    findings = load_findings(make_fixture(tmp_path))
    write_brief_inputs(project, findings, "quarto", tmp_path)
    assert (project / "_variables.yml").is_file()
    assert brief_source_files(project) == before
    assert unresolved_includes(project) == []


@pytest.mark.parametrize("qmd", [REGIONAL, COUNTRY], ids=["regional", "country"])
def test_quarto_engine(tmp_path: Path, qmd: Path):
    if shutil.which("quarto") is None:
        pytest.skip("quarto not on PATH (our build machines cannot install it)")
    make_fixture(tmp_path, qmd)
    out = render_brief(
        qmd,
        tmp_path / "results/findings/2025/regional.yaml",
        tmp_path / "q",
        formats=("html", "pdf", "docx"),
        engine="quarto",
        work_dir=tmp_path / "w",
        data_root=tmp_path,
    )
    for path in out.values():
        assert path.stat().st_size > 1000
    assert TEXTS["harassment_women"] in out["html"].read_text(encoding="utf-8")


def test_country_template_renders(tmp_path: Path):
    make_fixture(tmp_path, COUNTRY)
    out = _render(tmp_path, "country", formats=("html",), qmd=COUNTRY)
    assert TEXTS["harassment_women"] in out["html"].read_text(encoding="utf-8")


def test_docx_drawings_carry_no_path_of_the_rendering_machine(tmp_path: Path):
    """Quarto describes its DOCX callout icons by their path in Quarto's install: a screen
    reader would read the path aloud, and the bytes would depend on the machine."""
    icon = "/opt/quarto/share/formats/docx/important.png"
    document = (
        f'<w:document xmlns:w="x"><pic:cNvPr id="1" name="{icon}" descr="{icon}"/>'
        '<wp:docPr id="2" name="Picture 2" descr="Bar chart of women by country"/></w:document>'
    )
    path = tmp_path / "b.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", document)
    normalise_docx(path, EPOCH)
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "/opt/quarto" not in xml
    assert 'name="important.png"' in xml
    assert 'descr="Bar chart of women by country"' in xml


def test_missing_finding_is_named(tmp_path: Path):
    path = make_fixture(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["findings"]["training_gain"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RenderInputError, match="training_gain"):
        _render(tmp_path, "bad", formats=("html",))


def test_missing_figure_is_named(tmp_path: Path):
    path = make_fixture(tmp_path)
    (tmp_path / "results/figures/2025/women_by_country.svg").unlink()
    with pytest.raises(RenderInputError, match="women_by_country"):
        _render(tmp_path, "bad", formats=("html",))
    assert path.exists()


def test_shortcodes_resolve_var_meta_include_and_escape(tmp_path: Path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.md").write_text("Included {{< var n >}}.\n", encoding="utf-8")
    src = tmp_path / "doc.qmd"
    out = resolve_shortcodes(
        "{{< meta title >}}: {{< var n >}} and {{< var p.q >}}\n{{< include text/a.md >}}",
        source=src,
        project=tmp_path,
        variables={"n": "5*", "p": {"q": "x_y"}},
        meta={"title": "T"},
    )
    assert out.startswith("T: 5\\* and x\\_y")
    assert "Included 5\\*." in out
    assert escape_md("a|b") == "a\\|b"
    assert io.StringIO(out).read().count("{{<") == 0


def test_wps_preview_readies_the_brief_project_for_quarto(tmp_path: Path, capsys):
    from analysis.cli import main

    reports = tmp_path / "reports"
    shutil.copytree(REGIONAL.parents[1], reports)
    findings = make_fixture(tmp_path)
    assert (
        main(["preview", str(findings), "--reports", str(reports), "--data-root", str(tmp_path)])
        == 0
    )
    project = reports / "regional"
    variables = yaml.safe_load((project / "_variables.yml").read_text(encoding="utf-8"))
    assert variables["harassment_women"] == TEXTS["harassment_women"]
    assert unresolved_includes(project) == []
    assert f"quarto preview {project / 'regional.qmd'}" in capsys.readouterr().out
    assert not (reports / "country" / "_variables.yml").exists()
