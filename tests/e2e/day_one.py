"""The first day of a real install (``test_day_one``): its registry, its people, and the steps every
account takes at its first sign-in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Person
from tests.e2e.test_accounts_journey import sign_in
from tests.fixtures.agreements import PIN
from tests.fixtures.files import pdf_bytes, png_bytes

ADMIN_PASSWORD = "Xinxi-zhongxin-2026"
ALLIANCE = "青山湖区第一幼教联盟"
TOWN = "湖坊镇"
# code, name, category, rating, role in the alliance (None: outside any), principal's account
KINDERGARTENS = (
    ("QS-01", "青山湖区实验幼儿园", "区直属", "省级示范", "龙头园", "shiyan"),
    ("QS-02", "湖坊镇中心幼儿园", "乡镇中心园", None, "支柱园", "hufang"),
    ("QS-03", "小太阳幼儿园", "民办及企事业办园", None, "成员园", "xiaotaiyang"),
    ("QS-04", "金苹果幼儿园", "民办及企事业办园", None, "成员园", "jinpingguo"),
    ("QS-05", "七彩虹幼儿园", "民办及企事业办园", None, None, "qicaihong"),
)
# kindergarten code, name, post, level, birth year, phone
TEACHERS = (
    ("QS-01", "王丽华", "业务园长", "学科带头人", 1978, "13907910001"),
    ("QS-01", "赵敏", "教师", "骨干教师", 1988, "13907910002"),
    ("QS-02", "孙芳", "业务园长", "骨干教师", 1982, "13907910003"),
    ("QS-03", "钱静", "业务园长", "青年教师", 1992, "13907910004"),
    ("QS-03", "李小雨", "教师", "新教师", 2001, "13907910005"),
    ("QS-04", "周婷", "业务园长", "青年教师", 1990, "13907910006"),
    ("QS-05", "吴倩", "业务园长", "青年教师", 1991, "13907910007"),
)
OFFICER = "chengyou"
# The account role the page suggests for each place in an alliance.
ACCOUNT_ROLES = {"龙头园": "龙头园", "支柱园": "乡镇中心园", "成员园": "民办园", None: "民办园"}


@dataclass
class Day:
    """What the journey learns as it goes: each account's password, the pages it made."""

    passwords: dict[str, str] = field(default_factory=dict)
    agreement_url: str = ""


MATERIALS = {
    "sign_in": ("签到表.png", png_bytes((800, 1100), "#ffffff")),
    "lesson_plan": ("教案.pdf", pdf_bytes("lesson plan")),
    "reflection": ("教学反思.pdf", pdf_bytes("reflection")),
    "lesson_case": ("课例.pdf", pdf_bytes("lesson case")),
    "discussion": ("研讨记录.pdf", pdf_bytes("discussion")),
    "media": ("活动照片.png", png_bytes((640, 480), "#e8f0d9")),
    "report": ("活动报道.pdf", pdf_bytes("report")),
}


def nav(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name=label, exact=True).click()


def set_pin(page: Page, password: str) -> None:
    """On 我的账号: the signing PIN, confirmed with the login password."""
    pin_card = page.locator("#pin-card")
    pin_card.get_by_label("登录密码").fill(password)
    pin_card.locator("#in-pin").fill(PIN)
    pin_card.get_by_label("再次输入签名密码").fill(PIN)
    pin_card.get_by_role("button", name="设置签名密码").click()
    expect(page.locator(".flash")).to_contain_text("签名密码已设置")


def first_day(staff: Callable[[str], Person], day: Day, username: str, *, shots: str = "", pin: bool = True) -> Person:
    """An account's first sign-in: its own password, its signing PIN (unless not yet) and its seal."""
    who = staff("")
    page = who.page
    sign_in(page, who.base_url, username, day.passwords[username])
    page.wait_for_url(who.base_url + "/account/password")
    if shots:
        who.screenshot(f"{shots}-password")
    own = f"Qiuji-kaixue-{len(day.passwords)}!"
    page.get_by_label("当前密码").fill(day.passwords[username])
    page.locator("#in-new_password").fill(own)
    page.get_by_label("再次输入新密码").fill(own)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(who.base_url + "/")
    day.passwords[username] = own
    if shots:
        who.screenshot(f"{shots}-home")
    page.locator(".who-name").click()
    if pin:
        set_pin(page, own)
    seal_card = page.locator("#seal-card")
    seal_card.get_by_label("选择印章图片").set_input_files(
        files=[{"name": "印章.png", "mimeType": "image/png", "buffer": png_bytes((300, 300), "#c81010")}]
    )
    seal_card.get_by_role("button", name="上传").click()
    expect(page.locator("#seal-card")).to_contain_text("印章图片已上传")
    if shots:
        who.screenshot(f"{shots}-account")
    return who
