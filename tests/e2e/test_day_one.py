"""Day one of a real install, in the browser only (issue 12's proof).

From an empty database (``kinderflow migrate`` and ``kinderflow create-admin``, no demo loader, demo
mode off): the administrator fills in the downloaded arrangement table and roster template and imports
them, and creates the accounts; the officer opens a semester; the principals change their first
password, set their PINs and upload their seals; a private kindergarten applies, is returned,
resubmits and is approved; the four parties read and sign its agreement, which verifies on the public
page; the founding members' agreements are generated and sent; the lead runs an activity with
presenters from two kindergartens to its archive bundle.

No step calls the JSON API: every browser's requests are recorded and none may go to ``/api/``.
Every page passed is photographed at 1280 and 360 px and may not scroll sideways. The tests run in
order and share the server and ``Day`` (the accounts' passwords).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from api.main import create_app
from storage.runtime import build_runtime
from tests.e2e.conftest import LiveServer, Person
from tests.e2e.day_one import (
    ACCOUNT_ROLES,
    ADMIN_PASSWORD,
    ALLIANCE,
    KINDERGARTENS,
    MATERIALS,
    OFFICER,
    TEACHERS,
    TOWN,
    Day,
    first_day,
    nav,
    set_pin,
)
from tests.e2e.test_application_journey import fill_application, upload, write_files
from tests.e2e.test_member_agreements_journey import SLOW, sign
from tests.e2e.test_semesters_and_activities import fill_semester, semesters_around, tick
from tests.fixtures.activities import today
from tests.fixtures.app import World, make_settings
from tests.fixtures.server import live_server as serve
from workflows.activities.vocabulary import CATEGORY_FOLDERS, semester_name
from workflows.registry.credit_code import make_credit_code

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real install's server: migrated and given its administrator by the command line, nothing else."""
    folder = tmp_path_factory.mktemp("day-one")
    url = f"sqlite:///{(folder / 'kinderflow.db').as_posix()}"
    secret = "day-one-secret-key-0123456789abcdef"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDERFLOW_") or k.startswith("KINDERFLOW_ARGON2")}
    env |= {"KINDERFLOW_VAR_DIR": str(folder), "KINDERFLOW_DATABASE_URL": url, "KINDERFLOW_SECRET_KEY": secret}
    for args, extra in ((["migrate"], {}), (["create-admin", "admin"], {"KINDERFLOW_ADMIN_PASSWORD": ADMIN_PASSWORD})):
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *args], env=env | extra, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    runtime = build_runtime(make_settings(url, folder, demo=False, secret_key=secret))
    try:
        with serve(create_app(runtime=runtime)) as base:
            yield LiveServer(url=base, runtime=runtime, world=World())
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def day() -> Day:
    return Day(passwords={"admin": ADMIN_PASSWORD})


@pytest.fixture
def staff(person: Callable[[], Person], day: Day) -> Iterator[Callable[[str], Person]]:
    """``staff(username)``: that account signed in at its own browser, which must never call ``/api/``."""
    calls: list[str] = []

    def _new(username: str = "") -> Person:
        p = person()
        p.page.on("request", lambda r: calls.append(r.url) if "/api/" in r.url else None)
        if username:
            p.login(username, day.passwords[username])
        return p

    yield _new
    assert calls == [], "a page called the JSON API:\n" + "\n".join(calls)


def test_the_administrator_imports_the_registry_and_creates_the_accounts(
    staff: Callable[[str], Person], day: Day, tmp_path: Path
) -> None:
    admin = staff("admin")
    page = admin.page
    admin.screenshot("d1-01-admin-home")

    # The arrangement table: the empty registry's export is the template a person fills in.
    nav(page, "安排表")
    admin.screenshot("d1-02-arrangement-empty")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载联盟安排表.xlsx").click()
    sheet_path = tmp_path / "联盟安排表.xlsx"
    download.value.save_as(sheet_path)
    workbook = load_workbook(sheet_path)
    workbook["联盟"].append(["LM-01", ALLIANCE, "启用", TOWN])
    for n, (code, name, category, rating, role, _) in enumerate(KINDERGARTENS, start=1):
        phone = f"0791-8800000{n}"
        workbook["联盟安排表"].append([
            n, code, name, make_credit_code(f"52360111M{n + 500:08d}"), category, rating, "在办", TOWN, f"{TOWN}民强路 {n} 号", f"{name[:2]}园长", phone,
            None, None, "LM-01" if role else None, role, date(2025, 9, 1) if role else None,
        ])  # fmt: skip
    workbook.save(sheet_path)
    page.set_input_files("#arrangement-file", sheet_path)
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#import-result")).to_contain_text("导入完成")
    admin.screenshot("d1-03-arrangement-imported")

    # The roster, from the blank template.
    nav(page, "教师名册")
    admin.screenshot("d1-04-roster-empty")
    page.get_by_role("link", name="导入 / 导出名册").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载空白模板.xlsx").click()
    roster_path = tmp_path / "教师名册.xlsx"
    download.value.save_as(roster_path)
    workbook = load_workbook(roster_path)
    sheet = workbook["教师名册"]
    for n, (code, name, post, level, born, phone) in enumerate(TEACHERS, start=1):
        sheet.append([n, code, None, None, name, post, level, born, phone, "在职"])
    last = sheet.max_row
    sheet[f"I{last}"] = TEACHERS[0][-1]  # a row typed with someone else's phone: refused, named by row
    workbook.save(roster_path)
    page.set_input_files("#roster-file", roster_path)
    page.get_by_role("button", name="导入").click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("未导入")
    expect(result).to_contain_text(f"第{last}行「联系电话」{TEACHERS[0][-1]} 与第2行（王丽华）重复")
    expect(result.locator("tbody tr td").first).to_have_text(f"I{last}")
    admin.screenshot("d1-05-roster-duplicate-phone")
    sheet[f"I{last}"] = TEACHERS[-1][-1]
    workbook.save(roster_path)
    admin.open("/teachers/import")
    page.set_input_files("#roster-file", roster_path)
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#import-result")).to_contain_text(f"新增教师 {len(TEACHERS)} 位")
    admin.screenshot("d1-06-roster-imported")

    # The accounts: the officer's, then one for each kindergarten's principal.
    nav(page, "账号管理")
    admin.screenshot("d1-07-accounts")
    page.get_by_role("link", name="新建账号").click()
    page.get_by_role("link", name="区教科体局岗位账号").click()
    page.get_by_label("岗位").select_option("officer")
    page.get_by_label("姓名").fill("成幼科 刘科长")
    page.get_by_label("用户名").fill(OFFICER)
    admin.screenshot("d1-07-account-new-bureau")
    page.get_by_role("button", name="创建账号").click()
    day.passwords[OFFICER] = page.locator("#temporary-password").inner_text()
    for _, name, _, _, role, username in KINDERGARTENS:
        admin.open("/admin/users/new?kind=kindergarten")
        page.get_by_label("幼儿园").select_option(label=f"{name}（{ACCOUNT_ROLES[role]}）")
        page.get_by_label("姓名").fill(f"{name} 园长")
        page.get_by_label("用户名").fill(username)
        page.get_by_role("button", name="创建账号").click()
        expect(page.locator(".pairs")).to_contain_text(name)
        day.passwords[username] = page.locator("#temporary-password").inner_text()
    admin.screenshot("d1-08-account-created")
    admin.open("/admin/users")
    expect(page.locator("#result-count")).to_contain_text("共 7 个账号")


def test_the_officer_and_the_principals_start(staff: Callable[[str], Person], day: Day) -> None:
    officer = first_day(staff, day, OFFICER, shots="d1-10-officer")
    page = officer.open("/")
    expect(page.locator(".todo")).to_contain_text("设置本学期")  # nothing can be planned without one
    page.locator(".todo").get_by_role("link", name="设置本学期").click()
    current, _ = semesters_around(today() - timedelta(days=2))
    fill_semester(page, current)
    officer.screenshot("d1-11-semester-new")
    page.get_by_role("button", name="设置学期").click()
    expect(page.locator(".flash")).to_have_text(f"已设置{semester_name(current['code'])}")
    officer.screenshot("d1-12-semesters")
    for n, (*_, username) in enumerate(KINDERGARTENS):
        # 七彩虹's principal leaves the PIN for later: the signing page will send them to set it.
        first_day(staff, day, username, shots="d1-13-principal" if n == 0 else "", pin=username != "qicaihong")


def test_a_private_kindergarten_applies_and_the_four_parties_sign(
    staff: Callable[[str], Person], day: Day, tmp_path: Path
) -> None:
    files = write_files(tmp_path)
    applicant = staff("qicaihong")
    page = applicant.page
    page.get_by_role("link", name="提交加入联盟申请").click()
    expect(page.locator("#in-name")).to_have_value("七彩虹幼儿园")  # from the arrangement table
    page.fill("#in-head_phone", "13907919999")
    fill_application(page)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".flash")).to_contain_text("草稿已保存")
    for kind in ("licence", "inspection", "safety_pledge"):
        upload(page, kind, files[kind])
    applicant.screenshot("d1-20-application-form")
    page.get_by_role("button", name="保存并提交").click()
    expect(page.locator(".page-head .state")).to_have_text("已提交")
    application_url = page.url.removeprefix(applicant.base_url)
    applicant.screenshot("d1-21-application-submitted")

    officer = staff(OFFICER)
    expect(officer.page.locator(".todo")).to_contain_text("受理新申请")
    q = officer.open(application_url)
    q.locator("form.event-start_review button").click()
    expect(q.locator(".page-head .state")).to_have_text("审核中")
    q.fill("#ev-return-comment", "请补充消防安全证明。")
    q.locator("form.event-return button").click()
    expect(q.locator(".flash")).to_contain_text("已退回修改")
    officer.screenshot("d1-22-application-returned")

    page = applicant.open("/notifications")
    applicant.screenshot("d1-22-notifications")
    page.locator(".notification a").first.click()
    expect(page.locator(".notice")).to_contain_text("请补充消防安全证明")
    applicant.screenshot("d1-22-application-to-fix")
    page.get_by_role("link", name="修改申请").click()
    upload(page, "fire_safety", files["fire_safety"])
    applicant.screenshot("d1-22-application-edit")
    page.get_by_role("button", name="保存并提交").click()
    expect(page.locator(".page-head .state")).to_have_text("已提交")

    q = officer.open(application_url)
    q.locator("form.event-start_review button").click()
    expect(q.locator("#ev-approve-alliance option:checked")).to_have_text(re.compile(ALLIANCE))
    q.fill("#ev-approve-comment", "材料齐全，同意加入。")
    q.locator("form.event-approve button").click()
    expect(q.locator(".page-head .state")).to_have_text("已批准")
    officer.screenshot("d1-23-application-approved")

    # The approval drafted the agreement; the officer sends it, the four parties read and sign.
    nav(q, "协议签署")
    # The draft is made by a background task, queued after the approval's 批复 and 申请表 renders.
    for _ in range(SLOW // 1000):
        if q.locator("table.list tbody tr").count():
            break
        q.wait_for_timeout(1000)
        q.reload()
    expect(q.locator("table.list tbody tr")).to_have_count(1)
    officer.screenshot("d1-24-agreements")
    q.locator("table.list tbody a").first.click()
    day.agreement_url = q.url.removeprefix(officer.base_url)
    q.locator("form.event-send button").click()
    expect(q.locator(".page-head .state")).to_have_text("签署中", timeout=SLOW)
    # The final .docx and PDF are made after the send (「生成中」); the page shows them once stored.
    expect(q.locator("[data-files-status=generating]")).to_have_count(0, timeout=SLOW)
    officer.screenshot("d1-25-agreement-sent")
    page = applicant.open(f"{day.agreement_url}/sign")
    expect(page.locator("#key-missing")).to_contain_text("您尚未设置签名密钥")
    expect(page.locator("#ev-sign-pin")).to_have_count(0)
    applicant.screenshot("d1-26-sign-without-pin")
    page.get_by_role("link", name="前往「我的账号」设置签名密码").click()
    set_pin(page, day.passwords["qicaihong"])
    sign(applicant, day.agreement_url, "d1-26-sign", clauses=None)
    for username in ("shiyan", "hufang"):
        sign(staff(username), day.agreement_url, clauses=None)
    page = sign(officer, day.agreement_url, clauses=None)
    expect(page.locator(".page-head .state")).to_have_text("已生效")
    officer.screenshot("d1-27-agreement-effective")

    code = re.search(r"code=([A-Z0-9-]+)", page.locator("a[href^='/verify?code=']").get_attribute("href") or "")
    assert code is not None
    visitor = staff("")
    v = visitor.open("/verify")
    v.fill("#verify-code", code.group(1))
    v.locator("form[action='/verify']:not([enctype]) button").click()
    expect(v.locator(".notice")).to_contain_text("核验通过")
    visitor.screenshot("d1-28-verified")


def test_the_founding_members_agreements_are_generated_and_sent(staff: Callable[[str], Person]) -> None:
    officer = staff(OFFICER)
    page = officer.open("/agreements/alliances")
    officer.screenshot("d1-30-member-agreements")
    page.get_by_role("link", name=ALLIANCE).click()
    expect(page.locator(".members-table .tag-missing")).to_have_count(2)  # the founders; 七彩虹 has one
    page.get_by_role("button", name=re.compile("为未签协议的成员生成协议")).click()
    expect(page.locator(".job-result")).to_contain_text("2 份已生成协议草稿", timeout=SLOW)
    officer.screenshot("d1-31-generated")
    page = officer.open("/agreements/bulk")
    row = page.locator("table.list tbody tr", has_text=ALLIANCE)
    expect(row).to_contain_text("2 份")
    officer.screenshot("d1-32-bulk-send")
    row.get_by_role("button", name="批量生成并发送协议").click()
    expect(page.locator(".job-result")).to_contain_text("2/2", timeout=SLOW)
    expect(page.locator(".job-errors")).to_have_count(0)
    officer.screenshot("d1-33-bulk-sent")
    page = officer.open("/agreements?state=signing")
    for name in ("小太阳幼儿园", "金苹果幼儿园"):
        expect(page.locator("table.list")).to_contain_text(name)
    officer.screenshot("d1-34-agreements-signing")


def test_the_lead_runs_an_activity_to_its_archive(staff: Callable[[str], Person], tmp_path: Path) -> None:
    held_on = today() - timedelta(days=2)
    lead = staff("shiyan")
    page = lead.page
    nav(page, "教研活动")
    lead.screenshot("d1-40-activities")
    page.get_by_role("link", name="新建活动").click()
    page.fill("#in-topic", "区域游戏中的观察记录")
    page.select_option("#in-domain", "游戏")
    page.select_option("#in-format", "集中研讨")
    page.fill("#in-starts_at", f"{held_on.isoformat()}T09:00")
    page.fill("#in-ends_at", f"{held_on.isoformat()}T11:00")
    page.fill("#in-place", "青山湖区实验幼儿园多功能厅")
    page.fill("#in-chair", "王丽华")
    page.fill("#in-goal", "学会用白描记录幼儿的游戏行为")
    tick(page, "presenters", "湖坊镇中心幼儿园", "孙芳")
    tick(page, "presenters", "小太阳幼儿园", "钱静")
    tick(page, "participants", "金苹果幼儿园", "周婷")
    lead.screenshot("d1-41-activity-new")
    page.get_by_role("button", name="创建活动").click()
    expect(page.locator(".flash")).to_contain_text("已创建活动")
    expect(page.locator("#info-title + .pairs")).to_contain_text("孙芳（湖坊镇中心幼儿园")
    expect(page.locator("#info-title + .pairs")).to_contain_text("钱静（小太阳幼儿园")
    # Two days ago: announced after the fact, with the section's leave (「每次活动请提前通报」).
    activity_url = page.url.split("://", 1)[1].split("/", 1)[1]
    officer = staff(OFFICER)
    allowing = officer.open(f"/{activity_url}")
    allowing.fill("#in-reason", "事后补录")
    officer.screenshot("d1-41b-activity-allow-late")
    allowing.get_by_role("button", name="准许逾期通报").click()
    expect(allowing.locator(".flash")).to_contain_text("已准许逾期通报")
    page = lead.open(f"/{activity_url}")
    page.locator("form.event-announce button").click()
    expect(page.locator(".page-head .state")).to_have_text("已通报")
    lead.screenshot("d1-42-activity-announced")
    page.locator("form.event-hold button").click()
    expect(page.locator(".page-head .state")).to_have_text("已举行")

    page.get_by_role("button", name="全部出席").click()
    expect(page.locator(".flash")).to_have_text("已全部记为出席")
    page.locator("details.walk-in summary", has_text="临时参加").click()
    page.fill("#in-guest_name", "黄来宾")
    page.fill("#in-guest_kindergarten", "青云谱区某幼儿园")
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".flash")).to_have_text("已登记黄来宾临时参加")
    expect(page.locator("#attendance")).to_contain_text("黄来宾")
    lead.screenshot("d1-43-activity-attendance")

    for category, (name, content) in MATERIALS.items():
        path = tmp_path / name
        path.write_bytes(content)
        page.select_option("#in-category", category)
        page.locator("#in-material").set_input_files(path)
        page.locator("#materials form.upload button[type=submit]").click()
        expect(page.locator("#materials .materials")).to_contain_text(name)
    for label in ("签到表", "教案", "反思", "课例", "研讨记录", "影像资料", "活动报道"):
        expect(page.locator(".completeness")).to_contain_text(f"✓ {label}")
    lead.screenshot("d1-44-activity-materials")

    page.locator("form.event-archive button").click()
    expect(page.locator(".page-head .state")).to_have_text("已归档")
    link = page.get_by_role("link", name="下载档案包")
    expect(link).to_be_visible(timeout=SLOW)  # the page polls until the bundle is packed
    lead.screenshot("d1-45-activity-archived")
    with page.expect_download() as bundle:
        link.click()
    saved = tmp_path / "bundle.zip"
    bundle.value.save_as(saved)
    with zipfile.ZipFile(saved) as z:
        folders = {n.split("/")[1] for n in z.namelist() if n.count("/") >= 2}
    assert set(CATEGORY_FOLDERS.values()) <= folders, folders
