"""``kinderflow`` command line: migrate, load demo data, create an admin, serve, run workers."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date, timedelta

from storage.settings import Settings, get_settings

ROLE_ORDER = ["admin", "officer", "researcher", "lead", "pillar", "applicant"]


def _migrate(settings: Settings) -> None:
    from storage import migrate

    if settings.database_url.startswith("sqlite:///"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    print("数据库已迁移到最新版本 (database migrated)")


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(get_settings())
    return 0


def cmd_load_demo(args: argparse.Namespace) -> int:
    from storage.db import Database
    from workflows.registry.demo import DEMO_PASSWORD, load_demo

    settings = get_settings()
    if not settings.demo:
        print("拒绝：演示数据只能在演示模式下加载（KINDERFLOW_DEMO=true）", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    with db.session() as session:
        report = load_demo(session=session, settings=settings)
    db.dispose()
    state = "已创建" if report.created else "已存在，未重复创建"
    print(f"演示数据{state}：{report.kindergartens} 所幼儿园，{report.alliances} 个联盟")
    print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    accounts = sorted(report.accounts, key=lambda a: (ROLE_ORDER.index(a.role.value), a.username))
    for role in ROLE_ORDER:
        names = [a for a in accounts if a.role.value == role]
        if not names:
            continue
        if len(names) > 6:
            print(
                f"  {role:<10} {names[0].username} … {names[-1].username}（共 {len(names)} 个，例：{names[0].display_name}）"
            )
        else:
            for a in names:
                print(f"  {role:<10} {a.username:<10} {a.display_name}")
    from workflows.agreements.demo import DEMO_PIN

    print(f"签署协议的签名密码（officer、lead、pillar、kg 账号）均为 {DEMO_PIN}")
    for warning in report.warnings:
        print(f"注意：{warning}；演示印章暂未生成，安装后再次运行 make run 即可补齐", file=sys.stderr)
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from storage.db import Database
    from workflows.accounts.service import create_user
    from workflows.errors import DomainError
    from workflows.roles import Role

    settings = get_settings()
    password = os.environ.get("KINDERFLOW_ADMIN_PASSWORD") or getpass.getpass("新管理员密码: ")
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            create_user(
                session=session,
                settings=settings,
                username=args.username,
                password=password,
                role=Role.ADMIN,
                display_name=args.name or "系统管理员",
            )
    except DomainError as exc:
        detail = "; ".join(e.message for e in getattr(exc, "errors", [])) or exc.message
        print(f"未创建：{detail}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"管理员 {args.username} 已创建")
    return 0


def _warn_unset_public_url(settings: Settings) -> None:
    if (warning := settings.public_url_warning()) is not None:
        logging.getLogger("kinderflow").warning(warning)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app

    settings = get_settings()
    app = create_app(settings)
    _warn_unset_public_url(settings)
    # uvicorn's own X-Forwarded-For handling trusts loopback by default, which lets anyone on the machine
    # (or a proxy passing headers through) choose their address; api/client_address.py decides instead,
    # trusting only KINDERFLOW_TRUSTED_PROXIES.
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from workers.app import app

    _warn_unset_public_url(get_settings())
    app.worker_main(["worker", "--loglevel", get_settings().log_level, *args.celery_args])
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    from workers.app import app

    app.start(["beat", "--loglevel", get_settings().log_level, *args.celery_args])
    return 0


def cmd_sweep_orphans(args: argparse.Namespace) -> int:
    from storage.runtime import build_runtime
    from workflows.orphans import sweep_orphans

    settings = get_settings()
    hours = settings.orphan_grace_hours if args.grace_hours is None else args.grace_hours
    runtime = build_runtime(settings)
    try:
        report = sweep_orphans(
            db=runtime.db, objects=runtime.objects, grace=timedelta(hours=hours), dry_run=args.dry_run
        )
    finally:
        runtime.close()
    verb = "将删除" if report.dry_run else "已删除"
    print(
        f"扫描 {report.scanned} 个对象：被引用 {report.referenced}，未满 {hours:g} 小时 {report.young}，"
        f"{verb}孤立对象 {report.deleted} 个（{report.deleted_bytes} 字节）"
    )
    for key in report.keys:
        print(f"  {key}")
    return 0


def cmd_templates_check(args: argparse.Namespace) -> int:
    from templates.check import main as check_main

    return check_main([])


def cmd_remind(args: argparse.Namespace) -> int:
    """Send today's deadline reminders (cron in embedded mode; Celery beat does it in full mode)."""

    from storage.db import Database
    from workflows import clock
    from workflows.activities.compliance import send_reminders

    today = date.fromisoformat(args.date) if args.date else clock.today()
    db = Database(get_settings().database_url)
    try:
        with db.session() as session:
            sent = send_reminders(session=session, today=today)
    finally:
        db.dispose()
    print(f"{today.isoformat()}：已发送 {sent} 条截止提醒")
    return 0


def cmd_ca_init(args: argparse.Namespace) -> int:
    """Create the installation's signing CA (idempotent) and print its certificate fingerprint."""
    from storage.db import Database
    from workflows.agreements import ca

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            authority = ca.ensure_authority(session=session, settings=settings)
    finally:
        db.dispose()
    print(f"根证书：{authority.certificate.subject.rfc4514_string()}")
    print(f"SHA-256 指纹：{ca.fingerprint(authority.certificate)}（公开下载：/api/ca.pem）")
    return 0


def cmd_token_init(args: argparse.Namespace) -> int:
    """Make sure the signing token is there and opens: a missing SoftHSM2 token is created first."""
    from storage import softhsm
    from workflows.agreements import token

    settings = get_settings()
    label = settings.pkcs11_token_label
    if settings.pkcs11_module and softhsm.is_softhsm(settings.pkcs11_module) and settings.pkcs11_slot is None:
        so_pin = settings.pkcs11_so_pin.get_secret_value()
        try:
            if label not in softhsm.token_labels():
                if not so_pin:
                    print("创建 SoftHSM2 令牌需要 KINDERFLOW_PKCS11_SO_PIN", file=sys.stderr)
                    return 2
                softhsm.init_token(label=label, pin=settings.pkcs11_pin.get_secret_value(), so_pin=so_pin)
                print(f"已创建 SoftHSM2 令牌「{label}」")
        except softhsm.SoftHsmMissing:
            print(f"未安装 {softhsm.PACKAGE}", file=sys.stderr)
            return 1
    try:
        with token.token_session(settings):
            pass
    except token.TokenUnavailable as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"签名令牌可用：{settings.pkcs11_module or 'SoftHSM2（var 目录内）'}，令牌「{label}」")
    return 0


def cmd_agreements_expire(args: argparse.Namespace) -> int:
    """Expire the effective agreements whose term has ended (daily, like ``remind``)."""

    from storage.db import Database
    from workflows import clock
    from workflows.agreements.events import expire_due

    today = date.fromisoformat(args.date) if args.date else clock.today()
    db = Database(get_settings().database_url)
    try:
        with db.session() as session:
            expired = [a.number for a in expire_due(session=session, today=today)]
    finally:
        db.dispose()
    print(f"{today.isoformat()}：{len(expired)} 份协议到期" + (f"（{'、'.join(expired)}）" if expired else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kinderflow", description="幼教联盟文书流转系统")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="迁移数据库到最新版本").set_defaults(func=cmd_migrate)
    sub.add_parser("load-demo", help="加载演示数据与演示账号（仅演示模式）").set_defaults(func=cmd_load_demo)
    admin = sub.add_parser("create-admin", help="创建系统管理员账号")
    admin.add_argument("username")
    admin.add_argument("--name", default="")
    admin.set_defaults(func=cmd_create_admin)
    serve = sub.add_parser("serve", help="启动网页与 API 服务")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    templates = sub.add_parser("templates", help="文书模板")
    templates_sub = templates.add_subparsers(dest="templates_command", required=True)
    templates_sub.add_parser("check", help="检查模板变量与被 Word 拆分的标签").set_defaults(func=cmd_templates_check)
    remind = sub.add_parser("remind", help="发送学期计划、小结和活动资料的截止提醒（每日运行）")
    remind.add_argument("--date", default="", help="按此日期（YYYY-MM-DD）计算，默认今天")
    remind.set_defaults(func=cmd_remind)
    sweep = sub.add_parser("sweep-orphans", help="删除无任何记录引用、且超过宽限期的存储对象")
    sweep.add_argument("--grace-hours", type=float, default=None, help="宽限期（小时），默认取设置值 24")
    sweep.add_argument("--dry-run", action="store_true", help="只列出，不删除")
    sweep.set_defaults(func=cmd_sweep_orphans)
    ca_parser = sub.add_parser("ca", help="本系统的电子签名根证书")
    ca_sub = ca_parser.add_subparsers(dest="ca_command", required=True)
    ca_sub.add_parser("init", help="创建根证书（已存在则只显示）").set_defaults(func=cmd_ca_init)
    token_parser = sub.add_parser("token", help="保管签名密钥的 PKCS#11 令牌")
    token_sub = token_parser.add_subparsers(dest="token_command", required=True)
    token_sub.add_parser("init", help="检查令牌可用（缺少的 SoftHSM2 令牌先创建）").set_defaults(func=cmd_token_init)
    agreements_parser = sub.add_parser("agreements", help="联盟协议书")
    agreements_sub = agreements_parser.add_subparsers(dest="agreements_command", required=True)
    expire = agreements_sub.add_parser("expire", help="将期限已满的协议置为到期（每日运行）")
    expire.add_argument("--date", default="", help="按此日期（YYYY-MM-DD）计算，默认今天")
    expire.set_defaults(func=cmd_agreements_expire)
    for name, func in (("worker", cmd_worker), ("beat", cmd_beat)):
        p = sub.add_parser(name, help=f"启动 Celery {name}（完整模式）")
        p.add_argument("celery_args", nargs=argparse.REMAINDER)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
