"""sadlib.report.write_report: the one-page maintenance report, HTML and Markdown."""

import matplotlib

matplotlib.use("Agg")

import base64  # noqa: E402
import re  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sadlib.report import format_value, write_report  # noqa: E402
from sadlib.validation import InvalidParameterError  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VOID = {"meta", "img", "br", "hr", "link", "input"}


class StrictParser(HTMLParser):
    """Checks that every opened tag is closed in order and collects the text and the images."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.text, self.images, self.tags = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def figs():
    f1, ax = plt.subplots()
    ax.plot([0, 1, 0])
    f2, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    yield [("Anomaly score <with> threshold & alarms", f1), f2]
    plt.close(f1)
    plt.close(f2)


@pytest.fixture
def table():
    return pd.DataFrame({
        "start_time": pd.to_datetime(["2022-03-09 06:10:00", "2022-03-13 21:00:00"]),
        "duration": pd.to_timedelta(["2h 5min", "30min"]),
        "top_sensor": ["TP3", "<Oil|level>"],
        "peak_score": [12.3456789, np.nan],
    }).rename_axis("alarm")


SUMMARY = {"failures": 2, "detected": 2, "median lead time": pd.Timedelta("9h 30min"), "false alarms / day": 0.25}


def parse(path):
    parser = StrictParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def test_html_report_is_self_contained_and_well_formed(tmp_path, figs, table):
    p = write_report(tmp_path / "week12.html", title="APU 3 <week 12> & more", summary=SUMMARY,
                     alarms_table=table, figures=figs, notes=["Check the oil level | sight glass", "TP3 < TP2?"])
    assert p == tmp_path / "week12.html" and p.is_file()
    parser = parse(p)
    assert parser.errors == [] and parser.stack == []
    text = "".join(parser.text)
    for value in ("APU 3 <week 12> & more", "2022-03-09 06:10:00", "2 h 5 min", "TP3", "<Oil|level>", "12.35",
                  "9 h 30 min", "0.25", "Check the oil level | sight glass", "TP3 < TP2?",
                  "Anomaly score <with> threshold & alarms", "alarm"):
        assert value in text, value
    raw = p.read_text(encoding="utf-8")
    assert "<week 12>" not in raw and "&lt;Oil|level&gt;" in raw  # escaped, not markup
    assert [t for t in parser.tags if t == "table"] == ["table", "table"]
    assert len(parser.images) == 2
    for img in parser.images:
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1]).startswith(PNG_MAGIC)
    assert parser.images[0]["alt"] == "Anomaly score <with> threshold & alarms"
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*_files"))  # nothing beside it
    assert "—" in text  # the missing peak score


def test_markdown_report_writes_the_figures_beside_it(tmp_path, figs, table):
    p = write_report(tmp_path / "week 12.md", title="APU #3", summary="Two air leaks.\n\nBoth *detected* early.",
                     alarms_table=table, figures=figs, notes="Replace the TP3 sensor")
    md = p.read_text(encoding="utf-8")
    folder = tmp_path / "week 12_files"
    pngs = sorted(folder.glob("*.png"))
    assert [f.name for f in pngs] == ["figure_01.png", "figure_02.png"]
    assert all(f.read_bytes().startswith(PNG_MAGIC) for f in pngs)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links == ["week%2012_files/figure_01.png", "week%2012_files/figure_02.png"]
    assert md.startswith("# APU \\#3\n")
    assert "Both \\*detected\\* early." in md
    row = [line for line in md.splitlines() if "TP3" in line and "|" in line and "2022" in line][0]
    assert row.count(" | ") == 4  # the escaped \| inside a cell does not add a column
    assert "\\<Oil\\|level\\>" in md and "2 h 5 min" in md and "12.35" in md
    assert "- Replace the TP3 sensor" in md


def test_summary_as_text_and_empty_table_in_html(tmp_path):
    p = write_report(tmp_path / "r.htm", title="t", summary="first line\nsecond\n\nnext paragraph",
                     alarms_table=pd.DataFrame(columns=["start"]), figures=None, timestamp=False)
    parser = parse(p)
    assert parser.errors == [] and parser.tags.count("p") == 3
    assert "No alarms." in "".join(parser.text)
    assert "Written" not in p.read_text(encoding="utf-8")


def test_long_tables_are_cut_to_one_page(tmp_path):
    big = pd.DataFrame({"n": range(80)})
    md = write_report(tmp_path / "r.md", title="t", summary={}, alarms_table=big, max_rows=10).read_text()
    assert "| 9 |" in md and "| 10 |" not in md and "70 more alarm(s)" in md


def test_identical_input_gives_identical_files_without_timestamp(tmp_path, table):
    a = write_report(tmp_path / "a.html", title="t", summary=SUMMARY, alarms_table=table, timestamp=False)
    b = write_report(tmp_path / "b.html", title="t", summary=SUMMARY, alarms_table=table, timestamp=False)
    assert a.read_bytes() == b.read_bytes()


def test_no_silent_overwrite(tmp_path, figs, table):
    p = tmp_path / "r.html"
    p.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_report(p, title="t", summary=SUMMARY, alarms_table=table)
    assert p.read_text() == "keep me"
    write_report(p, title="new", summary=SUMMARY, alarms_table=table, overwrite=True)
    assert "new" in p.read_text(encoding="utf-8")


def test_markdown_overwrite_replaces_only_its_own_figures(tmp_path, figs, table):
    p = write_report(tmp_path / "r.md", title="t", summary=SUMMARY, alarms_table=table, figures=figs)
    folder = tmp_path / "r_files"
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        write_report(p, title="t", summary=SUMMARY, alarms_table=table)
    p.unlink()  # the report is gone but its figure folder is still there: still no silent overwrite
    with pytest.raises(FileExistsError, match="r_files"):
        write_report(p, title="t", summary=SUMMARY, alarms_table=table)
    write_report(p, title="t", summary=SUMMARY, alarms_table=table, figures=figs[:1], overwrite=True)
    assert sorted(f.name for f in folder.iterdir()) == ["figure_01.png", "notes.txt"]


@pytest.mark.parametrize("path, error, match", [
    ("r.pdf", InvalidParameterError, "suffix '.pdf'"),
    ("r", InvalidParameterError, "suffix ''"),
    ("missing/r.html", FileNotFoundError, "does not exist"),
])
def test_bad_paths(tmp_path, table, path, error, match):
    with pytest.raises(error, match=match):
        write_report(tmp_path / path, title="t", summary={}, alarms_table=table)


def test_a_folder_is_not_a_report_file(tmp_path, table):
    (tmp_path / "r.html").mkdir()
    with pytest.raises(IsADirectoryError, match="directory"):
        write_report(tmp_path / "r.html", title="t", summary={}, alarms_table=table)
    with pytest.raises(InvalidParameterError, match="path must be"):
        write_report(3, title="t", summary={}, alarms_table=table)


@pytest.mark.parametrize("kwargs, match", [
    ({"title": ""}, "title"),
    ({"alarms_table": [[1, 2]]}, "alarms_table must be a pandas DataFrame"),
    ({"summary": 3}, "summary must be"),
    ({"figures": ["not a figure"]}, r"figures\[0\]"),
    ({"notes": [1, 2]}, "notes"),
    ({"overwrite": "yes"}, "overwrite"),
    ({"max_rows": 0}, "max_rows"),
])
def test_bad_arguments_are_named_and_nothing_is_written(tmp_path, table, kwargs, match):
    args = {"title": "t", "summary": {}, "alarms_table": table} | kwargs
    with pytest.raises(InvalidParameterError, match=match):
        write_report(tmp_path / "r.html", **args)
    assert not (tmp_path / "r.html").exists()


def test_reversed_figure_pair_is_explained(tmp_path, figs, table):
    with pytest.raises(InvalidParameterError, match=r"tuple of \(Figure, str\)"):
        write_report(tmp_path / "r.html", title="t", summary={}, alarms_table=table, figures=[(figs[1], "cap")])


def test_format_value():
    assert format_value(-pd.Timedelta("1h 5min")) == "-1 h 5 min"
    assert format_value(pd.Timedelta("-55min")) == "-55 min"
    assert format_value(pd.Timedelta(0)) == "0 s"
    assert format_value(pd.NaT) == "—" and format_value(np.float64("nan")) == "—"
    assert format_value(np.int64(3)) == "3" and format_value(False) == "no"
    assert format_value(pd.Timestamp("2022-03-01 05:06:07")) == "2022-03-01 05:06:07"
