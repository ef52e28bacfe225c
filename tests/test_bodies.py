"""Bodies registry: canonical keys, kinds, plan scopes; and the registry as the store fills it
from the gold records of the real seed plans."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kehoach.corpus import bodies as B
from kehoach.corpus.store import Corpus
from kehoach.models import Extraction

from tests.shared import SHARED, files, need

GOLD = SHARED / "eval" / "gold"

QUANG_TRI = B.plan_scope("Ủy ban nhân dân tỉnh Quảng Trị", plan_id=1)
TUYEN_QUANG = B.plan_scope("UBND tỉnh Tuyên Quang", plan_id=2)
TRA_VINH_CITY = B.plan_scope("Ủy ban nhân dân thành phố Trà Vinh", plan_id=3)
SO_XAY_DUNG = B.plan_scope("Sở Xây dựng tỉnh Tây Ninh", plan_id=4)


def key(name, scope):
    return B.resolve(name, scope).key


def test_ubnd_tinh_forms_are_one_body():
    a = B.canonical_key("UBND tỉnh", "Quảng Trị")
    assert a == B.canonical_key("Ủy ban nhân dân tỉnh Quảng Trị", "Quảng Trị")
    assert a == B.canonical_key("Ủy ban nhân dân tỉnh Quảng Trị", None)       # the name carries the province
    assert a == B.canonical_key("UBND tỉnh Quảng Trị", "Tuyên Quang")          # ... and wins over the plan's
    assert a != B.canonical_key("UBND tỉnh", "Tuyên Quang")


def test_same_department_in_two_provinces_is_two_bodies():
    assert key("Sở Nội vụ", QUANG_TRI) != key("Sở Nội vụ", TUYEN_QUANG)
    assert key("Sở Nội vụ", TUYEN_QUANG) == key("Sở Nội vụ tỉnh", TUYEN_QUANG) == key("Sở Nội vụ tỉnh Tuyên Quang", QUANG_TRI)
    assert B.canonical_key("Sở Nội vụ", "Quảng Trị") != B.canonical_key("Sở Nội vụ", "Tuyên Quang")


def test_abbreviations_and_spelling_variants():
    assert key("Sở TT&TT", TUYEN_QUANG) == key("Sở Thông tin và Truyền thông", TUYEN_QUANG)
    assert key("Văn phòng HĐND và UBND thành phố", TRA_VINH_CITY) == \
        key("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân thành phố", TRA_VINH_CITY)
    assert key("Ủy ban nhân dân các huyện, thành phố", TUYEN_QUANG) == key("Ủy ban nhân dân huyện, thành phố", TUYEN_QUANG)
    assert key("Sở Lao động, Thương binh và Xã hội", QUANG_TRI) == key("Sở Lao động - Thương binh và Xã hội", QUANG_TRI)
    assert B.expand("UBND tỉnh") == "Ủy ban nhân dân tỉnh"
    assert B.expand("  Sở Tư pháp; ") == "Sở Tư pháp"


def test_city_plan_scope():
    assert TRA_VINH_CITY.province == "Trà Vinh"
    assert TRA_VINH_CITY.territory == "thành phố Trà Vinh"
    phong = B.resolve("Phòng Nội vụ", TRA_VINH_CITY)
    assert phong.kind == "phong" and phong.province == "Trà Vinh" and phong.locality == "thành phố Trà Vinh"
    assert phong.key == key("Phòng Nội vụ thành phố", TRA_VINH_CITY)
    # the city's own committee, written both ways
    assert key("UBND thành phố", TRA_VINH_CITY) == key("Ủy ban nhân dân thành phố Trà Vinh", TRA_VINH_CITY)
    # a provincial body named in the city's plan is the province's body
    assert key("Sở Nội vụ tỉnh Trà Vinh", TRA_VINH_CITY) == key("Sở Nội vụ", B.plan_scope("UBND tỉnh Trà Vinh"))
    assert key("Ủy ban nhân dân tỉnh", TRA_VINH_CITY) == B.canonical_key("UBND tỉnh Trà Vinh", None)
    # a Phòng of the city is not the Phòng of another city of the same province
    other_city = B.plan_scope("Ủy ban nhân dân thị xã Duyên Hải", province="Trà Vinh")
    assert other_city.province == "Trà Vinh" and other_city.territory == "thị xã Duyên Hải"
    assert key("Phòng Nội vụ", other_city) != phong.key


def test_commune_plan_after_2025_takes_province_from_the_header():
    head = "ỦY BAN NHÂN DÂN TỈNH TUYÊN QUANG\nỦY BAN NHÂN DÂN XÃ MINH XUÂN\nSố: 12/KH-UBND"
    scope = B.plan_scope("Ủy ban nhân dân xã Minh Xuân", text=head)
    assert scope.province == "Tuyên Quang" and scope.territory == "xã Minh Xuân"
    assert B.resolve("Ủy ban nhân dân xã", scope).locality == "xã Minh Xuân"
    assert key("UBND tỉnh", scope) == B.canonical_key("Ủy ban nhân dân tỉnh Tuyên Quang", None)


def test_sub_units_belong_to_the_issuer():
    p = B.resolve("Phòng Quản lý xây dựng", SO_XAY_DUNG)
    assert p.kind == "phong" and p.locality == "Sở Xây dựng" and p.province == "Tây Ninh"
    assert B.resolve("Lãnh đạo Sở", SO_XAY_DUNG).locality == "Sở Xây dựng"
    vp = B.plan_scope("Văn phòng Ủy ban nhân dân tỉnh Quảng Trị")
    assert B.resolve("Phòng Nội chính", vp).locality == "Văn phòng Ủy ban nhân dân tỉnh"
    # a provincial district committee collective is not a sub-unit of the Sở
    assert B.resolve("Ủy ban nhân dân các huyện, thị xã và thành phố", SO_XAY_DUNG).locality is None


@pytest.mark.parametrize("name,kind", [
    ("Sở Nội vụ", "so"), ("Phòng Văn hóa và Thông tin", "phong"), ("UBND tỉnh", "ubnd"),
    ("Ủy ban nhân dân cấp huyện", "ubnd"), ("Văn phòng Ủy ban nhân dân tỉnh", "van_phong"),
    ("Trung tâm Phục vụ hành chính công tỉnh", "trung_tam"), ("Ban Quản lý Khu kinh tế", "ban"),
    ("Tỉnh ủy", "party"), ("Bộ Nội vụ", "bo"), ("Bộ phận Một cửa", "bo_phan"),
    ("Cổng Thông tin điện tử tỉnh", "cong_ttdt"), ("Các đơn vị", "generic"),
    ("Các cơ quan liên quan", "generic"), ("Tất cả các phòng", "generic"),
    ("Các cơ quan, đơn vị có liên quan", "generic"), ("Mỗi cán bộ, công chức, viên chức", "generic"),
])
def test_kind_of(name, kind):
    assert B.kind_of(name) == kind


def test_generic_owners_are_scoped_to_their_plan():
    a = B.resolve("Các đơn vị", QUANG_TRI)
    b = B.resolve("Các đơn vị", B.plan_scope("Ủy ban nhân dân tỉnh Quảng Trị", plan_id=9))
    assert a.kind == b.kind == "generic" and a.plan_id == 1 and b.plan_id == 9
    assert a.key != b.key
    assert key("Các đơn vị", QUANG_TRI) == a.key


def test_national_bodies_have_no_province():
    assert key("Bộ Nội vụ", QUANG_TRI) == key("Bộ Nội vụ", TUYEN_QUANG)
    assert B.resolve("Bộ Nội vụ", QUANG_TRI).province is None


def test_every_gold_owner_resolves():
    for g in files("eval/gold", "*.json"):
        d = json.loads(g.read_text())
        scope = B.plan_scope(d["document"]["issuer"], place=d["document"]["place"], plan_id=1)
        assert scope.province, g.name
        for t in d["tasks"]:
            for name in t["lead"] + t["support"]:
                r = B.resolve(name, scope)
                assert r.kind and r.key and r.canonical, name
                if name.split()[0] in ("Các", "Tất", "Mỗi"):
                    assert r.kind == "generic", name
                if name.startswith(("Sở ", "Phòng ", "Ủy ban nhân dân ")):
                    assert r.kind != "generic", name


def _gold_extract(doc):
    stem = Path(doc.source).stem
    ext = Extraction.from_dict(json.loads(need(f"eval/gold/{stem}.json").read_text()))
    ext.source, ext.sha256 = doc.source, doc.sha256
    return ext


def test_registry_in_the_store(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for s in files("seeds", "*.txt"):
        shutil.copy(s, src / s.name)
    with Corpus(tmp_path / "home") as c:
        r = c.add([str(src)], progress=False, extract=_gold_extract)
        assert r.ok
        by_issuer = {p.issuer: p for p in c.plans()}
        qt, vp = by_issuer["Ủy ban nhân dân tỉnh Quảng Trị"], by_issuer["Văn phòng Ủy ban nhân dân tỉnh Quảng Trị"]
        tq = by_issuer["Ủy ban nhân dân tỉnh Tuyên Quang"]
        bodies = c.bodies()
        # one Trung tâm Phục vụ hành chính công of Quảng Trị, owning tasks of both Quảng Trị plans
        ttpv = [b for b in bodies if b.canonical == "Trung tâm Phục vụ hành chính công" and b.province == "Quảng Trị"]
        assert len(ttpv) == 1
        plans_of = {int(k.split(":")[0]) for k, _ in c.body_tasks(ttpv[0].id)}
        assert plans_of == {qt.id, vp.id}
        # the same "Văn phòng Ủy ban nhân dân tỉnh" name in Tuyên Quang and Quảng Trị: two bodies
        vps = {b.province: b for b in bodies if b.canonical == "Văn phòng Ủy ban nhân dân tỉnh"}
        assert set(vps) == {"Tuyên Quang", "Quảng Trị"}
        assert vps["Quảng Trị"].id != vps["Tuyên Quang"].id
        # generic owners: kind generic, one per plan
        gen = [b for b in bodies if b.kind == "generic"]
        assert gen and all(b.plan_id is not None for b in gen)
        assert len([b for b in gen if b.canonical == "Các cơ quan, đơn vị"]) == 2
        # task owners link to bodies, lead and support in order
        t = next(t for t in c.tasks([tq.id]) if t.lead == ["Sở Nội vụ"])
        b = c.body(t.lead_bodies[0])
        assert b.canonical == "Sở Nội vụ" and b.province == "Tuyên Quang" and b.kind == "so"
        assert "Sở Nội vụ" in b.aliases
        assert c.body(10**6) is None
        # replacing a plan keeps shared bodies and renews its generic ones
        before = {x.id for x in c.bodies()}
        f = src / "004_5709e56b5db05d79.txt"
        f.write_text(f.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        c.add([str(f)], progress=False, extract=_gold_extract)
        after = c.bodies()
        assert {x.id for x in after if x.kind != "generic"} == {x for x in before if c.body(x) and c.body(x).kind != "generic"}
        assert c.integrity()["orphan_links"] == 0
