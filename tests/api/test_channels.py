"""The channels API: admins configure channels (secrets never come back), officers see failed deliveries."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from storage.runtime import Runtime
from tests.fixtures.app import World
from tests.fixtures.channels import Receiver
from tests.fixtures.s3 import free_port
from workers.wiring import runner_for
from workflows.channels import dispatch

Login = Callable[[str], dict[str, str]]
KEY = "robot-key-5f1e2d3c4b5a"
SECRET = "SECdingtalk-signing-secret"
PASSWORD = "mail-password-9876"


def create(client: TestClient, login: Login, body: dict[str, object]) -> dict[str, object]:
    r = client.post("/api/channels", json=body, headers=login("admin"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_admin_configures_channels_and_secrets_never_leave(
    client: TestClient, login: Login, world: World, webhook_receiver: Receiver
) -> None:
    wecom = create(
        client,
        login,
        {
            "kind": "wecom",
            "name": "联盟企业微信群",
            "settings": {"webhook_url": webhook_receiver.url("/send", key=KEY)},
        },
    )
    ding = create(
        client,
        login,
        {
            "kind": "dingtalk",
            "name": "钉钉群",
            "settings": {"webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={KEY}", "secret": SECRET},
        },
    )
    smtp = create(
        client,
        login,
        {
            "kind": "smtp",
            "name": "邮件",
            "settings": {
                "host": "smtp.example.cn",
                "port": 465,
                "ssl": True,
                "from_addr": "kf@example.cn",
                "recipients": ["a@example.cn"],
                "username": "kf",
                "password": PASSWORD,
            },
        },
    )
    assert wecom["target"] == f"{webhook_receiver.base_url}/send"
    assert wecom["secrets_set"] == ["webhook_url"] and wecom["settings"] == {"secret": ""}
    assert ding["target"] == "https://oapi.dingtalk.com/robot/send"
    assert ding["secrets_set"] == ["webhook_url", "secret"] and ding["settings"] == {}
    assert smtp["secrets_set"] == ["password"]
    assert smtp["settings"]["username"] == "kf" and "password" not in smtp["settings"]  # type: ignore[index]

    listed = client.get("/api/channels", headers=login("admin"))
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()] == ["联盟企业微信群", "邮件", "钉钉群"]
    for secret in (KEY, SECRET, PASSWORD):
        assert secret not in listed.text

    # Update without the secrets: they are kept; the rest changes.
    r = client.put(
        f"/api/channels/{ding['id']}",
        json={"name": "钉钉工作群", "enabled": False, "settings": {"secret": ""}},
        headers=login("admin"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["enabled"], r.json()["secrets_set"]) == (
        "钉钉工作群",
        False,
        ["webhook_url", "secret"],
    )
    assert SECRET not in r.text and KEY not in r.text


def test_only_admins_configure(client: TestClient, login: Login, world: World) -> None:
    body = {"kind": "wecom", "name": "群", "settings": {"webhook_url": "http://127.0.0.1:9/x"}}
    for username in ("officer", "lead-a", "kg-a1"):
        assert client.get("/api/channels", headers=login(username)).status_code == 404
        assert client.post("/api/channels", json=body, headers=login(username)).status_code == 404
    assert client.get("/api/channels").status_code == 401
    created = create(client, login, body)
    r = client.put(f"/api/channels/{created['id']}", json={"enabled": False}, headers=login("officer"))
    assert r.status_code == 404


def test_invalid_settings_and_duplicate_names(client: TestClient, login: Login, world: World) -> None:
    r = client.post(
        "/api/channels",
        json={"kind": "wecom", "name": "群", "settings": {"webhook_url": "file:///etc/passwd"}},
        headers=login("admin"),
    )
    assert r.status_code == 422
    assert "settings.webhook_url" in r.text
    body = {"kind": "wecom", "name": "群", "settings": {"webhook_url": "http://127.0.0.1:9/x"}}
    create(client, login, body)
    r = client.post("/api/channels", json=body, headers=login("admin"))
    assert r.status_code == 409 and r.json()["code"] == "channel_name_taken"


def test_failed_deliveries_are_visible_to_officers(
    client: TestClient, login: Login, world: World, runtime: Runtime, webhook_receiver: Receiver
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/send?key={KEY}"
    create(client, login, {"kind": "wecom", "name": "坏群", "settings": {"webhook_url": dead}})
    create(client, login, {"kind": "wecom", "name": "好群", "settings": {"webhook_url": webhook_receiver.url("/ok")}})
    with runtime.db.session() as session:
        dispatch.announce(
            session, topic="activity.announced", title="通报", body="内容", link="/x", recipient_user_ids=[]
        )
    runner = runner_for(runtime)
    assert runner is not None and runner.drain(30)

    r = client.get("/api/channels/deliveries", params={"state": "failed"}, headers=login("officer"))
    assert r.status_code == 200, r.text
    [failed] = r.json()
    assert failed["state"] == "failed" and failed["attempts"] == 1 and failed["will_retry"] is True
    assert failed["title"] == "通报" and failed["topic"] == "activity.announced"
    assert failed["target"].endswith("/send") and KEY not in r.text
    assert "无法连接" in failed["last_error"]
    sent = client.get("/api/channels/deliveries", params={"state": "sent"}, headers=login("admin")).json()
    assert [d["target"] for d in sent] == [f"{webhook_receiver.base_url}/ok"]
    assert len(client.get("/api/channels/deliveries", headers=login("admin")).json()) == 2
    for username in ("researcher", "lead-a", "kg-a1"):
        assert client.get("/api/channels/deliveries", headers=login(username)).status_code == 404
    assert client.get("/api/channels/deliveries", params={"state": "lost"}, headers=login("officer")).status_code == 422

    # The officer asks for a retry now; after commit it runs (and fails again, the peer is still down).
    r = client.post(f"/api/channels/deliveries/{failed['id']}/retry", headers=login("officer"))
    assert r.status_code == 200, r.text
    assert runner.drain(30)
    again = client.get("/api/channels/deliveries", params={"state": "failed"}, headers=login("officer")).json()
    assert again[0]["attempts"] == 2


def test_a_channel_moves_between_an_alliance_and_the_district(client: TestClient, login: Login, world: World) -> None:
    created = create(
        client, login, {"kind": "wecom", "name": "群", "settings": {"webhook_url": "http://127.0.0.1:9/x"}}
    )
    url, admin = f"/api/channels/{created['id']}", login("admin")
    alliance = str(world.alliances["A"].id)
    moved = client.put(url, json={"alliance_id": alliance}, headers=admin)
    assert moved.status_code == 200 and moved.json()["alliance_id"] == alliance
    renamed = client.put(url, json={"name": "联盟A群"}, headers=admin)  # left out: it stays the alliance's
    assert renamed.json()["alliance_id"] == alliance
    unknown = client.put(url, json={"alliance_id": "00000000-0000-0000-0000-000000000000"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "alliance_id"
    district = client.put(url, json={"alliance_id": None}, headers=admin)
    assert district.status_code == 200 and district.json()["alliance_id"] is None
