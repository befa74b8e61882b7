"""The command line: create-user, seed-demo, and first start with and without demo data."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.support.helpers import CHEAP_PASSWORD_HASH

SH = ZoneInfo("Asia/Shanghai")


def run(app, *args, input=None):
    # `flask --app app ...` (FlaskGroup) pushes the app context; the bare test runner
    # invokes app.cli directly, so push it here as the real command line does.
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args), input=input)


def users(app):
    from fieldapp.extensions import db
    from fieldapp.models import User

    with app.app_context():
        return {u.username: (u.role, u.password_hash, u.display_name)
                for u in db.session.execute(select(User)).scalars()}


# --- create-user ---------------------------------------------------------------------------

def test_create_user_hashes_the_password(app):
    result = run(app, "create-user", "--username", "wang", "--role", "dispatcher",
                 "--display-name", "王调度", "--password", "s3cret-passw0rd")
    assert result.exit_code == 0, result.output
    assert "wang" in result.output
    role, password_hash, name = users(app)["wang"]
    assert role == "dispatcher" and name == "王调度"
    assert password_hash != "s3cret-passw0rd"
    assert "s3cret-passw0rd" not in password_hash
    assert password_hash.startswith(("scrypt:", "pbkdf2:"))
    from werkzeug.security import check_password_hash

    assert check_password_hash(password_hash, "s3cret-passw0rd")


def test_created_user_can_sign_in(app, api):
    result = run(app, "create-user", "--username", "li", "--role", "technician",
                 "--password", "another-passw0rd")
    assert result.exit_code == 0, result.output
    body = api.login("li", "another-passw0rd")
    assert body["user"]["role"] == "technician"
    assert body["user"]["display_name"] == "li"


def test_create_user_prompts(app):
    result = run(app, "create-user", input="zhao\nsupervisor\nlong-enough-pw\nlong-enough-pw\n")
    assert result.exit_code == 0, result.output
    assert users(app)["zhao"][0] == "supervisor"


def test_create_user_refuses_short_password(app):
    result = run(app, "create-user", "--username", "short", "--role", "technician",
                 "--password", "1234567")
    assert result.exit_code != 0
    assert "password_too_short" in result.output
    assert "short" not in users(app)


def test_create_user_refuses_duplicate_username(app):
    first = run(app, "create-user", "--username", "dup", "--role", "technician",
                "--password", "first-password")
    assert first.exit_code == 0, first.output
    second = run(app, "create-user", "--username", "dup", "--role", "admin",
                 "--password", "second-password")
    assert second.exit_code != 0
    assert "username_taken" in second.output
    role, password_hash, _ = users(app)["dup"]
    assert role == "technician"
    from werkzeug.security import check_password_hash

    assert check_password_hash(password_hash, "first-password")


def test_create_user_refuses_unknown_role(app):
    result = run(app, "create-user", "--username", "x", "--role", "boss",
                 "--password", "long-enough-pw")
    assert result.exit_code != 0
    assert "x" not in users(app)


# --- seed-demo -----------------------------------------------------------------------------

def test_seed_demo_refuses_in_production(app):
    app.config["FIELDAPP_ENV"] = "production"
    result = run(app, "seed-demo")
    assert result.exit_code != 0
    assert "production" in result.output
    assert users(app) == {}


def test_seed_demo_loads_the_contract_demo(app, api, clock):
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert {u: r for u, (r, _, _) in users(app).items()} == {
        "tech1": "technician", "tech2": "technician", "dispatcher1": "dispatcher",
        "supervisor1": "supervisor", "admin": "admin"}
    for username in ("tech1", "tech2", "dispatcher1", "supervisor1", "admin"):
        assert api.login(username, "fieldapp-demo")["user"]["username"] == username

    from fieldapp.extensions import db
    from fieldapp.models import Job, User

    today = clock.now().astimezone(SH).date()
    start = datetime.combine(today, time(0), SH)
    with app.app_context():
        tech1 = db.session.execute(select(User).where(User.username == "tech1")).scalar_one()
        jobs = db.session.execute(select(Job).where(Job.technician_id == tech1.id)
                                  ).scalars().all()
        todays = [j for j in jobs if j.scheduled_start is not None
                  and start <= j.scheduled_start < start + timedelta(days=1)]
        assert {j.type for j in todays} == {"delivery", "installation", "repair", "inspection"}
        assert all(j.status == "scheduled" for j in todays)
    # The technician's own list and the date filter agree.
    listed = api.get(f"/api/v1/jobs?date={today.isoformat()}", as_="tech1").get_json()
    assert {j["type"] for j in listed["items"]} == {"delivery", "installation", "repair",
                                                    "inspection"}


def test_seed_demo_if_empty_leaves_a_used_database_alone(app):
    run(app, "create-user", "--username", "owner", "--role", "admin",
        "--password", "keeper-of-keys-2026")
    result = run(app, "seed-demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert set(users(app)) == {"owner"}


def test_seed_demo_twice_keeps_one_set_of_accounts(app):
    assert run(app, "seed-demo").exit_code == 0
    assert run(app, "seed-demo").exit_code == 0
    assert len(users(app)) == 5


def test_init_db_is_idempotent(app):
    from fieldapp.extensions import db
    from fieldapp.models import ChecklistTemplate

    with app.app_context():
        before = db.session.query(ChecklistTemplate).count()
    assert run(app, "init-db").exit_code == 0
    assert run(app, "init-db").exit_code == 0
    with app.app_context():
        assert db.session.query(ChecklistTemplate).count() == before == 4


# --- first start ---------------------------------------------------------------------------

def first_start(monkeypatch, app, db_url, tmp_path, clock, env):
    """create_app as `make run` does (not TESTING) against the migrated, empty test db."""
    from fieldapp import create_app

    monkeypatch.setenv("FIELDAPP_ENV", env)
    monkeypatch.setenv("SECRET_KEY", "first-start-secret-of-32-bytes-or-more")
    monkeypatch.setenv("DATABASE_URL", db_url)
    started = create_app({"CLOCK": clock, "BLOB_ROOT": str(tmp_path / "blobs2"),
                          "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH})
    try:
        assert started.config["FIELDAPP_ENV"] == env
        assert not started.config.get("TESTING")
        return users(started)
    finally:
        from fieldapp.extensions import db

        with started.app_context():
            db.session.remove()
            db.engine.dispose()


def test_production_start_does_not_seed(monkeypatch, app, db_url, tmp_path, clock):
    assert users(app) == {}
    assert first_start(monkeypatch, app, db_url, tmp_path, clock, "production") == {}


def test_development_start_seeds_an_empty_database(monkeypatch, app, db_url, tmp_path, clock):
    # The control for the test above: outside production the same start seeds.
    assert users(app) == {}
    seeded = first_start(monkeypatch, app, db_url, tmp_path, clock, "development")
    assert set(seeded) == {"tech1", "tech2", "dispatcher1", "supervisor1", "admin"}


@pytest.mark.parametrize("password,code", [
    ("password", "password_too_short"), ("12345678", "password_too_short"),
    ("elevenchars", "password_too_short"),
    ("qwerty123456", "password_too_common"), ("1q2w3e4r5t6y", "password_too_common"),
    ("Q1W2E3R4T5Y6", "password_too_common"),  # the list is compared in lower case
    ("aaaaaaaaaaaaaaaa", "password_too_common"), ("121212121212", "password_too_common"),
    ("marywang-admin", "password_like_username"), ("MaryWang-Admin", "password_like_username"),
    ("marywang-admin-2026", "password_like_username"), ("x" * 300, "password_too_long"),
])
def test_create_user_refuses_weak_passwords(app, password, code):
    result = run(app, "create-user", "--username", "MaryWang-Admin", "--role", "admin",
                 "--password", password)
    assert result.exit_code != 0
    assert code in result.output
    assert users(app) == {}


def test_refusal_is_explained_in_both_languages(app):
    result = run(app, "create-user", "--username", "boss", "--role", "admin",
                 "--password", "12345678")
    assert "at least 12 characters" in result.output
    assert "密码至少需要 12 个字符" in result.output


def test_demo_password_passes_the_rule():
    from fieldapp.accounts.service import check_password, common_passwords
    from fieldapp.seed import DEMO_PASSWORD

    assert len(common_passwords()) > 19000  # the shipped list, not a stub
    for username in ("tech1", "tech2", "dispatcher1", "supervisor1", "admin"):
        check_password(DEMO_PASSWORD, username)


def test_set_password_applies_the_rule_and_the_new_password_works(app, api, demo):
    refused = run(app, "set-password", "--username", "tech1", "--password", "12345678")
    assert refused.exit_code != 0 and "password_too_short" in refused.output
    changed = run(app, "set-password", "--username", "tech1", "--password",
                  "a-new-long-secret")
    assert changed.exit_code == 0, changed.output
    assert api.client.post("/api/v1/auth/login", json={
        "username": "tech1", "password": "fieldapp-demo", "device_name": "p"}
    ).status_code == 401
    api.login("tech1", "a-new-long-secret")
    unknown = run(app, "set-password", "--username", "nobody", "--password", "a-new-long-pw")
    assert unknown.exit_code != 0 and "user_not_found" in unknown.output


def test_deactivate_user_stops_sign_in_and_tokens(app, api, demo):
    api.login("tech2")
    result = run(app, "deactivate-user", "--username", "tech2")
    assert result.exit_code == 0, result.output
    assert api.get("/api/v1/auth/me", as_="tech2").status_code == 401
    assert api.client.post("/api/v1/auth/login", json={
        "username": "tech2", "password": "fieldapp-demo", "device_name": "p"}
    ).status_code == 401


@pytest.mark.parametrize("command", ["seed-demo", "create-user", "set-password",
                                     "deactivate-user", "init-db"])
def test_commands_are_registered(app, command):
    result = run(app, command, "--help")
    assert result.exit_code == 0, result.output


def test_real_command_line_in_production(tmp_path):
    """`flask --app app db upgrade` then `create-user` in production, as an operator does:
    no account exists until create-user makes one."""
    import os
    import sqlite3
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    db_file = tmp_path / "prod.db"
    env = {**os.environ, "FIELDAPP_ENV": "production",
           "SECRET_KEY": "prod-secret-of-at-least-32-bytes!",
           "DATABASE_URL": f"sqlite:///{db_file}", "FIELDAPP_BLOB_DIR": str(tmp_path / "b")}
    env.pop("FIELDAPP_TEST_DATABASE_URL", None)

    def flask_cli(*args, input=None):
        return subprocess.run([flask, "--app", "app", *args], cwd=root, env=env, input=input,
                              capture_output=True, text=True, timeout=300)

    upgraded = flask_cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("select count(*) from users").fetchone()[0] == 0
    refused = flask_cli("seed-demo")
    assert refused.returncode != 0 and "production" in refused.stderr + refused.stdout
    made = flask_cli("create-user", "--username", "boss", "--role", "admin",
                     "--password", "a-long-password")
    assert made.returncode == 0, made.stderr
    short = flask_cli("create-user", "--username", "tiny", "--role", "admin",
                      "--password", "short")
    assert short.returncode != 0 and "password_too_short" in short.stderr
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("select username, role, password_hash from users").fetchall()
    assert [(u, r) for u, r, _ in rows] == [("boss", "admin")]
    assert rows[0][2] != "a-long-password" and rows[0][2].startswith("scrypt:")
