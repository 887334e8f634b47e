"""Sending one message through one channel: WeCom or DingTalk group robots (HTTP), or SMTP.

Each sender raises ChannelError with a short reason an officer can act on; the reason never holds
the webhook URL, the robot key or a password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

import httpx

from workflows.channels.schemas import SmtpSettings

HTTP_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
WECOM_MARKDOWN_BYTES = 4096  # the robot refuses longer content
_ERROR_CHARS = 300
# Text from users (names, topics) must not become links or tags in a group chat: brackets that build
# markdown links and HTML tags are shown as their full-width forms instead.
_NEUTRAL = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})


class ChannelError(Exception):
    """The channel could not take the message; the text says why, without secrets."""


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    link: str  # absolute, or empty

    def markdown(self, max_bytes: int | None = None) -> str:
        """Title and body as markdown (their own markup neutralised), then the link, within ``max_bytes``."""
        link = f"\n\n[查看详情]({self.link})" if self.link else ""
        text = f"### {self.title.translate(_NEUTRAL)}\n\n{self.body.translate(_NEUTRAL)}".rstrip()
        if max_bytes is not None:
            room = max_bytes - len(link.encode())
            if len(text.encode()) > room:
                text = text.encode()[: room - 3].decode(errors="ignore") + "…"
        return text + link

    def plain(self) -> str:
        text = f"{self.title}\n\n{self.body}".rstrip()
        return f"{text}\n\n查看详情：{self.link}\n" if self.link else text + "\n"


def send_wecom(webhook_url: str, message: Message) -> None:
    """Post a markdown message to a WeCom (企业微信) group robot."""
    body = {"msgtype": "markdown", "markdown": {"content": message.markdown(WECOM_MARKDOWN_BYTES)}}
    _post_robot(webhook_url, body, secrets=(webhook_url,))


def send_dingtalk(webhook_url: str, secret: str, message: Message, *, timestamp_ms: int | None = None) -> None:
    """Post a markdown message to a DingTalk (钉钉) group robot, signed when a secret is set."""
    url = dingtalk_signed_url(webhook_url, secret, timestamp_ms) if secret else webhook_url
    body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown()}}
    _post_robot(url, body, secrets=(webhook_url, secret))


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), as DingTalk's robot security setting asks."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()).decode()


def dingtalk_signed_url(webhook_url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """The webhook URL with the ``timestamp`` and url-encoded ``sign`` query parameters appended."""
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    sign = quote_plus(dingtalk_signature(secret, timestamp))
    parts = urlsplit(webhook_url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=f"{query}timestamp={timestamp}&sign={sign}"))


def send_smtp(settings: SmtpSettings, message: Message) -> None:
    """Send one UTF-8 e-mail to the configured recipients."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = settings.from_addr
    mail["To"] = ", ".join(settings.recipients)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=settings.from_addr.rsplit("@", 1)[-1])
    mail.set_content(message.plain(), charset="utf-8")
    secrets = (settings.password,) if settings.password else ()
    try:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if settings.ssl:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with client:
            if settings.starttls and not settings.ssl:
                client.starttls(context=context)
            if settings.username:
                client.login(settings.username, settings.password)
            refused = client.send_message(mail, from_addr=settings.from_addr, to_addrs=settings.recipients)
    except smtplib.SMTPResponseException as exc:
        raise ChannelError(_scrub(f"邮件服务器拒绝：{exc.smtp_code} {exc.smtp_error!r}", secrets)) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(_scrub(f"无法发送邮件：{type(exc).__name__}: {exc}", secrets)) from None
    if refused:
        raise ChannelError(f"部分收件人被拒收：{'、'.join(sorted(refused))}")


def _post_robot(url: str, body: dict[str, Any], *, secrets: tuple[str, ...]) -> None:
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
            response = client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise ChannelError(_scrub(f"无法连接：{type(exc).__name__}: {exc}", secrets)) from None
    if response.status_code != 200:
        raise ChannelError(_scrub(f"对方返回 HTTP {response.status_code}：{response.text[:_ERROR_CHARS]}", secrets))
    try:
        answer = response.json()
    except ValueError:
        raise ChannelError(_scrub(f"对方的应答不是 JSON：{response.text[:_ERROR_CHARS]}", secrets)) from None
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        raise ChannelError(_scrub(f"机器人返回错误：{str(answer)[:_ERROR_CHARS]}", secrets))


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """The text with every secret (and the query part of a webhook URL, which holds its key) masked."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        query = urlsplit(secret).query
        if query:
            text = text.replace(query, "***")
    return text[: _ERROR_CHARS * 2]
