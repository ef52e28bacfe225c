"""Legal bases: adapters, registry as-of logic, corpus-derived facts, rules and the check,
on the real public tables, the seeds and their gold records."""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sqlite3

import pytest

from kehoach.corpus.legal.adapters import LegalImportError, detect_format, import_file
from kehoach.corpus.legal.check import PlanInput, check, format_text
from kehoach.corpus.legal.derive import act_before, derive_facts, relation_between, status_after
from kehoach.corpus.legal.registry import Registry, ensure_schema
from kehoach.corpus.legal.rules import body_fate, period_end, title_after
from kehoach.models import DocumentInfo, Extraction, LegalRef, Span, Task

from tests.shared import SHARED, files, need
TABLES = SHARED / "data" / "legal-status"
AG = TABLES / "an_giang_vbqppl_xu_ly.csv"
BD = TABLES / "binh_duong_van_ban.csv"
D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def both():
    reg = Registry()
    import_file(reg, AG)
    import_file(reg, BD)
    return reg


def _plan(refs, tasks=(), text=None, issuer="Ủy ban nhân dân tỉnh An Giang", number=None, doc_type="Kế hoạch",
          date="2025-10-01", source="plan.txt"):
    ex = Extraction(source=source, sha256="", document=DocumentInfo(number=number, type=doc_type, issuer=issuer,
                                                                   date=date),
                    tasks=list(tasks), legal_refs=list(refs))
    return PlanInput(ex, text)


def _ref(id, symbol, type="Nghị quyết", date=None, issuer=None, **kw):
    return LegalRef(id=id, text=f"{type} số {symbol}", type=type, number=symbol.split("/")[0], symbol=symbol,
                    date=date, issuer=issuer, **kw)


# ------------------------------------------------------------------ adapters

def test_detect_format_from_header():
    for path, fmt in ((AG, "an_giang"), (BD, "binh_duong")):
        with path.open(encoding="utf-8") as f:
            assert detect_format(next(csv.reader(f))) == fmt
    assert detect_format(["symbol", "status"]) == "generic"
    assert detect_format(["a", "b"]) is None


def test_an_giang_replaced_and_colliding_symbols(both):
    on = D("2026-01-01")
    kg = [d for d in both.find("02/2021/NQ-HĐND", province="Kiên Giang")]
    assert len(kg) == 1
    res = both.resolve(kg[0], on)
    assert res.status == "replaced" and res.replaced_by.symbol == "07/2025/NQ-HĐND"
    assert res.evidence[0]["kind"] == "registry" and res.evidence[0]["where"].startswith(AG.name + ":")
    # before the replacing resolution (26/9/2025) it was in force
    assert both.resolve(kg[0], D("2025-01-01")).status == "in_force"
    # two different 09/2024/NQ-HĐND, told apart by the province the sentences name
    nine = both.find("09/2024/NQ-HĐND")
    assert sorted(d.province for d in nine) == ["An Giang", "Kiên Giang"]
    replaced_by = {d.province: both.resolve(d, on).replaced_by.symbol for d in nine}
    assert replaced_by["An Giang"] != replaced_by["Kiên Giang"]


def test_an_giang_sentence_beats_parsed_column(tmp_path):
    rows = list(csv.DictReader(AG.open(encoding="utf-8")))
    row = dict(next(r for r in rows if r["hinh_thuc_xu_ly"] == "Thay thế" and r["trang_thai_xu_ly"] == "da_xu_ly"))
    row["so_hieu_goc"] = "99/1999/NQ-HĐND"
    out = tmp_path / "ag.csv"
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerow(row)
    reg = Registry()
    rep = import_file(reg, out)
    assert rep.imported == 1 and rep.warnings and "99/1999/NQ-HĐND" in rep.warnings[0][1]
    assert reg.find("99/1999/NQ-HĐND") == []
    assert reg.find(row["van_ban_goc_hoac_du_kien"].split("số ")[1].split()[0])


def test_an_giang_rows_with_a_number_are_all_read():
    # the sentences are read by the extraction's citation stage: "Quyết định Số ...", "NQ số ...",
    # "Nghị Quyết số ... 29/5/2025" are citations too; a row is only refused when it names no number at all
    rows = {}
    with AG.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        prev = reader.line_num
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if any(c.strip() for c in cells):
                rows[start] = dict(zip(header, cells))
    rep = import_file(Registry(), AG)
    refused = {n for n, _ in rep.errors}
    numbered = {n for n, r in rows.items() if re.search(r"\d+\s*/\s*(?:\d{4}\s*/\s*)?[A-ZĐ]", r["van_ban_goc_hoac_du_kien"])}
    assert refused and refused == set(rows) - numbered
    assert rep.imported == len(numbered)
    reg = Registry()
    import_file(reg, AG)
    kg = reg.find("22/2013/QĐ-UBND", province="Kiên Giang")     # "Quyết định Số 22/2013/QĐ-UBND ngày 10/9/2013 ..."
    assert [(d.type, d.date_issued, d.issuer) for d in kg] == [
        ("Quyết định", "2013-09-10", "Ủy ban nhân dân tỉnh Kiên Giang")]


def test_an_giang_pending_rows_are_not_facts(both):
    # a planned replacement (can_xu_ly) does not make the document replaced
    rows = list(csv.DictReader(AG.open(encoding="utf-8")))
    pending = [r for r in rows if r["trang_thai_xu_ly"] == "can_xu_ly" and r["hinh_thuc_xu_ly"] == "Thay thế"
               and r["so_hieu_goc"]]
    assert pending
    sym = pending[0]["so_hieu_goc"].split("|")[0].strip()
    statuses = {both.resolve(d, D("2026-06-01")).status for d in both.find(sym)}
    assert "replaced" not in statuses or any(
        r["so_hieu_goc"].startswith(sym) and r["trang_thai_xu_ly"] == "da_xu_ly" for r in rows)


def test_import_twice_changes_nothing_and_bad_rows_have_line_numbers():
    reg = Registry()
    first = import_file(reg, BD)
    again = import_file(reg, BD)
    assert first.change and not again.change
    # the rows with no symbol, found independently with the csv module
    with BD.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = header.index("so_ky_hieu")
        prev, empty = reader.line_num, []
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if any(c.strip() for c in cells) and not cells[col].strip():
                empty.append(start)
    assert empty and [n for n, _ in first.errors] == empty


def test_binh_duong_statuses_and_observation_day(both):
    rows = list(csv.DictReader(BD.open(encoding="utf-8")))
    gone = next(r for r in rows if r["hieu_luc"].endswith("hết hiệu lực"))
    doc = next(d for d in both.find(gone["so_ky_hieu"]) if d.province == "Bình Dương")
    assert both.resolve(doc, D("2026-01-01")).status == "expired"
    alive = next(r for r in rows if r["hieu_luc"] == "Văn bản đang có hiệu lực" and r["so_ky_hieu"].startswith("3637/"))
    doc = both.find(alive["so_ky_hieu"], province="Bình Dương")[0]
    assert both.resolve(doc, D("2022-07-20")).status == "in_force"     # the list's day
    late = both.resolve(doc, D("2026-01-01"))                           # years later: not known
    assert late.status == "unknown" and late.last_known["status"] == "in_force"
    assert both.resolve(doc, D("2022-07-01")).status == "not_yet_in_force"


def _generic(tmp_path, text, name="reg.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    reg = Registry()
    return reg, import_file(reg, p)


def test_generic_csv_as_of_dates_and_bad_rows(tmp_path):
    reg, rep = _generic(tmp_path, (
        "symbol,type,issuer,date_issued,date_effective,date_expiry,status,status_date\n"
        "10/2020/TT-BXD,Thông tư,Bộ Xây dựng,2020-05-01,2020-07-01,2023-12-31,,\n"
        "not a symbol,,,,,,,\n"
        "11/2020/TT-BXD,,,31/02/2020,,,,\n"
        "12/2020/TT-BXD,,,2020-01-01,,,abolished,2022-03-01\n"
        "13/2020/TT-BXD,,,2020-01-01,,,hết hiệu lực kiểu lạ,\n"))
    assert [n for n, _ in rep.errors] == [3, 4, 6] and rep.imported == 2
    doc = reg.find("10/2020/TT-BXD")[0]
    assert reg.resolve(doc, D("2020-06-01")).status == "not_yet_in_force"
    assert reg.resolve(doc, D("2021-01-01")).status == "in_force"
    assert reg.resolve(doc, D("2024-01-01")).status == "expired"
    ab = reg.find("12/2020/TT-BXD")[0]
    assert reg.resolve(ab, D("2022-02-28")).status == "in_force"     # in force until it was abolished
    assert reg.resolve(ab, D("2022-03-01")).status == "abolished"


def test_generic_relations_each_kind(tmp_path):
    reg, rep = _generic(tmp_path, (
        "symbol,date_issued,replaced_by,amends,abolishes,guided_by\n"
        "1/2019/NĐ-CP,2019-01-01,2/2023/NĐ-CP@2023-06-01,,,5/2019/TT-BTC\n"
        "3/2021/NĐ-CP,2021-01-01,,1/2019/NĐ-CP,4/2010/NĐ-CP,\n"))
    assert not rep.errors
    one = reg.find("1/2019/NĐ-CP")[0]
    assert reg.resolve(one, D("2022-01-01")).status == "amended"
    r = reg.resolve(one, D("2023-06-01"))
    assert r.status == "replaced" and r.replaced_by.symbol == "2/2023/NĐ-CP"
    assert reg.resolve(reg.find("4/2010/NĐ-CP")[0], D("2021-02-01")).status == "abolished"
    assert [x.kind for x in reg.rel_by_subject[one.id]] == ["guided_by"]


def test_generic_json_and_bad_files(tmp_path):
    p = tmp_path / "reg.json"
    p.write_text(json.dumps({"documents": [{"symbol": "7/2022/QĐ-TTg", "status": "expired", "status_date": "2024-01-01"},
                                           {"symbol": ""}]}), encoding="utf-8")
    reg = Registry()
    rep = import_file(reg, p)
    assert rep.imported == 1 and [n for n, _ in rep.errors] == [2]
    assert reg.resolve(reg.find("7/2022/QĐ-TTg")[0], D("2024-02-01")).status == "expired"
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LegalImportError, match="x.csv: unknown table format"):
        import_file(Registry(), bad)
    with pytest.raises(LegalImportError, match="no such file"):
        import_file(Registry(), tmp_path / "missing.csv")


def test_registry_persists_and_reload_is_idempotent(tmp_path):
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    ensure_schema(conn)
    reg = Registry()
    import_file(reg, AG)
    reg.save(conn)
    again = Registry.load(conn)
    assert len(again) == len(reg)
    assert not import_file(again, AG).change
    kg = again.find("02/2021/NQ-HĐND", province="Kiên Giang")[0]
    assert again.resolve(kg, D("2026-01-01")).replaced_by.symbol == "07/2025/NQ-HĐND"


# ------------------------------------------------------------------ corpus-derived facts

def test_status_relation_and_act_phrases():
    assert status_after(" đã hết hiệu lực thi hành*);")[0] == "expired"
    assert status_after(" (nay đã được thay thế bằng ...)")[0] == "replaced"
    assert status_after(" về việc công bố danh mục văn bản hết hiệu lực") is None
    assert relation_between(" (được sửa đổi, bổ sung tại ") == "amends"
    assert relation_between(" và ") is None
    assert act_before("Điều 2. Bãi bỏ ") == "abolishes"
    assert act_before("Quyết định này có hiệu lực kể từ ngày ký và thay thế ") == "replaces"
    assert act_before("Đề nghị Bộ Tư pháp bãi bỏ ") is None


def test_derive_from_text_and_from_the_extraction():
    text = ("Căn cứ Nghị định số 59/2012/NĐ-CP (được sửa đổi, bổ sung tại Nghị định số 32/2020/NĐ-CP); "
            "Thông tư số 01/2013/TT-BXD đã hết hiệu lực thi hành.\nĐiều 2. Bãi bỏ Quyết định số 5/2019/QĐ-UBND.")
    def at(s):
        i = text.index(s)
        return Span(i, i + len(s))
    refs = [_ref("r1", "59/2012/NĐ-CP", "Nghị định", span=at("Nghị định số 59/2012/NĐ-CP")),
            _ref("r2", "32/2020/NĐ-CP", "Nghị định", span=at("Nghị định số 32/2020/NĐ-CP")),
            _ref("r3", "01/2013/TT-BXD", "Thông tư", span=at("Thông tư số 01/2013/TT-BXD")),
            _ref("r4", "5/2019/QĐ-UBND", "Quyết định", span=at("Quyết định số 5/2019/QĐ-UBND"))]
    p = _plan(refs, text=text, number="9/2024/QĐ-UBND", doc_type="Quyết định", date="2024-03-01",
              issuer="Ủy ban nhân dân tỉnh Tây Ninh")
    st, rel = derive_facts(p.extraction, text)
    assert [(s.ref, s.status) for s in st] == [("r3", "expired")]
    assert {(r.subject, r.kind, r.object) for r in rel} == {("r2", "amends", "r1"), (None, "abolishes", "r4")}
    rep = check([p], Registry(), D("2024-06-01"))
    got = {r["symbol"]: r for r in rep["plans"][0]["refs"]}
    assert got["59/2012/NĐ-CP"]["status"] == "amended"
    assert got["01/2013/TT-BXD"]["status"] == "expired" and got["01/2013/TT-BXD"]["evidence"][0]["kind"] == "corpus"
    assert got["5/2019/QĐ-UBND"]["status"] == "abolished"
    # the extraction's own statement is used without the text
    ref = _ref("r1", "02/2015/TT-BNV", "Thông tư", status_in_text="expired", evidence="đã hết hiệu lực")
    st, _ = derive_facts(_plan([ref]).extraction, None)
    assert st[0].status == "expired" and st[0].words == "đã hết hiệu lực"


# ------------------------------------------------------------------ rules

def test_period_end_is_never_early():
    assert period_end("Khắc phục tồn tại năm 2023, duy trì các Chỉ số năm 2024") == dt.date(2024, 12, 31)
    assert period_end("giai đoạn 2021 - 2025, định hướng đến năm 2030") == dt.date(2030, 12, 31)
    assert period_end("năm 2021 và các năm tiếp theo") is None
    assert period_end("thực hiện Nghị quyết số 19-NQ/TW ngày 25/10/2017") is None
    t = "Kế hoạch số 5/KH-UBND của UBND tỉnh về nâng cao Chỉ số (PAR Index) năm 2023 và Chỉ số năm 2024 (sau đây gọi là X)"
    assert period_end(title_after(t, t.index(" của"))) == dt.date(2024, 12, 31)


def test_reorganisation_bodies():
    on = D("2026-01-01")
    f = body_fate("Sở Kế hoạch và Đầu tư tỉnh Quảng Bình", on)
    assert f.successor == "Sở Tài chính tỉnh Quảng Trị" and "45/2025/NĐ-CP" in f.source and "202/2025/QH15" in f.source
    assert body_fate("Sở Lao động – Thương binh và Xã hội", on).successor == "Sở Nội vụ"
    assert body_fate("Ủy ban nhân dân tỉnh Bình Dương", on).successor == "Ủy ban nhân dân Thành phố Hồ Chí Minh"
    dist = body_fate("Ủy ban nhân dân cấp huyện", on)
    assert dist.successor is None and "203/2025/QH15" in dist.source
    assert body_fate("Ủy ban nhân dân thành phố Đà Nẵng", on) is None
    assert body_fate("Sở Nội vụ", on) is None
    assert body_fate("Sở Kế hoạch và Đầu tư", D("2025-02-28")) is None


# ------------------------------------------------------------------ check on the seeds

@pytest.fixture(scope="module")
def gold_plans():
    from kehoach.ingest import read
    out = []
    for g in files("eval/gold", "*.json"):
        ex = Extraction.from_dict(json.loads(g.read_text(encoding="utf-8")))
        out.append(PlanInput(ex, read(need(f"seeds/{g.stem}.txt")).text))
    return out


def _refs(report):
    return {(p["source"], r["symbol"]): r for p in report["plans"] for r in p["refs"]}


def test_seeds_expired_and_period_ended(gold_plans, both):
    late = _refs(check(gold_plans, both, D("2026-01-01")))
    tt = next(r for (s, sym), r in late.items() if sym == "01/2013/TT-BXD")
    assert tt["status"] == "expired"
    assert tt["evidence"][0]["kind"] == "corpus" and "đã hết hiệu lực" in tt["evidence"][0]["text"]
    assert [t["id"] for t in tt["tasks"]] == ["t10"]
    kh = next(r for (s, sym), r in late.items() if sym == "127/KH-UBND")
    assert kh["status"] == "period_ended" and "năm 2024" in kh["evidence"][-1]["text"]
    early = _refs(check(gold_plans, both, D("2024-12-31")))
    assert next(r for (s, sym), r in early.items() if sym == "127/KH-UBND")["status"] != "period_ended"
    for rep in (late, early):
        for r in rep.values():
            if r["status"] in ("expired", "replaced", "abolished", "period_ended"):
                assert r["evidence"], r
            # no seed cites a document of An Giang or Bình Dương
            assert r["status"] != "replaced"


def test_plan_citing_real_table_documents(both):
    refs = [_ref("r1", "02/2021/NQ-HĐND", date="2021-10-06", issuer="Hội đồng nhân dân tỉnh Kiên Giang"),
            _ref("r2", "09/2024/NQ-HĐND", date="2024-07-18", issuer="Hội đồng nhân dân tỉnh An Giang"),
            _ref("r3", "4423/UBND-KT", "Công văn", date="2021-09-04", issuer="Ủy ban nhân dân tỉnh Bình Dương"),
            _ref("r4", "77/2019/NQ-HĐND", date="2019-05-05", issuer="Hội đồng nhân dân tỉnh An Giang"),
            _ref("r5", "3637/UBND-VX", "Công văn", date="2022-07-20", issuer="Ủy ban nhân dân tỉnh Quảng Trị")]
    tasks = [Task(id="t1", kind="task", section="II", text="Triển khai chế độ phụ cấp",
                  lead=["Sở Lao động - Thương binh và Xã hội"], legal_refs=["r1"])]
    rep = check([_plan(refs, tasks)], both, D("2026-01-01"))
    got = {r["symbol"]: r for r in rep["plans"][0]["refs"]}
    assert got["02/2021/NQ-HĐND"]["status"] == "replaced"
    assert got["02/2021/NQ-HĐND"]["replaced_by"] == "07/2025/NQ-HĐND"
    assert [t["id"] for t in got["02/2021/NQ-HĐND"]["tasks"]] == ["t1"]
    assert got["09/2024/NQ-HĐND"]["replaced_by"] == "26/2025/NQ-HĐND"
    assert got["4423/UBND-KT"]["status"] == "expired"
    assert got["77/2019/NQ-HĐND"]["status"] == "unknown" and not got["77/2019/NQ-HĐND"]["evidence"]
    # same symbol as a Bình Dương document, but another province's: not matched
    assert got["3637/UBND-VX"]["status"] == "unknown"
    bodies = rep["plans"][0]["bodies"]
    assert [(b["name"], b["successor"], b["tasks"]) for b in bodies] == [
        ("Sở Lao động - Thương binh và Xã hội", "Sở Nội vụ", ["t1"])]
    assert "replaced" in format_text(rep)


def test_real_pipeline_on_a_seed(both):
    from kehoach.extract import extract
    from kehoach.ingest import read
    doc = read(need("seeds/000_32de8ed23e57a435.txt"))
    rep = check([PlanInput(extract(doc), doc.text)], both, D("2026-01-01"))
    got = {r["symbol"]: r for r in rep["plans"][0]["refs"]}
    assert got["01/2013/TT-BXD"]["status"] == "expired"
    assert got["127/KH-UBND"]["status"] == "period_ended"


def test_joint_regulation_code_names_its_type():
    # 0129/KH-UBND (Đắk Lắk): "Căn cứ Quy chế phối hợp số\n49/QCPH-UBND-UBMT-HCTĐ ngày 24/01/2025": the type
    # word sits on the line before; the ký hiệu's code QCPH says the type on its own (was "Công văn").
    from kehoach.extract import extract
    from kehoach.ingest import read
    doc = read(need("real/web/0129-KH-UBND__62f25a03.txt"))
    rep = check([PlanInput(extract(doc), doc.text)], Registry(), D("2026-01-01"))
    got = {r["symbol"]: r for r in rep["plans"][0]["refs"]}
    assert got["49/QCPH-UBND-UBMT-HCTĐ"]["type"] == "Quy chế phối hợp"
    assert got["02600/PA-UBND"]["type"] == "Phương án"


def test_units_of_an_abolished_district_level_issuer_went_with_it():
    # The Trà Vinh seed is issued by "Ủy ban nhân dân thành phố Trà Vinh" (district level, gone 1/7/2025);
    # it names its own units without their level: "Phòng Nội vụ", "Phòng Văn hóa và Thông tin",
    # "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân thành phố". Communes ("phường, xã") still exist.
    from kehoach.extract import extract
    from kehoach.ingest import read
    doc = read(need("seeds/002_926d4f9637933ef9.txt"))
    ex = extract(doc)
    assert ex.document.issuer == "Ủy ban nhân dân thành phố Trà Vinh"
    gone = {b["name"]: b for b in check([PlanInput(ex, doc.text)], Registry(), D("2026-01-01"))["plans"][0]["bodies"]}
    for name in ("Phòng Nội vụ", "Phòng Văn hóa và Thông tin",
                 "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân thành phố"):
        assert gone[name]["since"] == "2025-07-01" and gone[name]["successor"] is None and gone[name]["tasks"]
    assert "Ủy ban nhân dân phường, xã" not in gone
    before = check([PlanInput(ex, doc.text)], Registry(), D("2025-06-30"))["plans"][0]["bodies"]
    assert not [b for b in before if b["name"].startswith("Phòng")]


def test_cli_import_and_check(tmp_path, capsys):
    from kehoach.corpus.legal.cli import main
    home = str(tmp_path / "home")
    assert main(["--home", home, "legal", "import", str(AG)]) == 0
    assert main(["--home", home, "legal", "import", str(AG)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "0 documents added, 0 completed, 0 statuses, 0 relations added" in out[-1]
    assert main(["--home", home, "legal", "check", "--as-of", "2026-01-01", "--format", "json",
                 "--source", str(need("seeds/000_32de8ed23e57a435.txt"))]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["as_of"] == "2026-01-01"
    assert {r["symbol"]: r["status"] for r in rep["plans"][0]["refs"]}["01/2013/TT-BXD"] == "expired"
    assert main(["--home", home, "legal", "check", "--as-of", "2026/01/01"]) == 1


# ------------------------------------------------------------------ provinces merged in 2025

def test_a_citation_finds_the_status_rows_through_the_2025_mergers_both_ways(both, tmp_path):
    # An Giang's table holds two 02/2021/NQ-HĐND: An Giang's (15/3/2021) and the former Kiên Giang's
    # (06/10/2021, replaced by 07/2025/NQ-HĐND). A plan of the merged An Giang that cites the Kiên Giang one
    # as "của HĐND tỉnh" (its own province) still finds it: Kiên Giang merged into An Giang.
    kg_as_ag = _ref("r1", "02/2021/NQ-HĐND", date="2021-10-06", issuer="Hội đồng nhân dân tỉnh An Giang")
    own = _ref("r2", "09/2024/NQ-HĐND", issuer="Hội đồng nhân dân tỉnh An Giang")     # undated: same province wins
    # Bình Dương's portal list, cited by a plan of Thành phố Hồ Chí Minh (new -> old) and by name (same)
    bd_as_hcm = _ref("r3", "4423/UBND-KT", "Công văn", date="2021-09-04",
                     issuer="Ủy ban nhân dân Thành phố Hồ Chí Minh")
    bd = _ref("r4", "4395/UBND-NC", "Công văn", date="2021-09-03", issuer="Ủy ban nhân dân tỉnh Bình Dương")
    # another province merged into the same city is another province; and no old province issues after the merger
    sibling = _ref("r5", "4423/UBND-KT", "Công văn", date="2021-09-04", issuer="Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu")
    rep = check([_plan([kg_as_ag, own, bd, sibling], issuer="Ủy ban nhân dân tỉnh An Giang", date="2025-10-01")],
                both, D("2026-01-01"))
    got = {(r["symbol"], r["issuer"]): r for r in rep["plans"][0]["refs"]}
    r = got[("02/2021/NQ-HĐND", "Hội đồng nhân dân tỉnh An Giang")]
    assert (r["status"], r["replaced_by"], r["status_vi"]) == ("replaced", "07/2025/NQ-HĐND", "Bị thay thế")
    assert r["evidence"][0]["kind"] == "rule" and "202/2025/QH15" in r["evidence"][0]["text"]
    assert any(e["kind"] == "registry" and e["where"].startswith(AG.name) for e in r["evidence"])
    assert got[("09/2024/NQ-HĐND", "Hội đồng nhân dân tỉnh An Giang")]["replaced_by"] == "26/2025/NQ-HĐND"
    assert got[("4395/UBND-NC", "Ủy ban nhân dân tỉnh Bình Dương")]["status"] == "expired"
    assert got[("4423/UBND-KT", "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu")]["status"] == "unknown"
    rep = check([_plan([bd_as_hcm], issuer="Ủy ban nhân dân Thành phố Hồ Chí Minh")], both, D("2026-01-01"))
    r = rep["plans"][0]["refs"][0]
    assert r["status"] == "expired" and "Bình Dương merged into Hồ Chí Minh" in r["evidence"][0]["text"]
    late = _ref("r6", "4423/UBND-KT", "Công văn", date="2025-09-04", issuer="Ủy ban nhân dân tỉnh Bình Dương")
    assert check([_plan([late])], both, D("2026-01-01"))["plans"][0]["refs"][0]["status"] == "unknown"
    # old -> new: a status table of the merged city lists a former Bình Dương document under the city;
    # the citation names Bình Dương (the rows are Bình Dương's own, re-listed)
    rows = [r for r in csv.DictReader(BD.open(encoding="utf-8")) if r["hieu_luc"] == "Văn bản hết hiệu lực"][:3]
    p = tmp_path / "hcm.csv"
    with p.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["symbol", "province", "date_issued", "status"])
        for row in rows:
            w.writerow([row["so_ky_hieu"], "Thành phố Hồ Chí Minh", row["ngay_ban_hanh"], "expired"])
    city = Registry()
    assert import_file(city, p).imported == 3
    d, m, y = rows[0]["ngay_ban_hanh"].split("/")
    cited = _ref("r7", rows[0]["so_ky_hieu"], "Quyết định", date=f"{y}-{m}-{d}", issuer="Ủy ban nhân dân tỉnh Bình Dương")
    r = check([_plan([cited], issuer="Ủy ban nhân dân Thành phố Hồ Chí Minh")], city, D("2026-01-01"))["plans"][0]["refs"][0]
    assert r["status"] == "expired" and r["evidence"][0]["kind"] == "rule"


def test_place_relation_reads_the_reorganisation_table():
    from kehoach.corpus.legal.symbols import merger_of, place_relation
    from kehoach.corpus.legal.symbols import load_tsv
    rows = [r for r in load_tsv("reorg_2025.tsv") if r[0] == "province"]
    assert len(rows) == 29                   # 63 provinces -> 34: 29 merged into another
    for row in rows:
        old, new = (re.sub(r"^(tỉnh|thành phố)\s+", "", x, flags=re.I) for x in row[1:3])
        assert merger_of(old).new == new and "202/2025/QH15" in merger_of(old).source
        assert place_relation(old, new) == place_relation(new, old) == "merged"
        assert place_relation(old, new, "2025-08-01") == "conflict"
    assert place_relation("Bình Dương", "Bà Rịa - Vũng Tàu") == "conflict"
    assert place_relation("An Giang", "an giang") == "same" and place_relation(None, "An Giang") is None
